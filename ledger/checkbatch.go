package ledger

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
)

// CheckBatch is Check for each transaction, with the same results. It
// computes the Poseidon2 hashes of the EdDSA checks — the signed message
// (2 compressions) and the challenge (5) of every Transfer and Withdraw —
// eight transactions at a time when a lane permutation is registered
// (SetLanePermutation; the node registers asm.Poseidon2x8, about three
// times cheaper per hash than one at a time on AVX-512 IFMA).
func CheckBatch(txs []*Tx, p Params) []*Checked {
	out := make([]*Checked, len(txs))
	type sigCheck struct {
		c   *Checked
		k   *decodedKey
		r   twistededwards.PointAffine
		s   [32]byte
		msg fr.Element
	}
	sigs := make([]sigCheck, 0, len(txs))
	for i, tx := range txs {
		c := &Checked{Tx: tx}
		out[i] = c
		if tx.Type != TxTransfer && tx.Type != TxWithdraw {
			c.Err = check(c, p)
			continue
		}
		k, err := checkFields(c)
		if err != nil {
			c.Err = err
			continue
		}
		sigs = append(sigs, sigCheck{c: c, k: k})
	}
	if len(sigs) == 0 {
		return out
	}
	msgIn := make([][2]fr.Element, len(sigs))
	for i := range sigs {
		msgIn[i] = sigs[i].c.Tx.hashInput(p.ChainID)
	}
	msgs := hashLanes(msgIn)
	// The challenges of the signatures that decode.
	ok := make([]int, 0, len(sigs))
	chIn := make([][5]fr.Element, 0, len(sigs))
	for i := range sigs {
		sc := &sigs[i]
		sc.msg = msgs[i]
		var decoded bool
		if sc.r, sc.s, decoded = decodeSig(&sc.c.Tx.Signature); !decoded {
			sc.c.Err = ErrBadSignature
			continue
		}
		ok = append(ok, i)
		chIn = append(chIn, [5]fr.Element{sc.r.X, sc.r.Y, sc.k.pk.A.X, sc.k.pk.A.Y, sc.msg})
	}
	for j, h := range hashLanes(chIn) {
		sc := &sigs[ok[j]]
		if !sc.k.verifyChallenge(&sc.r, &sc.s, &h) {
			sc.c.Err = ErrBadSignature
		}
	}
	return out
}

// hashLanes returns Hash(in[i][:]...) for each i, computing up to eight
// of them together.
func hashLanes[T [2]fr.Element | [5]fr.Element](in []T) []fr.Element {
	out := make([]fr.Element, len(in))
	// One state for all rounds: the lane permutation is called through a
	// pointer, so st escapes to the heap.
	st := new([lanes][2]fr.Element)
	for lo := 0; lo < len(in); lo += lanes {
		n := min(lanes, len(in)-lo)
		acc := out[lo : lo+n]
		for col := range len(in[lo]) {
			for j := range n {
				x := in[lo+j]
				st[j] = [2]fr.Element{acc[j], x[col]}
			}
			permuteLanes(st, n)
			for j := range n {
				x := in[lo+j]
				acc[j].Add(&st[j][1], &x[col])
			}
		}
	}
	return out
}
