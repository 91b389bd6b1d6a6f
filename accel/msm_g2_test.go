package accel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func wantG2(t testing.TB, points []bn254.G2Affine, scalars []fr.Element) bn254.G2Jac {
	t.Helper()
	var want bn254.G2Jac
	if _, err := want.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
		t.Fatal(err)
	}
	return want
}

// g2Cases returns named G2 inputs: random ones of several sizes and the edge cases of g1Cases.
func g2Cases(rng *rand.Rand) map[string]struct {
	p []bn254.G2Affine
	s []fr.Element
} {
	type in = struct {
		p []bn254.G2Affine
		s []fr.Element
	}
	cases := map[string]in{}
	for _, n := range []int{1, 2, 7, 100, 1001} {
		cases[fmt.Sprintf("random-%d", n)] = in{randG2(rng, n), randScalars(rng, n)}
	}
	n := 300
	p, s := randG2(rng, n), randScalars(rng, n)
	var rMinus1 fr.Element
	rMinus1.SetOne()
	rMinus1.Neg(&rMinus1)
	for i := 0; i < n; i += 3 {
		s[i].SetZero()
		s[i+1] = rMinus1
	}
	cases["zero-and-r-1"] = in{p, s}
	cases["all-zero-scalars"] = in{randG2(rng, 20), make([]fr.Element, 20)}
	p, s = randG2(rng, 10), randScalars(rng, 10)
	var rp []bn254.G2Affine
	var rs []fr.Element
	for range 60 {
		rp = append(rp, p...)
		rs = append(rs, s...)
	}
	cases["repeated-points"] = in{rp, rs}
	p, s = randG2(rng, 450), randScalars(rng, 450)
	for i := 0; i+2 < len(p); i += 9 {
		p[i+1].Neg(&p[i])
		s[i+1] = s[i]
		p[i+2] = p[i]
		s[i+2] = s[i]
	}
	for i := 5; i < len(p); i += 11 {
		p[i] = bn254.G2Affine{}
	}
	cases["P-negP-twice-infinity"] = in{p, s}
	p, s = randG2(rng, 1), randScalars(rng, 1)
	var ns fr.Element
	ns.Neg(&s[0])
	cases["cancel-to-infinity"] = in{[]bn254.G2Affine{p[0], p[0]}, []fr.Element{s[0], ns}}
	p, s = randG2(rng, 500), randScalars(rng, 1)
	for len(s) < len(p) {
		s = append(s, s[0])
	}
	cases["same-scalar"] = in{p, s}
	return cases
}

func TestMultiExpG2Cases(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	cases := g2Cases(rng)
	want := map[string]bn254.G2Jac{}
	for name, tc := range cases {
		want[name] = wantG2(t, tc.p, tc.s)
	}
	forEachPath(t, func(t *testing.T) {
		for name, tc := range cases {
			w := want[name]
			got, err := MultiExpG2(tc.p, tc.s)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !got.Equal(&w) {
				t.Errorf("%s (n=%d): MultiExpG2 disagrees with gnark-crypto", name, len(tc.p))
			}
			for _, c := range []int{minBatchWindow, 13} {
				if got := multiExpG2(tc.p, tc.s, c); !got.Equal(&w) {
					t.Errorf("%s (n=%d) c=%d: multiExpG2 disagrees with gnark-crypto", name, len(tc.p), c)
				}
			}
		}
	})
}

// TestBucketsG2BatchEdgeCases is TestBucketsBatchEdgeCases for the G2 accumulators, including
// points whose y has a zero component (negated without leaving [0, p)).
func TestBucketsG2BatchEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	const c = minBatchWindow
	pts := randG2(rng, 40)
	var points []bn254.G2Affine
	var digits []int32
	push := func(p bn254.G2Affine, d int32) {
		points = append(points, p)
		digits = append(digits, d)
	}
	for i, p := range pts {
		b := int32(i%5 + 1)
		var np bn254.G2Affine
		np.Neg(&p)
		push(p, b)
		push(p, b)
		push(np, b)
		push(p, -b)
		push(bn254.G2Affine{}, b)
		push(p, b)
		push(p, int32(i%200)+1)
	}
	want := make([]bn254.G2Jac, 1<<(c-1))
	for i := range want {
		want[i] = g2Infinity()
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
	gen := newBucketsG2(c, 2).accumulate([][]int32{digits, digits}, points)
	vec := newBuckets52G2(c, 2).accumulate([][]int32{digits, digits}, toPoint52G2(points))
	for bb := range 2 * len(want) {
		w := want[bb%len(want)]
		if g := gen.value(bb); !g.Equal(&w) {
			t.Fatalf("bucketsG2: bucket %d = %v, want %v", bb, g.String(), w.String())
		}
		if v := vec.value(bb); !v.Equal(&w) {
			t.Fatalf("buckets52G2: bucket %d = %v, want %v", bb, v.String(), w.String())
		}
	}
	// Negation keeps a zero component of y at zero.
	var p bn254.G2Affine
	p.X.A0.SetOne()
	p.Y.A1.SetOne() // not on the curve: neg only negates coordinates
	q := toPoint52G2One(&p)
	nq := q.neg()
	var wantNeg bn254.G2Affine
	wantNeg.X, wantNeg.Y = p.X, p.Y
	wantNeg.Y.Neg(&wantNeg.Y)
	if got := nq.affine(); !got.X.Equal(&wantNeg.X) || !got.Y.Equal(&wantNeg.Y) || nq.y0 != [5]uint64{} {
		t.Fatalf("neg of a point with y0 = 0: got %v", got.String())
	}
}

