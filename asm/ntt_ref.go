package asm

import (
	"math/big"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// The references of the NTT kernels compute lane by lane with gnark-crypto's fr arithmetic on
// the raw residues (an fr.Element whose words are the lane's value is that value's
// "Montgomery representation", and fr's Add, Sub and Mul act on representations mod r). They
// return fully reduced lanes; the kernels may return any representative below 16r.

// frWords is r as four 64-bit words.
var frWords = func() [4]uint64 {
	var w [4]uint64
	for i, x := range frModulus.Bits() {
		w[i] = uint64(x)
	}
	return w
}()

// laneRaw returns the value of lane j of v (any representative below 2^260) reduced mod r, as
// the words of an fr.Element.
func laneRaw(v *Fr8, j int) fr.Element {
	l := [5]uint64{v[0][j], v[1][j], v[2][j], v[3][j], v[4][j]}
	w := [5]uint64{
		l[0] | l[1]<<52,
		l[1]>>12 | l[2]<<40,
		l[2]>>24 | l[3]<<28,
		l[3]>>36 | l[4]<<16,
		l[4] >> 48,
	}
	for geR(&w) {
		var b uint64
		for i := range 4 {
			w[i], b = bits.Sub64(w[i], frWords[i], b)
		}
		w[4] -= b
	}
	return fr.Element{w[0], w[1], w[2], w[3]}
}

func geR(w *[5]uint64) bool {
	if w[4] != 0 {
		return true
	}
	for i := 3; i >= 0; i-- {
		if w[i] != frWords[i] {
			return w[i] > frWords[i]
		}
	}
	return true
}

// setLaneRaw sets lane j of v to the words of e (a value below r).
func setLaneRaw(v *Fr8, j int, e *fr.Element) {
	v[0][j] = e[0] & limbMask
	v[1][j] = (e[0]>>52 | e[1]<<12) & limbMask
	v[2][j] = (e[1]>>40 | e[2]<<24) & limbMask
	v[3][j] = (e[2]>>28 | e[3]<<36) & limbMask
	v[4][j] = e[3] >> 16
}

// twiddleMont returns the twiddle's w as an fr.Element whose representation is w·2^256 mod r
// (that is, whose value is w), so that a.Mul(&a, &m) multiplies the representation of a by w.
func twiddleMont(t *NTTTwiddle) fr.Element {
	var v Fr8
	for i := range t[0] {
		v[i][0] = t[0][i]
	}
	w := laneRaw(&v, 0)
	var m fr.Element
	m.SetBigInt(new(big.Int).SetBits([]big.Word{big.Word(w[0]), big.Word(w[1]), big.Word(w[2]), big.Word(w[3])}))
	return m
}

func nttDIF2Ref(x []Fr8, m int, tw []NTTTwiddle) {
	w := make([]fr.Element, m)
	for j := range w {
		w[j] = twiddleMont(&tw[j])
	}
	for g := 0; g < len(x); g += 2 * m {
		for j := range m {
			difRef(&x[g+j], &x[g+j+m], &w[j])
		}
	}
}

// difRef sets (u, v) = (u+v, (u-v)·w) lane by lane; w is as twiddleMont returns.
func difRef(u, v *Fr8, w *fr.Element) {
	for j := range Lanes {
		a, b := laneRaw(u, j), laneRaw(v, j)
		var s, d fr.Element
		s.Add(&a, &b)
		d.Sub(&a, &b)
		d.Mul(&d, w)
		setLaneRaw(u, j, &s)
		setLaneRaw(v, j, &d)
	}
}

func nttDIF4Ref(x []Fr8, q int, tw []NTTTwiddle) {
	w := make([]fr.Element, 3*q)
	for j := range w {
		w[j] = twiddleMont(&tw[j])
	}
	w[0].SetOne()
	w[2].SetOne()
	for g := 0; g < len(x); g += 4 * q {
		for j := range q {
			p := x[g+j:]
			difRef(&p[0], &p[2*q], &w[3*j])
			difRef(&p[q], &p[3*q], &w[3*j+1])
			difRef(&p[0], &p[q], &w[3*j+2])
			difRef(&p[2*q], &p[3*q], &w[3*j+2])
		}
	}
}

// montRef returns a·b·2^-260 mod r on representations.
func montRef(a, b *fr.Element) fr.Element {
	var z fr.Element
	z.Mul(a, b)         // a·b·2^-256
	z.Mul(&z, &frInv16) // ·(2^256/16)·2^-256
	return z
}

func nttLoadScaleRef(dst []Fr8, src []fr.Element, off []int, lane int, v *Fr8, step *[Lanes]NTTTwiddle) {
	for k := range dst {
		for j := range Lanes {
			setLaneRaw(&dst[k], j, &src[off[k]+j*lane])
		}
	}
	for j := range Lanes {
		s := twiddleMont(&step[j])
		f := laneRaw(v, j)
		for k := range dst {
			x := laneRaw(&dst[k], j)
			x = montRef(&x, &f)
			setLaneRaw(&dst[k], j, &x)
			f.Mul(&f, &s)
		}
		setLaneRaw(v, j, &f)
	}
}

func nttLoadRef(dst []Fr8, src, tab []fr.Element, off, idx []int, lane int) {
	for k := range off {
		for j := range Lanes {
			i := off[k] + j*lane
			e := src[i]
			if tab != nil {
				e = montRef(&e, &tab[i])
			}
			setLaneRaw(&dst[idx[k]], j, &e)
		}
	}
}

func nttStoreRef(dst []fr.Element, src []Fr8, tab []fr.Element, off, idx []int, lane int) {
	for k := range off {
		for j := range Lanes {
			i := off[k] + j*lane
			e := laneRaw(&src[idx[k]], j)
			if tab != nil {
				e = montRef(&e, &tab[i])
			}
			dst[i] = e
		}
	}
}
