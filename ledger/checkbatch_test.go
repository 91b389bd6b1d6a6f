package ledger

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// scalarLanes is a lane permutation made of the scalar one, so that the
// lane paths run in ledger's tests (the vector one, asm.Poseidon2x8, is
// tested against gnark-crypto in package asm).
func scalarLanes(s *[lanes][2]fr.Element) {
	for i := range s {
		permute(&s[i])
	}
}

// TestHashLanes: hashing in lanes equals Hash, for every count of
// elements in the last group of eight.
func TestHashLanes(t *testing.T) {
	SetLanePermutation(scalarLanes)
	defer SetLanePermutation(nil)
	for n := 0; n <= 2*lanes+3; n++ {
		in := make([][5]fr.Element, n)
		for i := range in {
			for j := range in[i] {
				in[i][j].SetRandom()
			}
		}
		got := hashLanes(in)
		for i := range in {
			if want := Hash(in[i][:]...); got[i] != want {
				t.Fatalf("n=%d: lane %d differs", n, i)
			}
		}
	}
}

// TestCheckBatchMatchesCheck: CheckBatch gives every transaction Check's
// result (rule, key hash, signer) on a random mix of valid transactions
// and transactions breaking each stateless rule, in batches of every size.
func TestCheckBatchMatchesCheck(t *testing.T) {
	SetLanePermutation(scalarLanes)
	defer SetLanePermutation(nil)
	rng := rand.New(rand.NewPCG(11, 12))
	p := Params{ChainID: 77, Depth: 8}
	keys := make([]*PrivateKey, 5)
	for i := range keys {
		k, err := GenerateKey(seededReader{rng})
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	mk := func(i int) *Tx {
		k := keys[rng.IntN(len(keys))]
		tx := &Tx{Type: TxTransfer, Account: uint32(rng.IntN(200)), Nonce: uint32(rng.IntN(50)),
			To: common.Address{byte(i), 1}, PubKey: k.Public()}
		tx.Amount.SetUint64(uint64(rng.IntN(1000)+1) * 1000)
		tx.Fee.SetUint64(uint64(rng.IntN(10)))
		if rng.IntN(4) == 0 {
			tx.Type = TxWithdraw
			tx.Amount.SetUint64(rng.Uint64())
		}
		sig, err := k.Sign(tx.Hash(p.ChainID))
		if err != nil {
			t.Fatal(err)
		}
		tx.Signature = sig
		switch rng.IntN(10) {
		case 0: // tampered signature byte
			tx.Signature[rng.IntN(len(tx.Signature))] ^= 1 << rng.IntN(8)
		case 1: // signed by another key
			tx.PubKey = keys[(rng.IntN(len(keys)-1)+1)%len(keys)].Public()
		case 2: // signed message changed
			tx.Nonce++
		case 3: // zero recipient
			tx.To = common.Address{}
		case 4: // amount out of range
			tx.Fee = *new(uint256.Int).Lsh(uint256.NewInt(1), 130)
		case 5: // malformed key
			tx.PubKey[3] ^= 0x40
		case 6: // a ChangePubKey, checked one by one
			tx.Type = TxChangePubKey
		}
		return tx
	}
	for size := 1; size <= 3*lanes+1; size++ {
		txs := make([]*Tx, size)
		for i := range txs {
			txs[i] = mk(i)
		}
		got := CheckBatch(txs, p)
		for i, tx := range txs {
			want := Check(tx, p)
			g := got[i]
			if g.Tx != tx || g.KeyHash != want.KeyHash || g.Signer != want.Signer ||
				(g.Err == nil) != (want.Err == nil) || (want.Err != nil && g.Err.Error() != want.Err.Error()) {
				t.Fatalf("size %d tx %d: got %+v, want %+v", size, i, g, want)
			}
			if want.Err != nil && errors.Is(want.Err, ErrBadSignature) != errors.Is(g.Err, ErrBadSignature) {
				t.Fatalf("size %d tx %d: error kinds differ: %v vs %v", size, i, g.Err, want.Err)
			}
		}
	}
}
