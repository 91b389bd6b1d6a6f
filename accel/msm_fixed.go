package accel

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// ErrBudget is returned by NewFixedBaseG1 when the memory budget cannot hold even the bases.
var ErrBudget = errors.New("accel: memory budget too small for the fixed bases")

// maxFixedWindow bounds the window of FixedBaseG1 (its bucket set has 2^(c-1) entries).
const maxFixedWindow = 20

// FixedBaseG1 is a multi-exponentiation over bases fixed in advance (a proving key's points).
// It stores, for every base P and window w, the multiple 2^(c·w)·P, so that all windows of a
// multi-exponentiation accumulate into one set of buckets: no per-window bucket reduction and
// no doublings between windows, and a wider window than MultiExpG1 can afford.
//
// A FixedBaseG1 is immutable after construction and safe for concurrent use.
type FixedBaseG1 struct {
	n       int
	c       int // window bits; 0 when there is no table
	table   []bn254.G1Affine
	table52 []point52        // the table in radix-52 form, built when the AVX512 path exists
	points  []bn254.G1Affine // the bases alone, when no table fits the budget
}

// NewFixedBaseG1 precomputes tables for points within budgetBytes of memory (the tables
// only; a multi-exponentiation also needs about 4·len(points)·16 bytes of digits and its
// buckets while it runs). It picks the window with the lowest estimated cost among those
// whose table fits. If no table fits, it keeps a copy of the points and MultiExp falls back to
// MultiExpG1; if not even that fits, it returns ErrBudget. Building the table costs about
// 2^c·len(points) point doublings spread over all cores.
func NewFixedBaseG1(points []bn254.G1Affine, budgetBytes int64) (*FixedBaseG1, error) {
	n := len(points)
	f := &FixedBaseG1{n: n}
	if n == 0 {
		return f, nil
	}
	entry := int64(unsafe.Sizeof(bn254.G1Affine{}))
	wide := Detected() == AVX512
	if wide {
		entry = int64(unsafe.Sizeof(point52{}))
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
		if int64(n)*int64(unsafe.Sizeof(bn254.G1Affine{})) > budgetBytes {
			return nil, fmt.Errorf("%w: %d bases need %d bytes, budget %d", ErrBudget,
				n, int64(n)*int64(unsafe.Sizeof(bn254.G1Affine{})), budgetBytes)
		}
		f.points = append([]bn254.G1Affine(nil), points...)
		return f, nil
	}
	if f.c < minBatchWindow {
		wide = false
	}
	w := windowCount(f.c)
	if wide {
		f.table52 = make([]point52, n*w)
	} else {
		f.table = make([]bn254.G1Affine, n*w)
	}
	chunks := min(procs*4, (n+255)/256)
	parallelFor(chunks, func(ch int) {
		lo, hi := ch*n/chunks, (ch+1)*n/chunks
		jac := make([]bn254.G1Jac, hi-lo)
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
			aff := bn254.BatchJacobianToAffineG1(jac)
			for i := range aff {
				if wide {
					f.table52[win*n+lo+i] = toPoint52One(&aff[i])
				} else {
					f.table[win*n+lo+i] = aff[i]
				}
			}
		}
	})
	return f, nil
}

// Len returns the number of bases.
func (f *FixedBaseG1) Len() int { return f.n }

// MemoryBytes returns the memory held by the precomputed tables (or the copied bases).
func (f *FixedBaseG1) MemoryBytes() int64 {
	return int64(len(f.table))*int64(unsafe.Sizeof(bn254.G1Affine{})) +
		int64(len(f.table52))*int64(unsafe.Sizeof(point52{})) +
		int64(len(f.points))*int64(unsafe.Sizeof(bn254.G1Affine{}))
}

// MultiExp returns Σ scalars[i]·bases[i] with the semantics of MultiExpG1. It returns
// ErrLengthMismatch unless len(scalars) == f.Len().
func (f *FixedBaseG1) MultiExp(scalars []fr.Element) (bn254.G1Jac, error) {
	if len(scalars) != f.n {
		return g1Infinity(), fmt.Errorf("%w: %d bases, %d scalars", ErrLengthMismatch, f.n, len(scalars))
	}
	if f.n == 0 {
		return g1Infinity(), nil
	}
	if f.points != nil {
		return MultiExpG1(f.points, scalars)
	}
	// digits and the table are both window-major, so digit k goes with table entry k and all
	// windows share one bucket set.
	digits := signedDigits(scalars, f.c)
	defer putDigits(digits)
	total := len(digits)
	path := Selected()
	chunks := min(runtime.GOMAXPROCS(0), (total+1<<14-1)/(1<<14))
	sums := make([]bn254.G1Jac, chunks)
	parallelFor(chunks, func(ch int) {
		lo, hi := ch*total/chunks, (ch+1)*total/chunks
		d := digits[lo:hi]
		switch {
		case f.table52 != nil && path == AVX512:
			k := newBuckets52(f.c, 1).accumulate([][]int32{d}, f.table52[lo:hi])
			sums[ch] = k.reduce(0)
			buckets52Pool.Put(k)
		case f.table52 != nil:
			// Table built for the AVX512 path, another path forced (tests): convert.
			pts := make([]bn254.G1Affine, hi-lo)
			for i := range pts {
				pts[i] = f.table52[lo+i].affine()
			}
			sums[ch] = newBucketsG1(f.c, 1).accumulate([][]int32{d}, pts).reduce(0)
		case f.c < minBatchWindow:
			sums[ch] = accumulateJacG1(d, f.table[lo:hi], f.c)
		default:
			k := newBucketsG1(f.c, 1).accumulate([][]int32{d}, f.table[lo:hi])
			sums[ch] = k.reduce(0)
			bucketsG1Pool.Put(k)
		}
	})
	r := sums[0]
	for i := 1; i < len(sums); i++ {
		r.AddAssign(&sums[i])
	}
	return r, nil
}
