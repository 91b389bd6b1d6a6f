package ledger

import (
	"encoding/binary"
	"math/bits"
	"strconv"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
)

// Point arithmetic for verify, on the curve -x² + y² = 1 + d·x²·y² (a = -1),
// written here rather than taken from gnark-crypto because its affine
// mixed addition costs 9 multiplications where the "precomputed" form
// below needs 7, and because fixed-base combs need batch normalisation.
// The formulas are the complete extended-coordinate ones of Hisil, Wong,
// Carter and Dawson (2008), so they hold for every pair of curve points.

// extPoint is a point in extended coordinates: x = X/Z, y = Y/Z, x·y = T/Z.
type extPoint struct{ X, Y, Z, T fr.Element }

// niels is an affine point kept as (y+x, y−x, 2d·x·y): adding it to an
// extPoint takes 7 multiplications, and negating it is a swap.
type niels struct{ yPlusX, yMinusX, xy2d fr.Element }

var feZero fr.Element

// d2 is 2d.
var d2 = func() fr.Element {
	var d fr.Element
	c := twistededwards.GetEdwardsCurve()
	d.Double(&c.D)
	return d
}()

func (p *extPoint) setIdentity() {
	p.X.SetZero()
	p.Y.SetOne()
	p.Z.SetOne()
	p.T.SetZero()
}

func (p *extPoint) setAffine(a *twistededwards.PointAffine) {
	p.X = a.X
	p.Y = a.Y
	p.Z.SetOne()
	p.T.Mul(&a.X, &a.Y)
}

// The BN254 scalar field modulus (the base field of the curve), least
// significant word first.
const (
	fq0 = 0x43e1f593f0000001
	fq1 = 0x2833e84879b97091
	fq2 = 0xb85045b68181585d
	fq3 = 0x30644e72e131a029
)

// feAdd sets z = x + y without branches. fr.Element's Add (and Sub,
// Double) branch on whether the result needs reducing, which for the
// random-looking values of point arithmetic is a coin toss the branch
// predictor loses half the time: a few of those per point addition cost
// more than the additions themselves. x, y < q; x + y < 2q < 2^255.
func feAdd(z, x, y *fr.Element) {
	s0, c := bits.Add64(x[0], y[0], 0)
	s1, c := bits.Add64(x[1], y[1], c)
	s2, c := bits.Add64(x[2], y[2], c)
	s3, _ := bits.Add64(x[3], y[3], c)
	t0, b := bits.Sub64(s0, fq0, 0)
	t1, b := bits.Sub64(s1, fq1, b)
	t2, b := bits.Sub64(s2, fq2, b)
	t3, b := bits.Sub64(s3, fq3, b)
	// b = 1 iff s < q: keep s.
	m := -b
	z[0] = t0 ^ ((s0 ^ t0) & m)
	z[1] = t1 ^ ((s1 ^ t1) & m)
	z[2] = t2 ^ ((s2 ^ t2) & m)
	z[3] = t3 ^ ((s3 ^ t3) & m)
}

// feSub sets z = x - y without branches (see feAdd).
func feSub(z, x, y *fr.Element) {
	r0, b := bits.Sub64(x[0], y[0], 0)
	r1, b := bits.Sub64(x[1], y[1], b)
	r2, b := bits.Sub64(x[2], y[2], b)
	r3, b := bits.Sub64(x[3], y[3], b)
	// b = 1 iff x < y: add q back.
	m := -b
	r0, c := bits.Add64(r0, fq0&m, 0)
	r1, c = bits.Add64(r1, fq1&m, c)
	r2, c = bits.Add64(r2, fq2&m, c)
	r3, _ = bits.Add64(r3, fq3&m, c)
	z[0], z[1], z[2], z[3] = r0, r1, r2, r3
}

// productsAB returns A = (Y-X)(y2-x2) and B = (Y+X)(y2+x2) of an addition
// to a point given as y2+x2 and y2-x2; for a subtraction (neg = 1) the two
// swap, as negating the point swaps them. neg is 0 or 1 and is used as an
// index rather than branched on: the sign of a digit is random.
func (p *extPoint) productsAB(yPlusX, yMinusX *fr.Element, neg uint) (a, b fr.Element) {
	sw := [2]*fr.Element{yPlusX, yMinusX}
	feSub(&a, &p.Y, &p.X)
	a.Mul(&a, sw[(neg^1)&1])
	feAdd(&b, &p.Y, &p.X)
	b.Mul(&b, sw[neg&1])
	return a, b
}

// addNiels sets p = p + q, or p − q when neg.
func (p *extPoint) addNiels(q *niels, neg bool) {
	p.addNielsSigned(q, b2u(neg))
}

