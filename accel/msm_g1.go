package accel

import (
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/veloxlabs/velox/asm"
)

// pendingG1 is an addition postponed because its bucket is already in the current batch.
type pendingG1 struct {
	bucket uint32
	p      bn254.G1Affine
}

// bucketsG1 accumulates points into 2^(c-1) affine buckets with batch-affine additions: up to
// batch additions to distinct buckets share one field inversion. Additions that would be a
// doubling or cancel (equal x) are done at once on a slow path; additions to a bucket already
// in the batch wait in a queue.
type bucketsG1 struct {
	nb    int // buckets per window; b holds len(b)/nb windows back to back
	b     []bn254.G1Affine
	set   []bool   // bucket holds a point (false: infinity)
	mark  []uint32 // mark[i] == gen: bucket i is in the current batch
	gen   uint32
	batch int

	// overflow holds, per bucket, additions the batches could not take (see flush); nil
	// until first needed.
	overflow       []bn254.G1Jac
	idx            []uint32 // batch: bucket of each addition
	px, py         []fp.Element
	d, acc         []fp.Element
	queue, requeue []pendingG1
}

// newBucketsG1 returns buckets for windows windows of c bits. Windows accumulated together
// share batches, hence inversions.
func newBucketsG1(c, windows int) *bucketsG1 {
	nb := 1 << (c - 1)
	bs := batchSize(nb * windows)
	if k, ok := bucketsG1Pool.Get().(*bucketsG1); ok && k.nb == nb && len(k.b) == nb*windows {
		clear(k.set)
		clear(k.mark)
		k.gen = 1
		k.overflow = nil
		k.idx, k.px, k.py = k.idx[:0], k.px[:0], k.py[:0]
		k.queue, k.requeue = k.queue[:0], k.requeue[:0]
		return k
	}
	return &bucketsG1{
		nb:    nb,
		b:     make([]bn254.G1Affine, nb*windows),
		set:   make([]bool, nb*windows),
		mark:  make([]uint32, nb*windows),
		gen:   1,
		batch: bs,
		idx:   make([]uint32, 0, bs),
		px:    make([]fp.Element, 0, bs),
		py:    make([]fp.Element, 0, bs),
		d:     make([]fp.Element, bs),
		acc:   make([]fp.Element, bs),
	}
}

// accumulate adds sign(digits[w][i])·points[i] to bucket |digits[w][i]|-1 of window w, for
// every window w (len(digits) must not exceed the windows of newBucketsG1) and point i, and
// returns the receiver.
func (k *bucketsG1) accumulate(digits [][]int32, points []bn254.G1Affine) *bucketsG1 {
	var neg bn254.G1Affine
	for i := range points {
		// Buckets are scattered over megabytes: ask for those of a later point now.
		if j := i + prefetchDistance; j < len(points) {
			for w, d := range digits {
				if dj := d[j]; dj != 0 {
					if dj < 0 {
						dj = -dj
					}
					b := w*k.nb + int(dj) - 1
					asm.Prefetch(uintptr(unsafe.Pointer(&k.b[b])))
					asm.Prefetch(uintptr(unsafe.Pointer(&k.b[b])) + unsafe.Sizeof(k.b[b]) - 1)
					asm.Prefetch(uintptr(unsafe.Pointer(&k.mark[b])))
				}
			}
		}
		if points[i].IsInfinity() {
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
					neg.Neg(&points[i])
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
	return k
}

// add adds p (finite) to bucket b, now, in the batch, or later through the queue.
func (k *bucketsG1) add(b uint32, p *bn254.G1Affine) {
	switch {
	case k.mark[b] == k.gen:
		k.queue = append(k.queue, pendingG1{b, *p})
	case !k.set[b]:
		k.b[b], k.set[b] = *p, true
	case k.b[b].X.Equal(&p.X):
		if k.b[b].Y.Equal(&p.Y) {
			var j bn254.G1Jac
			j.FromAffine(p)
			j.DoubleAssign()
			k.b[b].FromJacobian(&j)
		} else {
			k.set[b] = false // P + (-P)
		}
	default:
		k.mark[b] = k.gen
		k.idx = append(k.idx, b)
		k.px = append(k.px, p.X)
		k.py = append(k.py, p.Y)
	}
}

// flush performs the batched additions, then moves queued additions into the next batch
// (performing it too if it fills up). When most of the queue still conflicts (many additions
// to few buckets, as in the top window or with repeated scalars), it moves the queue to the
// Jacobian overflow buckets instead, so that every addition costs O(1).
func (k *bucketsG1) flush() {
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
			k.overflow[k.queue[i].bucket].AddMixed(&k.queue[i].p)
		}
		k.queue = k.queue[:0]
	}
}

func (k *bucketsG1) addBatch() {
	n := len(k.idx)
	if n > 0 {
		d, acc := k.d[:n], k.acc[:n]
		for i, b := range k.idx {
			d[i].Sub(&k.px[i], &k.b[b].X)
			if i == 0 {
				acc[0] = d[0]
			} else {
				acc[i].Mul(&acc[i-1], &d[i])
			}
		}
		var inv, invI, lambda, x3, t fp.Element
		inv.Inverse(&acc[n-1])
		for i := n - 1; i >= 0; i-- {
			if i > 0 {
				invI.Mul(&inv, &acc[i-1])
				inv.Mul(&inv, &d[i])
			} else {
				invI = inv
			}
			q := &k.b[k.idx[i]]
			lambda.Sub(&k.py[i], &q.Y)
			lambda.Mul(&lambda, &invI)
			x3.Square(&lambda)
			x3.Sub(&x3, &q.X)
			x3.Sub(&x3, &k.px[i])
			t.Sub(&q.X, &x3)
			t.Mul(&t, &lambda)
			q.Y.Sub(&t, &q.Y)
			q.X = x3
		}
	}
	k.idx, k.px, k.py = k.idx[:0], k.px[:0], k.py[:0]
	k.gen++
	if k.gen == 0 { // wrapped: stale marks could collide
		clear(k.mark)
		k.gen = 1
	}
}

// reduce returns Σ (i+1)·bucket[i] over the buckets of window w.
func (k *bucketsG1) reduce(w int) bn254.G1Jac {
	sum, total := g1Infinity(), g1Infinity()
	for b := (w+1)*k.nb - 1; b >= w*k.nb; b-- {
		if k.set[b] {
			sum.AddMixed(&k.b[b])
		}
		if k.overflow != nil {
			sum.AddAssign(&k.overflow[b])
		}
		total.AddAssign(&sum)
	}
	return total
}

// value returns the sum held by bucket b (its affine part plus its overflow).
func (k *bucketsG1) value(b int) bn254.G1Jac {
	v := g1Infinity()
	if k.set[b] {
		v.AddMixed(&k.b[b])
	}
	if k.overflow != nil {
		v.AddAssign(&k.overflow[b])
	}
	return v
}
