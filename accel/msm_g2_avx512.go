package accel

import (
	"runtime"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/veloxlabs/velox/asm"
)

// point52G2 is a G2 affine point with the two Fp coordinates of each of x and y in the
// radix-52 form of package asm. The point at infinity is all zeros.
type point52G2 struct {
	x0, x1, y0, y1 [5]uint64
}

func (p *point52G2) isInfinity() bool {
	return p.x0 == [5]uint64{} && p.x1 == [5]uint64{} && p.y0 == [5]uint64{} && p.y1 == [5]uint64{}
}

func toPoint52G2One(p *bn254.G2Affine) point52G2 {
	if p.IsInfinity() {
		return point52G2{}
	}
	return point52G2{asm.ToRadix52(&p.X.A0), asm.ToRadix52(&p.X.A1), asm.ToRadix52(&p.Y.A0), asm.ToRadix52(&p.Y.A1)}
}

func (p *point52G2) affine() bn254.G2Affine {
	var a bn254.G2Affine
	if !p.isInfinity() {
		a.X.A0, a.X.A1 = asm.FromRadix52(&p.x0), asm.FromRadix52(&p.x1)
		a.Y.A0, a.Y.A1 = asm.FromRadix52(&p.y0), asm.FromRadix52(&p.y1)
	}
	return a
}

// neg returns -p for a finite p. A component of y may be zero (unlike the y of a G1 point).
func (p *point52G2) neg() point52G2 {
	r := *p
	if r.y0 != [5]uint64{} {
		r.y0 = neg52(&r.y0)
	}
	if r.y1 != [5]uint64{} {
		r.y1 = neg52(&r.y1)
	}
	return r
}

// toPoint52G2 converts points, in parallel, into a pooled slice (see putPoints52G2).
func toPoint52G2(points []bn254.G2Affine) []point52G2 {
	var out []point52G2
	if v, ok := point52G2Pool.Get().(*[]point52G2); ok && cap(*v) >= len(points) {
		out = (*v)[:len(points)]
	} else {
		out = make([]point52G2, len(points))
	}
	n := len(points)
	chunks := min(runtime.GOMAXPROCS(0), (n+4095)/4096)
	parallelFor(chunks, func(ch int) {
		for i := ch * n / chunks; i < (ch+1)*n/chunks; i++ {
			out[i] = toPoint52G2One(&points[i])
		}
	})
	return out
}

func putPoints52G2(p []point52G2) { point52G2Pool.Put(&p) }

// dummyG2P, dummyG2Q pad the last vectors of a batch: finite points with distinct x.
var dummyG2P, dummyG2Q point52G2

func init() {
	_, _, _, g := bn254.Generators()
	var g2 bn254.G2Affine
	g2.Double(&g)
	dummyG2P, dummyG2Q = toPoint52G2One(&g), toPoint52G2One(&g2)
}

// e2Vec holds Fp2 elements eight per vector: element 8k+j is (a[k] lane j) + (b[k] lane j)·u.
type e2Vec struct{ a, b []asm.Fp8 }

func newE2Vec(n int) e2Vec { return e2Vec{make([]asm.Fp8, n), make([]asm.Fp8, n)} }

func (v e2Vec) sub(lo, hi int) e2Vec { return e2Vec{v.a[lo:hi], v.b[lo:hi]} }

func (v e2Vec) setLane(k, j int, a, b *[5]uint64) {
	pa, pb := &v.a[k], &v.b[k]
	j &= asm.Lanes - 1
	pa[0][j], pa[1][j], pa[2][j], pa[3][j], pa[4][j] = a[0], a[1], a[2], a[3], a[4]
	pb[0][j], pb[1][j], pb[2][j], pb[3][j], pb[4][j] = b[0], b[1], b[2], b[3], b[4]
}

func (v e2Vec) lane(k, j int, a, b *[5]uint64) {
	pa, pb := &v.a[k], &v.b[k]
	j &= asm.Lanes - 1
	*a = [5]uint64{pa[0][j], pa[1][j], pa[2][j], pa[3][j], pa[4][j]}
	*b = [5]uint64{pb[0][j], pb[1][j], pb[2][j], pb[3][j], pb[4][j]}
}