// TestG2VecAdder checks the vector batch addition against gnark-crypto's affine addition for
// batch lengths around the chain count.
func TestG2VecAdder(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	var s g2VecAdder
	for _, nv := range []int{1, 2, 3, 4, 8, 12} {
		m := min(g2Chains, nv)
		if nv%m != 0 {
			continue
		}
		p, q := randG2(rng, nv*8), randG2(rng, nv*8)
		x1, y1, x2, y2 := newE2Vec(nv), newE2Vec(nv), newE2Vec(nv), newE2Vec(nv)
		for i := range p {
			a, b := toPoint52G2One(&p[i]), toPoint52G2One(&q[i])
			x1.setLane(i/8, i%8, &a.x0, &a.x1)
			y1.setLane(i/8, i%8, &a.y0, &a.y1)
			x2.setLane(i/8, i%8, &b.x0, &b.x1)
			y2.setLane(i/8, i%8, &b.y0, &b.y1)
		}
		s.addAffine(x1, y1, x2, y2, m)
		for i := range p {
			var want bn254.G2Affine
			want.Add(&p[i], &q[i])
			var r point52G2
			x1.lane(i/8, i%8, &r.x0, &r.x1)
			y1.lane(i/8, i%8, &r.y0, &r.y1)
			if got := r.affine(); !got.Equal(&want) {
				t.Fatalf("nv=%d addition %d: got %s, want %s", nv, i, got.String(), want.String())
			}
		}
	}
}

func TestFixedBaseG2(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	cases := g2Cases(rng)
	names := []string{"random-1", "random-100", "zero-and-r-1", "P-negP-twice-infinity", "repeated-points", "same-scalar"}
	type vec struct {
		s    []fr.Element
		want bn254.G2Jac
	}
	vecs := map[string][]vec{}
	for _, name := range names {
		tc := cases[name]
		other := randScalars(rng, len(tc.p))
		vecs[name] = []vec{{tc.s, wantG2(t, tc.p, tc.s)}, {other, wantG2(t, tc.p, other)}}
	}
	forEachPath(t, func(t *testing.T) {
		for _, name := range names {
			tc := cases[name]
			n := int64(len(tc.p))
			for _, budget := range []int64{
				n * 128,       // bases only
				n * 160 * 20,  // narrow windows
				n * 160 * 128, // generous
			} {
				f, err := NewFixedBaseG2(tc.p, budget)
				if err != nil {
					t.Fatalf("%s budget %d: %v", name, budget, err)
				}
				if f.MemoryBytes() > budget {
					t.Fatalf("%s: MemoryBytes %d exceeds budget %d", name, f.MemoryBytes(), budget)
				}
				for _, v := range vecs[name] {
					got, err := f.MultiExp(v.s)
					if err != nil {
						t.Fatal(err)
					}
					if !got.Equal(&v.want) {
						t.Fatalf("%s budget %d (c=%d): FixedBaseG2.MultiExp disagrees with gnark-crypto", name, budget, f.c)
					}
				}
			}
		}
	})
}

func TestFixedBaseG2Errors(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	p := randG2(rng, 10)
	if _, err := NewFixedBaseG2(p, 100); !errors.Is(err, ErrBudget) {
		t.Fatalf("tiny budget: err = %v, want ErrBudget", err)
	}
	f, err := NewFixedBaseG2(p, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.MultiExp(make([]fr.Element, 9)); !errors.Is(err, ErrLengthMismatch) {
		t.Fatalf("wrong scalar count: err = %v", err)
	}
	e, err := NewFixedBaseG2(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := e.MultiExp(nil); err != nil || !r.Z.IsZero() {
		t.Fatalf("empty: %v %v", r.String(), err)
	}
}
