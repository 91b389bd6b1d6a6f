package accel

import (
	"math/big"
	"runtime"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/veloxlabs/velox/asm"
)

// point52 is a G1 affine point with coordinates in the radix-52 form of package asm. The
// point at infinity is all zeros (like gnark-crypto's (0, 0), which is not on the curve).
type point52 struct {
	x, y [5]uint64
}

func (p *point52) isInfinity() bool { return p.x == [5]uint64{} && p.y == [5]uint64{} }

func toPoint52One(p *bn254.G1Affine) point52 {
	if p.IsInfinity() {
		return point52{}
	}
	return point52{asm.ToRadix52(&p.X), asm.ToRadix52(&p.Y)}
}

func (p *point52) affine() bn254.G1Affine {
	if p.isInfinity() {
		return bn254.G1Affine{}
	}
	return bn254.G1Affine{X: asm.FromRadix52(&p.x), Y: asm.FromRadix52(&p.y)}
}

// toPoint52 converts points, in parallel, into a pooled slice (see putPoints52).
func toPoint52(points []bn254.G1Affine) []point52 {
	var out []point52
	if v, ok := point52Pool.Get().(*[]point52); ok && cap(*v) >= len(points) {
		out = (*v)[:len(points)]
	} else {
		out = make([]point52, len(points))
	}
	n := len(points)
	chunks := min(runtime.GOMAXPROCS(0), (n+4095)/4096)
	parallelFor(chunks, func(ch int) {
		for i := ch * n / chunks; i < (ch+1)*n/chunks; i++ {
			out[i] = toPoint52One(&points[i])
		}
	})
	return out
}

func putPoints52(p []point52) { point52Pool.Put(&p) }

var (
	p52 [5]uint64 // p in radix 52
	// dummyP, dummyQ pad the last vector of a batch: finite points with distinct x.
	dummyP, dummyQ point52
)

func init() {
	m := fp.Modulus()
	mask := new(big.Int).SetUint64(1<<52 - 1)
	for i := range p52 {
		p52[i] = new(big.Int).And(m, mask).Uint64()
		m.Rsh(m, 52)
	}
	_, _, g, _ := bn254.Generators()
	var g2 bn254.G1Affine
	g2.Double(&g)
	dummyP, dummyQ = toPoint52One(&g), toPoint52One(&g2)
}

// neg52 returns p - y for 0 < y < p.
func neg52(y *[5]uint64) [5]uint64 {
	var r [5]uint64
	var borrow uint64
	for i := range r {
		v := p52[i] - y[i] - borrow
		borrow = v >> 63
		r[i] = v & (1<<52 - 1)
	}
	return r
}

// bucket52 keeps a bucket and its flags on the same cache lines.
type bucket52 struct {
	mark uint32 // == gen: the bucket is in the current batch
	set  bool   // false: the bucket is the point at infinity
	p    point52
}

// prefetchDistance is how many points ahead accumulate prefetches buckets.
const prefetchDistance = 8

type pending52 struct {
	bucket uint32
	p      point52
}

// buckets52 is bucketsG1 on the AVX512 path: buckets in radix-52 form, batches gathered into
// asm.Fp8 vectors and added by asm.AddAffine.
type buckets52 struct {
	nb      int // buckets per window; b holds the windows back to back, then segment sums
	windows int
	b       []bucket52
	gen     uint32
	batch   int
	// seg and segmented are those of buckets52G2: the reduction's segment size, and whether
	// the segment sums in b are up to date.
	seg       int
	segmented bool

	// overflow holds, per bucket, additions the batches could not take (see flush); nil
	// until first needed.
	overflow       []bn254.G1Jac
	idx            []uint32
	x1, y1, x2, y2 []asm.Fp8
	scratch        asm.AffineScratch
	queue, requeue []pending52
}

// newBuckets52 returns buckets for windows windows of c bits.
func newBuckets52(c, windows int) *buckets52 {
	nb := 1 << (c - 1)
	bs := batchSize(nb * windows)
	nv := bs / asm.Lanes
	if k, ok := buckets52Pool.Get().(*buckets52); ok && k.nb == nb && k.windows == windows {
		clear(k.b)
		k.gen = 1
		k.overflow = nil
		k.segmented = false
		k.idx, k.queue, k.requeue = k.idx[:0], k.queue[:0], k.requeue[:0]
		return k
	}
	seg := max(reduceSegment, nb/maxSegments)
	return &buckets52{
		nb:      nb,
		windows: windows,
		b:       make([]bucket52, nb*windows+2*(nb*windows/seg)),
		gen:     1,
		batch:   bs,
		seg:     seg,
		idx:     make([]uint32, 0, bs),
		x1:      make([]asm.Fp8, nv),
		y1:      make([]asm.Fp8, nv),
		x2:      make([]asm.Fp8, nv),
		y2:      make([]asm.Fp8, nv),
	}
}