// vecErr panics on an error of package asm's vector functions: they fail only on slices of
// different lengths, which this file never passes.
func vecErr(err error) {
	if err != nil {
		panic("accel: " + err.Error())
	}
}

func e2VecSub(z, x, y e2Vec) {
	vecErr(asm.Sub(z.a, x.a, y.a))
	vecErr(asm.Sub(z.b, x.b, y.b))
}

// g2VecAdder adds batches of G2 affine points eight lanes at a time with the vector kernels of
// package asm. Its buffers grow as needed; it must not be used by two goroutines at once.
type g2VecAdder struct {
	d, acc         e2Vec
	t0, t1, t2, t3 []asm.Fp8
	run            e2Vec
	es, pre        []bn254.E2
}

// g2Chains is the number of interleaved product chains of the batch inversion: each step of
// a chain multiplies g2Chains vectors in one call, and the final inversion covers
// 8·g2Chains lanes.
const g2Chains = 4

func (s *g2VecAdder) grow(nv, m int) {
	if len(s.d.a) < nv {
		s.d, s.acc = newE2Vec(nv), newE2Vec(nv)
		s.t0, s.t1 = make([]asm.Fp8, nv), make([]asm.Fp8, nv)
		s.t2, s.t3 = make([]asm.Fp8, nv), make([]asm.Fp8, nv)
	}
	if len(s.run.a) < m {
		s.run = newE2Vec(m)
		s.es, s.pre = make([]bn254.E2, m*asm.Lanes), make([]bn254.E2, m*asm.Lanes)
	}
}

// mul sets z = x·y lane-wise (Karatsuba, u² = -1). z may alias x or y.
func (s *g2VecAdder) mul(z, x, y e2Vec) {
	n := len(z.a)
	t0, t1, t2, t3 := s.t0[:n], s.t1[:n], s.t2[:n], s.t3[:n]
	vecErr(asm.Mul(t0, x.a, y.a))
	vecErr(asm.Mul(t1, x.b, y.b))
	vecErr(asm.Add(t2, x.a, x.b))
	vecErr(asm.Add(t3, y.a, y.b))
	vecErr(asm.Mul(z.b, t2, t3))
	vecErr(asm.Sub(z.b, z.b, t0))
	vecErr(asm.Sub(z.b, z.b, t1))
	vecErr(asm.Sub(z.a, t0, t1))
}

// square sets z = x² lane-wise. z may alias x.
func (s *g2VecAdder) square(z, x e2Vec) {
	n := len(z.a)
	t0, t1, t2 := s.t0[:n], s.t1[:n], s.t2[:n]
	vecErr(asm.Add(t0, x.a, x.b))
	vecErr(asm.Sub(t1, x.a, x.b))
	vecErr(asm.Mul(t2, x.a, x.b))
	vecErr(asm.Mul(z.a, t0, t1))
	vecErr(asm.Add(z.b, t2, t2))
}

// invert sets z = 1/x lane-wise with one inversion in Fp2. Every lane of x must be non-zero.
func (s *g2VecAdder) invert(z, x e2Vec) {
	m := len(x.a) * asm.Lanes
	es, pre := s.es[:m], s.pre[:m]
	for i := range es {
		k, j := i/asm.Lanes, i%asm.Lanes
		var a, b [5]uint64
		x.lane(k, j, &a, &b)
		es[i].A0, es[i].A1 = asm.FromRadix52(&a), asm.FromRadix52(&b)
		if i == 0 {
			pre[0] = es[0]
		} else {
			pre[i].Mul(&pre[i-1], &es[i])
		}
	}
	var inv, r bn254.E2
	inv.Inverse(&pre[m-1])
	for i := m - 1; i >= 0; i-- {
		if i > 0 {
			r.Mul(&inv, &pre[i-1])
			inv.Mul(&inv, &es[i])
		} else {
			r = inv
		}
		a, b := asm.ToRadix52(&r.A0), asm.ToRadix52(&r.A1)
		z.setLane(i/asm.Lanes, i%asm.Lanes, &a, &b)
	}
}

