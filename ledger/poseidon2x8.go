package ledger

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/veloxlabs/velox/asm"
)

// Eight Poseidon2 permutations at once on the AVX-512 IFMA field kernels of
// package asm (eight lanes of radix-2^52 limbs per vector). Admission
// hashes twelve times per transaction (the message and the EdDSA
// challenge); checking several transactions together hashes them in the
// lanes of one permutation. Without IFMA, permuteLanes runs the scalar
// permutation lane by lane.

// lanes is the number of permutations computed together.
const lanes = asm.Lanes

// p2Keys8 holds every round key broadcast to all lanes, in the order of
// p2Keys.
var p2Keys8 = func() (k [p2NbKeys]asm.Fr8) {
	for i := range p2Keys {
		e := p2Keys[i].element()
		for j := range lanes {
			k[i].SetLane(j, &e)
		}
	}
	return k
}()

// permute8 applies the permutation to the eight states (s[0] lane j, s[1]
// lane j). The structure is that of permute.
func permute8(s *[2]asm.Fr8) {
	st := s[:]
	var t, x4 [2]asm.Fr8
	tt, x4s := t[:], x4[:]
	matExternal8(s, &t)
	k := 0
	full := func() {
		_ = asm.FrAdd(st, st, p2Keys8[k:k+2])
		k += 2
		sbox8(st, x4s)
		matExternal8(s, &t)
	}
	for range p2HalfFullRounds {
		full()
	}
	a, b := st[0:1], st[1:2]
	t0 := tt[0:1]
	for range p2PartialRounds {
		_ = asm.FrAdd(a, a, p2Keys8[k:k+1])
		k++
		sbox8(a, x4s[0:1])
		// (2x + b, x + 3b) = (x + t, 2b + t), t = x + b.
		_ = asm.FrAdd(t0, a, b)
		_ = asm.FrAdd(a, a, t0)
		_ = asm.FrAdd(b, b, b)
		_ = asm.FrAdd(b, b, t0)
	}
	for range p2HalfFullRounds {
		full()
	}
}

// sbox8 sets x to x^5; tmp has x's length.
func sbox8(x, tmp []asm.Fr8) {
	_ = asm.FrSquare(tmp, x)
	_ = asm.FrSquare(tmp, tmp)
	_ = asm.FrMul(x, x, tmp)
}

// matExternal8 sets s to (2a + b, a + 2b) = (a + t, b + t), t = a + b.
func matExternal8(s *[2]asm.Fr8, t *[2]asm.Fr8) {
	a, b, t0 := s[0:1], s[1:2], t[0:1]
	_ = asm.FrAdd(t0, a, b)
	_ = asm.FrAdd(a, a, t0)
	_ = asm.FrAdd(b, b, t0)
}

// permuteLanes applies the permutation to each of the n ≤ 8 states, in the
// lanes of permute8 when that is cheaper.
func permuteLanes(s [][2]fr.Element) {
	// Eight lanes cost about three scalar permutations.
	if !asm.Supported() || len(s) < 4 {
		for i := range s {
			permute(&s[i])
		}
		return
	}
	var v [2]asm.Fr8
	for j := range s {
		v[0].SetLane(j, &s[j][0])
		v[1].SetLane(j, &s[j][1])
	}
	permute8(&v)
	for j := range s {
		s[j][0], s[j][1] = v[0].Lane(j), v[1].Lane(j)
	}
}
