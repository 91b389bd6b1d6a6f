package asm

import (
	"fmt"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

// Poseidon2x8 applies the Poseidon2 permutation of gnark-crypto's default
// BN254 parameters (width 2, 6 full and 50 partial rounds, S-box x^5,
// external matrix [[2,1],[1,2]], internal [[2,1],[1,3]]) to eight states
// at once, state j being (s[j][0], s[j][1]), on the Fr8 kernels: one
// vector operation per step for all eight. It is about three times cheaper
// per permutation than a scalar one when all eight lanes are used
// (BenchmarkPoseidon2x8). It works on every CPU, through the references
// without IFMA, but is only worth calling when Supported().
func Poseidon2x8(s *[Lanes][2]fr.Element) {
	var v [2]Fr8
	for j := range s {
		v[0].SetLane(j, &s[j][0])
		v[1].SetLane(j, &s[j][1])
	}
	p2 := p2Params()
	st := v[:]
	var t, x4 [2]Fr8
	tt, x4s := t[:], x4[:]
	p2External(&v, &t)
	k := 0
	full := func() {
		_ = FrAdd(st, st, p2.keys[k:k+2])
		k += 2
		p2Sbox(st, x4s)
		p2External(&v, &t)
	}
	for range p2.halfFull {
		full()
	}
	a, b, t0 := st[0:1], st[1:2], tt[0:1]
	for range p2.partial {
		_ = FrAdd(a, a, p2.keys[k:k+1])
		k++
		p2Sbox(a, x4s[0:1])
		// (2x + b, x + 3b) = (x + t, 2b + t), t = x + b.
		_ = FrAdd(t0, a, b)
		_ = FrAdd(a, a, t0)
		_ = FrAdd(b, b, b)
		_ = FrAdd(b, b, t0)
	}
	for range p2.halfFull {
		full()
	}
	for j := range s {
		s[j][0], s[j][1] = v[0].Lane(j), v[1].Lane(j)
	}
}

// p2Sbox sets x to x^5; tmp has x's length.
func p2Sbox(x, tmp []Fr8) {
	_ = FrSquare(tmp, x)
	_ = FrSquare(tmp, tmp)
	_ = FrMul(x, x, tmp)
}

// p2External sets s to (2a + b, a + 2b) = (a + t, b + t), t = a + b.
func p2External(s, t *[2]Fr8) {
	a, b, t0 := s[0:1], s[1:2], t[0:1]
	_ = FrAdd(t0, a, b)
	_ = FrAdd(a, a, t0)
	_ = FrAdd(b, b, t0)
}

// p2Params are gnark-crypto's default parameters with every round key
// broadcast to all lanes, in the order the rounds use them.
var p2Params = sync.OnceValue(func() *poseidon2Params {
	p := poseidon2.GetDefaultParameters()
	if p.Width != 2 || p.NbFullRounds%2 != 0 || len(p.RoundKeys) != p.NbFullRounds+p.NbPartialRounds {
		panic(fmt.Sprintf("asm: unexpected Poseidon2 default parameters %s", p))
	}
	out := &poseidon2Params{halfFull: p.NbFullRounds / 2, partial: p.NbPartialRounds}
	for _, rk := range p.RoundKeys {
		for i := range rk {
			var k Fr8
			for j := range Lanes {
				k.SetLane(j, &rk[i])
			}
			out.keys = append(out.keys, k)
		}
	}
	return out
})

type poseidon2Params struct {
	halfFull, partial int
	keys              []Fr8
}
