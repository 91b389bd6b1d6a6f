package asm

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
)

// nttBoundary are lane values at the edges of NTT form (below 16r) and of the field.
var nttBoundary = func() []*big.Int {
	r := frModulus
	var v []*big.Int
	for _, k := range []int64{1, 2, 4, 8, 12, 16} {
		m := new(big.Int).Mul(r, big.NewInt(k))
		v = append(v, new(big.Int).Sub(m, big.NewInt(1)))
		if k < 16 {
			v = append(v, m, new(big.Int).Add(m, big.NewInt(1)))
		}
	}
	v = append(v, big.NewInt(0), big.NewInt(1), big.NewInt(2))
	return v
}()

// nttVectors returns n vectors in NTT form: boundary values first, then random ones below 16r.
func nttVectors(rng *rand.Rand, n int) []Fr8 {
	bound := new(big.Int).Lsh(frModulus, 4)
	x := make([]Fr8, n)
	for k := range x {
		for j := range Lanes {
			i := k*Lanes + j
			var v *big.Int
			if i < len(nttBoundary) {
				v = nttBoundary[i]
			} else {
				v = randBelow(rng, bound)
			}
			l := limbs52(v)
			for t := range l {
				x[k][t][j] = l[t]
			}
		}
	}
	rng.Shuffle(len(x), func(a, b int) { x[a], x[b] = x[b], x[a] })
	return x
}

func randBelow(rng *rand.Rand, bound *big.Int) *big.Int {
	words := make([]big.Word, (bound.BitLen()+63)/64)
	for {
		for i := range words {
			words[i] = big.Word(rng.Uint64())
		}
		v := new(big.Int).SetBits(words)
		v.Rsh(v, uint(len(words)*64-bound.BitLen()))
		if v.Cmp(bound) < 0 {
			return v
		}
	}
}

// randomElements returns n field elements, the first ones 0, 1 and -1.
func randomElements(rng *rand.Rand, n int) []fr.Element {
	e := make([]fr.Element, n)
	for i := range e {
		switch i {
		case 0:
		case 1:
			e[i].SetOne()
		case 2:
			e[i].SetOne()
			e[i].Neg(&e[i])
		default:
			e[i].SetBigInt(randBelow(rng, frModulus))
		}
	}
	rng.Shuffle(len(e), func(a, b int) { e[a], e[b] = e[b], e[a] })
	return e
}

func randomTwiddles(rng *rand.Rand, n int) []NTTTwiddle {
	e := randomElements(rng, n)
	t := make([]NTTTwiddle, n)
	for i := range t {
		t[i] = NewNTTTwiddle(&e[i])
	}
	return t
}

// checkNTTForm fails unless every lane of x has normalized limbs and a value below 16r.
func checkNTTForm(t *testing.T, name string, x []Fr8) {
	t.Helper()
	bound := new(big.Int).Lsh(frModulus, 4)
	for k := range x {
		for j := range Lanes {
			v := new(big.Int)
			for i := 4; i >= 0; i-- {
				if x[k][i][j] > limbMask {
					t.Fatalf("%s: vector %d lane %d limb %d not normalized: %#x", name, k, j, i, x[k][i][j])
				}
				v.Lsh(v, limbBits).Add(v, new(big.Int).SetUint64(x[k][i][j]))
			}
			if v.Cmp(bound) >= 0 {
				t.Fatalf("%s: vector %d lane %d = %v, not below 16r", name, k, j, v)
			}
		}
	}
}

// sameResidues fails unless got and want hold the same residues mod r in every lane.
func sameResidues(t *testing.T, name string, got, want []Fr8) {
	t.Helper()
	for k := range got {
		for j := range Lanes {
			if a, b := laneRaw(&got[k], j), laneRaw(&want[k], j); a != b {
				t.Fatalf("%s: vector %d lane %d differs from the reference", name, k, j)
			}
		}
	}
}

func skipWithoutIFMA(t *testing.T) {
	if !Supported() {
		t.Skip("no AVX-512 IFMA: the NTT kernels run their references")
	}
}

