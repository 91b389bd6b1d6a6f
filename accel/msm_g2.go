package accel

import (
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func g2Infinity() bn254.G2Jac {
	var p bn254.G2Jac
	p.X.SetOne()
	p.Y.SetOne()
	return p
}

// multiExpG2 is MultiExpG2 with window c (2 <= c <= 16), on the kernels of Selected().
func multiExpG2(points []bn254.G2Affine, scalars []fr.Element, c int) bn254.G2Jac {
	path := Selected()
	n := len(points)
	w := windowCount(c)
	digits := signedDigits(scalars, c)
	defer putDigits(digits)
	sums := make([]bn254.G2Jac, w)
	if c < minBatchWindow {
		parallelFor(w, func(win int) {
			sums[win] = accumulateJacG2(digits[win*n:(win+1)*n], points, c)
		})
		return combineWindowsG2(sums, c)
	}
	var pts52 []point52G2
	if path == AVX512 {
		pts52 = toPoint52G2(points)
		defer putPoints52G2(pts52)
	}
	groups := windowGroups(w, 1<<(c-1), runtime.GOMAXPROCS(0))
	parallelFor(groups, func(g int) {
		lo, hi := g*w/groups, (g+1)*w/groups
		ds := make([][]int32, hi-lo)
		for j := range ds {
			ds[j] = digits[(lo+j)*n : (lo+j+1)*n]
		}
		if pts52 != nil {
			k := newBuckets52G2(c, hi-lo).accumulate(ds, pts52)
			for j := range ds {
				sums[lo+j] = k.reduce(j)
			}
			buckets52G2Pool.Put(k)
		} else {
			k := newBucketsG2(c, hi-lo).accumulate(ds, points)
			for j := range ds {
				sums[lo+j] = k.reduce(j)
			}
			bucketsG2Pool.Put(k)
		}
	})
	return combineWindowsG2(sums, c)
}

// combineWindowsG2 returns Σ 2^(c·w)·sums[w].
func combineWindowsG2(sums []bn254.G2Jac, c int) bn254.G2Jac {
	acc := sums[len(sums)-1]
	for win := len(sums) - 2; win >= 0; win-- {
		for range c {
			acc.DoubleAssign()
		}
		acc.AddAssign(&sums[win])
	}
	return acc
}

// accumulateJacG2 sums one window with Jacobian buckets; it serves small windows.
func accumulateJacG2(d []int32, points []bn254.G2Affine, c int) bn254.G2Jac {
	inf := g2Infinity()
	buckets := make([]bn254.G2Jac, 1<<(c-1))
	for i := range buckets {
		buckets[i] = inf
	}
	var neg bn254.G2Affine
	for i, di := range d {
		switch {
		case di > 0:
			buckets[di-1].AddMixed(&points[i])
		case di < 0:
			neg.Neg(&points[i])
			buckets[-di-1].AddMixed(&neg)
		}
	}
	sum, total := inf, inf
	for b := len(buckets) - 1; b >= 0; b-- {
		sum.AddAssign(&buckets[b])
		total.AddAssign(&sum)
	}
	return total
}

var bucketsG2Pool, buckets52G2Pool, point52G2Pool sync.Pool

type pendingG2 struct {
	bucket uint32
	p      bn254.G2Affine
}

// bucketsG2 is bucketsG1 over G2 (gnark-crypto's E2 arithmetic): up to batch additions to
// distinct buckets share one inversion in Fp2; doublings, cancellations and infinity are
// handled when an addition is scheduled; conflicting additions wait in a queue and, when too
// many wait, go to Jacobian overflow buckets.
type bucketsG2 struct {
	nb    int // buckets per window; b holds len(b)/nb windows back to back
	b     []bn254.G2Affine
	set   []bool   // bucket holds a point (false: infinity)
	mark  []uint32 // mark[i] == gen: bucket i is in the current batch
	gen   uint32
	batch int

	overflow       []bn254.G2Jac // nil until first needed
	idx            []uint32      // batch: bucket of each addition
	px, py         []bn254.E2    // batch: the point added to each bucket
	d, acc         []bn254.E2
	queue, requeue []pendingG2
}

// newBucketsG2 returns buckets for windows windows of c bits, from the pool if it can.
func newBucketsG2(c, windows int) *bucketsG2 {
	nb := 1 << (c - 1)
	bs := batchSize(nb * windows)
	if k, ok := bucketsG2Pool.Get().(*bucketsG2); ok && k.nb == nb && len(k.b) == nb*windows {
		clear(k.set)
		clear(k.mark)
		k.gen = 1
		k.overflow = nil
		k.idx, k.px, k.py = k.idx[:0], k.px[:0], k.py[:0]
		k.queue, k.requeue = k.queue[:0], k.requeue[:0]
		return k
	}
	return &bucketsG2{
		nb:    nb,
		b:     make([]bn254.G2Affine, nb*windows),
		set:   make([]bool, nb*windows),
		mark:  make([]uint32, nb*windows),
		gen:   1,
		batch: bs,
		idx:   make([]uint32, 0, bs),
		px:    make([]bn254.E2, 0, bs),
		py:    make([]bn254.E2, 0, bs),
		d:     make([]bn254.E2, bs),
		acc:   make([]bn254.E2, bs),
	}
}

// accumulate adds sign(digits[w][i])·points[i] to bucket |digits[w][i]|-1 of window w, for
// every window w and point i, and returns the receiver.
func (k *bucketsG2) accumulate(digits [][]int32, points []bn254.G2Affine) *bucketsG2 {
	var neg bn254.G2Affine
	for i := range points {
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
func (k *bucketsG2) add(b uint32, p *bn254.G2Affine) {
	switch {
	case k.mark[b] == k.gen:
		k.queue = append(k.queue, pendingG2{b, *p})
	case !k.set[b]:
		k.b[b], k.set[b] = *p, true
	case k.b[b].X.Equal(&p.X):
		if k.b[b].Y.Equal(&p.Y) {
			k.b[b].Double(p)
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

// flush is bucketsG1.flush over G2.
func (k *bucketsG2) flush() {
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
			k.overflow[k.queue[i].bucket].AddMixed(&k.queue[i].p)
		}
		k.queue = k.queue[:0]
	}
}

func (k *bucketsG2) addBatch() {
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
		var inv, invI, lambda, x3, t bn254.E2
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
func (k *bucketsG2) reduce(w int) bn254.G2Jac {
	sum, total := g2Infinity(), g2Infinity()
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
func (k *bucketsG2) value(b int) bn254.G2Jac {
	v := g2Infinity()
	if k.set[b] {
		v.AddMixed(&k.b[b])
	}
	if k.overflow != nil {
		v.AddAssign(&k.overflow[b])
	}
	return v
}
