package circuit

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// Each case breaks exactly one rule and builds an otherwise consistent
// witness with the model (roots, pubdata and public input all computed
// natively from the dishonest operation). The circuit must reject it. The
// same builder without the break must be accepted, so a case cannot pass
// for an unrelated reason.
func TestCircuitRejectsBrokenRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	type kase struct {
		name string
		// build returns the operations and, optionally, a witness mutation.
		build func(e *env, cheat bool) ([]ledger.Op, func(w *ledger.BatchWitness, m *model))
	}
	transfer := func(e *env, amount, fee uint64) ledger.Op {
		a, b := e.users[0], e.users[1]
		tx := e.signed(ledger.TxTransfer, a, b.addr, amount, fee, e.nonce(a))
		return ledger.Op{Type: ledger.OpTransfer, Account: a.idx, To: b.idx, Amount: tx.Amount, Fee: tx.Fee, Nonce: tx.Nonce, PubKey: tx.PubKey, Signature: tx.Signature}
	}
	other, err := ledger.GenerateKey(randReader{rng})
	if err != nil {
		t.Fatal(err)
	}
	cases := []kase{
		{"forged signature", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			op := transfer(e, 100, 1)
			if cheat { // a signature by another key, presented with the account's key
				tx := e.signed(ledger.TxTransfer, e.users[0], e.users[1].addr, 100, 1, 0)
				forged := *tx
				if err := forged.SignL2(other, e.p.ChainID); err != nil {
					t.Fatal(err)
				}
				op.Signature = forged.Signature
			}
			return []ledger.Op{op}, nil
		}},
		{"wrong key", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			op := transfer(e, 100, 1)
			if cheat { // valid signature by a key the account did not register
				tx := e.signed(ledger.TxTransfer, e.users[0], e.users[1].addr, 100, 1, 0)
				if err := tx.SignL2(other, e.p.ChainID); err != nil {
					t.Fatal(err)
				}
				op.PubKey, op.Signature = tx.PubKey, tx.Signature
			}
			return []ledger.Op{op}, nil
		}},
		// Every field of the signed message is bound by the signature: a
		// signature of a transaction that differs in one field (the
		// account, nonce and key cases are above) does not verify.
		{"signature of another amount", signedOther(t, transfer, func(tx *ledger.Tx, _ *ledger.Params) { tx.Amount.SetUint64(101) })},
		{"signature of another fee", signedOther(t, transfer, func(tx *ledger.Tx, _ *ledger.Params) { tx.Fee.SetUint64(2) })},
		{"signature of another recipient", signedOther(t, transfer, func(tx *ledger.Tx, _ *ledger.Params) { tx.To[19] ^= 1 })},
		{"signature of a withdrawal", signedOther(t, transfer, func(tx *ledger.Tx, _ *ledger.Params) { tx.Type = ledger.TxWithdraw })},
		{"signature for another chain", signedOther(t, transfer, func(_ *ledger.Tx, p *ledger.Params) { p.ChainID++ })},
		{"stale nonce", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			e.state.SetNonce(e.users[0].idx, 5)
			op := transfer(e, 100, 1)
			if cheat { // replay of the transaction signed with nonce 4
				tx := e.signed(ledger.TxTransfer, e.users[0], e.users[1].addr, 100, 1, 4)
				op.Nonce, op.Signature = 4, tx.Signature
			}
			return []ledger.Op{op}, nil
		}},
		{"future nonce", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			op := transfer(e, 100, 1)
			if cheat {
				tx := e.signed(ledger.TxTransfer, e.users[0], e.users[1].addr, 100, 1, 1)
				op.Nonce, op.Signature = 1, tx.Signature
			}
			return []ledger.Op{op}, nil
		}},
		{"overdraft", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			if cheat {
				return []ledger.Op{transfer(e, 1_000_000, 1)}, nil // balance is 1,000,000
			}
			return []ledger.Op{transfer(e, 999_999, 1)}, nil
		}},
		{"overdraft by withdrawal", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			a := e.users[0]
			amount := uint64(999_999)
			if cheat {
				amount = 1_000_001
			}
			tx := e.signed(ledger.TxWithdraw, a, common.Address{9}, amount, 0, 0)
			return []ledger.Op{{Type: ledger.OpWithdraw, Account: a.idx, Address: tx.To, Amount: tx.Amount, Fee: tx.Fee, PubKey: tx.PubKey, Signature: tx.Signature}}, nil
		}},
		{"128-bit overflow", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			max := ledger.MaxAmount()
			var rich uint256.Int
			rich.SubUint64(&max, 100)
			e.state.SetBalance(e.users[1].idx, rich)
			if cheat {
				return []ledger.Op{transfer(e, 101, 0)}, nil
			}
			return []ledger.Op{transfer(e, 100, 0)}, nil
		}},
		{"nonce overflow", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			if cheat {
				e.state.SetNonce(e.users[0].idx, ^uint32(0))
			} else {
				e.state.SetNonce(e.users[0].idx, ^uint32(0)-1)
			}
			return []ledger.Op{transfer(e, 1, 0)}, nil
		}},
		{"wrong merkle sibling", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			return []ledger.Op{transfer(e, 10, 1)}, func(w *ledger.BatchWitness, m *model) {
				if cheat {
					w.Slots[0].Updates[1].Siblings[2].SetUint64(12345)
				}
			}
		}},
		{"wrong old root", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			return []ledger.Op{transfer(e, 10, 1)}, func(w *ledger.BatchWitness, m *model) {
				if cheat {
					w.OldRoot.SetUint64(42)
				}
			}
		}},
		{"tampered pubdata byte", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			return []ledger.Op{transfer(e, 10, 1)}, func(w *ledger.BatchWitness, m *model) {
				if cheat {
					w.Pubdata[7] ^= 1 // recipient index as published
				}
			}
		}},
		{"fee not credited", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			return []ledger.Op{transfer(e, 10, 5)}, func(w *ledger.BatchWitness, m *model) {
				if cheat { // the sequencer publishes the root without its fee credit
					var five fr.Element
					five.SetUint64(5)
					f := m.leaves[ledger.FeeAccount]
					f[3].Sub(&f[3], &five)
					m.leaves[ledger.FeeAccount] = f
					w.NewRoot = m.root()
				}
			}
		}},
		{"skipped priority operation", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			return []ledger.Op{e.deposit(e.users[0].addr, 50)}, func(w *ledger.BatchWitness, m *model) {
				if cheat { // the public input claims no priority operation was consumed
					piZero = true
				}
			}
		}},
		{"deposit to another owner's account", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			op := ledger.Op{Type: ledger.OpDeposit, Account: e.users[0].idx, Address: e.users[0].addr, Amount: *uint256.NewInt(50)}
			if cheat {
				op.Address = common.Address{0x66}
			}
			return []ledger.Op{op}, nil
		}},
		{"transfer-to-new onto an existing account", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			a := e.users[0]
			to, addr := uint32(5), common.Address{0x55}
			if cheat {
				to = e.users[1].idx
			}
			tx := e.signed(ledger.TxTransfer, a, addr, 10, 1, 0)
			return []ledger.Op{{Type: ledger.OpTransferToNew, Account: a.idx, To: to, Address: addr, Amount: tx.Amount, Fee: tx.Fee, PubKey: tx.PubKey, Signature: tx.Signature}}, nil
		}},
		{"transfer to an empty account without creating it", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			a := e.users[0]
			if !cheat {
				return []ledger.Op{transfer(e, 10, 1)}, nil
			}
			tx := e.signed(ledger.TxTransfer, a, common.Address{}, 10, 1, 0)
			return []ledger.Op{{Type: ledger.OpTransfer, Account: a.idx, To: 9, Amount: tx.Amount, Fee: tx.Fee, PubKey: tx.PubKey, Signature: tx.Signature}}, nil
		}},
		{"transfer from an empty account", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			if cheat {
				e.state.Accounts[e.users[0].idx].Address = common.Address{}
				delete(e.state.Index, e.users[0].addr)
			}
			return []ledger.Op{transfer(e, 0, 0)}, nil
		}},
		{"change pubkey of another owner", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			pre := e.state.Clone()
			op := e.changePubKey(e.users[0], other)
			e.state = pre // the model starts from the state before the operation
			if cheat {
				op.Address = e.users[1].addr
			}
			return []ledger.Op{op}, nil
		}},
		{"withdraw to the zero address", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			a := e.users[0]
			to := common.Address{3}
			if cheat {
				to = common.Address{}
			}
			tx := e.signed(ledger.TxWithdraw, a, to, 10, 0, 0)
			return []ledger.Op{{Type: ledger.OpWithdraw, Account: a.idx, Address: to, Amount: tx.Amount, PubKey: tx.PubKey, Signature: tx.Signature}}, nil
		}},
		{"deposit to the zero address", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			op := ledger.Op{Type: ledger.OpDeposit, Account: 7, Address: common.Address{0x42}, Amount: *uint256.NewInt(50)}
			if cheat {
				op.Address = common.Address{}
			}
			return []ledger.Op{op}, nil
		}},
		{"transfer amount differs from its packed form", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			// Debits and credits 11 while pubdata (and the public input)
			// publish the packed amount 10.
			op := transfer(e, 11, 1)
			return []ledger.Op{op}, func(w *ledger.BatchWitness, m *model) {
				pub := op
				pub.Amount.SetUint64(10)
				pd, err := ledger.Pubdata([]ledger.Op{pub}, testCfg.Slots)
				if err != nil {
					t.Fatal(err)
				}
				w.Pubdata = pd
				if cheat {
					patch = func(a *Batch) { a.Slots[0].AmountMantissa = 10 }
				} else {
					patch = func(a *Batch) { a.Slots[0].AmountMantissa = 10; a.Slots[0].Amount = 10 }
					honestFails = true
				}
			}
		}},
		{"non-canonical amount packing", func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
			// 100 packed as 10·10^1 instead of the canonical 100·10^0; the
			// published bytes are what the cheat's pubdata carries.
			op := transfer(e, 100, 1)
			return []ledger.Op{op}, func(w *ledger.BatchWitness, m *model) {
				if !cheat {
					return
				}
				w.Pubdata[9+3], w.Pubdata[9+4] = 0x01, 0x41 // 10<<5 | 1, big-endian
				patch = func(a *Batch) { a.Slots[0].AmountMantissa, a.Slots[0].AmountExponent = 10, 1 }
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, cheat := range []bool{false, true} {
				piZero, patch, honestFails = false, nil, false
				e := newEnv(t, testCfg, 2, rand.New(rand.NewPCG(21, 22)))
				ops, mutate := c.build(e, cheat)
				m := newModel(testCfg.Depth, e.state)
				w := m.batch(1, ops, testCfg.Slots)
				if mutate != nil {
					mutate(w, m)
				}
				a, err := Assign(testCfg, w)
				if err != nil {
					if cheat {
						continue // rejected before the circuit: fine
					}
					t.Fatalf("honest variant: %v", err)
				}
				if patch != nil {
					patch(a)
				}
				if piZero {
					a.PublicInput = ledger.PublicInput(w.Number, w.OldRoot, w.NewRoot, 0, w.Pubdata)
				}
				err = solveAssignment(t, testCfg, a)
				if cheat && err == nil {
					t.Fatal("circuit accepted a witness breaking the rule")
				}
				if !cheat && honestFails {
					if err == nil {
						t.Fatal("control variant accepted")
					}
					continue
				}
				if !cheat && err != nil {
					t.Fatalf("circuit rejected the honest variant: %v", err)
				}
			}
		})
	}
}

// Per-case knobs set by a case's mutation.
var (
	piZero      bool         // public input computed with zero priority operations
	patch       func(*Batch) // applied to the assignment
	honestFails bool         // the control variant is itself expected to fail
)

// signedOther returns a case whose honest operation is a Transfer of 100
// with fee 1 and whose cheat carries the signature of that transaction
// changed by change (a field, or the parameters it is signed under).
func signedOther(t *testing.T, transfer func(*env, uint64, uint64) ledger.Op, change func(*ledger.Tx, *ledger.Params)) func(*env, bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
	return func(e *env, cheat bool) ([]ledger.Op, func(*ledger.BatchWitness, *model)) {
		op := transfer(e, 100, 1)
		if cheat {
			a := e.users[0]
			tx := e.signed(ledger.TxTransfer, a, e.users[1].addr, 100, 1, op.Nonce)
			p := e.p
			change(tx, &p)
			if err := tx.SignL2(a.l2, p.ChainID); err != nil {
				t.Fatal(err)
			}
			op.Signature = tx.Signature
		}
		return []ledger.Op{op}, nil
	}
}
