package ledger

import (
	"bytes"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
)

// This file verifies EdDSA signatures exactly as gnark-crypto's (v0.22)
// eddsa.PublicKey.Verify accepts them, but faster.
//
// gnark-crypto accepts a signature R || S under a key A (a non-identity
// point of the prime-order subgroup G, checked when the key is decoded) iff
//   - R decodes: y (little-endian, top bit the sign of x) is nonzero and
//     below the field modulus and (1-y²)/(a-d·y²) is a square;
//   - R is in G (Signature.SetBytes checks it, the identity included);
//   - 0 < S < order;
//   - [8][S]B == [8](R + [h]A), h = Poseidon2(R.X, R.Y, A.X, A.Y, msg).
//
// As A and B are in G, the last two conditions together are the same as
// [S]B - [h]A == R: with R in G, [S]B - [h]A - R is in G, where [8] is
// injective; and [S]B - [h]A == R puts R in G by itself. So verify decodes
// R without the subgroup test and checks [S]B + [h](-A) == R, which drops
// the cofactor doublings too.
//
// [S]B comes from a static comb (no doublings). [h](-A) comes from a comb
// for hot keys (see verify_hot.go); cold keys check an equivalent equation
// with half-size scalars and ~126 doublings (see verify_lattice.go).

// baseCombW is the window width of the static comb of B: 37 windows of 64
// points, 222 KiB, 37 additions at most per signature (w = 5: 51 windows,
// 78 KiB; w = 8: 32 windows, 384 KiB, no measurable gain over 7 for
// 1.7 times the memory, which other work competes for in L2). Built once,
// at the first verification: about 1.5 ms.
const baseCombW = 7

var baseComb = sync.OnceValue(func() *comb {
	b := twistededwards.GetEdwardsCurve().Base
	return newComb(&b, baseCombW)
})

// orderBytes is the order of G, big-endian.
var orderBytes = func() (b [32]byte) {
	o := twistededwards.GetEdwardsCurve().Order
	o.FillBytes(b[:])
	return b
}()

// decodeSig decodes R and S as gnark-crypto's Signature.SetBytes does,
// except for the subgroup test on R, which verify makes redundant. The
// sign bit picks the lexicographically largest x when set; x = 0 (the
// identity, or (0, -1) which never verifies) is accepted with either bit.
func decodeSig(sig *Signature) (r twistededwards.PointAffine, s [32]byte, ok bool) {
	var yb [32]byte
	for i := range 32 {
		yb[31-i] = sig[i]
	}
	negX := yb[0]&0x80 != 0
	yb[0] &= 0x7f
	y, err := fr.BigEndian.Element(&yb)
	if err != nil || y.IsZero() {
		return r, s, false // y >= modulus, or y == 0
	}
	copy(s[:], sig[32:])
	if s == [32]byte{} || bytes.Compare(s[:], orderBytes[:]) >= 0 {
		return r, s, false
	}
	// x² = (1 - y²) / (a - d·y²) with a = -1; the denominator is never 0
	// as -1/d is not a square.
	var num, den, x fr.Element
	num.Square(&y)
	den.Mul(&num, &curveD)
	num.Sub(&feOne, &num)
	den.Neg(&den)
	den.Sub(&den, &feOne)
	den.Inverse(&den)
	x.Mul(&num, &den)
	if !sqrt(&x, &x) {
		return r, s, false // not on the curve
	}
	if x.LexicographicallyLargest() != negX {
		x.Neg(&x)
	}
	r.X, r.Y = x, y
	return r, s, true
}

var (
	feOne  fr.Element = func() (o fr.Element) { o.SetOne(); return o }()
	curveD            = twistededwards.GetEdwardsCurve().D
)

// verify reports whether sig is a valid signature of msg under k, and may
// build k's hot-key comb.
func (k *decodedKey) verify(sig *Signature, msg *fr.Element) bool {
	r, s, ok := decodeSig(sig)
	if !ok {
		return false
	}
	// gnark-crypto's Merkle–Damgård hasher over the canonical encodings of
	// the five elements is Hash over the elements (see hash.go), with our
	// faster permutation.
	hram := Hash(r.X, r.Y, k.pk.A.X, k.pk.A.Y, *msg)
	return k.verifyChallenge(&r, &s, &hram)
}

// verifyChallenge is verify after the decoding of the signature (R, S)
// and the challenge hram = Hash(R.X, R.Y, A.X, A.Y, msg).
func (k *decodedKey) verifyChallenge(r *twistededwards.PointAffine, s *[32]byte, hram *fr.Element) bool {
	hb := hram.Bytes()

	var acc extPoint
	if c := k.hot.comb.Load(); c != nil {
		k.hot.touch()
		acc.setIdentity()
		c.addMul(&acc, &hb)
		baseComb().addMul(&acc, s)
		return acc.equalAffine(&r.X, &r.Y)
	}
	valid, decided := verifyLattice(k.negA, r, s, &hb)
	if !decided {
		valid = verifyWindowed(k.negA, r, s, &hb)
	}
	if valid {
		k.hot.countValid(k)
	}
	return valid
}

// verifyWindowed reports whether [S]B - [h]A == R with 250 doublings, for
// the rare h verifyLattice declines.
func verifyWindowed(negA *windowTable, r *twistededwards.PointAffine, s, h *[32]byte) bool {
	var acc extPoint
	negA.mul(&acc, h)
	baseComb().addMul(&acc, s)
	return acc.equalAffine(&r.X, &r.Y)
}
