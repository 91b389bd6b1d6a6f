package ledger

import (
	"math/big"
	"math/bits"
	"strconv"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
)

// The cold path halves the doublings with the lattice trick of Antipa et
// al. and Pornin ("Optimized lattice basis reduction in dimension 2, and
// fast Schnorr and EdDSA signature verification", 2020): find u, v of about
// 126 bits with u ≡ h·v (mod order) and v odd, and check
//
//	[v·S mod order]B + [u](-A) + [v](-R) == 0
//
// which is [v]([S]B - [h]A - R) == 0 as A and B are in G. v is odd and
// below the order, so it is prime to the group order 8·order and [v] is
// injective on the curve: the check holds iff [S]B - [h]A == R, exactly the
// equation of verify. [v·S]B comes from the static comb; the other two
// terms share ~126 doublings instead of 250.
//
// u and v come from the extended Euclidean algorithm on (order, h mod
// order), stopped half-way (Gauss/Lagrange reduction in dimension 2 needs
// no more): r_i ≡ t_i·h with r_i < 2^126 and |t_i| ≤ order/r_(i-1) < 2^125.

// scalar256 is a little-endian 256-bit number.
type scalar256 [4]uint64

var orderU256 = func() (o scalar256) {
	c := twistededwards.GetEdwardsCurve()
	for i, w := range c.Order.Bits() {
		o[i] = uint64(w)
	}
	return o
}()

func (a *scalar256) bitLen() int {
	for i := 3; i >= 0; i-- {
		if a[i] != 0 {
			return 64*i + bits.Len64(a[i])
		}
	}
	return 0
}

func (a *scalar256) bytes() (b [32]byte) {
	for i := range 4 {
		for j := range 8 {
			b[31-8*i-j] = byte(a[i] >> (8 * j))
		}
	}
	return b
}

