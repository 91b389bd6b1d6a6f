package accel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// ErrLengthMismatch is returned by the multi-exponentiations when they get a different number
// of points and scalars.
var ErrLengthMismatch = errors.New("accel: points and scalars differ in length")

// scalarBits is the bit length of the BN254 scalar field modulus r.
const scalarBits = 254

// MultiExpG1 returns Σ scalars[i]·points[i], like gnark-crypto's
// (*G1Jac).MultiExp(points, scalars, ecc.MultiExpConfig{}). Scalars are fr.Elements in their
// usual (Montgomery) form; points may include the point at infinity (the zero G1Affine). It
// returns ErrLengthMismatch if len(points) != len(scalars); empty input gives the point at
// infinity. It does not check that the points are on the curve or in the subgroup.
//
// It runs Pippenger's algorithm with signed digits and batch-affine bucket accumulation on
// runtime.GOMAXPROCS(0) goroutines, using the kernels of Selected().
func MultiExpG1(points []bn254.G1Affine, scalars []fr.Element) (bn254.G1Jac, error) {
	if len(points) != len(scalars) {
		return g1Infinity(), fmt.Errorf("%w: %d points, %d scalars", ErrLengthMismatch, len(points), len(scalars))
	}
	if len(points) == 0 {
		return g1Infinity(), nil
	}
	return multiExpG1(points, scalars, windowBits(len(points)), Selected()), nil
}

// multiExpG1 is MultiExpG1 with window c (2 <= c <= 16) and kernel path given.
func multiExpG1(points []bn254.G1Affine, scalars []fr.Element, c int, path Path) bn254.G1Jac {
	n := len(points)
	w := windowCount(c)
	digits := signedDigits(scalars, c)
	defer putDigits(digits)
	var pts52 []point52
	if path == AVX512 && c >= minBatchWindow {
		pts52 = toPoint52(points)
		defer putPoints52(pts52)
	}
	sums := make([]bn254.G1Jac, w)
	if c < minBatchWindow {
		parallelFor(w, func(win int) {
			sums[win] = accumulateJacG1(digits[win*n:(win+1)*n], points, c)
		})
		return combineWindows(sums, c)
	}
	groups := windowGroups(w, 1<<(c-1), runtime.GOMAXPROCS(0))
	parallelFor(groups, func(g int) {
		lo, hi := g*w/groups, (g+1)*w/groups
		ds := make([][]int32, hi-lo)
		for j := range ds {
			ds[j] = digits[(lo+j)*n : (lo+j+1)*n]
		}
		if pts52 != nil {
			k := newBuckets52(c, hi-lo).accumulate(ds, pts52)
			for j := range ds {
				sums[lo+j] = k.reduce(j)
			}
			buckets52Pool.Put(k)
		} else {
			k := newBucketsG1(c, hi-lo).accumulate(ds, points)
			for j := range ds {
				sums[lo+j] = k.reduce(j)
			}
			bucketsG1Pool.Put(k)
		}
	})
	return combineWindows(sums, c)
}

// MultiExpG2 is MultiExpG1 over G2: it returns Σ scalars[i]·points[i] with the semantics of
// gnark-crypto's (*G2Jac).MultiExp with a zero ecc.MultiExpConfig, or ErrLengthMismatch.
// Its buckets are batch-affine like those of MultiExpG1: over gnark-crypto's extension-field
// arithmetic on the Generic and ADX paths, eight additions at a time on the AVX-512 IFMA
// kernels of package asm on the AVX512 path.
func MultiExpG2(points []bn254.G2Affine, scalars []fr.Element) (bn254.G2Jac, error) {
	inf := g2Infinity()
	if len(points) != len(scalars) {
		return inf, fmt.Errorf("%w: %d points, %d scalars", ErrLengthMismatch, len(points), len(scalars))
	}
	n := len(points)
	if n == 0 {
		return inf, nil
	}
	return multiExpG2(points, scalars, windowBits(n)), nil
}

func g1Infinity() bn254.G1Jac {
	var p bn254.G1Jac
	p.X.SetOne()
	p.Y.SetOne()
	return p
}

// combineWindows returns Σ 2^(c·w)·sums[w].
func combineWindows(sums []bn254.G1Jac, c int) bn254.G1Jac {
	acc := sums[len(sums)-1]
	for win := len(sums) - 2; win >= 0; win-- {
		for range c {
			acc.DoubleAssign()
		}
		acc.AddAssign(&sums[win])
	}
	return acc
}

