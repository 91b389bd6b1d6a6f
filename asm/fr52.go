package asm

import "github.com/consensys/gnark-crypto/ecc/bn254/fr"

// Fr8 holds eight BN254 scalar-field elements in the layout of Fp8: Fr8[i][j] is limb i of
// lane j, a lane holding a·2^260 mod r (Montgomery form with R = 2^260) fully reduced to
// [0, r). gnark-crypto's fr.Element uses R = 2^256; SetLane and Lane convert.
type Fr8 [5][8]uint64

var frInv16 = func() fr.Element {
	var e fr.Element
	e.SetUint64(16)
	e.Inverse(&e)
	return e
}()

// FrToRadix52 converts e from gnark-crypto's form to the limbs of one Fr8 lane.
func FrToRadix52(e *fr.Element) [5]uint64 {
	var t fr.Element
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

// FrFromRadix52 is the inverse of FrToRadix52; the limbs must be fully reduced.
func FrFromRadix52(l *[5]uint64) fr.Element {
	t := fr.Element{
		l[0] | l[1]<<52,
		l[1]>>12 | l[2]<<40,
		l[2]>>24 | l[3]<<28,
		l[3]>>36 | l[4]<<16,
	}
	t.Mul(&t, &frInv16)
	return t
}

// SetLane sets lane j (0 <= j < 8) to e.
func (v *Fr8) SetLane(j int, e *fr.Element) {
	l := FrToRadix52(e)
	for i := range l {
		v[i][j] = l[i]
	}
}

// Lane returns the element in lane j (0 <= j < 8) in gnark-crypto's form.
func (v *Fr8) Lane(j int) fr.Element {
	l := [5]uint64{v[0][j], v[1][j], v[2][j], v[3][j], v[4][j]}
	return FrFromRadix52(&l)
}

func frPtr(v []Fr8) *[5][8]uint64 { return (*[5][8]uint64)(&v[0]) }

// FrMul sets z[k] = x[k]·y[k] for every k. It returns ErrLength unless the slices have the
// same length. z may alias x or y.
func FrMul(z, x, y []Fr8) error {
	if len(z) != len(x) || len(z) != len(y) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			frMulVec(frPtr(z), frPtr(x), frPtr(y), len(z))
		} else {
			frMulRef(z, x, y)
		}
	}
	return nil
}

// FrSquare sets z[k] = x[k]² for every k. It returns ErrLength unless len(z) == len(x).
func FrSquare(z, x []Fr8) error {
	if len(z) != len(x) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			frSqrVec(frPtr(z), frPtr(x), len(z))
		} else {
			frMulRef(z, x, x)
		}
	}
	return nil
}

// FrAdd sets z[k] = x[k]+y[k] for every k. It returns ErrLength unless the slices have the
// same length.
func FrAdd(z, x, y []Fr8) error {
	if len(z) != len(x) || len(z) != len(y) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			frAddVec(frPtr(z), frPtr(x), frPtr(y), len(z))
		} else {
			frAddRef(z, x, y)
		}
	}
	return nil
}

// FrSub sets z[k] = x[k]-y[k] for every k. It returns ErrLength unless the slices have the
// same length.
func FrSub(z, x, y []Fr8) error {
	if len(z) != len(x) || len(z) != len(y) {
		return ErrLength
	}
	if len(z) > 0 {
		if ifma {
			frSubVec(frPtr(z), frPtr(x), frPtr(y), len(z))
		} else {
			frSubRef(z, x, y)
		}
	}
	return nil
}

// The references compute lane by lane with gnark-crypto's fr arithmetic.

func frMulRef(z, x, y []Fr8) {
	for k := range z {
		for j := 0; j < Lanes; j++ {
			a, b := x[k].Lane(j), y[k].Lane(j)
			a.Mul(&a, &b)
			z[k].SetLane(j, &a)
		}
	}
}

func frAddRef(z, x, y []Fr8) {
	for k := range z {
		for j := 0; j < Lanes; j++ {
			a, b := x[k].Lane(j), y[k].Lane(j)
			a.Add(&a, &b)
			z[k].SetLane(j, &a)
		}
	}
}

func frSubRef(z, x, y []Fr8) {
	for k := range z {
		for j := 0; j < Lanes; j++ {
			a, b := x[k].Lane(j), y[k].Lane(j)
			a.Sub(&a, &b)
			z[k].SetLane(j, &a)
		}
	}
}
