package asm

import (
	"errors"

	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
)

// ErrEqualX is returned by AddAffine when some lane has x1 == x2: that addition is a doubling
// or gives the point at infinity, which the batch formula cannot do.
var ErrEqualX = errors.New("asm: affine addition with equal x coordinates")

// Supported reports whether this CPU and build run the AVX-512 IFMA kernels. When it is false
// every function still works, through the pure-Go references.
func Supported() bool { return ifma }

// AffineScratch holds the temporaries of AddAffine. The zero value is ready; reusing one
// across calls avoids allocations. It must not be used by two calls at once.
type AffineScratch struct {
	d, acc, inv []Fp8
}

func (s *AffineScratch) grow(n int) {
	if cap(s.d) < n {
		s.d = make([]Fp8, n)
		s.acc = make([]Fp8, n)
		s.inv = make([]Fp8, n)
	}
	s.d, s.acc, s.inv = s.d[:n], s.acc[:n], s.inv[:n]
}

// AddAffine adds 8·len(x1) pairs of BN254 G1 affine points in place: for every vector k and
// lane j, (x1, y1)[k][j] becomes (x1, y1)[k][j] + (x2, y2)[k][j]. All additions share one
// field inversion (Montgomery's trick), which is what makes it cheap.
//
// The inputs must be finite points with x1 != x2 in every lane: doubling (P == Q), P == -Q and
// the point at infinity are the caller's to route elsewhere. If some lane has x1 == x2,
// AddAffine returns ErrEqualX and modifies nothing. It returns ErrLength unless the four
// slices have the same length. It does not check that the points are on the curve.
func AddAffine(x1, y1, x2, y2 []Fp8, s *AffineScratch) error {
	n := len(x1)
	if len(y1) != n || len(x2) != n || len(y2) != n {
		return ErrLength
	}
	if n == 0 {
		return nil
	}
	if !ifma {
		for k := range x1 {
			for j := 0; j < Lanes; j++ {
				if sameLane(&x1[k], &x2[k], j) {
					return ErrEqualX
				}
			}
		}
		addAffineRef(x1, y1, x2, y2)
		return nil
	}
	s.grow(n)
	subVec(ptr(s.d), ptr(x2), ptr(x1), n)
	// Two product chains, over even and odd k: acc[k] = d[k]·d[k-2]·d[k-4]·…
	copy(s.acc[:min(n, 2)], s.d)
	prefixMulVec(ptr(s.acc), ptr(s.d), n)
	var t [2]Fp8 // t[k&1] = 1/acc[k] for the last k of each chain
	ends := [2]*Fp8{&s.acc[n-1]}
	outs := [2]*Fp8{&t[(n-1)&1]}
	chains := 1
	if n > 1 {
		ends[1], outs[1], chains = &s.acc[n-2], &t[(n-2)&1], 2
	}
	if !invertLanes(outs[:chains], ends[:chains]) {
		return ErrEqualX
	}
	backMulVec(ptr(s.inv), ptr(s.acc), ptr(s.d), (*[5][8]uint64)(&t[0]), n)
	copy(s.inv[:min(n, 2)], t[:])
	affineAddVec(ptr(x1), ptr(y1), ptr(x2), ptr(y2), ptr(s.inv), n)
	return nil
}

func ptr(v []Fp8) *[5][8]uint64 { return (*[5][8]uint64)(&v[0]) }

func sameLane(a, b *Fp8, j int) bool {
	for i := range a {
		if a[i][j] != b[i][j] {
			return false
		}
	}
	return true
}

// invertLanes sets *dst[i] to the lane-wise inverse of *src[i] (at most 2 vectors) with one
// field inversion. It reports false, leaving dst unspecified, if some lane of src is zero.
func invertLanes(dst, src []*Fp8) bool {
	var e, pre [2 * Lanes]fp.Element
	m := len(src) * Lanes
	for i := 0; i < m; i++ {
		e[i] = src[i/Lanes].Lane(i % Lanes)
		if e[i].IsZero() {
			return false
		}
	}
	pre[0] = e[0]
	for i := 1; i < m; i++ {
		pre[i].Mul(&pre[i-1], &e[i])
	}
	var inv fp.Element
	inv.Inverse(&pre[m-1])
	for i := m - 1; i > 0; i-- {
		var r fp.Element
		r.Mul(&inv, &pre[i-1])
		dst[i/Lanes].SetLane(i%Lanes, &r)
		inv.Mul(&inv, &e[i])
	}
	dst[0].SetLane(0, &inv)
	return true
}
