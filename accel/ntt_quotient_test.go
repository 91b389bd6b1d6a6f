package accel

import (
	"errors"
	"github.com/consensys/gnark-crypto/utils"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
)

// referenceQuotient computes H the way gnark's Groth16 prover does, with gnark-crypto's fft.
func referenceQuotient(a, b, c []fr.Element) []fr.Element {
	d := fft.NewDomain(uint64(len(a)))
	a = append([]fr.Element(nil), a...)
	b = append([]fr.Element(nil), b...)
	c = append([]fr.Element(nil), c...)
	for _, x := range [][]fr.Element{a, b, c} {
		d.FFTInverse(x, fft.DIF)
		d.FFT(x, fft.DIT, fft.OnCoset())
	}
	var den, one fr.Element
	one.SetOne()
	den.Exp(d.FrMultiplicativeGen, big.NewInt(int64(d.Cardinality)))
	den.Sub(&den, &one).Inverse(&den)
	for i := range a {
		a[i].Mul(&a[i], &b[i]).Sub(&a[i], &c[i]).Mul(&a[i], &den)
	}
	d.FFTInverse(a, fft.DIF, fft.OnCoset())
	return a
}

func TestGroth16QuotientMatchesGnark(t *testing.T) {
	for _, p := range allPaths(t) {
		t.Run(p.String(), func(t *testing.T) {
			defer SetPath(p)()
			for _, lg := range []int{0, 1, 2, 3, 4, 5, 8, 10, 11, 12, 13, 14} {
				n := 1 << lg
				d, err := NewDomain(uint64(n))
				if err != nil {
					t.Fatal(err)
				}
				// random inputs: the quotient is then not exact, which the transform must
				// not care about
				a, b, c := randomVector(n), randomVector(n), randomVector(n)
				want := referenceQuotient(a, b, c)
				if err := d.Groth16Quotient(a, b, c); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if !a[i].Equal(&want[i]) {
						t.Fatalf("n=%d: element %d differs from gnark's computation", n, i)
					}
				}
			}
		})
	}
}

func TestGroth16QuotientExact(t *testing.T) {
	// for evaluations with c = a·b on the domain, A·B − C = H·(Xⁿ − 1) holds as polynomials;
	// check it at a random point
	for _, p := range allPaths(t) {
		t.Run(p.String(), func(t *testing.T) {
			defer SetPath(p)()
			const n = 1 << 13
			d, err := NewDomain(n)
			if err != nil {
				t.Fatal(err)
			}
			a, b := randomVector(n), randomVector(n)
			c := make([]fr.Element, n)
			for i := range c {
				c[i].Mul(&a[i], &b[i])
			}
			ref := fft.NewDomain(n)
			coeffs := func(x []fr.Element) []fr.Element {
				x = append([]fr.Element(nil), x...)
				ref.FFTInverse(x, fft.DIF)
				utils.BitReverse(x)
				return x
			}
			pa, pb, pc := coeffs(a), coeffs(b), coeffs(c)
			if err := d.Groth16Quotient(a, b, c); err != nil {
				t.Fatal(err)
			}
			h := a
			utils.BitReverse(h)
			if !h[n-1].IsZero() {
				t.Fatal("deg H must be at most n-2")
			}
			var x fr.Element
			if _, err := x.SetRandom(); err != nil {
				t.Fatal(err)
			}
			eval := func(p []fr.Element) fr.Element {
				var r fr.Element
				for i := len(p) - 1; i >= 0; i-- {
					r.Mul(&r, &x).Add(&r, &p[i])
				}
				return r
			}
			ea, eb, ec, eh := eval(pa), eval(pb), eval(pc), eval(h)
			var lhs, z, rhs, one fr.Element
			one.SetOne()
			lhs.Mul(&ea, &eb).Sub(&lhs, &ec)
			z.Exp(x, big.NewInt(n)).Sub(&z, &one)
			rhs.Mul(&eh, &z)
			if !lhs.Equal(&rhs) {
				t.Fatal("A·B − C != H·(Xⁿ − 1) at a random point")
			}
		})
	}
}

func TestGroth16QuotientErrors(t *testing.T) {
	d, err := NewDomain(8)
	if err != nil {
		t.Fatal(err)
	}
	ok := make([]fr.Element, 8)
	bad := make([]fr.Element, 7)
	for _, args := range [][3][]fr.Element{{bad, ok, ok}, {ok, bad, ok}, {ok, ok, bad}, {nil, ok, ok}} {
		if err := d.Groth16Quotient(args[0], args[1], args[2]); !errors.Is(err, ErrLength) {
			t.Errorf("got %v, want ErrLength", err)
		}
	}
}
