package circuit

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/permutation/poseidon2"
	"github.com/consensys/gnark/test"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
)

// diffCfg is the differential tests' circuit: small enough to solve 100
// batches in well under a minute.
var diffCfg = Config{Slots: 4, Depth: 4, ChainID: 5}

// randomBatch executes a random mix of valid and invalid transactions
// (transfers to existing, new and own addresses, withdrawals, deposits,
// bad nonces, overdrafts, forged signatures) and returns the operations
// that succeeded, which fit in slots chunks.
func randomBatch(c *testchain.Chain, slots int) []ledger.Op {
	rng := c.Rand()
	var ops []ledger.Op
	used := 0
	for tries := 0; tries < 12 && used < slots; tries++ {
		u := c.Users[rng.IntN(len(c.Users))]
		nonce := c.Nonce(u)
		amount := uint64(rng.IntN(3000))
		fee := uint64(rng.IntN(20))
		k := rng.IntN(10)
		if slots-used < 3 && k >= 4 && k != 6 && k != 7 {
			k = rng.IntN(4) // only 1-chunk (or failing) transactions fit
		}
		switch {
		case k < 4: // transfer to an existing user, or to self
			to := c.Users[rng.IntN(len(c.Users))]
			if k == 0 {
				nonce += uint32(rng.IntN(2)) * 3 // sometimes a gap: rejected
			}
			ops = appendIfFits(ops, &used, slots, c.Execute(c.Transfer(u, to.Addr, amount, fee, nonce)))
		case k < 6: // transfer to a fresh address: creates an account if the tree has room
			var to common.Address
			to[0], to[19] = 0xaa, byte(rng.Uint32())
			ops = appendIfFits(ops, &used, slots, c.Execute(c.Transfer(u, to, amount, fee, nonce)))
		case k < 7: // overdraft
			ops = appendIfFits(ops, &used, slots, c.Execute(c.Transfer(u, c.Users[0].Addr, 10_000_000, fee, nonce)))
		case k < 8: // forged: signed by another user's key
			tx := c.Transfer(u, c.Users[0].Addr, amount, fee, nonce)
			other := c.Users[(rng.IntN(len(c.Users)-1)+1+indexOf(c, u))%len(c.Users)]
			if err := tx.SignL2(other.L2, c.Params.ChainID); err != nil {
				c.T.Fatal(err)
			}
			ops = appendIfFits(ops, &used, slots, c.Execute(tx))
		case k < 9:
			ops = appendIfFits(ops, &used, slots, c.Execute(c.Withdraw(u, common.Address{0x77, byte(k)}, amount, fee, nonce)))
		default:
			ops = appendIfFits(ops, &used, slots, c.Deposit(ledger.Deposit{Address: u.Addr, Amount: *uint256.NewInt(amount)}))
		}
	}
	return ops
}

func indexOf(c *testchain.Chain, u *testchain.User) int {
	for i, v := range c.Users {
		if v == u {
			return i
		}
	}
	return 0
}

// appendIfFits appends executed ops and counts their chunks. Executed ops
// are already in the flat state, so randomBatch only tries a transaction
// when its largest possible operation fits; an overflow is a test bug.
func appendIfFits(ops []ledger.Op, used *int, slots int, more []ledger.Op) []ledger.Op {
	for _, op := range more {
		*used += op.Type.Chunks()
		if *used > slots {
			panic(fmt.Sprintf("batch overflow: %d chunks in %d slots", *used, slots))
		}
		ops = append(ops, op)
	}
	return ops
}

// TestDifferentialRandomBatches executes random batches with the ledger
// rules on a real store, builds their witnesses with the state package,
// and checks that (1) the circuit's native model reproduces the witness's
// roots from the pre-state, and (2) the circuit accepts the witness with
// the natively computed public input.
func TestDifferentialRandomBatches(t *testing.T) {
	const batches = 100
	c := testchain.New(t, diffCfg.Params(), 4, 1_000_000, 77)
	kinds := map[ledger.OpType]int{}
	for i := 0; i < batches; i++ {
		pre := snapshot(t, c)
		ops := randomBatch(c, diffCfg.Slots)
		w := c.Commit(ops, diffCfg.Slots)
		for _, op := range ops {
			kinds[op.Type]++
		}
		m := newModel(diffCfg.Depth, pre)
		mw := m.batch(w.Number, ops, diffCfg.Slots)
		if mw.OldRoot != w.OldRoot || mw.NewRoot != w.NewRoot {
			t.Fatalf("batch %d: model roots %s→%s, state %s→%s", i, mw.OldRoot.String(), mw.NewRoot.String(), w.OldRoot.String(), w.NewRoot.String())
		}
		if err := solve(t, diffCfg, w); err != nil {
			t.Fatalf("batch %d (%d ops): circuit rejected an executed batch: %v", i, len(ops), err)
		}
	}
	for _, k := range []ledger.OpType{ledger.OpTransfer, ledger.OpTransferToNew, ledger.OpWithdraw, ledger.OpDeposit} {
		if kinds[k] == 0 {
			t.Errorf("no %v in %d random batches", k, batches)
		}
	}
	t.Logf("operations proven: %v", kinds)
}

// snapshot copies the tree's accounts into a MemState.
func snapshot(t *testing.T, c *testchain.Chain) *ledger.MemState {
	s := ledger.NewMemState()
	tr := c.Store.Tree()
	next, err := tr.NextIndex()
	if err != nil {
		t.Fatal(err)
	}
	for i := uint32(0); i < next; i++ {
		a, err := tr.Account(i)
		if err != nil {
			t.Fatal(err)
		}
		if a.IsEmpty() {
			continue
		}
		s.Create(i, a.Address)
		s.SetPubKeyHash(i, a.PubKeyHash)
		s.SetNonce(i, a.Nonce)
		s.SetBalance(i, a.Balance)
	}
	return s
}

type hashCircuit struct {
	In  [5]frontend.Variable
	Out frontend.Variable
}

func (c *hashCircuit) Define(api frontend.API) error {
	perm, err := poseidon2.NewPoseidon2(api)
	if err != nil {
		return err
	}
	g := &gadgets{api: api, perm: perm}
	api.AssertIsEqual(g.hash(c.In[:]...), c.Out)
	return nil
}

// TestPoseidon2MatchesLedger: the in-circuit hash equals ledger.Hash.
func TestPoseidon2MatchesLedger(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for i := 0; i < 5; i++ {
		var in [5]fr.Element
		var a hashCircuit
		for j := range in {
			in[j].SetUint64(rng.Uint64())
			if j%2 == 1 {
				in[j].SetRandom()
			}
			a.In[j] = in[j]
		}
		a.Out = ledger.Hash(in[:]...)
		if err := test.IsSolved(&hashCircuit{}, &a, fr.Modulus()); err != nil {
			t.Fatal(err)
		}
		a.Out = ledger.Hash(in[:4]...)
		if err := test.IsSolved(&hashCircuit{}, &a, fr.Modulus()); err == nil {
			t.Fatal("wrong hash accepted")
		}
	}
}
