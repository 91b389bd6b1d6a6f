package accel

import (
	"github.com/consensys/gnark-crypto/ecc/bn254"
)

// The G2 batch-affine accumulator mirrors bucketsG1 over the quadratic extension field. That
// field's type lives in an internal package of gnark-crypto, so temporaries are the X fields
// of G2Affine values.

type pendingG2 struct {
	bucket uint32
	p      bn254.G2Affine
}

type bucketsG2 struct {
	nb    int
	b     []bn254.G2Affine
	set   []bool
	mark  []uint32
	gen   uint32
	batch int

	overflow       []bn254.G2Jac
	idx            []uint32
	p              []bn254.G2Affine // the points of the batch
	d, acc         []bn254.G2Affine // only X is used
	queue, requeue []pendingG2
}

func newBucketsG2(c, windows int) *bucketsG2 {
	nb := 1 << (c - 1)
	bs := batchSize(nb * windows)
	return &bucketsG2{
		nb:    nb,
		b:     make([]bn254.G2Affine, nb*windows),
		set:   make([]bool, nb*windows),
		mark:  make([]uint32, nb*windows),
		gen:   1,
		batch: bs,
		idx:   make([]uint32, 0, bs),
		p:     make([]bn254.G2Affine, 0, bs),
		d:     make([]bn254.G2Affine, bs),
		acc:   make([]bn254.G2Affine, bs),
	}
}

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

func (k *bucketsG2) add(b uint32, p *bn254.G2Affine) {
	switch {
	case k.mark[b] == k.gen:
		k.queue = append(k.queue, pendingG2{b, *p})
	case !k.set[b]:
		k.b[b], k.set[b] = *p, true
	case k.b[b].X.Equal(&p.X):
		if k.b[b].Y.Equal(&p.Y) {
			var j bn254.G2Jac
			j.FromAffine(p)
			j.DoubleAssign()
			k.b[b].FromJacobian(&j)
		} else {
			k.set[b] = false
		}
	default:
		k.mark[b] = k.gen
		k.idx = append(k.idx, b)
		k.p = append(k.p, *p)
	}
}

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
				k.overflow[i].X.SetOne()
				k.overflow[i].Y.SetOne()
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
			d[i].X.Sub(&k.p[i].X, &k.b[b].X)
			if i == 0 {
				acc[0].X = d[0].X
			} else {
				acc[i].X.Mul(&acc[i-1].X, &d[i].X)
			}
		}
		var t bn254.G2Affine // t.X: running inverse, t.Y: inverse of d[i]
		t.X.Inverse(&acc[n-1].X)
		var lambda, x3 bn254.G2Affine // only X used
		for i := n - 1; i >= 0; i-- {
			if i > 0 {
				t.Y.Mul(&t.X, &acc[i-1].X)
				t.X.Mul(&t.X, &d[i].X)
			} else {
				t.Y = t.X
			}
			q := &k.b[k.idx[i]]
			lambda.X.Sub(&k.p[i].Y, &q.Y)
			lambda.X.Mul(&lambda.X, &t.Y)
			x3.X.Square(&lambda.X)
			x3.X.Sub(&x3.X, &q.X)
			x3.X.Sub(&x3.X, &k.p[i].X)
			x3.Y.Sub(&q.X, &x3.X)
			x3.Y.Mul(&x3.Y, &lambda.X)
			q.Y.Sub(&x3.Y, &q.Y)
			q.X = x3.X
		}
	}
	k.idx, k.p = k.idx[:0], k.p[:0]
	k.gen++
	if k.gen == 0 {
		clear(k.mark)
		k.gen = 1
	}
}

// reduce returns Σ (i+1)·bucket[i] over the buckets of window w.
func (k *bucketsG2) reduce(w int) bn254.G2Jac {
	var sum, total bn254.G2Jac
	sum.X.SetOne()
	sum.Y.SetOne()
	total = sum
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
