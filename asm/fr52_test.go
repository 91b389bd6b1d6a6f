package asm

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func TestFrArithmetic(t *testing.T) {
	r := fr.Modulus()
	rInv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), 260), r)
	rng := rand.New(rand.NewPCG(13, 14))
	xp, yp := testVectorsMod(rng, 512, r)
	x, y := make([]Fr8, len(xp)), make([]Fr8, len(xp))
	for k := range xp {
		x[k], y[k] = Fr8(xp[k]), Fr8(yp[k])
	}
	z, ref := make([]Fr8, len(x)), make([]Fr8, len(x))
	check := func(name string, got []Fr8, f func(a, b *big.Int) *big.Int) {
		t.Helper()
		for k := range got {
			g := Fp8(got[k])
			for j := 0; j < Lanes; j++ {
				a, b := raw(&xp[k], j), raw(&yp[k], j)
				if name == "FrSquare" {
					b = a
				}
				if want := f(a, b); raw(&g, j).Cmp(want) != 0 {
					t.Fatalf("%s(%v, %v) = %v, want %v", name, a, b, raw(&g, j), want)
				}
			}
		}
	}
	mont := func(a, b *big.Int) *big.Int {
		v := new(big.Int).Mul(a, b)
		v.Mul(v, rInv)
		return v.Mod(v, r)
	}
	add := func(a, b *big.Int) *big.Int { v := new(big.Int).Add(a, b); return v.Mod(v, r) }
	sub := func(a, b *big.Int) *big.Int { v := new(big.Int).Sub(a, b); return v.Mod(v, r) }
	for _, tc := range []struct {
		name string
		op   func(z, x, y []Fr8) error
		ref  func(z, x, y []Fr8)
		f    func(a, b *big.Int) *big.Int
	}{
		{"FrMul", FrMul, frMulRef, mont},
		{"FrAdd", FrAdd, frAddRef, add},
		{"FrSub", FrSub, frSubRef, sub},
	} {
		if err := tc.op(z, x, y); err != nil {
			t.Fatal(err)
		}
		check(tc.name, z, tc.f)
		tc.ref(ref, x, y)
		check(tc.name+"Ref", ref, tc.f)
	}
	if err := FrSquare(z, x); err != nil {
		t.Fatal(err)
	}
	check("FrSquare", z, mont)
	if err := FrMul(z[:1], x, y); err != ErrLength {
		t.Fatalf("FrMul with mismatched lengths: err = %v", err)
	}
}

func TestFrLaneConversion(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	r := fr.Modulus()
	for i, a := range append(boundaryRawMod(r), randRawMod(rng, r), randRawMod(rng, r)) {
		var e fr.Element
		e.SetBigInt(a)
		var v Fr8
		v.SetLane(i%Lanes, &e)
		want := new(big.Int).Mod(new(big.Int).Lsh(a, 260), r)
		g := Fp8(v)
		if got := raw(&g, i%Lanes); got.Cmp(want) != 0 {
			t.Fatalf("SetLane(%v): raw %v, want %v", a, got, want)
		}
		if back := v.Lane(i % Lanes); !back.Equal(&e) {
			t.Fatalf("Lane(SetLane(%v)) = %v", a, back.String())
		}
	}
}
