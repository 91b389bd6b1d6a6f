package asm

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
)

func randomPoints(rng *rand.Rand, n int) []bn254.G1Affine {
	_, _, g, _ := bn254.Generators()
	pts := make([]bn254.G1Affine, n)
	for i := range pts {
		pts[i].ScalarMultiplication(&g, new(big.Int).SetUint64(rng.Uint64()|1))
	}
	return pts
}

func pack(pts []bn254.G1Affine) (x, y []Fp8) {
	x, y = make([]Fp8, len(pts)/Lanes), make([]Fp8, len(pts)/Lanes)
	for i := range pts {
		x[i/Lanes].SetLane(i%Lanes, &pts[i].X)
		y[i/Lanes].SetLane(i%Lanes, &pts[i].Y)
	}
	return x, y
}

func TestAddAffine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 3, 17} {
		p := randomPoints(rng, n*Lanes)
		q := randomPoints(rng, n*Lanes)
		// P + (-P') where P' has another x, and a lane adding a point to its negation's
		// neighbour: only x matters for the batch formula.
		q[0].Neg(&q[0])
		x1, y1 := pack(p)
		x2, y2 := pack(q)
		rx1, ry1 := append([]Fp8(nil), x1...), append([]Fp8(nil), y1...)
		var s AffineScratch
		if err := AddAffine(x1, y1, x2, y2, &s); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		addAffineRef(rx1, ry1, x2, y2)
		for i := range p {
			var want bn254.G1Affine
			want.Add(&p[i], &q[i])
			gx, gy := x1[i/Lanes].Lane(i%Lanes), y1[i/Lanes].Lane(i%Lanes)
			if !gx.Equal(&want.X) || !gy.Equal(&want.Y) {
				t.Fatalf("n=%d addition %d: got (%s, %s), want %s", n, i, gx.String(), gy.String(), want.String())
			}
			rx, ry := rx1[i/Lanes].Lane(i%Lanes), ry1[i/Lanes].Lane(i%Lanes)
			if !rx.Equal(&want.X) || !ry.Equal(&want.Y) {
				t.Fatalf("n=%d addition %d: reference disagrees with gnark-crypto", n, i)
			}
		}
	}
}

func TestAddAffineEqualX(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, lane := range []int{0, 5, 7} {
		p := randomPoints(rng, 3*Lanes)
		q := randomPoints(rng, 3*Lanes)
		i := 2*Lanes + lane // last vector: also checks the product chain end
		if lane == 5 {
			i = lane // first vector
		}
		if lane == 7 {
			q[i].Neg(&p[i]) // P + (-P)
		} else {
			q[i] = p[i] // doubling
		}
		x1, y1 := pack(p)
		x2, y2 := pack(q)
		before := append([]Fp8(nil), x1...)
		var s AffineScratch
		if err := AddAffine(x1, y1, x2, y2, &s); err != ErrEqualX {
			t.Fatalf("lane %d: err = %v, want ErrEqualX", lane, err)
		}
		for k := range x1 {
			if x1[k] != before[k] {
				t.Fatalf("lane %d: AddAffine modified its input on error", lane)
			}
		}
	}
	var s AffineScratch
	if err := AddAffine(make([]Fp8, 2), make([]Fp8, 2), make([]Fp8, 1), make([]Fp8, 2), &s); err != ErrLength {
		t.Fatalf("mismatched lengths: err = %v, want ErrLength", err)
	}
}

func BenchmarkAddAffine(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 64
	x1, y1 := pack(randomPoints(rng, n*Lanes))
	x2, y2 := pack(randomPoints(rng, n*Lanes))
	var s AffineScratch
	b.ReportAllocs()
	for b.Loop() {
		if err := AddAffine(x1, y1, x2, y2, &s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*Lanes), "ns/add")
}

func BenchmarkFpMulGnark(b *testing.B) {
	var x, y fp.Element
	x.SetRandom()
	y.SetRandom()
	b.ReportAllocs()
	for b.Loop() {
		x.Mul(&x, &y)
	}
}
