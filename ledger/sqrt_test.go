package ledger

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// TestSqrtMatchesGnark compares sqrt with fr.Element.Sqrt on random
// elements (half of them non-squares), on squares whose Tonelli–Shanks
// exponent e takes every value of each 7-bit digit, and on edge values.
func TestSqrtMatchesGnark(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var in []fr.Element
	var one, minusOne fr.Element
	one.SetOne()
	minusOne.Neg(&one)
	in = append(in, fr.Element{}, one, minusOne)
	for range 2000 {
		var a fr.Element
		a.SetUint64(rng.Uint64())
		a.Mul(&a, new(fr.Element).SetUint64(rng.Uint64()))
		a.Mul(&a, new(fr.Element).SetUint64(rng.Uint64()))
		a.Mul(&a, new(fr.Element).SetUint64(rng.Uint64()))
		in = append(in, a)
	}
	// a = g^(2m)·b² has e = 2m + (even part from b): cover each digit of
	// e with m·2 = digit << (7k).
	tab := sqrtTab()
	for k := range sqrtK {
		for d := 0; d < 1<<sqrtW; d += 2 {
			var a, b fr.Element
			a.Inverse(&tab.ginv[k][d]) // g^(d·2^(7k))
			b.SetUint64(rng.Uint64() | 1)
			b.Square(&b)
			a.Mul(&a, &b)
			in = append(in, a)
			var n fr.Element
			n.Inverse(&tab.ginv[k][d|1]) // odd: a non-square when k = 0
			in = append(in, n)
		}
	}
	squares := 0
	for _, a := range in {
		var got, want fr.Element
		ok := sqrt(&got, &a)
		wantOK := want.Sqrt(&a) != nil
		if ok != wantOK {
			t.Fatalf("sqrt(%s): ok %v, fr.Sqrt says %v", a.String(), ok, wantOK)
		}
		if !ok {
			continue
		}
		squares++
		var w2 fr.Element
		if w2.Neg(&want); got != want && got != w2 {
			t.Fatalf("sqrt(%s) = %s, want ±%s", a.String(), got.String(), want.String())
		}
	}
	if squares < len(in)/3 || squares == len(in) {
		t.Fatalf("%d squares of %d inputs: the inputs do not cover both cases", squares, len(in))
	}
}

func TestWindowPlanPow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []int{1, 2, 5, 6, 63, 64, 65, 200, 226, 254} {
		for range 20 {
			e := new(big.Int).SetBit(new(big.Int), bits-1, 1)
			for i := range bits - 1 {
				e.SetBit(e, i, uint(rng.IntN(2)))
			}
			var a, got, want fr.Element
			a.SetUint64(rng.Uint64())
			plan := newWindowPlan(e)
			plan.pow(&got, &a)
			want.Exp(a, e)
			if got != want {
				t.Fatalf("a^%v: got %s, want %s", e, got.String(), want.String())
			}
		}
	}
}

func BenchmarkSqrt(b *testing.B) {
	var a fr.Element
	a.SetUint64(12345)
	a.Square(&a)
	b.Run("velox", func(b *testing.B) {
		for b.Loop() {
			var z fr.Element
			sqrt(&z, &a)
		}
	})
	b.Run("gnark-crypto", func(b *testing.B) {
		for b.Loop() {
			var z fr.Element
			z.Sqrt(&a)
		}
	})
}
