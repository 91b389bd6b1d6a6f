package circuit

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// model is a native mirror of what the circuit computes: it derives every
// account's next value from the operation with plain field arithmetic and
// enforces no rule at all. Honest batches built with it must match the
// ledger; dishonest batches built with it are internally consistent (roots,
// pubdata, public input) except for the one rule they break, so a negative
// test fails only if the circuit checks that rule.
type model struct {
	depth  int
	leaves map[uint32][4]fr.Element // address, pubKeyHash, nonce, balance
}

func newModel(depth int, s *ledger.MemState) *model {
	m := &model{depth: depth, leaves: map[uint32][4]fr.Element{}}
	for idx, a := range s.Accounts {
		m.leaves[idx] = fieldAccount(a)
	}
	return m
}

func fieldAccount(a *ledger.Account) [4]fr.Element {
	return [4]fr.Element{ledger.AddressElement(a.Address), a.PubKeyHash, ledger.U32Element(a.Nonce), ledger.AmountElement(&a.Balance)}
}

func leafHash(f [4]fr.Element) fr.Element {
	if f[0].IsZero() {
		return fr.Element{}
	}
	return ledger.Hash(f[0], f[1], f[2], f[3])
}

// levels returns all node hashes, level 0 = leaves.
func (m *model) levels() [][]fr.Element {
	n := 1 << m.depth
	lv := make([][]fr.Element, m.depth+1)
	lv[0] = make([]fr.Element, n)
	for idx, f := range m.leaves {
		lv[0][idx] = leafHash(f)
	}
	for l := 1; l <= m.depth; l++ {
		lv[l] = make([]fr.Element, len(lv[l-1])/2)
		for i := range lv[l] {
			lv[l][i] = ledger.Compress(&lv[l-1][2*i], &lv[l-1][2*i+1])
		}
	}
	return lv
}

func (m *model) root() fr.Element { return m.levels()[m.depth][0] }

func (m *model) siblings(idx uint32) []fr.Element {
	lv := m.levels()
	s := make([]fr.Element, m.depth)
	for l := 0; l < m.depth; l++ {
		s[l] = lv[l][(idx>>l)^1]
	}
	return s
}

// account converts a leaf back to a ledger.Account; the leaf must hold
// in-range values (only After values of a dishonest update can be out of
// range, and tests never update such a leaf again).
func (m *model) account(idx uint32) ledger.Account {
	f := m.leaves[idx]
	var a ledger.Account
	ab := f[0].Bytes()
	copy(a.Address[:], ab[12:])
	a.PubKeyHash = f[1]
	a.Nonce = uint32(f[2].Uint64())
	bb := f[3].Bytes()
	a.Balance.SetBytes(bb[:])
	return a
}

func (m *model) update(idx uint32, after [4]fr.Element) ledger.LeafUpdate {
	u := ledger.LeafUpdate{Index: idx, Before: m.account(idx), Siblings: m.siblings(idx)}
	m.leaves[idx] = after
	u.After = m.account(idx)
	return u
}

func (m *model) noop() ledger.LeafUpdate {
	return m.update(ledger.FeeAccount, m.leaves[ledger.FeeAccount])
}

func fe(v *uint256.Int) fr.Element { return ledger.AmountElement(v) }

// apply mirrors the circuit's transition for one operation and returns
// its first-slot updates and the fee it collects.
func (m *model) apply(op *ledger.Op) ([2]ledger.LeafUpdate, fr.Element) {
	var ups [2]ledger.LeafUpdate
	var fee, one fr.Element
	one.SetOne()
	amount := fe(&op.Amount)
	switch op.Type {
	case ledger.OpNoop:
		ups[0], ups[1] = m.noop(), m.noop()
	case ledger.OpDeposit:
		a := m.leaves[op.Account]
		if a[0].IsZero() {
			a = [4]fr.Element{ledger.AddressElement(op.Address), {}, {}, amount}
		} else {
			a[3].Add(&a[3], &amount)
		}
		ups[0], ups[1] = m.update(op.Account, a), m.noop()
	case ledger.OpChangePubKey:
		a := m.leaves[op.Account]
		a[1] = op.NewPubKeyHash
		a[2].Add(&a[2], &one)
		ups[0], ups[1] = m.update(op.Account, a), m.noop()
	case ledger.OpTransfer, ledger.OpTransferToNew, ledger.OpWithdraw:
		fee = fe(&op.Fee)
		a := m.leaves[op.Account]
		a[2].Add(&a[2], &one)
		a[3].Sub(&a[3], &amount)
		a[3].Sub(&a[3], &fee)
		ups[0] = m.update(op.Account, a)
		if op.Type == ledger.OpWithdraw {
			ups[1] = m.noop()
			break
		}
		b := m.leaves[op.To]
		if op.Type == ledger.OpTransferToNew {
			b = [4]fr.Element{ledger.AddressElement(op.Address), {}, {}, amount}
		} else {
			b[3].Add(&b[3], &amount)
		}
		ups[1] = m.update(op.To, b)
	default:
		panic(fmt.Sprintf("model: op type %v", op.Type))
	}
	return ups, fee
}

// batch builds the witness of ops as the circuit sees it.
func (m *model) batch(number uint64, ops []ledger.Op, slots int) *ledger.BatchWitness {
	w := &ledger.BatchWitness{Number: number, Depth: m.depth, OldRoot: m.root()}
	var total fr.Element
	for i := range ops {
		ups, fee := m.apply(&ops[i])
		total.Add(&total, &fee)
		w.Slots = append(w.Slots, ledger.SlotWitness{Op: ops[i], Updates: ups})
		for c := 1; c < ops[i].Type.Chunks(); c++ {
			w.Slots = append(w.Slots, ledger.SlotWitness{Op: ops[i], Chunk: c, Updates: [2]ledger.LeafUpdate{m.noop(), m.noop()}})
		}
	}
	for len(w.Slots) < slots {
		w.Slots = append(w.Slots, ledger.SlotWitness{Op: ledger.Op{Type: ledger.OpNoop}, Updates: [2]ledger.LeafUpdate{m.noop(), m.noop()}})
	}
	tb := total.Bytes()
	w.FeeTotal.SetBytes(tb[:])
	feeAcc := m.leaves[ledger.FeeAccount]
	feeAcc[3].Add(&feeAcc[3], &total)
	w.Fee = m.update(ledger.FeeAccount, feeAcc)
	w.NewRoot = m.root()
	pd, err := ledger.Pubdata(ops, slots)
	if err != nil {
		panic(err)
	}
	w.Pubdata = pd
	return w
}
