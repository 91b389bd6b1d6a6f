package accel

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// FixedBaseG2 is FixedBaseG1 over G2: a multi-exponentiation over bases fixed in advance (a
// proving key's [B]₂ points) with precomputed multiples 2^(c·w)·P for every base P and window
// w, so that all windows accumulate into one set of batch-affine buckets.
//
// A FixedBaseG2 is immutable after construction and safe for concurrent use.
type FixedBaseG2 struct {
	n       int
	c       int // window bits; 0 when there is no table
	table   []bn254.G2Affine
	table52 []point52G2      // the table in radix-52 form, built when the AVX512 path exists
	points  []bn254.G2Affine // the bases alone, when no table fits the budget
}

// NewFixedBaseG2 is NewFixedBaseG1 over G2: it precomputes tables for points within
// budgetBytes (the tables only; a multi-exponentiation also needs about
// 4·len(points)·16 bytes of digits and its buckets while it runs), choosing the window with
// the lowest estimated cost among those whose table fits. If no table fits it keeps a copy of
// the points and MultiExp falls back to MultiExpG2; if not even that fits, it returns
// ErrBudget. Building the table costs about 2^c·len(points) G2 doublings spread over all
// cores.
func NewFixedBaseG2(points []bn254.G2Affine, budgetBytes int64) (*FixedBaseG2, error) {
	n := len(points)
	f := &FixedBaseG2{n: n}
	if n == 0 {
		return f, nil
	}
	entry := int64(unsafe.Sizeof(bn254.G2Affine{}))
	wide := Detected() == AVX512
	if wide {
		entry = int64(unsafe.Sizeof(point52G2{}))
	}
	procs := runtime.GOMAXPROCS(0)
	bestCost := -1.0
	for c := 2; c <= maxFixedWindow; c++ {
		w := windowCount(c)
		if int64(n)*int64(w)*entry > budgetBytes {
			continue
		}
		cost := float64(n)*float64(w) + 8*float64(procs)*float64(int(1)<<(c-1))
		if c < minBatchWindow {
			cost *= 2 // Jacobian buckets
		}
		if bestCost < 0 || cost < bestCost {
			f.c, bestCost = c, cost
		}
	}
	if f.c == 0 {
		size := int64(n) * int64(unsafe.Sizeof(bn254.G2Affine{}))
		if size > budgetBytes {
			return nil, fmt.Errorf("%w: %d G2 bases need %d bytes, budget %d", ErrBudget, n, size, budgetBytes)
		}
		f.points = append([]bn254.G2Affine(nil), points...)
		return f, nil
	}
	if f.c < minBatchWindow {
		wide = false
	}
	w := windowCount(f.c)
	if wide {
		f.table52 = make([]point52G2, n*w)
	} else {
		f.table = make([]bn254.G2Affine, n*w)
	}
	chunks := min(procs*4, (n+255)/256)
	parallelFor(chunks, func(ch int) {
		lo, hi := ch*n/chunks, (ch+1)*n/chunks
		jac := make([]bn254.G2Jac, hi-lo)
		aff := make([]bn254.G2Affine, hi-lo)
		for i := range jac {
			jac[i].FromAffine(&points[lo+i])
		}
		for win := range w {
			if win > 0 {
				for i := range jac {
					for range f.c {
						jac[i].DoubleAssign()
					}
				}
			}
			batchJacobianToAffineG2(aff, jac)
			for i := range aff {
				if wide {
					f.table52[win*n+lo+i] = toPoint52G2One(&aff[i])
				} else {
					f.table[win*n+lo+i] = aff[i]
				}
			}
		}
	})
	return f, nil
}

// batchJacobianToAffineG2 sets aff[i] to jac[i] in affine form with one inversion.
func batchJacobianToAffineG2(aff []bn254.G2Affine, jac []bn254.G2Jac) {
	// aff[i].X holds the product of the non-zero Z of jac[:i+1] while going forward.
	var acc bn254.E2
	acc.SetOne()
	for i := range jac {
		aff[i].X = acc
		if !jac[i].Z.IsZero() {
			acc.Mul(&acc, &jac[i].Z)
		}
	}
	var inv, zInv, zInv2 bn254.E2
	inv.Inverse(&acc)
	for i := len(jac) - 1; i >= 0; i-- {
		if jac[i].Z.IsZero() {
			aff[i] = bn254.G2Affine{}
			continue
		}
		zInv.Mul(&inv, &aff[i].X)
		inv.Mul(&inv, &jac[i].Z)
		zInv2.Square(&zInv)
		aff[i].X.Mul(&jac[i].X, &zInv2)
		zInv2.Mul(&zInv2, &zInv)
		aff[i].Y.Mul(&jac[i].Y, &zInv2)
	}
}

// Len returns the number of bases.
func (f *FixedBaseG2) Len() int { return f.n }

// MemoryBytes returns the memory held by the precomputed tables (or the copied bases).
func (f *FixedBaseG2) MemoryBytes() int64 {
	return int64(len(f.table))*int64(unsafe.Sizeof(bn254.G2Affine{})) +
		int64(len(f.table52))*int64(unsafe.Sizeof(point52G2{})) +
		int64(len(f.points))*int64(unsafe.Sizeof(bn254.G2Affine{}))
}

// MultiExp returns Σ scalars[i]·bases[i] with the semantics of MultiExpG2. It returns
// ErrLengthMismatch unless len(scalars) == f.Len().
func (f *FixedBaseG2) MultiExp(scalars []fr.Element) (bn254.G2Jac, error) {
	if len(scalars) != f.n {
		return g2Infinity(), fmt.Errorf("%w: %d bases, %d scalars", ErrLengthMismatch, f.n, len(scalars))
	}
	if f.n == 0 {
		return g2Infinity(), nil
	}
	if f.points != nil {
		return MultiExpG2(f.points, scalars)
	}
	// digits and the table are both window-major, so digit k goes with table entry k and all
	// windows share one bucket set.
	digits := signedDigits(scalars, f.c)
	defer putDigits(digits)
	total := len(digits)
	path := Selected()
	chunks := min(runtime.GOMAXPROCS(0), (total+1<<13-1)/(1<<13))
	sums := make([]bn254.G2Jac, chunks)
	parallelFor(chunks, func(ch int) {
		lo, hi := ch*total/chunks, (ch+1)*total/chunks
		d := digits[lo:hi]
		switch {
		case f.table52 != nil && path == AVX512:
			k := newBuckets52G2(f.c, 1).accumulate([][]int32{d}, f.table52[lo:hi])
			sums[ch] = k.reduce(0)
			buckets52G2Pool.Put(k)
		case f.table52 != nil:
			// Table built for the AVX512 path, another path forced (tests): convert.
			pts := make([]bn254.G2Affine, hi-lo)
			for i := range pts {
				pts[i] = f.table52[lo+i].affine()
			}
			sums[ch] = newBucketsG2(f.c, 1).accumulate([][]int32{d}, pts).reduce(0)
		case f.c < minBatchWindow:
			sums[ch] = accumulateJacG2(d, f.table[lo:hi], f.c)
		default:
			k := newBucketsG2(f.c, 1).accumulate([][]int32{d}, f.table[lo:hi])
			sums[ch] = k.reduce(0)
			bucketsG2Pool.Put(k)
		}
	})
	r := sums[0]
	for i := 1; i < len(sums); i++ {
		r.AddAssign(&sums[i])
	}
	return r, nil
}