// addNielsSigned sets p = p + q when neg = 0, p − q when neg = 1.
func (p *extPoint) addNielsSigned(q *niels, neg uint) {
	var c, d fr.Element
	a, b := p.productsAB(&q.yPlusX, &q.yMinusX, neg)
	c.Mul(&p.T, &q.xy2d)
	feAdd(&d, &p.Z, &p.Z)
	p.fromABCD(&a, &b, &c, &d, neg)
}

// addDigit sets p = p + [x]P where t[j-1] = j·P and x is a signed digit,
// |x| <= len(t); the sign is not branched on (see productsAB).
func (p *extPoint) addDigit(t []niels, x int) {
	if x == 0 {
		return
	}
	s := x >> (strconv.IntSize - 1) // 0 or -1
	p.addNielsSigned(&t[(x^s)-s-1], uint(s&1))
}

func b2u(b bool) uint {
	if b {
		return 1
	}
	return 0
}

// fromABCD ends an addition in extended coordinates (Hisil, Wong, Carter,
// Dawson 2008, a = -1) from A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2),
// C = 2d·T1·T2 and D = 2·Z1·Z2; neg = 1 ends a subtraction (C negated,
// which swaps F and G).
func (p *extPoint) fromABCD(a, b, c, d *fr.Element, neg uint) {
	var e, h fr.Element
	var fg [2]fr.Element // D - C, D + C
	feSub(&e, b, a)
	feAdd(&h, b, a)
	feSub(&fg[0], d, c)
	feAdd(&fg[1], d, c)
	f, g := &fg[neg&1], &fg[(neg^1)&1]
	p.X.Mul(&e, f)
	p.Y.Mul(g, &h)
	p.T.Mul(&e, &h)
	p.Z.Mul(f, g)
}

// add sets p = p1 + p2.
func (p *extPoint) add(p1, p2 *extPoint) {
	var a, b, c, d, t fr.Element
	feSub(&a, &p1.Y, &p1.X)
	feSub(&t, &p2.Y, &p2.X)
	a.Mul(&a, &t)
	feAdd(&b, &p1.Y, &p1.X)
	feAdd(&t, &p2.Y, &p2.X)
	b.Mul(&b, &t)
	c.Mul(&p1.T, &p2.T)
	c.Mul(&c, &d2)
	d.Mul(&p1.Z, &p2.Z)
	feAdd(&d, &d, &d)
	p.fromABCD(&a, &b, &c, &d, 0)
}

// double sets p = 2·p1. T is only computed when withT, as a doubling that
// is followed by another doubling never reads it.
func (p *extPoint) double(p1 *extPoint, withT bool) {
	var a, b, c, e, f, g, h fr.Element
	a.Square(&p1.X)
	b.Square(&p1.Y)
	c.Square(&p1.Z)
	feAdd(&c, &c, &c)
	feAdd(&e, &p1.X, &p1.Y)
	e.Square(&e)
	feAdd(&h, &a, &b)
	feSub(&e, &e, &h) // 2XY
	feSub(&g, &b, &a) // a·x² + y² with a = -1
	feSub(&f, &g, &c)
	feSub(&h, &feZero, &h) // -(X² + Y²)
	p.X.Mul(&e, &f)
	p.Y.Mul(&g, &h)
	if withT {
		p.T.Mul(&e, &h)
	}
	p.Z.Mul(&f, &g)
}

// equalAffine reports whether p is the affine point (x, y).
func (p *extPoint) equalAffine(x, y *fr.Element) bool {
	var t fr.Element
	t.Mul(x, &p.Z)
	if !t.Equal(&p.X) {
		return false
	}
	t.Mul(y, &p.Z)
	return t.Equal(&p.Y)
}

// toNiels converts points to the niels form with one field inversion for
// all of them (Montgomery's batch inversion inside fr.BatchInvert).
func toNiels(pts []extPoint, out []niels) {
	zs := make([]fr.Element, len(pts))
	for i := range pts {
		zs[i] = pts[i].Z
	}
	zs = fr.BatchInvert(zs)
	for i := range pts {
		var x, y fr.Element
		x.Mul(&pts[i].X, &zs[i])
		y.Mul(&pts[i].Y, &zs[i])
		out[i].yPlusX.Add(&y, &x)
		out[i].yMinusX.Sub(&y, &x)
		out[i].xy2d.Mul(&x, &y)
		out[i].xy2d.Mul(&out[i].xy2d, &d2)
	}
}

// scalarBits bounds the scalars verify multiplies: S < order < 2^251 and
// h < r < 2^254 (h is a field element of the Poseidon2 hash).
const scalarBits = 254