// addAffine sets (x1, y1)[i] = (x1, y1)[i] + (x2, y2)[i] for every lane i, overwriting x2 and
// y2. All lanes must hold finite points with x1 != x2. The vector count must be a multiple of
// m (the number of product chains, m <= g2Chains). All additions share one inversion.
func (s *g2VecAdder) addAffine(x1, y1, x2, y2 e2Vec, m int) {
	nv := len(x1.a)
	s.grow(nv, m)
	d, acc, run := s.d.sub(0, nv), s.acc.sub(0, nv), s.run.sub(0, m)
	e2VecSub(d, x2, x1)
	// m interleaved chains: acc[t+j] = d[j]·d[m+j]·…·d[t+j].
	copy(acc.a[:m], d.a[:m])
	copy(acc.b[:m], d.b[:m])
	for t := m; t < nv; t += m {
		s.mul(acc.sub(t, t+m), acc.sub(t-m, t), d.sub(t, t+m))
	}
	s.invert(run, acc.sub(nv-m, nv))
	// Walking back, run = 1/acc[t..t+m) and acc[t..t+m) becomes 1/d[t..t+m).
	for t := nv - m; t > 0; t -= m {
		s.mul(acc.sub(t, t+m), run, acc.sub(t-m, t))
		s.mul(run, run, d.sub(t, t+m))
	}
	copy(acc.a[:m], run.a)
	copy(acc.b[:m], run.b)
	// λ = (y2 - y1)/(x2 - x1) in y2; x3 = λ² - x1 - x2 in x2; y3 = λ(x1 - x3) - y1 in y1.
	e2VecSub(y2, y2, y1)
	s.mul(y2, y2, acc)
	s.square(d, y2)
	e2VecSub(d, d, x1)
	e2VecSub(x2, d, x2)
	e2VecSub(d, x1, x2)
	s.mul(d, y2, d)
	e2VecSub(y1, d, y1)
	copy(x1.a, x2.a)
	copy(x1.b, x2.b)
}

// bucket52G2 keeps a bucket and its flags together.
type bucket52G2 struct {
	mark uint32 // == gen: the bucket is in the current batch
	set  bool   // false: the bucket is the point at infinity
	p    point52G2
}

type pending52G2 struct {
	bucket uint32
	p      point52G2
}

// buckets52G2 is bucketsG2 on the AVX512 path: buckets in radix-52 form, batches gathered
// into vectors and added by g2VecAdder.
type buckets52G2 struct {
	nb      int // buckets per window; b holds the windows back to back, then segment sums
	windows int
	b       []bucket52G2
	gen     uint32
	batch   int
	// seg is the number of buckets per reduction segment (see segmentSums); segmented
	// reports that the segment sums in b are up to date.
	seg       int
	segmented bool

	overflow       []bn254.G2Jac // nil until first needed
	idx            []uint32
	x1, y1, x2, y2 e2Vec
	adder          g2VecAdder
	queue, requeue []pending52G2
}

// newBuckets52G2 returns buckets for windows windows of c bits, from the pool if it can.
func newBuckets52G2(c, windows int) *buckets52G2 {
	nb := 1 << (c - 1)
	bs := min(batchSize(nb*windows), g2MaxBatch)
	if k, ok := buckets52G2Pool.Get().(*buckets52G2); ok && k.nb == nb && k.windows == windows {
		clear(k.b)
		k.gen = 1
		k.overflow = nil
		k.segmented = false
		k.idx, k.queue, k.requeue = k.idx[:0], k.queue[:0], k.requeue[:0]
		return k
	}
	nv := (bs/asm.Lanes + g2Chains - 1) / g2Chains * g2Chains
	seg := max(reduceSegment, nb/maxSegments)
	return &buckets52G2{
		nb:      nb,
		windows: windows,
		b:       make([]bucket52G2, nb*windows+2*(nb*windows/seg)),
		gen:     1,
		batch:   bs,
		seg:     seg,
		idx:     make([]uint32, 0, bs),
		x1:      newE2Vec(nv),
		y1:      newE2Vec(nv),
		x2:      newE2Vec(nv),
		y2:      newE2Vec(nv),
	}
}