// windowGroups splits w windows of nb buckets into groups sharing one bucket set. Sharing lets
// small windows fill large batches (fewer inversions), but a bigger bucket set falls out of
// cache, so groups are only as large as needed to reach the largest batch; their count is a
// multiple of procs (or w) to balance the cores.
func windowGroups(w, nb, procs int) int {
	perGroup := max(1, min((5*maxBatch+nb-1)/nb, (w+procs-1)/procs))
	groups := procs * ((w + procs*perGroup - 1) / (procs * perGroup))
	return min(w, groups)
}

// minBatchWindow is the smallest window for which buckets are accumulated batch-affine: with
// fewer buckets, batches are too small (or conflict too often) to pay for their inversion.
const minBatchWindow = 9

// windowCount returns the number of c-bit signed-digit windows of a scalar: W·c >= 255 so
// the top digit never carries out.
func windowCount(c int) int { return (scalarBits + c) / c }

// windowBits chooses the window c minimising the estimated cost W·(n·add + 2^(c-1)·reduce) of
// a batch-affine multi-exponentiation of size n; reduce (two Jacobian additions per bucket)
// costs about eight batch-affine additions.
func windowBits(n int) int {
	return bestWindow(n, 8, 16)
}

func bestWindow(n int, reduceCost float64, maxC int) int {
	best, bestCost := 2, -1.0
	for c := 2; c <= maxC; c++ {
		cost := float64(windowCount(c)) * (float64(n) + reduceCost*float64(int(1)<<(c-1)))
		if bestCost < 0 || cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best
}

// signedDigits returns the c-bit signed digits of every scalar, window-major:
// digits[w·n + i] is digit w of scalars[i], in [-2^(c-1), 2^(c-1)], so that
// scalars[i] = Σ_w digits[w·n+i]·2^(c·w).
func signedDigits(scalars []fr.Element, c int) []int32 {
	n := len(scalars)
	w := windowCount(c)
	digits := getDigits(n * w)
	half := uint64(1) << (c - 1)
	mask := uint64(1)<<c - 1
	chunks := min(runtime.GOMAXPROCS(0), (n+4095)/4096)
	parallelFor(chunks, func(ch int) {
		lo, hi := ch*n/chunks, (ch+1)*n/chunks
		for i := lo; i < hi; i++ {
			// Bits is canonical (< r < 2^254) even for unreduced raw limbs, so the top
			// window never overflows (TestUnreducedScalars).
			s := scalars[i].Bits()
			var carry uint64
			for win := range w {
				off := win * c
				word, sh := off/64, off%64
				v := s[word] >> sh
				if sh+c > 64 && word < 3 {
					v |= s[word+1] << (64 - sh)
				}
				v = v&mask + carry
				carry = 0
				if v > half && win < w-1 {
					digits[win*n+i] = int32(int64(v) - int64(1)<<c)
					carry = 1
				} else {
					digits[win*n+i] = int32(v)
				}
			}
		}
	})
	return digits
}

// parallelFor runs f(0..n-1) on up to GOMAXPROCS goroutines and waits for them.
func parallelFor(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// accumulateJacG1 sums one window with Jacobian buckets; it serves small windows.
func accumulateJacG1(d []int32, points []bn254.G1Affine, c int) bn254.G1Jac {
	inf := g1Infinity()
	buckets := make([]bn254.G1Jac, 1<<(c-1))
	for i := range buckets {
		buckets[i] = inf
	}
	var neg bn254.G1Affine
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

// batchSize returns how many additions a batch-affine step does at once into nb buckets:
// large enough to amortise the inversion, small enough that conflicts stay rare. It is a
// multiple of 8 (the lanes of the vector kernel).
func batchSize(nb int) int {
	return max(64, min(maxBatch, nb/5)) &^ 7
}

// maxBatch bounds the additions per batch: beyond it the inversion is amortised and the
// batch's vectors only cost cache.
const maxBatch = 2048

// Pools of the large per-call buffers: a prover runs many multi-exponentiations of the same
// sizes, and fresh multi-megabyte allocations cost page faults and GC work.
var digitPool, point52Pool, buckets52Pool, bucketsG1Pool sync.Pool

// getDigits returns a slice of n digits with unspecified contents.
func getDigits(n int) []int32 {
	if v, ok := digitPool.Get().(*[]int32); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]int32, n)
}

func putDigits(d []int32) { digitPool.Put(&d) }