// windows returns the number of signed base-2^w digits of a scalar below
// 2^scalarBits. The top digit never needs a carry out of it: it holds at
// most 2^(w-1) - 1 from the scalar plus 1 carried in, which is still a
// digit (digits run from -(2^(w-1) - 1) to 2^(w-1)) as long as the top
// window holds at most w-1 bits of the scalar, windows(w)·w >= 255: true
// for w = 4 to 8.
func windows(w uint) int { return (scalarBits + int(w) - 1) / int(w) }

// recode writes the signed base-2^w digits of the big-endian k < 2^254,
// least significant first, to d (len(d) == windows(w)). The digits are
// int16 as they reach 2^(w-1) = 128 for w = 8.
func recode(k *[32]byte, w uint, d []int16) {
	var l [5]uint64 // l[4] = 0 for windows that straddle the top
	for i := range 4 {
		l[i] = binary.BigEndian.Uint64(k[24-8*i:])
	}
	mask := uint64(1)<<w - 1
	half := 1 << (w - 1)
	carry := 0
	for i := range d {
		pos := uint(i) * w
		v := l[pos/64] >> (pos % 64)
		if pos%64+w > 64 {
			v |= l[pos/64+1] << (64 - pos%64)
		}
		x := int(v&mask) + carry
		carry = 0
		if x > half {
			x -= 1 << w
			carry = 1
		}
		d[i] = int16(x)
	}
}

// comb is a fixed-base table for P: entry [i·2^(w-1) + j-1] is
// j·2^(w·i)·P for j = 1..2^(w-1), so [k]P is one addition per nonzero
// signed digit of k and no doublings.
type comb struct {
	w   uint
	pts []niels
}

// newComb builds the comb of p with windows(w) windows: about
// windows(w)·2^(w-1) point additions and one field inversion.
func newComb(p *twistededwards.PointAffine, w uint) *comb {
	n, half := windows(w), 1<<(w-1)
	ext := make([]extPoint, n*half)
	var base extPoint
	base.setAffine(p)
	for i := range n {
		row := ext[i*half : (i+1)*half]
		row[0] = base
		for j := 1; j < half; j++ {
			row[j].add(&row[j-1], &base)
		}
		// 2^w·base = 2·(2^(w-1)·base)
		base.double(&row[half-1], true)
	}
	c := &comb{w: w, pts: make([]niels, len(ext))}
	toNiels(ext, c.pts)
	return c
}

// addMul sets acc = acc + [k]P with one addition per nonzero digit.
//
// It copies the digits' table entries out first and adds them after: the
// copies do not depend on one another, so their cache misses overlap,
// where fetching each entry just before its addition would wait for the
// misses one by one (a key's comb is 48 KiB and the base comb 222 KiB:
// out of the nearer caches in a node verifying many keys).
func (c *comb) addMul(acc *extPoint, k *[32]byte) {
	var digits [64]int16
	d := digits[:windows(c.w)]
	recode(k, c.w, d)
	half := 1 << (c.w - 1)
	var pts [64]niels
	var neg [64]uint
	n := 0
	for i, x := range d {
		if x == 0 {
			continue
		}
		s := int(x) >> (strconv.IntSize - 1) // 0 or -1
		pts[n] = c.pts[i*half+(int(x)^s)-s-1]
		neg[n] = uint(s & 1)
		n++
	}
	for i := range n {
		acc.addNielsSigned(&pts[i], neg[i])
	}
}

// windowTable holds j·P for j = 1..2^(windowW-1), for the cold path's
// double-and-add with signed windowW-bit digits.
const windowW = 5

type windowTable [1 << (windowW - 1)]niels

func newWindowTable(p *twistededwards.PointAffine) *windowTable {
	var ext [len(windowTable{})]extPoint
	ext[0].setAffine(p)
	for j := 1; j < len(ext); j++ {
		ext[j].add(&ext[j-1], &ext[0])
	}
	var t windowTable
	toNiels(ext[:], t[:])
	return &t
}

// mul sets acc = [k]P. Fixed-base terms are added to acc afterwards, so
// that they are not doubled along.
func (t *windowTable) mul(acc *extPoint, k *[32]byte) {
	var digits [64]int16
	d := digits[:windows(windowW)]
	recode(k, windowW, d)
	acc.setIdentity()
	for i := len(d) - 1; i >= 0; i-- {
		if i != len(d)-1 {
			for j := range windowW {
				acc.double(acc, j == windowW-1)
			}
		}
		acc.addDigit(t[:], int(d[i]))
	}
}
