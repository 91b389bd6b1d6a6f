package asm

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
)

var (
	pBig   = fp.Modulus()
	r260   = new(big.Int).Lsh(big.NewInt(1), 260)
	r260i  = new(big.Int).ModInverse(r260, pBig)
	mask52 = new(big.Int).SetUint64(limbMask)
)

// setRaw stores the integer v (0 <= v < p) as the raw radix-52 value of lane j.
func setRaw(x *Fp8, j int, v *big.Int) {
	t := new(big.Int).Set(v)
	for i := 0; i < 5; i++ {
		x[i][j] = new(big.Int).And(t, mask52).Uint64()
		t.Rsh(t, limbBits)
	}
}

func raw(x *Fp8, j int) *big.Int {
	v := new(big.Int)
	for i := 4; i >= 0; i-- {
		v.Lsh(v, limbBits)
		v.Or(v, new(big.Int).SetUint64(x[i][j]))
	}
	return v
}

// boundaryRaw returns raw stored values at the edges of the representation modulo p.
func boundaryRaw() []*big.Int { return boundaryRawMod(pBig) }

// boundaryRawMod returns raw stored values at the edges of the representation modulo m.
func boundaryRawMod(pBig *big.Int) []*big.Int {
	one := big.NewInt(1)
	pm := func(v *big.Int) *big.Int { return new(big.Int).Mod(v, pBig) }
	lowMax := new(big.Int).Sub(new(big.Int).Lsh(one, 208), one) // limbs 0..3 all 2^52-1
	top := new(big.Int).Rsh(pBig, 208)
	topMax := new(big.Int).Sub(new(big.Int).Lsh(top, 208), one) // top limb p4-1, rest maxed
	return []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(2),
		new(big.Int).Sub(pBig, one), new(big.Int).Sub(pBig, big.NewInt(2)),
		new(big.Int).SetUint64(limbMask), lowMax, topMax,
		new(big.Int).Lsh(one, 253), pm(r260), pm(new(big.Int).Lsh(one, 256)),
		new(big.Int).Rsh(pBig, 1), new(big.Int).Add(new(big.Int).Rsh(pBig, 1), one),
	}
}

// testVectors returns vectors whose lanes run through every pair of boundary values (in x
// and y) and then random values.
func testVectors(rng *rand.Rand, nRandom int) (x, y []Fp8) {
	return testVectorsMod(rng, nRandom, pBig)
}

// testVectorsMod is testVectors for the modulus m.
func testVectorsMod(rng *rand.Rand, nRandom int, m *big.Int) (x, y []Fp8) {
	b := boundaryRawMod(m)
	var xs, ys []*big.Int
	for _, u := range b {
		for _, v := range b {
			xs, ys = append(xs, u), append(ys, v)
		}
	}
	for i := 0; i < nRandom; i++ {
		xs, ys = append(xs, randRawMod(rng, m)), append(ys, randRawMod(rng, m))
	}
	for len(xs)%Lanes != 0 {
		xs, ys = append(xs, randRawMod(rng, m)), append(ys, randRawMod(rng, m))
	}
	x, y = make([]Fp8, len(xs)/Lanes), make([]Fp8, len(xs)/Lanes)
	for i := range xs {
		setRaw(&x[i/Lanes], i%Lanes, xs[i])
		setRaw(&y[i/Lanes], i%Lanes, ys[i])
	}
	return x, y
}

func randRaw(rng *rand.Rand) *big.Int { return randRawMod(rng, pBig) }

func randRawMod(rng *rand.Rand, m *big.Int) *big.Int {
	var b [32]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return new(big.Int).Mod(new(big.Int).SetBytes(b[:]), m)
}

func TestLaneConversion(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := boundaryRaw()
	for i := 0; i < 64; i++ {
		vals = append(vals, randRaw(rng))
	}
	for i, a := range vals {
		var e fp.Element
		e.SetBigInt(a)
		var v Fp8
		v.SetLane(i%Lanes, &e)
		want := new(big.Int).Mod(new(big.Int).Mul(a, r260), pBig)
		if got := raw(&v, i%Lanes); got.Cmp(want) != 0 {
			t.Fatalf("SetLane(%v): raw %v, want %v", a, got, want)
		}
		if back := v.Lane(i % Lanes); !back.Equal(&e) {
			t.Fatalf("Lane(SetLane(%v)) = %v", a, back.String())
		}
	}
}

// check compares every lane of got with f(x, y) computed on raw values with math/big.
func check(t *testing.T, name string, got, x, y []Fp8, f func(a, b *big.Int) *big.Int) {
	t.Helper()
	for k := range got {
		for j := 0; j < Lanes; j++ {
			a, b := raw(&x[k], j), raw(&y[k], j)
			want := f(a, b)
			if g := raw(&got[k], j); g.Cmp(want) != 0 {
				t.Fatalf("%s(%v, %v) = %v, want %v", name, a, b, g, want)
			}
		}
	}
}

func montMul(a, b *big.Int) *big.Int {
	v := new(big.Int).Mul(a, b)
	v.Mul(v, r260i)
	return v.Mod(v, pBig)
}

func modAdd(a, b *big.Int) *big.Int { v := new(big.Int).Add(a, b); return v.Mod(v, pBig) }
func modSub(a, b *big.Int) *big.Int { v := new(big.Int).Sub(a, b); return v.Mod(v, pBig) }

func TestArithmetic(t *testing.T) {
	if !Supported() {
		t.Log("no AVX-512 IFMA: checking the pure-Go references only")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := testVectors(rng, 512)
	z := make([]Fp8, len(x))
	ref := make([]Fp8, len(x))

	for _, tc := range []struct {
		name string
		op   func(z, x, y []Fp8) error
		ref  func(z, x, y []Fp8)
		f    func(a, b *big.Int) *big.Int
	}{
		{"Mul", Mul, mulRef, montMul},
		{"Add", Add, addRef, modAdd},
		{"Sub", Sub, subRef, modSub},
	} {
		if err := tc.op(z, x, y); err != nil {
			t.Fatal(err)
		}
		check(t, tc.name, z, x, y, tc.f)
		tc.ref(ref, x, y)
		check(t, tc.name+"Ref", ref, x, y, tc.f)
	}
	if err := Square(z, x); err != nil {
		t.Fatal(err)
	}
	check(t, "Square", z, x, x, montMul)

	// In place: z aliases x.
	copy(z, x)
	if err := Mul(z, z, y); err != nil {
		t.Fatal(err)
	}
	check(t, "Mul in place", z, x, y, montMul)

	if err := Mul(z[:1], x, y); err != ErrLength {
		t.Fatalf("Mul with mismatched lengths: err = %v, want ErrLength", err)
	}
	if err := Add(nil, nil, nil); err != nil {
		t.Fatalf("Add on empty slices: %v", err)
	}
}

func BenchmarkMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := testVectors(rng, 0)
	x, y = x[:16], y[:16]
	z := make([]Fp8, len(x))
	b.ReportAllocs()
	for b.Loop() {
		_ = Mul(z, x, y)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)*Lanes), "ns/elem")
}
