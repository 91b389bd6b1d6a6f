package accel

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

var msmPaths = []Path{Generic, ADX, AVX512}

func randScalars(rng *rand.Rand, n int) []fr.Element {
	s := make([]fr.Element, n)
	for i := range s {
		s[i].SetUint64(rng.Uint64())
		var t fr.Element
		t.SetUint64(rng.Uint64())
		s[i].Mul(&s[i], &t)
		s[i].Mul(&s[i], &t) // spread over the whole field
	}
	return s
}

func randG1(rng *rand.Rand, n int) []bn254.G1Affine {
	_, _, g, _ := bn254.Generators()
	base := make([]bn254.G1Jac, n)
	var gj bn254.G1Jac
	gj.FromAffine(&g)
	for i := range base {
		base[i].ScalarMultiplication(&gj, new(big.Int).SetUint64(rng.Uint64()))
	}
	return bn254.BatchJacobianToAffineG1(base)
}

func randG2(rng *rand.Rand, n int) []bn254.G2Affine {
	_, _, _, g := bn254.Generators()
	pts := make([]bn254.G2Affine, n)
	for i := range pts {
		pts[i].ScalarMultiplication(&g, new(big.Int).SetUint64(rng.Uint64()))
	}
	return pts
}

func wantG1(t testing.TB, points []bn254.G1Affine, scalars []fr.Element) bn254.G1Jac {
	t.Helper()
	var want bn254.G1Jac
	if _, err := want.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
		t.Fatal(err)
	}
	return want
}

// forEachPath runs f with every path forced in turn.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	for _, p := range msmPaths {
		t.Run(p.String(), func(t *testing.T) {
			restore := SetPath(p)
			defer restore()
			f(t)
		})
	}
}

// g1Cases returns named inputs: random ones of several sizes and the edge cases.
func g1Cases(rng *rand.Rand) map[string]struct {
	p []bn254.G1Affine
	s []fr.Element
} {
	type in = struct {
		p []bn254.G1Affine
		s []fr.Element
	}
	cases := map[string]in{}
	for _, n := range []int{1, 2, 7, 100, 1000, 3001} {
		cases[fmt.Sprintf("random-%d", n)] = in{randG1(rng, n), randScalars(rng, n)}
	}
	// Zero scalars and r-1.
	n := 600
	p, s := randG1(rng, n), randScalars(rng, n)
	var rMinus1 fr.Element
	rMinus1.SetOne()
	rMinus1.Neg(&rMinus1)
	for i := 0; i < n; i += 3 {
		s[i].SetZero()
		s[i+1] = rMinus1
	}
	cases["zero-and-r-1"] = in{p, s}
	// All scalars zero.
	cases["all-zero-scalars"] = in{randG1(rng, 50), make([]fr.Element, 50)}
	// Repeated points with equal scalars: every addition in a bucket is a doubling or lands in
	// a batch with its twin.
	p, s = randG1(rng, 10), randScalars(rng, 10)
	var rp []bn254.G1Affine
	var rs []fr.Element
	for range 200 {
		rp = append(rp, p...)
		rs = append(rs, s...)
	}
	cases["repeated-points"] = in{rp, rs}
	// P and -P with the same scalar (cancel in every bucket), P twice, infinity points.
	p, s = randG1(rng, 900), randScalars(rng, 900)
	for i := 0; i+2 < len(p); i += 9 {
		p[i+1].Neg(&p[i])
		s[i+1] = s[i]
		p[i+2] = p[i]
		s[i+2] = s[i]
	}
	for i := 5; i < len(p); i += 11 {
		p[i] = bn254.G1Affine{} // infinity
	}
	cases["P-negP-twice-infinity"] = in{p, s}
	// Same point, scalars s and -s: result is infinity.
	p, s = randG1(rng, 1), randScalars(rng, 1)
	var ns fr.Element
	ns.Neg(&s[0])
	cases["cancel-to-infinity"] = in{[]bn254.G1Affine{p[0], p[0]}, []fr.Element{s[0], ns}}
	// Small scalars with every digit sign in the same window and bucket.
	p = randG1(rng, 64)
	s = make([]fr.Element, 64)
	for i := range s {
		s[i].SetUint64(uint64(i % 4))
		if i%8 >= 4 {
			s[i].Neg(&s[i])
		}
	}
	cases["small-signed"] = in{p, s}
	// One scalar for every point: every window sends all points to one bucket.
	p, s = randG1(rng, 2000), randScalars(rng, 1)
	for len(s) < len(p) {
		s = append(s, s[0])
	}
	cases["same-scalar"] = in{p, s}
	return cases
}

func TestMultiExpG1(t *testing.T) {
	t.Logf("detected path %v, features %q", Detected(), Features())
	rng := rand.New(rand.NewPCG(1, 1))
	cases := g1Cases(rng)
	forEachPath(t, func(t *testing.T) {
		for name, tc := range cases {
			got, err := MultiExpG1(tc.p, tc.s)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := wantG1(t, tc.p, tc.s)
			if !got.Equal(&want) {
				t.Errorf("%s (n=%d): MultiExpG1 disagrees with gnark-crypto", name, len(tc.p))
			}
			// Windows wide enough for the batch-affine accumulators, whatever the size.
			for _, c := range []int{minBatchWindow, 11, 13} {
				if got := multiExpG1(tc.p, tc.s, c, Selected()); !got.Equal(&want) {
					t.Errorf("%s (n=%d) c=%d: multiExpG1 disagrees with gnark-crypto", name, len(tc.p), c)
				}
			}
		}
	})
}

