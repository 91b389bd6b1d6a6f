package ledger

import (
	"sync/atomic"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Admission hashes seven times per transaction (the signed message and
// the EdDSA challenge); CheckBatch hashes several transactions in the
// lanes of an eight-lane permutation when one is registered. Vector
// kernels live in package asm, which ledger may not import (DESIGN.md
// §10), so the node registers asm.Poseidon2x8 at start.

// lanes is the width of a lane permutation.
const lanes = 8

var lanePermutation atomic.Pointer[func(*[lanes][2]fr.Element)]

// SetLanePermutation registers f, which must apply the protocol's Poseidon2
// permutation (that of Compress) to eight states at once — on IFMA
// hardware, asm.Poseidon2x8. nil unregisters it. A wrong f breaks every
// signature check, so register only a permutation tested equal to
// gnark-crypto's.
func SetLanePermutation(f func(*[lanes][2]fr.Element)) {
	if f == nil {
		lanePermutation.Store(nil)
		return
	}
	lanePermutation.Store(&f)
}

// permuteLanes applies the permutation to the first n states of st, in the
// registered lane permutation when that is cheaper: eight lanes cost about
// three scalar permutations. The other lanes' states are clobbered.
func permuteLanes(st *[lanes][2]fr.Element, n int) {
	f := lanePermutation.Load()
	if f == nil || n < 4 {
		for i := range n {
			permute(&st[i])
		}
		return
	}
	(*f)(st)
}
