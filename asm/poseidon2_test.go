package asm

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

// TestPoseidon2x8 holds the eight-lane permutation equal to gnark-crypto's
// on random and boundary states (on the assembly where Supported(); the
// references the kernels fall back to are held equal to it in
// fr52_test.go).
func TestPoseidon2x8(t *testing.T) {
	var minus1 fr.Element
	minus1.SetOne()
	minus1.Neg(&minus1)
	var edge [Lanes][2]fr.Element
	edge[1][0].SetOne()
	edge[2][1].SetOne()
	edge[3][0], edge[3][1] = minus1, minus1
	edge[4][0] = minus1
	check := func(name string, s [Lanes][2]fr.Element) {
		t.Helper()
		want := s
		perm := poseidon2.NewDefaultPermutation()
		for j := range want {
			if err := perm.Permutation(want[j][:]); err != nil {
				t.Fatal(err)
			}
		}
		got := s
		Poseidon2x8(&got)
		if got != want {
			t.Fatalf("%s: lanes differ from gnark-crypto's permutation", name)
		}
	}
	check("boundary", edge)
	for range 50 {
		var s [Lanes][2]fr.Element
		for j := range s {
			s[j][0].SetRandom()
			s[j][1].SetRandom()
		}
		check("random", s)
	}
}

func BenchmarkPoseidon2x8(b *testing.B) {
	var s [Lanes][2]fr.Element
	for j := range s {
		s[j][0].SetRandom()
		s[j][1].SetRandom()
	}
	b.Run("x8", func(b *testing.B) {
		for b.Loop() {
			Poseidon2x8(&s)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*Lanes), "ns/permutation")
	})
	b.Run("gnark-crypto", func(b *testing.B) {
		perm := poseidon2.NewDefaultPermutation()
		for b.Loop() {
			for j := range s {
				_ = perm.Permutation(s[j][:])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*Lanes), "ns/permutation")
	})
}