// TestBucketsBatchEdgeCases drives the batch-affine accumulators directly with digits that put
// P, -P, P twice and infinity into the same bucket within one batch, for both accumulators.
func TestBucketsBatchEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const c = minBatchWindow
	pts := randG1(rng, 40)
	var points []bn254.G1Affine
	var digits []int32
	push := func(p bn254.G1Affine, d int32) {
		points = append(points, p)
		digits = append(digits, d)
	}
	for i, p := range pts {
		b := int32(i%5 + 1) // few buckets: many conflicts inside a batch
		var np bn254.G1Affine
		np.Neg(&p)
		push(p, b)
		push(p, b)  // P twice: doubling
		push(np, b) // -P
		push(p, -b) // -P again, through a negative digit
		push(bn254.G1Affine{}, b)
		push(p, b)
		push(p, int32(i%200)+1)
	}
	// Expected bucket sums computed naively.
	want := make([]bn254.G1Jac, 1<<(c-1))
	for i := range want {
		want[i] = g1Infinity()
	}
	for i, d := range digits {
		p := points[i]
		if d < 0 {
			p.Neg(&p)
			d = -d
		}
		if d != 0 {
			want[d-1].AddMixed(&p)
		}
	}
	// Two windows with the same digits: both must hold the same sums.
	gen := newBucketsG1(c, 2).accumulate([][]int32{digits, digits}, points)
	vec := newBuckets52(c, 2).accumulate([][]int32{digits, digits}, toPoint52(points))
	for bb := range 2 * len(want) {
		w := want[bb%len(want)]
		if g := gen.value(bb); !g.Equal(&w) {
			t.Fatalf("bucketsG1: bucket %d = %v, want %v", bb, g.String(), w.String())
		}
		if v := vec.value(bb); !v.Equal(&w) {
			t.Fatalf("buckets52: bucket %d = %v, want %v", bb, v.String(), w.String())
		}
	}
}

func TestMultiExpG1Errors(t *testing.T) {
	_, err := MultiExpG1(make([]bn254.G1Affine, 2), make([]fr.Element, 3))
	if !errors.Is(err, ErrLengthMismatch) {
		t.Fatalf("G1 length mismatch: err = %v", err)
	}
	_, err = MultiExpG2(make([]bn254.G2Affine, 1), nil)
	if !errors.Is(err, ErrLengthMismatch) {
		t.Fatalf("G2 length mismatch: err = %v", err)
	}
	r, err := MultiExpG1(nil, nil)
	if err != nil || !r.Z.IsZero() {
		t.Fatalf("empty G1: %v, %v", r.String(), err)
	}
	r2, err := MultiExpG2(nil, nil)
	if err != nil || !r2.Z.IsZero() {
		t.Fatalf("empty G2: %v, %v", r2.String(), err)
	}
}

func TestMultiExpG2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	forEachPath(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 64, 257, 600} {
			p, s := randG2(rng, n), randScalars(rng, n)
			if n == 600 {
				// P twice, P and -P, repeated points with one scalar: doublings,
				// cancellations and conflicts inside batches.
				for i := 0; i+2 < 300; i += 3 {
					p[i+1] = p[i]
					p[i+2].Neg(&p[i])
					s[i+1], s[i+2] = s[i], s[i]
				}
				for i := 300; i < n; i++ {
					p[i], s[i] = p[300+i%7], s[300]
				}
			}
			s[0].SetZero()
			if n > 2 {
				s[1].SetOne()
				s[1].Neg(&s[1])
				p[2] = bn254.G2Affine{}
			}
			if n > 3 {
				p[3].Neg(&p[0])
				s[3] = s[0]
			}
			got, err := MultiExpG2(p, s)
			if err != nil {
				t.Fatal(err)
			}
			var want bn254.G2Jac
			if _, err := want.MultiExp(p, s, ecc.MultiExpConfig{}); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(&want) {
				t.Errorf("n=%d: MultiExpG2 disagrees with gnark-crypto", n)
			}
			for _, c := range []int{minBatchWindow, 12} {
				if got := multiExpG2(p, s, c); !got.Equal(&want) {
					t.Errorf("n=%d c=%d: multiExpG2 disagrees with gnark-crypto", n, c)
				}
			}
		}
	})
}

func TestSignedDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	s := randScalars(rng, 50)
	s[0].SetZero()
	s[1].SetOne()
	s[1].Neg(&s[1])
	for c := 2; c <= 16; c++ {
		d := signedDigits(s, c)
		w := windowCount(c)
		for i := range s {
			acc := new(big.Int)
			for win := w - 1; win >= 0; win-- {
				v := d[win*len(s)+i]
				if v > 1<<(c-1) || v < -(1<<(c-1)) {
					t.Fatalf("c=%d: digit %d out of range", c, v)
				}
				acc.Lsh(acc, uint(c))
				acc.Add(acc, big.NewInt(int64(v)))
			}
			var want big.Int
			s[i].BigInt(&want)
			if acc.Cmp(&want) != 0 {
				t.Fatalf("c=%d scalar %d: digits give %v, want %v", c, i, acc, &want)
			}
		}
	}
}

func TestFixedBaseG1(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	cases := g1Cases(rng)
	names := []string{"random-1", "random-100", "random-1000", "zero-and-r-1", "P-negP-twice-infinity", "repeated-points"}
	type vec struct {
		s    []fr.Element
		want bn254.G1Jac
	}
	vecs := map[string][]vec{}
	for _, name := range names {
		tc := cases[name]
		other := randScalars(rng, len(tc.p))
		vecs[name] = []vec{{tc.s, wantG1(t, tc.p, tc.s)}, {other, wantG1(t, tc.p, other)}}
	}
	forEachPath(t, func(t *testing.T) {
		for _, name := range names {
			tc := cases[name]
			n := int64(len(tc.p))
			for _, budget := range []int64{
				n * 64,       // bases only
				n * 80 * 20,  // narrow windows
				n * 80 * 128, // generous
			} {
				f, err := NewFixedBaseG1(tc.p, budget)
				if err != nil {
					t.Fatalf("%s budget %d: %v", name, budget, err)
				}
				if f.MemoryBytes() > budget {
					t.Fatalf("%s: MemoryBytes %d exceeds budget %d", name, f.MemoryBytes(), budget)
				}
				for _, v := range vecs[name] { // reuse with another scalar vector
					got, err := f.MultiExp(v.s)
					if err != nil {
						t.Fatal(err)
					}
					if !got.Equal(&v.want) {
						t.Fatalf("%s budget %d (c=%d): FixedBaseG1.MultiExp disagrees with gnark-crypto", name, budget, f.c)
					}
				}
			}
		}
	})
}

func TestFixedBaseG1Errors(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	p := randG1(rng, 10)
	if _, err := NewFixedBaseG1(p, 100); !errors.Is(err, ErrBudget) {
		t.Fatalf("tiny budget: err = %v, want ErrBudget", err)
	}
	f, err := NewFixedBaseG1(p, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.MultiExp(make([]fr.Element, 9)); !errors.Is(err, ErrLengthMismatch) {
		t.Fatalf("wrong scalar count: err = %v", err)
	}
	e, err := NewFixedBaseG1(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := e.MultiExp(nil); err != nil || !r.Z.IsZero() {
		t.Fatalf("empty: %v %v", r.String(), err)
	}
}

// TestBuckets52AddSlow checks the fallback buckets52 uses if the vector kernel ever refused a
// batch: it must leave the same sums in x1, y1.
func TestBuckets52AddSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	p, q := randG1(rng, 11), randG1(rng, 11)
	k := newBuckets52(minBatchWindow, 1)
	for i := range p {
		v, lane := i/8, i%8
		a, b := toPoint52One(&p[i]), toPoint52One(&q[i])
		k.x1[v].SetLaneRadix52(lane, a.x)
		k.y1[v].SetLaneRadix52(lane, a.y)
		k.x2[v].SetLaneRadix52(lane, b.x)
		k.y2[v].SetLaneRadix52(lane, b.y)
		k.idx = append(k.idx, uint32(i))
	}
	k.addSlow()
	for i := range p {
		var want bn254.G1Affine
		want.Add(&p[i], &q[i])
		got := bn254.G1Affine{X: k.x1[i/8].Lane(i % 8), Y: k.y1[i/8].Lane(i % 8)}
		if !got.Equal(&want) {
			t.Fatalf("addition %d: got %s, want %s", i, got.String(), want.String())
		}
	}
}

// TestUnreducedScalars feeds scalars whose raw limbs are not reduced (as a caller assembling
// fr.Elements by hand could): the result must be that of the reduced values, without panics.
func TestUnreducedScalars(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	p, s := randG1(rng, 600), randScalars(rng, 600)
	raw := make([]fr.Element, len(s))
	for i := range s {
		raw[i] = fr.Element{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0) >> (i % 3)}
		// Its canonical value, computed through big.Int.
		var v big.Int
		v.SetUint64(raw[i][3])
		for j := 2; j >= 0; j-- {
			v.Lsh(&v, 64)
			v.Or(&v, new(big.Int).SetUint64(raw[i][j]))
		}
		// raw holds v·R^-1 in Montgomery form.
		rInv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), 256), fr.Modulus())
		v.Mul(&v, rInv)
		s[i].SetBigInt(&v)
	}
	want := wantG1(t, p, s)
	forEachPath(t, func(t *testing.T) {
		for _, c := range []int{8, minBatchWindow, 15} {
			if got := multiExpG1(p, raw, c, Selected()); !got.Equal(&want) {
				t.Fatalf("c=%d: unreduced scalars give a wrong result", c)
			}
		}
	})
}