// accumulate adds sign(digits[w][i])·points[i] to bucket |digits[w][i]|-1 of window w, for
// every window w and point i, and returns the receiver.
func (k *buckets52G2) accumulate(digits [][]int32, points []point52G2) *buckets52G2 {
	var neg point52G2
	for i := range points {
		// Buckets are scattered over megabytes: ask for those of a later point now.
		if j := i + prefetchDistance; j < len(points) {
			for w, d := range digits {
				if dj := d[j]; dj != 0 {
					if dj < 0 {
						dj = -dj
					}
					a := uintptr(unsafe.Pointer(&k.b[w*k.nb+int(dj)-1]))
					for off := uintptr(0); off < unsafe.Sizeof(bucket52G2{}); off += 64 {
						asm.Prefetch(a + off)
					}
					asm.Prefetch(a + unsafe.Sizeof(bucket52G2{}) - 1)
				}
			}
		}
		if points[i].isInfinity() {
			continue
		}
		haveNeg := false
		for w, d := range digits {
			di := d[i]
			if di == 0 {
				continue
			}
			if di > 0 {
				k.add(uint32(w*k.nb)+uint32(di-1), &points[i])
			} else {
				if !haveNeg {
					neg = points[i].neg()
					haveNeg = true
				}
				k.add(uint32(w*k.nb)+uint32(-di-1), &neg)
			}
			if len(k.idx) == k.batch || len(k.queue) >= k.batch {
				k.flush()
			}
		}
	}
	for len(k.idx) > 0 || len(k.queue) > 0 {
		k.flush()
	}
	if k.overflow == nil {
		k.segmentSums()
	}
	return k
}

// g2MaxBatch bounds the additions of a G2 batch: its operand vectors (four Fp2 coordinates)
// then stay in the core's cache.
const g2MaxBatch = 512

// reduceSegment is the smallest number of buckets per reduction segment, and maxSegments the
// largest number of segments per window (see segmentSums). A power of two nb >= 256 divides
// into segments of a power-of-two size.
const (
	reduceSegment = 8
	maxSegments   = 256
)

// segmentSums prepares the reduction of every window: it cuts each window's buckets into
// segments of k.seg buckets and computes, for every segment, the sum S of its buckets and
// the weighted sum T = Σ (j+1)·bucket[j] over the segment's buckets j, by running sums from
// the top bucket down, with batch-affine additions across all segments at once. reduce then
// needs only a few Jacobian operations per segment instead of two per bucket. It must not run
// with overflow buckets (their Jacobian sums are not in the affine buckets).
func (k *buckets52G2) segmentSums() {
	segs := k.nb * k.windows / k.seg
	sumBase, totBase := uint32(k.nb*k.windows), uint32(k.nb*k.windows+segs)
	for t := k.seg - 1; t >= 0; t-- {
		for g := range segs {
			if src := &k.b[g*k.seg+t]; src.set {
				k.add(sumBase+uint32(g), &src.p)
				if len(k.idx) == k.batch {
					k.addBatch()
				}
			}
		}
		k.addBatch()
		for g := range segs {
			if src := &k.b[sumBase+uint32(g)]; src.set {
				k.add(totBase+uint32(g), &src.p)
				if len(k.idx) == k.batch {
					k.addBatch()
				}
			}
		}
		k.addBatch()
	}
	k.segmented = true
}

// add adds p (finite) to bucket b, now, in the batch, or later through the queue.
func (k *buckets52G2) add(b uint32, p *point52G2) {
	q := &k.b[b]
	switch {
	case q.mark == k.gen:
		k.queue = append(k.queue, pending52G2{b, *p})
	case !q.set:
		q.p, q.set = *p, true
	case q.p.x0 == p.x0 && q.p.x1 == p.x1:
		if q.p.y0 == p.y0 && q.p.y1 == p.y1 {
			a := p.affine()
			a.Double(&a)
			q.p = toPoint52G2One(&a)
		} else {
			q.set = false // P + (-P)
		}
	default:
		q.mark = k.gen
		n := len(k.idx)
		v, lane := n/asm.Lanes, n%asm.Lanes
		k.x1.setLane(v, lane, &q.p.x0, &q.p.x1)
		k.y1.setLane(v, lane, &q.p.y0, &q.p.y1)
		k.x2.setLane(v, lane, &p.x0, &p.x1)
		k.y2.setLane(v, lane, &p.y0, &p.y1)
		k.idx = append(k.idx, b)
	}
}

