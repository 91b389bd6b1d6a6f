package ledger

import (
	"fmt"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

// A Poseidon2 permutation of width 2 over BN254 Fr, specialised for
// gnark-crypto's default parameters (6 full rounds, 50 partial rounds,
// S-box x^5) and bit-identical to its poseidon2.Permutation. Compress is the
// hottest function of transaction admission. The generic implementation
// spends about 40% of its time outside the field multiplications: slices,
// a switch on the width per matrix, and fr.Element.Add, which is too large to
// inline and branches on a coin flip (x+y ≥ q) in every call. Here the linear
// layers work on words held in registers and reduce without branches.
//
// Structure (Poseidon2 paper, https://eprint.iacr.org/2023/323, §5–6):
//
//	x ← M_E·x
//	3 full rounds:     x ← M_E·S(x + c_r)   (S on both words)
//	50 partial rounds: x ← M_I·S₀(x + c_r)  (key and S-box on word 0 only)
//	3 full rounds:     x ← M_E·S(x + c_r)
//
// with S(x) = x^5, M_E = [[2,1],[1,2]] and M_I = [[2,1],[1,3]].

const (
	p2HalfFullRounds = 3
	p2PartialRounds  = 50
	// p2NbKeys counts two keys per full round and one per partial round.
	p2NbKeys = 2*2*p2HalfFullRounds + p2PartialRounds
)

// p2Keys holds the round keys in the order they are used: the first full
// rounds' pairs, then the partial rounds' keys, then the last full rounds'
// pairs. They are taken from gnark-crypto rather than derived here so that
// the two can never disagree about the seed or the derivation.
var p2Keys = loadPoseidon2Keys()

func loadPoseidon2Keys() (k [p2NbKeys]limbs) {
	p := poseidon2.GetDefaultParameters()
	// A gnark-crypto upgrade that changed the defaults would change the
	// protocol hash; refuse to start rather than silently diverge.
	if p.Width != 2 || p.NbFullRounds != 2*p2HalfFullRounds || p.NbPartialRounds != p2PartialRounds ||
		len(p.RoundKeys) != 2*p2HalfFullRounds+p2PartialRounds {
		panic(fmt.Sprintf("ledger: unexpected Poseidon2 default parameters %s", p))
	}
	n := 0
	for r, rk := range p.RoundKeys {
		want := 2
		if r >= p2HalfFullRounds && r < p2HalfFullRounds+p2PartialRounds {
			want = 1
		}
		if len(rk) != want {
			panic(fmt.Sprintf("ledger: Poseidon2 round %d has %d keys, want %d", r, len(rk), want))
		}
		for i := range rk {
			k[n] = toLimbs(&rk[i])
			n++
		}
	}
	return k
}

// permute applies the Poseidon2 permutation to s in place.
func permute(s *[2]fr.Element) {
	a, b := toLimbs(&s[0]), toLimbs(&s[1])
	a, b = matExternal(a, b)
	k := 0
	for range p2HalfFullRounds {
		a, b = fullRound(a, b, &p2Keys[k], &p2Keys[k+1])
		k += 2
	}
	for range p2PartialRounds {
		x := sbox(reduceOnce(addLimbs(a, p2Keys[k])))
		k++
		// Internal matrix: (2x + b, x + 3b) = (x + t, 2b + t), t = x + b.
		t := reduceOnce(addLimbs(x, b))
		a = reduceOnce(addLimbs(x, t))
		b = reduceOnce(addLimbs(reduceOnce(addLimbs(b, b)), t))
	}
	for range p2HalfFullRounds {
		a, b = fullRound(a, b, &p2Keys[k], &p2Keys[k+1])
		k += 2
	}
	s[0], s[1] = a.element(), b.element()
}

// fullRound is one round with keys and S-boxes on both words.
func fullRound(a, b limbs, ka, kb *limbs) (limbs, limbs) {
	return matExternal(sbox(reduceOnce(addLimbs(a, *ka))), sbox(reduceOnce(addLimbs(b, *kb))))
}

// matExternal returns (2a + b, a + 2b) = (a + t, b + t), t = a + b.
func matExternal(a, b limbs) (limbs, limbs) {
	t := reduceOnce(addLimbs(a, b))
	return reduceOnce(addLimbs(a, t)), reduceOnce(addLimbs(b, t))
}

// sbox returns x^5 with two squarings and one multiplication.
func sbox(x limbs) limbs {
	e := x.element()
	var x4 fr.Element
	x4.Square(&e)
	x4.Square(&x4)
	e.Mul(&e, &x4)
	return toLimbs(&e)
}

// limbs is an fr.Element (Montgomery form, little-endian words) as a struct:
// the compiler keeps a struct of four words in registers, an array in memory.
type limbs struct{ w0, w1, w2, w3 uint64 }

func toLimbs(e *fr.Element) limbs { return limbs{e[0], e[1], e[2], e[3]} }

func (x limbs) element() fr.Element { return fr.Element{x.w0, x.w1, x.w2, x.w3} }

// The modulus q of fr, in words; TestModulusLimbs checks them against fr.
const (
	q0 = 0x43e1f593f0000001
	q1 = 0x2833e84879b97091
	q2 = 0xb85045b68181585d
	q3 = 0x30644e72e131a029
)

// addLimbs returns x + y as integers; there is no carry out for x, y < q <
// 2^254. Together with reduceOnce it is the modular addition; the two are
// separate functions because each fits the inliner's budget and their
// composition does not.
func addLimbs(x, y limbs) limbs {
	var z limbs
	var c uint64
	z.w0, c = bits.Add64(x.w0, y.w0, 0)
	z.w1, c = bits.Add64(x.w1, y.w1, c)
	z.w2, c = bits.Add64(x.w2, y.w2, c)
	z.w3, _ = bits.Add64(x.w3, y.w3, c)
	return z
}

// reduceOnce returns x mod q for x < 2q. The selection compiles to
// conditional moves: x ≥ q is a coin flip on random data, and a branch on it
// would be mispredicted half the time.
func reduceOnce(x limbs) limbs {
	var s limbs
	var b uint64
	s.w0, b = bits.Sub64(x.w0, q0, 0)
	s.w1, b = bits.Sub64(x.w1, q1, b)
	s.w2, b = bits.Sub64(x.w2, q2, b)
	s.w3, b = bits.Sub64(x.w3, q3, b)
	if b != 0 {
		s = x
	}
	return s
}
