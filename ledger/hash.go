package ledger

import "github.com/consensys/gnark-crypto/ecc/bn254/fr"

// The hash of the protocol is Poseidon2 over the BN254 scalar field with
// gnark-crypto's default parameters (width 2, 6 full rounds, 50 partial
// rounds). Two constructions are used:
//
//   - Compress(l, r) = P(l, r)[1] + r, the 2→1 compression of tree nodes,
//     where P is the permutation of poseidon2.go;
//   - Hash(x1..xn): Merkle–Damgård over Compress with a zero IV, i.e.
//     s0 = 0, s_i = Compress(s_{i-1}, x_i). This is exactly gnark-crypto's
//     poseidon2.NewMerkleDamgardHasher fed with canonical 32-byte elements,
//     and gnark's std/hash/poseidon2 gadget in the circuit.

// Compress is the Poseidon2 2→1 compression used for Merkle tree nodes.
func Compress(left, right *fr.Element) fr.Element {
	s := [2]fr.Element{*left, *right}
	permute(&s)
	var res fr.Element
	res.Add(&s[1], right)
	return res
}

// Hash is the Poseidon2 Merkle–Damgård hash of a sequence of field elements.
func Hash(xs ...fr.Element) fr.Element {
	var s fr.Element
	for i := range xs {
		s = Compress(&s, &xs[i])
	}
	return s
}