// flush is buckets52.flush over G2.
func (k *buckets52G2) flush() {
	k.addBatch()
	k.queue, k.requeue = k.requeue[:0], k.queue
	for i := range k.requeue {
		k.add(k.requeue[i].bucket, &k.requeue[i].p)
		if len(k.idx) == k.batch {
			k.addBatch()
		}
	}
	if len(k.queue) > k.batch/2 {
		if k.overflow == nil {
			k.overflow = make([]bn254.G2Jac, len(k.b))
			for i := range k.overflow {
				k.overflow[i] = g2Infinity()
			}
		}
		for i := range k.queue {
			a := k.queue[i].p.affine()
			k.overflow[k.queue[i].bucket].AddMixed(&a)
		}
		k.queue = k.queue[:0]
	}
}

func (k *buckets52G2) addBatch() {
	n := len(k.idx)
	if n > 0 {
		nv := (n + asm.Lanes - 1) / asm.Lanes
		m := min(g2Chains, nv)
		nv = (nv + m - 1) / m * m
		for j := n; j < nv*asm.Lanes; j++ {
			v, lane := j/asm.Lanes, j%asm.Lanes
			k.x1.setLane(v, lane, &dummyG2P.x0, &dummyG2P.x1)
			k.y1.setLane(v, lane, &dummyG2P.y0, &dummyG2P.y1)
			k.x2.setLane(v, lane, &dummyG2Q.x0, &dummyG2Q.x1)
			k.y2.setLane(v, lane, &dummyG2Q.y0, &dummyG2Q.y1)
		}
		k.adder.addAffine(k.x1.sub(0, nv), k.y1.sub(0, nv), k.x2.sub(0, nv), k.y2.sub(0, nv), m)
		for j, b := range k.idx {
			v, lane := j/asm.Lanes, j%asm.Lanes
			q := &k.b[b].p
			k.x1.lane(v, lane, &q.x0, &q.x1)
			k.y1.lane(v, lane, &q.y0, &q.y1)
		}
	}
	k.idx = k.idx[:0]
	k.gen++
	if k.gen == 0 { // wrapped: stale marks could collide
		for i := range k.b {
			k.b[i].mark = 0
		}
		k.gen = 1
	}
}

// reduce returns Σ (i+1)·bucket[i] over the buckets of window w.
func (k *buckets52G2) reduce(w int) bn254.G2Jac {
	if k.segmented {
		// Segment s covers buckets s·seg+j, of weight (j+1) + s·seg: the window's sum is
		// Σ T_s + seg·Σ s·S_s.
		segs := k.nb / k.seg
		sumBase, totBase := k.nb*k.windows+w*segs, k.nb*k.windows+k.nb*k.windows/k.seg+w*segs
		res, run, weighted := g2Infinity(), g2Infinity(), g2Infinity()
		for s := segs - 1; s >= 0; s-- {
			if t := &k.b[totBase+s]; t.set {
				a := t.p.affine()
				res.AddMixed(&a)
			}
			if s == 0 {
				break
			}
			if sum := &k.b[sumBase+s]; sum.set {
				a := sum.p.affine()
				run.AddMixed(&a)
			}
			weighted.AddAssign(&run)
		}
		for m := k.seg; m > 1; m >>= 1 {
			weighted.DoubleAssign()
		}
		res.AddAssign(&weighted)
		return res
	}
	sum, total := g2Infinity(), g2Infinity()
	for b := (w+1)*k.nb - 1; b >= w*k.nb; b-- {
		if k.b[b].set {
			a := k.b[b].p.affine()
			sum.AddMixed(&a)
		}
		if k.overflow != nil {
			sum.AddAssign(&k.overflow[b])
		}
		total.AddAssign(&sum)
	}
	return total
}

// value returns the sum held by bucket b (its affine part plus its overflow).
func (k *buckets52G2) value(b int) bn254.G2Jac {
	v := g2Infinity()
	if k.b[b].set {
		a := k.b[b].p.affine()
		v.AddMixed(&a)
	}
	if k.overflow != nil {
		v.AddAssign(&k.overflow[b])
	}
	return v
}
