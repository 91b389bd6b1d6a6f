package asm

import "github.com/consensys/gnark-crypto/ecc/bn254/fp"

// The references below compute lane by lane through gnark-crypto's fp arithmetic: they are
// independent of the radix-52 algorithms they check, and they are the fallback when the CPU
// (or the build) lacks AVX-512 IFMA.

func mulRef(z, x, y []Fp8) {
	for k := range z {
		for j := 0; j < Lanes; j++ {
			a, b := x[k].Lane(j), y[k].Lane(j)
			a.Mul(&a, &b)
			z[k].SetLane(j, &a)
		}
	}
}

func addRef(z, x, y []Fp8) {
	for k := range z {
		for j := 0; j < Lanes; j++ {
			a, b := x[k].Lane(j), y[k].Lane(j)
			a.Add(&a, &b)
			z[k].SetLane(j, &a)
		}
	}
}

func subRef(z, x, y []Fp8) {
	for k := range z {
		for j := 0; j < Lanes; j++ {
			a, b := x[k].Lane(j), y[k].Lane(j)
			a.Sub(&a, &b)
			z[k].SetLane(j, &a)
		}
	}
}

// addAffineRef is the reference of AddAffine: lane by lane, (x1, y1) += (x2, y2) with one
// field inversion per addition. Lanes with x1 == x2 are left unchanged.
func addAffineRef(x1, y1, x2, y2 []Fp8) {
	for k := range x1 {
		for j := 0; j < Lanes; j++ {
			ax, ay, bx, by := x1[k].Lane(j), y1[k].Lane(j), x2[k].Lane(j), y2[k].Lane(j)
			if ax.Equal(&bx) {
				continue
			}
			var d, l, x3, y3 fp.Element
			d.Sub(&bx, &ax)
			d.Inverse(&d)
			l.Sub(&by, &ay)
			l.Mul(&l, &d)
			x3.Square(&l)
			x3.Sub(&x3, &ax)
			x3.Sub(&x3, &bx)
			y3.Sub(&ax, &x3)
			y3.Mul(&y3, &l)
			y3.Sub(&y3, &ay)
			x1[k].SetLane(j, &x3)
			y1[k].SetLane(j, &y3)
		}
	}
}