// accumulate adds sign(digits[w][i])·points[i] to bucket |digits[w][i]|-1 of window w, for
// every window w (len(digits) must not exceed the windows of newBuckets52) and point i.
func (k *buckets52) accumulate(digits [][]int32, points []point52) *buckets52 {
	var pos, neg point52
	for i := range points {
		// Buckets are scattered over megabytes: ask for those of a later point now.
		if j := i + prefetchDistance; j < len(points) {
			for w, d := range digits {
				if dj := d[j]; dj != 0 {
					if dj < 0 {
						dj = -dj
					}
					a := uintptr(unsafe.Pointer(&k.b[w*k.nb+int(dj)-1]))
					asm.Prefetch(a)
					asm.Prefetch(a + unsafe.Sizeof(bucket52{}) - 1) // its last line

				}
			}
		}
		if points[i].isInfinity() {
			continue
		}
		pos = points[i]
		haveNeg := false
		for w, d := range digits {
			di := d[i]
			if di == 0 {
				continue
			}
			if di > 0 {
				k.add(uint32(w*k.nb)+uint32(di-1), &pos)
			} else {
				if !haveNeg {
					neg = point52{x: pos.x, y: neg52(&pos.y)}
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

// segmentSums is buckets52G2.segmentSums over G1.
func (k *buckets52) segmentSums() {
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

func (k *buckets52) add(b uint32, p *point52) {
	q := &k.b[b]
	switch {
	case q.mark == k.gen:
		k.queue = append(k.queue, pending52{b, *p})
	case !q.set:
		q.p, q.set = *p, true
	case q.p.x[0] == p.x[0] && q.p.x[1] == p.x[1] && q.p.x[2] == p.x[2] && q.p.x[3] == p.x[3] && q.p.x[4] == p.x[4]:
		if q.p.y == p.y {
			a := p.affine()
			var j bn254.G1Jac
			j.FromAffine(&a)
			j.DoubleAssign()
			a.FromJacobian(&j)
			q.p = toPoint52One(&a)
		} else {
			q.set = false
		}
	default:
		q.mark = k.gen
		n := len(k.idx)
		v, lane := n/asm.Lanes, n%asm.Lanes
		for l := range 5 {
			k.x1[v][l][lane] = q.p.x[l]
			k.y1[v][l][lane] = q.p.y[l]
			k.x2[v][l][lane] = p.x[l]
			k.y2[v][l][lane] = p.y[l]
		}
		k.idx = append(k.idx, b)
	}
}

// flush performs the batched additions, then moves queued additions into the next batch.
// When most of the queue still conflicts (many additions to few buckets, as in the top window
// or with repeated scalars), it moves the queue to the Jacobian overflow buckets instead, so
// that every addition costs O(1).
func (k *buckets52) flush() {
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
			k.overflow = make([]bn254.G1Jac, len(k.b))
			for i := range k.overflow {
				k.overflow[i] = g1Infinity()
			}
		}
		for i := range k.queue {
			a := k.queue[i].p.affine()
			k.overflow[k.queue[i].bucket].AddMixed(&a)
		}
		k.queue = k.queue[:0]
	}
}

func (k *buckets52) addBatch() {
	n := len(k.idx)
	if n > 0 {
		nv := (n + asm.Lanes - 1) / asm.Lanes
		for j := n; j < nv*asm.Lanes; j++ {
			v, lane := j/asm.Lanes, j%asm.Lanes
			for l := range 5 {
				k.x1[v][l][lane] = dummyP.x[l]
				k.y1[v][l][lane] = dummyP.y[l]
				k.x2[v][l][lane] = dummyQ.x[l]
				k.y2[v][l][lane] = dummyQ.y[l]
			}
		}
		if err := asm.AddAffine(k.x1[:nv], k.y1[:nv], k.x2[:nv], k.y2[:nv], &k.scratch); err != nil {
			// add keeps equal x out of batches, so this is unreachable; stay correct anyway.
			k.addSlow()
		}
		for j, b := range k.idx {
			v, lane := j/asm.Lanes, j%asm.Lanes
			q := &k.b[b].p
			for l := range 5 {
				q.x[l] = k.x1[v][l][lane]
				q.y[l] = k.y1[v][l][lane]
			}
		}
	}
	k.idx = k.idx[:0]
	k.gen++
	if k.gen == 0 {
		for i := range k.b {
			k.b[i].mark = 0
		}
		k.gen = 1
	}
}

// addSlow does the batched additions one at a time with Jacobian arithmetic, leaving the
// sums in x1, y1 like asm.AddAffine.
func (k *buckets52) addSlow() {
	for j := range k.idx {
		v, lane := j/asm.Lanes, j%asm.Lanes
		a := bn254.G1Affine{X: k.x1[v].Lane(lane), Y: k.y1[v].Lane(lane)}
		q := bn254.G1Affine{X: k.x2[v].Lane(lane), Y: k.y2[v].Lane(lane)}
		var s bn254.G1Jac
		s.FromAffine(&a)
		s.AddMixed(&q)
		a.FromJacobian(&s)
		p := toPoint52One(&a)
		k.x1[v].SetLaneRadix52(lane, p.x)
		k.y1[v].SetLaneRadix52(lane, p.y)
	}
}

// reduce returns Σ (i+1)·bucket[i] over the buckets of window w.
func (k *buckets52) reduce(w int) bn254.G1Jac {
	if k.segmented {
		// As in buckets52G2.reduce: Σ T_s + seg·Σ s·S_s.
		segs := k.nb / k.seg
		sumBase, totBase := k.nb*k.windows+w*segs, k.nb*k.windows+k.nb*k.windows/k.seg+w*segs
		res, run, weighted := g1Infinity(), g1Infinity(), g1Infinity()
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
	sum, total := g1Infinity(), g1Infinity()
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
func (k *buckets52) value(b int) bn254.G1Jac {
	v := g1Infinity()
	if k.b[b].set {
		a := k.b[b].p.affine()
		v.AddMixed(&a)
	}
	if k.overflow != nil {
		v.AddAssign(&k.overflow[b])
	}
	return v
}