func TestNTTButterflies(t *testing.T) {
	skipWithoutIFMA(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, m := range []int{1, 2, 4, 8} {
		x := nttVectors(rng, 4*m)
		tw := randomTwiddles(rng, 3*m)
		got, want := append([]Fr8(nil), x...), append([]Fr8(nil), x...)

		if err := NTTDIF2(got, m, tw); err != nil {
			t.Fatal(err)
		}
		nttDIF2Ref(want, m, tw)
		checkNTTForm(t, "NTTDIF2", got)
		sameResidues(t, "NTTDIF2", got, want)

		copy(got, x)
		copy(want, x)
		if err := NTTDIF4(got, m, tw); err != nil {
			t.Fatal(err)
		}
		nttDIF4Ref(want, m, tw)
		checkNTTForm(t, "NTTDIF4", got)
		sameResidues(t, "NTTDIF4", got, want)

		// chained: outputs of the kernels are valid inputs
		for range 3 {
			if err := NTTDIF4(got, m, tw); err != nil {
				t.Fatal(err)
			}
			nttDIF4Ref(want, m, tw)
			if err := NTTDIF2(got, m, tw); err != nil {
				t.Fatal(err)
			}
			nttDIF2Ref(want, m, tw)
		}
		checkNTTForm(t, "chained", got)
		sameResidues(t, "chained", got, want)
	}
	x := nttVectors(rng, 16)
	got, want := append([]Fr8(nil), x...), append([]Fr8(nil), x...)
	if err := NTTDIF2Unit(got); err != nil {
		t.Fatal(err)
	}
	one := new(fr.Element).SetOne()
	nttDIF2Ref(want, 1, []NTTTwiddle{NewNTTTwiddle(one)})
	checkNTTForm(t, "NTTDIF2Unit", got)
	sameResidues(t, "NTTDIF2Unit", got, want)
}

func TestNTTLoadScale(t *testing.T) {
	skipWithoutIFMA(t)
	rng := rand.New(rand.NewPCG(23, 24))
	const lane, n = 3, 33
	src := randomElements(rng, 8*lane+n)
	off := rng.Perm(n)
	var v Fr8
	ev := randomElements(rng, Lanes)
	for j := range Lanes {
		v.SetLane(j, &ev[j])
	}
	var step [Lanes]NTTTwiddle
	copy(step[:], randomTwiddles(rng, Lanes))
	got, want := make([]Fr8, n), make([]Fr8, n)
	vg, vw := v, v
	for range 2 { // the second call starts from the v the first one left
		if err := NTTLoadScale(got, src, off, lane, &vg, &step); err != nil {
			t.Fatal(err)
		}
		nttLoadScaleRef(want, src, off, lane, &vw, &step)
		checkNTTForm(t, "NTTLoadScale", got)
		sameResidues(t, "NTTLoadScale", got, want)
		checkNTTForm(t, "NTTLoadScale v", []Fr8{vg})
		sameResidues(t, "NTTLoadScale v", []Fr8{vg}, []Fr8{vw})
	}
}

func TestNTTLoadStore(t *testing.T) {
	skipWithoutIFMA(t)
	rng := rand.New(rand.NewPCG(25, 26))
	const lane, n = 5, 40
	src := randomElements(rng, 8*lane+n)
	tab := randomElements(rng, len(src))
	off := rng.Perm(n)
	for i := range off {
		off[i] += rng.IntN(lane)
		off[i] = min(off[i], len(src)-1-7*lane)
	}
	idx := rng.Perm(n)
	got, want := make([]Fr8, n), make([]Fr8, n)
	for _, withTab := range []bool{false, true} {
		var err error
		if withTab {
			err = NTTLoadMul(got, src, tab, off, idx, lane)
			nttLoadRef(want, src, tab, off, idx, lane)
		} else {
			err = NTTLoad(got, src, off, idx, lane)
			nttLoadRef(want, src, nil, off, idx, lane)
		}
		if err != nil {
			t.Fatal(err)
		}
		checkNTTForm(t, "NTTLoad", got)
		sameResidues(t, "NTTLoad", got, want)
	}

	// stores: distinct offsets so that the outputs do not overlap
	x := nttVectors(rng, 8)
	sOff := []int{0, 1, 2, 3, 4, 40, 41, 42}
	sIdx := []int{3, 0, 7, 1, 2, 6, 4, 5}
	const sLane = 5
	dst := make([]fr.Element, 8*sLane+40)
	for _, withTab := range []bool{false, true} {
		gotE, wantE := append([]fr.Element(nil), dst...), append([]fr.Element(nil), dst...)
		var err error
		if withTab {
			err = NTTStoreMul(gotE, x, tab[:len(dst)], sOff, sIdx, sLane)
			nttStoreRef(wantE, x, tab[:len(dst)], sOff, sIdx, sLane)
		} else {
			err = NTTStore(gotE, x, sOff, sIdx, sLane)
			nttStoreRef(wantE, x, nil, sOff, sIdx, sLane)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range gotE {
			if gotE[i] != wantE[i] {
				t.Fatalf("NTTStore (table %v): element %d = %v, want %v", withTab, i, gotE[i], wantE[i])
			}
		}
	}
}

func TestNTTErrors(t *testing.T) {
	x := make([]Fr8, 8)
	tw := make([]NTTTwiddle, 8)
	if err := NTTDIF2(x, 3, tw); err != ErrOffset {
		t.Errorf("NTTDIF2 with m not dividing: %v", err)
	}
	if err := NTTDIF4(x, 2, tw[:5]); err != ErrOffset {
		t.Errorf("NTTDIF4 with short table: %v", err)
	}
	if err := NTTDIF2Unit(x[:3]); err != ErrOffset {
		t.Errorf("NTTDIF2Unit odd: %v", err)
	}
	src := make([]fr.Element, 16)
	if err := NTTLoad(x[:2], src, []int{0, 9}, []int{0, 1}, 1); err != ErrOffset {
		t.Errorf("NTTLoad past the end: %v", err)
	}
	if err := NTTLoad(x[:2], src, []int{0, 1}, []int{0, 2}, 1); err != ErrOffset {
		t.Errorf("NTTLoad index past the end: %v", err)
	}
	if err := NTTStore(src, x[:2], []int{0}, []int{0, 1}, 1); err != ErrLength {
		t.Errorf("NTTStore with short offsets: %v", err)
	}
}

func TestNTTTwiddle(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	shift := new(big.Int).Lsh(big.NewInt(1), 260)
	for _, e := range randomElements(rng, 16) {
		tw := NewNTTTwiddle(&e)
		w := e.BigInt(new(big.Int))
		wp := new(big.Int).Mul(w, shift)
		wp.Quo(wp, frModulus)
		if tw[0] != limbs52(w) || tw[1] != limbs52(wp) {
			t.Fatalf("NewNTTTwiddle(%v) = %v", w, tw)
		}
	}
}

// TestNTTTransform runs eight DIF transforms of size s side by side with the exported kernels
// (the assembly, or the references in builds without it) and compares each lane with
// gnark-crypto's FFT: it pins down what the twiddles of NTTDIF4, NTTDIF2 and NTTDIF2Unit mean.
func TestNTTTransform(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, s := range []int{2, 4, 8, 16, 32} {
		d := fft.NewDomain(uint64(s))
		pow := func(e int) NTTTwiddle { // ω_s^e
			var w fr.Element
			w.Exp(d.Generator, big.NewInt(int64(e)))
			return NewNTTTwiddle(&w)
		}
		in := randomElements(rng, Lanes*s) // lane j is in[j·s : (j+1)·s]
		off, idx := make([]int, s), make([]int, s)
		for k := range off {
			off[k], idx[k] = k, k
		}
		for _, radix2 := range []bool{false, true} {
			x := make([]Fr8, s)
			if err := NTTLoad(x, in, off, idx, s); err != nil {
				t.Fatal(err)
			}
			// stages of half-size m use ω_{2m}^j = ω_s^{j·s/2m}
			m := s / 2
			for ; m >= 2 && !radix2; m /= 4 {
				q := m / 2
				tw := make([]NTTTwiddle, 3*q)
				for j := range q {
					tw[3*j], tw[3*j+1], tw[3*j+2] = pow(j*s/(2*m)), pow((j+q)*s/(2*m)), pow(j*s/m)
				}
				if err := NTTDIF4(x, q, tw); err != nil {
					t.Fatal(err)
				}
			}
			for ; m >= 2; m /= 2 {
				tw := make([]NTTTwiddle, m)
				for j := range tw {
					tw[j] = pow(j * s / (2 * m))
				}
				if err := NTTDIF2(x, m, tw); err != nil {
					t.Fatal(err)
				}
			}
			if m == 1 {
				if err := NTTDIF2Unit(x); err != nil {
					t.Fatal(err)
				}
			}
			got := make([]fr.Element, len(in))
			if err := NTTStore(got, x, off, idx, s); err != nil {
				t.Fatal(err)
			}
			for j := range Lanes {
				want := append([]fr.Element(nil), in[j*s:(j+1)*s]...)
				d.FFT(want, fft.DIF)
				for i := range want {
					if got[j*s+i] != want[i] {
						t.Fatalf("size %d radix-2 %v: lane %d element %d differs from gnark-crypto", s, radix2, j, i)
					}
				}
			}
		}
	}
}

// BenchmarkNTTDIF4 measures one radix-4 pass over a scratch buffer of 1024 vectors (the size of
// a 2^20 transform's sub-transforms), per butterfly of 8 lanes.
func BenchmarkNTTDIF4(b *testing.B) {
	rng := rand.New(rand.NewPCG(31, 32))
	const n, q = 1024, 64
	x := nttVectors(rng, n)
	tw := randomTwiddles(rng, 3*q)
	b.ReportAllocs()
	for b.Loop() {
		_ = NTTDIF4(x, q, tw)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n/4), "ns/butterfly4")
}

// BenchmarkNTTLoadStore measures NTTLoad and NTTStore of 1024 vectors with a lane stride of
// 1024 elements (a row task of a 2^20 transform), per vector.
func BenchmarkNTTLoadStore(b *testing.B) {
	rng := rand.New(rand.NewPCG(33, 34))
	const n = 1024
	src := randomElements(rng, 8*n)
	x := make([]Fr8, n)
	off := make([]int, n)
	for k := range off {
		off[k] = k
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = NTTLoad(x, src, off, off, n)
		_ = NTTStore(src, x, off, off, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/vector")
}
