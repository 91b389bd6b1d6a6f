package asm

import (
	"errors"

	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
)

// Fp8 holds eight BN254 base-field elements, structure-of-arrays: Fp8[i][j] is limb i (bits
// 52·i to 52·i+51) of lane j. A lane holding the element a stores a·2^260 mod p (Montgomery
// form with R = 2^260), fully reduced to [0, p). The zero value is eight zeros.
//
// Every function of this package taking Fp8 arguments requires fully reduced lanes; values
// built with SetLane always are.
type Fp8 [5][8]uint64

// Lanes is the number of elements in an Fp8.
const Lanes = 8

const (
	limbBits = 52
	limbMask = 1<<limbBits - 1
)

// ErrLength is returned when slice arguments have different lengths.
var ErrLength = errors.New("asm: slice lengths differ")

// inv16 is 1/16 in gnark-crypto's Montgomery form (R = 2^256).
var inv16 = func() fp.Element {
	var e fp.Element
	e.SetUint64(16)
	e.Inverse(&e)
	return e
}()

// ToRadix52 converts e from gnark-crypto's form (R = 2^256) to the limbs of one lane
// (R = 2^260, five 52-bit limbs, least significant first).
func ToRadix52(e *fp.Element) [5]uint64 {
	// e's limbs hold a·2^256 mod p; four doublings mod p give a·2^260 mod p, canonical.
	var t fp.Element
	t.Double(e)
	t.Double(&t)
	t.Double(&t)
	t.Double(&t)
	return [5]uint64{
		t[0] & limbMask,
		(t[0]>>52 | t[1]<<12) & limbMask,
		(t[1]>>40 | t[2]<<24) & limbMask,
		(t[2]>>28 | t[3]<<36) & limbMask,
		t[3] >> 16,
	}
}

// FromRadix52 is the inverse of ToRadix52. The limbs must be fully reduced (as every kernel
// of this package leaves them).
func FromRadix52(l *[5]uint64) fp.Element {
	// The packed limbs hold a·2^260 mod p; read as a gnark-crypto element that is a·16, so
	// one multiplication by 1/16 recovers a.
	t := fp.Element{
		l[0] | l[1]<<52,
		l[1]>>12 | l[2]<<40,
		l[2]>>24 | l[3]<<28,
		l[3]>>36 | l[4]<<16,
	}
	t.Mul(&t, &inv16)
	return t
}

// SetLane sets lane j (0 <= j < 8) to e, converting from gnark-crypto's R = 2^256 Montgomery
// form to ours (R = 2^260).
func (v *Fp8) SetLane(j int, e *fp.Element) {
	v.SetLaneRadix52(j, ToRadix52(e))
}

// SetLaneRadix52 sets lane j (0 <= j < 8) to the limbs l.
func (v *Fp8) SetLaneRadix52(j int, l [5]uint64) {
	for i := range l {
		v[i][j] = l[i]
	}
}

// LaneRadix52 returns the limbs of lane j (0 <= j < 8).
func (v *Fp8) LaneRadix52(j int) [5]uint64 {
	return [5]uint64{v[0][j], v[1][j], v[2][j], v[3][j], v[4][j]}
}

// Lane returns the element in lane j (0 <= j < 8) in gnark-crypto's form.
func (v *Fp8) Lane(j int) fp.Element {
	l := v.LaneRadix52(j)
	return FromRadix52(&l)
}

// SetAll sets every lane to e.
func (v *Fp8) SetAll(e *fp.Element) {
	for j := 0; j < Lanes; j++ {
		v.SetLane(j, e)
	}
}

// Mul sets z[k] = x[k]·y[k] for every k. It returns ErrLength unless the three slices have the
// same length. z may alias x or y.
func Mul(z, x, y []Fp8) error {
	if len(z) != len(x) || len(z) != len(y) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			mulVec((*[5][8]uint64)(&z[0]), (*[5][8]uint64)(&x[0]), (*[5][8]uint64)(&y[0]), len(z))
		} else {
			mulRef(z, x, y)
		}
	}
	return nil
}

// Square sets z[k] = x[k]² for every k. It returns ErrLength unless len(z) == len(x).
func Square(z, x []Fp8) error {
	if len(z) != len(x) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			sqrVec((*[5][8]uint64)(&z[0]), (*[5][8]uint64)(&x[0]), len(z))
		} else {
			mulRef(z, x, x)
		}
	}
	return nil
}

// Add sets z[k] = x[k]+y[k] for every k. It returns ErrLength unless the slices have the same
// length.
func Add(z, x, y []Fp8) error {
	if len(z) != len(x) || len(z) != len(y) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			addVec((*[5][8]uint64)(&z[0]), (*[5][8]uint64)(&x[0]), (*[5][8]uint64)(&y[0]), len(z))
		} else {
			addRef(z, x, y)
		}
	}
	return nil
}

// Sub sets z[k] = x[k]-y[k] for every k. It returns ErrLength unless the slices have the same
// length.
func Sub(z, x, y []Fp8) error {
	if len(z) != len(x) || len(z) != len(y) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			subVec((*[5][8]uint64)(&z[0]), (*[5][8]uint64)(&x[0]), (*[5][8]uint64)(&y[0]), len(z))
		} else {
			subRef(z, x, y)
		}
	}
	return nil
}

// Prefetch asks the CPU to bring the cache line holding addr into cache, without waiting and
// without faulting on any address. It lets callers hide memory latency of scattered accesses
// (MSM buckets). It needs only baseline amd64; it does nothing in builds without assembly.
func Prefetch(addr uintptr) {
	if haveAsm {
		prefetch(addr)
	}
}
