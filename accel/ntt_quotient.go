package accel

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Groth16Quotient computes the quotient polynomial of a Groth16 proof. Given the evaluations
// a, b, c on the domain (natural order) of the polynomials A, B, C of an R1CS solution, each
// padded with zeros to length n, it writes to a the coefficients of
//
//	H = (A·B − C) / (Xⁿ − 1)
//
// in bit-reversed order, which is the order of the [Z] points of a gnark Groth16 proving key
// (gnark's prover computes the same vector with fft.Domain). b and c are overwritten. It
// returns ErrLength if a slice's length is not n.
//
// The division is exact only for a satisfying solution; the method does not check it.
// Internally it evaluates on the coset g·⟨ω⟩ (where Xⁿ − 1 is the constant gⁿ − 1), fusing
// the inverse and forward transforms of each input into three passes over memory and folding
// every scaling into tables applied while the data are in cache.
func (d *Domain) Groth16Quotient(a, b, c []fr.Element) error {
	for _, x := range [][]fr.Element{a, b, c} {
		if len(x) != d.n {
			return fmt.Errorf("%w: got %d, want %d", ErrLength, len(x), d.n)
		}
	}
	vec := Selected() == AVX512
	if vec && d.logN >= vecMinLog {
		d.quotientVec(a, b, c)
		return nil
	}
	pre := scaling{t: d.table(tblQuotientPre)}   // 1/n and the coset shift
	post := scaling{t: d.table(tblQuotientPost)} // 1/n, the shift back and 1/(gⁿ − 1)
	L := newLayout(d.n)

	if L.r == 1 {
		for _, x := range [][]fr.Element{a, b, c} {
			blockDIF(x, d.twInv, vec)
			pre.apply(x, 0, vec)
			blockDIT(x, d.tw, vec)
		}
		pointwise(a, b, c, 0, d.n, vec)
		blockDIF(a, d.twInv, vec)
		post.apply(a, 0, vec)
		return nil
	}

	// coefficients, then evaluations on the coset, of each input; c's last phase goes on below
	for i, x := range [][]fr.Element{a, b, c} {
		nttParallelFor(L.c/L.w, func(k int) {
			panelDIF(x, d.twInv, L, k*L.w, vec)
		})
		nttParallelFor(L.r, func(k int) {
			blk := x[k*L.c : (k+1)*L.c]
			blockDIF(blk, d.twInv, vec)
			pre.apply(blk, k*L.c, vec)
			blockDIT(blk, d.tw, vec)
		})
		if i == 2 {
			break
		}
		nttParallelFor(L.c/L.w, func(k int) {
			panelDIT(x, d.tw, L, k*L.w, vec)
		})
	}
	// a strip holds the same positions in a, b and c: finish c, combine, and start the last
	// inverse transform while the strip is in cache
	nttParallelFor(L.c/L.w, func(k int) {
		c0 := k * L.w
		panelDIT(c, d.tw, L, c0, vec)
		for r := range L.r {
			off := r*L.c + c0
			pointwise(a, b, c, off, off+L.w, vec)
		}
		panelDIF(a, d.twInv, L, c0, vec)
	})
	nttParallelFor(L.r, func(k int) {
		blk := a[k*L.c : (k+1)*L.c]
		blockDIF(blk, d.twInv, vec)
		post.apply(blk, k*L.c, vec)
	})
	return nil
}

// pointwise sets a[i] = a[i]·b[i] − c[i] for lo ≤ i < hi.
func pointwise(a, b, c []fr.Element, lo, hi int, vec bool) {
	if vec {
		va := fr.Vector(a[lo:hi])
		va.Mul(va, b[lo:hi])
		va.Sub(va, c[lo:hi])
		return
	}
	for i := lo; i < hi; i++ {
		a[i].Mul(&a[i], &b[i]).Sub(&a[i], &c[i])
	}
}

// quotientVec is Groth16Quotient on the AVX-512 path: whole transforms, each two passes over
// memory, with the scalings folded into their loads and stores.
func (d *Domain) quotientVec(a, b, c []fr.Element) {
	pre := scaling{t: d.table(tblQuotientPre)}
	for _, x := range [][]fr.Element{a, b, c} {
		d.transformVec(x, true, DIF, scaling{}, pre)
		d.transformVec(x, false, DIT, scaling{}, scaling{})
	}
	const chunk = 1 << 12
	nttParallelFor((d.n+chunk-1)/chunk, func(k int) {
		lo := k * chunk
		pointwise(a, b, c, lo, min(lo+chunk, d.n), true)
	})
	d.transformVec(a, true, DIF, scaling{}, scaling{t: d.table(tblQuotientPost)})
}