// cmp5 compares the 320-bit a and b.
func cmp5(a, b *[5]uint64) int {
	for i := 4; i >= 0; i-- {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func sub5(a, b *[5]uint64) (d [5]uint64) {
	var borrow uint64
	for i := range 5 {
		d[i], borrow = bits.Sub64(a[i], b[i], borrow)
	}
	return d
}

func add5(a, b *[5]uint64) (s [5]uint64) {
	var carry uint64
	for i := range 5 {
		s[i], carry = bits.Add64(a[i], b[i], carry)
	}
	return s
}

func mulWord(a *scalar256, q uint64) (p [5]uint64) {
	var carry uint64
	for i := range 4 {
		hi, lo := bits.Mul64(a[i], q)
		var c uint64
		p[i], c = bits.Add64(lo, carry, 0)
		carry = hi + c
	}
	p[4] = carry
	return p
}

func widen320(a *scalar256) [5]uint64 { return [5]uint64{a[0], a[1], a[2], a[3], 0} }

// topBits returns the 64 bits of a starting at bit shift.
func topBits(a *scalar256, shift int) uint64 {
	i, s := shift/64, uint(shift%64)
	v := a[i] >> s
	if s != 0 && i+1 < 4 {
		v |= a[i+1] << (64 - s)
	}
	return v
}

// divStep returns q = a / b and a mod b for b > 0, or ok = false when the
// quotient may reach 2^32 (probability about 2^-32 per step), where the
// estimate from the leading 64 bits could be off by more than a few.
func divStep(a, b *scalar256) (q uint64, r scalar256, ok bool) {
	la, lb := a.bitLen(), b.bitLen()
	if la < lb {
		return 0, *a, true
	}
	if la-lb >= 32 {
		return 0, r, false
	}
	// The quotient of the leading 64 bits is within a few units of the
	// true one; the loops below correct it.
	shift := max(la-64, 0)
	if tb := topBits(b, shift); tb != 0 {
		q = topBits(a, shift) / tb
	}
	wa := widen320(a)
	wb := widen320(b)
	p := mulWord(b, q)
	for cmp5(&p, &wa) > 0 {
		p = sub5(&p, &wb)
		q--
	}
	d := sub5(&wa, &p)
	for cmp5(&d, &wb) >= 0 {
		d = sub5(&d, &wb)
		q++
	}
	return q, scalar256{d[0], d[1], d[2], d[3]}, true
}

// halfBits is where the reduction stops: about half the order's 251 bits.
const halfBits = 126

// maxLatticeBits bounds |u| and v; beyond it (a huge quotient near the
// stopping point, which is rare) verify takes the plain cold path.
const maxLatticeBits = 160

// latticeReduce returns u, v with u ≡ h·v (mod order), v odd, 0 < v < 2^160,
// |u| < 2^160, and u's sign as uNeg, or ok = false (rare, see above).
func latticeReduce(h *[32]byte) (u, v scalar256, uNeg, ok bool) {
	var hh scalar256
	for i := range 4 {
		for j := range 8 {
			hh[i] |= uint64(h[31-8*i-j]) << (8 * j)
		}
	}
	_, r, ok := divStep(&hh, &orderU256)
	if !ok {
		return u, v, false, false
	}
	// Invariant: r_i ≡ t_i·h (mod order) with t_i = (-1)^(i+1)·t (t the
	// magnitude), i counting from r_0 = order, t_0 = 0.
	rPrev, tPrev, t := orderU256, scalar256{}, scalar256{1}
	odd := true // i is odd, t_i > 0
	for r.bitLen() > halfBits {
		q, rem, ok := divStep(&rPrev, &r)
		if !ok {
			return u, v, false, false
		}
		wt, wp := mulWord(&t, q), widen320(&tPrev)
		tn := add5(&wt, &wp)
		if tn[4] != 0 {
			return u, v, false, false
		}
		rPrev, r = r, rem
		tPrev, t = t, scalar256{tn[0], tn[1], tn[2], tn[3]}
		odd = !odd
	}
	// t_i and t_(i-1) are coprime (the Euclidean matrices have
	// determinant ±1), so one of them is odd.
	if t[0]&1 == 0 {
		r, t, odd = rPrev, tPrev, !odd
	}
	if r.bitLen() > maxLatticeBits || t.bitLen() > maxLatticeBits {
		return u, v, false, false
	}
	// t_i < 0: r ≡ -t·h, so u = -r and v = t.
	return r, t, !odd, true
}

// cachedPoint is a point in extended coordinates kept as (Y+X, Y-X, 2d·T, 2Z),
// for adding a point that is not worth normalising (R's multiples, used
// once): 8 multiplications per addition.
type cachedPoint struct{ yPlusX, yMinusX, t2d, z2 fr.Element }

func (c *cachedPoint) set(p *extPoint) {
	c.yPlusX.Add(&p.Y, &p.X)
	c.yMinusX.Sub(&p.Y, &p.X)
	c.t2d.Mul(&p.T, &d2)
	c.z2.Double(&p.Z)
}

// addCached sets p = p + q when neg = 0, p − q when neg = 1.
func (p *extPoint) addCached(q *cachedPoint, neg uint) {
	var c, d fr.Element
	a, b := p.productsAB(&q.yPlusX, &q.yMinusX, neg)
	c.Mul(&p.T, &q.t2d)
	d.Mul(&p.Z, &q.z2)
	p.fromABCD(&a, &b, &c, &d, neg)
}

func (p *extPoint) isIdentity() bool {
	return p.X.IsZero() && p.Y.Equal(&p.Z)
}

// rWindowW is the window width for R's multiples: 8 built per signature.
const rWindowW = 4

// verifyLattice reports whether [S]B - [h]A == R by the lattice check
// above (negA is the window table of -A), or decided = false when the
// reduction declines and the caller must check another way.
func verifyLattice(negA *windowTable, r *twistededwards.PointAffine, s, h *[32]byte) (valid, decided bool) {
	u, v, uNeg, ok := latticeReduce(h)
	if !ok {
		return false, false
	}

	// j·(-R) for j = 1..8.
	var negR twistededwards.PointAffine
	negR.Neg(r)
	var nr niels
	{
		var x, y fr.Element
		x, y = negR.X, negR.Y
		nr.yPlusX.Add(&y, &x)
		nr.yMinusX.Sub(&y, &x)
		nr.xy2d.Mul(&x, &y)
		nr.xy2d.Mul(&nr.xy2d, &d2)
	}
	var rt [1 << (rWindowW - 1)]cachedPoint
	var p extPoint
	p.setAffine(&negR)
	rt[0].set(&p)
	p.double(&p, true)
	rt[1].set(&p)
	for j := 2; j < len(rt); j++ {
		p.addNiels(&nr, false)
		rt[j].set(&p)
	}

	ub, vb := u.bytes(), v.bytes()
	var ud, vd [64]int16
	nu := (u.bitLen() + 1 + windowW - 1) / windowW
	nv := (v.bitLen() + 1 + rWindowW - 1) / rWindowW
	recode(&ub, windowW, ud[:nu])
	recode(&vb, rWindowW, vd[:nv])

	var acc extPoint
	acc.setIdentity()
	top := max(windowW*(nu-1), rWindowW*(nv-1))
	for pos := top; pos >= 0; pos-- {
		addU := pos%windowW == 0 && pos/windowW < nu
		addV := pos%rWindowW == 0 && pos/rWindowW < nv
		if pos != top {
			acc.double(&acc, addU || addV || pos == 0)
		}
		if addU {
			// -A's table; uNeg flips it to A.
			x := int(ud[pos/windowW])
			if uNeg {
				x = -x
			}
			acc.addDigit(negA[:], x)
		}
		if addV {
			if x := int(vd[pos/rWindowW]); x != 0 {
				sg := x >> (strconv.IntSize - 1) // 0 or -1
				acc.addCached(&rt[(x^sg)-sg-1], uint(sg&1))
			}
		}
	}

	// v·S mod order for the comb.
	var vs, sb big.Int
	vs.SetBytes(vb[:])
	sb.SetBytes(s[:])
	vs.Mul(&vs, &sb)
	vs.Mod(&vs, orderInt)
	var vsb [32]byte
	vs.FillBytes(vsb[:])
	baseComb().addMul(&acc, &vsb)
	return acc.isIdentity(), true
}

var orderInt = func() *big.Int {
	c := twistededwards.GetEdwardsCurve()
	return &c.Order
}()
