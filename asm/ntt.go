package asm

import (
	"errors"
	"math/big"
	"unsafe"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// The NTT kernels work on Fr8 vectors in "NTT form": every lane holds a residue mod r as a
// lazily reduced integer below 16r, in normalized 52-bit limbs, with no Montgomery factor of
// its own. NTTLoad and NTTStore move gnark-crypto elements in and out of that form without
// changing their value, so the transforms preserve gnark-crypto's Montgomery form (R = 2^256):
// a butterfly twiddle multiplies a lane by an integer w (Shoup's method, NTTTwiddle), and
// NTTLoadScale, NTTLoadMul and NTTStoreMul multiply by Montgomery products with R = 2^260.
//
// Lanes are independent: the kernels run eight transforms side by side, and every butterfly
// pairs two whole vectors, so no lane ever moves.

// ErrOffset is returned by the NTT load and store kernels when an element address falls
// outside the slice, and by the butterfly kernels for a vector count or twiddle table that
// does not fit the stage.
var ErrOffset = errors.New("asm: NTT offset or stage size out of range")

// NTTTwiddle is a butterfly multiplier w in the form of Shoup's modular multiplication: the
// limbs of w (an integer below r) and of floor(w·2^260/r).
type NTTTwiddle [2][5]uint64

var frModulus = fr.Modulus()

// NewNTTTwiddle returns the twiddle that multiplies an element in any Montgomery form by w
// (by w's value, not by its Montgomery representation).
func NewNTTTwiddle(w *fr.Element) NTTTwiddle {
	v := w.BigInt(new(big.Int))
	p := new(big.Int).Lsh(v, 5*limbBits)
	p.Quo(p, frModulus)
	return NTTTwiddle{limbs52(v), limbs52(p)}
}

func limbs52(v *big.Int) [5]uint64 {
	var l [5]uint64
	words := v.Bits()
	for i := range l {
		bit := uint(i * limbBits)
		var x uint64
		if k := int(bit / 64); k < len(words) {
			x = uint64(words[k]) >> (bit % 64)
			if bit%64 > 64-limbBits && k+1 < len(words) {
				x |= uint64(words[k+1]) << (64 - bit%64)
			}
		}
		l[i] = x & limbMask
	}
	return l
}

func twPtr(t []NTTTwiddle) *[2][5]uint64 { return (*[2][5]uint64)(&t[0]) }

func elemPtr(e []fr.Element) *[4]uint64 { return (*[4]uint64)(unsafe.Pointer(&e[0])) }

// NTTDIF2 runs one radix-2 decimation-in-frequency stage of half-size m on x: for every group
// of 2m consecutive vectors and j < m, (x[j], x[j+m]) becomes (x[j]+x[j+m], (x[j]-x[j+m])·w_j)
// with w_j = tw[j]. It returns ErrOffset unless m ≥ 1, len(x) is a multiple of 2m and
// len(tw) ≥ m. Lanes must be in NTT form and stay so.
func NTTDIF2(x []Fr8, m int, tw []NTTTwiddle) error {
	if m < 1 || len(x)%(2*m) != 0 || len(tw) < m {
		return ErrOffset
	}
	if len(x) == 0 {
		return nil
	}
	if ifma {
		nttDIF2(frPtr(x), m, twPtr(tw), len(x))
	} else {
		nttDIF2Ref(x, m, tw)
	}
	return nil
}

// NTTDIF2Unit is NTTDIF2 with m = 1 and w_0 = 1, without the multiplication: the last stage
// of a DIF transform. It returns ErrOffset if len(x) is odd.
func NTTDIF2Unit(x []Fr8) error {
	if len(x)%2 != 0 {
		return ErrOffset
	}
	if len(x) == 0 {
		return nil
	}
	if ifma {
		nttDIF2Unit(frPtr(x), len(x))
	} else {
		nttDIF2Ref(x, 1, []NTTTwiddle{NewNTTTwiddle(new(fr.Element).SetOne())})
	}
	return nil
}

// NTTDIF4 runs two decimation-in-frequency stages, of half-sizes 2q and q, on x as radix-4
// butterflies: for every group of 4q consecutive vectors and j < q, with a, b, c = tw[3j],
// tw[3j+1], tw[3j+2], the pairs (x[j], x[j+2q]) and (x[j+q], x[j+3q]) go through the DIF
// butterfly of NTTDIF2 with a and b, then (x[j], x[j+q]) and (x[j+2q], x[j+3q]) with c. In a
// transform, a = ω_{4q}^j, b = ω_{4q}^{j+q} and c = ω_{2q}^j; tw[0] and tw[2] are not read,
// a and c are taken to be 1 for j = 0 (as they are in a transform), which saves two of the four
// multiplications there. It returns ErrOffset unless q ≥ 1, len(x) is a multiple of 4q and
// len(tw) ≥ 3q.
func NTTDIF4(x []Fr8, q int, tw []NTTTwiddle) error {
	if q < 1 || len(x)%(4*q) != 0 || len(tw) < 3*q {
		return ErrOffset
	}
	if len(x) == 0 {
		return nil
	}
	if ifma {
		nttDIF4J0(frPtr(x), q, twPtr(tw[1:]), len(x))
		nttDIF4(frPtr(x), q, twPtr(tw), len(x))
	} else {
		nttDIF4Ref(x, q, tw)
	}
	return nil
}

// checkOffsets reports whether every element src[off[k] + j·lane], j < 8, is inside a slice
// of length n.
func checkOffsets(n int, off []int, lane int) bool {
	if lane < 0 || lane > n {
		return false
	}
	limit := n - 7*lane
	for _, o := range off {
		if o < 0 || o >= limit {
			return false
		}
	}
	return true
}

// checkIndices reports whether idx has length n and every entry indexes a slice of length m.
func checkIndices(idx []int, n, m int) bool {
	if len(idx) != n {
		return false
	}
	for _, i := range idx {
		if i < 0 || i >= m {
			return false
		}
	}
	return true
}

// NTTLoad sets lane j of dst[idx[k]] to the value of src[off[k] + j·lane], for k < len(off),
// putting the elements in NTT form without changing their values (src must hold fully reduced
// elements, as every fr.Element does). Loading in the order of memory and scattering into dst
// through idx keeps the memory accesses sequential when dst wants another order. It returns
// ErrLength if len(idx) != len(off) and ErrOffset if an element falls outside src or an index
// outside dst.
func NTTLoad(dst []Fr8, src []fr.Element, off, idx []int, lane int) error {
	if len(idx) != len(off) {
		return ErrLength
	}
	if !checkOffsets(len(src), off, lane) || !checkIndices(idx, len(off), len(dst)) {
		return ErrOffset
	}
	if len(off) == 0 {
		return nil
	}
	if ifma {
		nttLoad(frPtr(dst), elemPtr(src), &off[0], &idx[0], lane, len(off))
	} else {
		nttLoadRef(dst, src, nil, off, idx, lane)
	}
	return nil
}

// NTTLoadScale loads like NTTLoad, in order (dst[k] from off[k]), and multiplies by a
// geometric progression: lane j of dst[k] becomes src[off[k] + j·lane]·v_j·s_j^k, where v holds
// this package's Montgomery form of the v_j (Fr8.SetLane) and step[j] is s_j. On return v holds
// v_j·s_j^len(dst), in NTT form (a valid v for a following call). It returns ErrLength if
// len(off) != len(dst) and ErrOffset if an element falls outside src.
func NTTLoadScale(dst []Fr8, src []fr.Element, off []int, lane int, v *Fr8, step *[Lanes]NTTTwiddle) error {
	if len(off) != len(dst) {
		return ErrLength
	}
	if !checkOffsets(len(src), off, lane) {
		return ErrOffset
	}
	if len(dst) == 0 {
		return nil
	}
	if !ifma {
		nttLoadScaleRef(dst, src, off, lane, v, step)
		return nil
	}
	var s [2]Fr8 // the limbs of s and s' lane by lane
	for j, t := range step {
		for h := range t {
			for i := range t[h] {
				s[h][i][j] = t[h][i]
			}
		}
	}
	nttLoadScale(frPtr(dst), elemPtr(src), &off[0], lane, len(dst), (*[5][8]uint64)(v), frPtr(s[:]))
	return nil
}

// NTTLoadMul is NTTLoad followed by a Montgomery product (R = 2^260) of every lane with the
// element of tab at the same index as the source element: with both in gnark-crypto's form
// (R = 2^256) the loaded value is src·tab/16. tab must be as long as src.
func NTTLoadMul(dst []Fr8, src, tab []fr.Element, off, idx []int, lane int) error {
	if len(idx) != len(off) || len(tab) != len(src) {
		return ErrLength
	}
	if !checkOffsets(len(src), off, lane) || !checkIndices(idx, len(off), len(dst)) {
		return ErrOffset
	}
	if len(off) == 0 {
		return nil
	}
	if ifma {
		nttLoadMul(frPtr(dst), elemPtr(src), elemPtr(tab), &off[0], &idx[0], lane, len(off))
	} else {
		nttLoadRef(dst, src, tab, off, idx, lane)
	}
	return nil
}

// NTTStore is the inverse of NTTLoad: it writes lane j of src[idx[k]], fully reduced, to
// dst[off[k] + j·lane], for k < len(off). It returns ErrLength if len(idx) != len(off) and
// ErrOffset if an element falls outside dst or an index outside src.
func NTTStore(dst []fr.Element, src []Fr8, off, idx []int, lane int) error {
	if len(idx) != len(off) {
		return ErrLength
	}
	if !checkOffsets(len(dst), off, lane) || !checkIndices(idx, len(off), len(src)) {
		return ErrOffset
	}
	if len(off) == 0 {
		return nil
	}
	if ifma {
		nttStore(frPtr(src), elemPtr(dst), &off[0], &idx[0], lane, len(off))
	} else {
		nttStoreRef(dst, src, nil, off, idx, lane)
	}
	return nil
}

// NTTStoreMul is NTTStore after a Montgomery product (R = 2^260) of every lane with the element
// of tab at the same index as the destination element (src·tab/16 for elements in
// gnark-crypto's form). tab must be as long as dst.
func NTTStoreMul(dst []fr.Element, src []Fr8, tab []fr.Element, off, idx []int, lane int) error {
	if len(idx) != len(off) || len(tab) != len(dst) {
		return ErrLength
	}
	if !checkOffsets(len(dst), off, lane) || !checkIndices(idx, len(off), len(src)) {
		return ErrOffset
	}
	if len(off) == 0 {
		return nil
	}
	if ifma {
		nttStoreMul(frPtr(src), elemPtr(dst), elemPtr(tab), &off[0], &idx[0], lane, len(off))
	} else {
		nttStoreRef(dst, src, tab, off, idx, lane)
	}
	return nil
}
