package state

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// The witness types are defined by the ledger (the vocabulary shared with
// prover/circuit, which must not import state); BuildWitness produces them.
// Updates of the first slot by operation type: Deposit → [account, noop];
// Transfer and TransferToNew → [sender, recipient], the recipient update
// taken on the root after the sender update (for a self-transfer the
// recipient's Before is the debited sender); Withdraw → [sender, noop];
// ChangePubKey → [account, noop]; Noop → [noop, noop]. A noop update has
// Index ledger.FeeAccount and Before == After == the current leaf, with its
// current siblings.
type (
	LeafUpdate   = ledger.LeafUpdate
	SlotWitness  = ledger.SlotWitness
	BatchWitness = ledger.BatchWitness
)

// BuildWitness replays a batch's executed operations, in order, on the
// committed tree and returns the witness of the batch together with the
// tree update that moves the tree to the batch end (after the fee credit,
// with batch number number). Nothing changes until the update is written
// with Batch.PutTree and committed, typically in the batch that records
// the batch; the update is refused as stale if the tree moves in between.
// The witness must be treated as read-only.
//
// It fails, changing nothing, with ErrDepth if params.Depth is not the
// tree depth, ErrBatchNumber if number is not Number()+1,
// ErrTooManyChunks if the operations need more than slots slots, ErrBadOp
// for an unknown type or a fee on an operation without one,
// ErrNoFeeAccount if fees are collected but the fee account is empty,
// the rule error of the first operation that does not replay (wrapped,
// e.g. ledger.ErrNonce, ledger.ErrInsufficientBalance, ledger.ErrReplay),
// an encoding error of ledger.Pubdata, or an I/O error.
func (t *Tree) BuildWitness(number uint64, ops []ledger.Op, slots int, params ledger.Params) (*BatchWitness, *TreeUpdate, error) {
	if params.Depth != t.depth {
		return nil, nil, fmt.Errorf("%w: params depth %d, tree depth %d", ErrDepth, params.Depth, t.depth)
	}
	chunks := 0
	for i := range ops {
		op := &ops[i]
		k := op.Type.Chunks()
		if k == 0 {
			return nil, nil, fmt.Errorf("%w: op %d: %w: 0x%02x", ErrBadOp, i, ledger.ErrUnknownType, uint8(op.Type))
		}
		switch op.Type {
		case ledger.OpNoop, ledger.OpDeposit, ledger.OpChangePubKey:
			if !op.Fee.IsZero() {
				return nil, nil, fmt.Errorf("%w: op %d: %v carries a fee", ErrBadOp, i, op.Type)
			}
		}
		chunks += k
	}
	if slots < 0 || chunks > slots {
		return nil, nil, fmt.Errorf("%w: %d chunks, %d slots", ErrTooManyChunks, chunks, slots)
	}
	pubdata, err := ledger.Pubdata(ops, slots)
	if err != nil {
		return nil, nil, fmt.Errorf("state: batch %d pubdata: %w", number, err)
	}

	snap, version, root, last, next, err := t.snapshot()
	if err != nil {
		return nil, nil, err
	}
	defer snap.Close()
	if number != last+1 {
		return nil, nil, fmt.Errorf("%w: %d after %d", ErrBatchNumber, number, last)
	}
	p := &pending{
		t: t, r: snap, root: root, next: next,
		nodes:  map[nodeID]fr.Element{},
		leaves: map[uint32]ledger.Account{},
		read:   map[uint32]ledger.Account{},
		index:  map[common.Address]uint32{},
	}
	w := &BatchWitness{Number: number, Depth: t.depth, OldRoot: root, Slots: make([]SlotWitness, 0, slots), Pubdata: pubdata}
	for i := range ops {
		// A batch's witness takes tens of milliseconds of hashing, off
		// the preconfirmation path but on the same cores: yielding
		// between operations (each a few hundred microseconds) lets a
		// request queued behind it on this P run instead of waiting out
		// the scheduler's 10 ms time slice. In process at 5,000 tx/s with
		// 256-slot batches cut as they close, p50 went from 2.0 to 1.1 ms.
		runtime.Gosched()
		op := &ops[i]
		ups, err := p.apply(op, params)
		if err != nil {
			return nil, nil, fmt.Errorf("state: batch %d op %d (%v): %w", number, i, op.Type, err)
		}
		w.FeeTotal.Add(&w.FeeTotal, &op.Fee)
		w.Slots = append(w.Slots, SlotWitness{Op: *op, Updates: ups})
		if k := op.Type.Chunks(); k > 1 {
			noop, err := p.noop()
			if err != nil {
				return nil, nil, err
			}
			for c := 1; c < k; c++ {
				w.Slots = append(w.Slots, SlotWitness{Op: *op, Chunk: c, Updates: [2]LeafUpdate{noop, cloneUpdate(noop)}})
				noop = cloneUpdate(noop)
			}
		}
	}
	if len(w.Slots) < slots {
		noop, err := p.noop()
		if err != nil {
			return nil, nil, err
		}
		for len(w.Slots) < slots {
			w.Slots = append(w.Slots, SlotWitness{Op: ledger.Op{Type: ledger.OpNoop}, Updates: [2]LeafUpdate{cloneUpdate(noop), cloneUpdate(noop)}})
		}
	}

	fee, err := p.account(ledger.FeeAccount)
	if err != nil {
		return nil, nil, err
	}
	if !w.FeeTotal.IsZero() && fee.IsEmpty() {
		return nil, nil, ErrNoFeeAccount
	}
	ov := NewOverlay(p)
	if err := ledger.CreditFees(ov, w.FeeTotal); err != nil {
		return nil, nil, fmt.Errorf("state: batch %d fee credit: %w", number, err)
	}
	after, err := ov.Account(ledger.FeeAccount)
	if err != nil {
		return nil, nil, err
	}
	if w.Fee, err = p.update(ledger.FeeAccount, after); err != nil {
		return nil, nil, err
	}
	w.NewRoot = p.root
	return w, p.treeUpdate(version, root, number), nil
}

func cloneUpdate(u LeafUpdate) LeafUpdate {
	u.Siblings = slices.Clone(u.Siblings)
	return u
}

type nodeID struct {
	level uint8
	pos   uint32
}

// pending is the tree as a batch being replayed leaves it: reads fall
// through to a snapshot of the committed tree. It is a Reader, so an
// Overlay over it is a ledger.State for ledger.Replay.
type pending struct {
	t      *Tree
	r      pebble.Reader
	root   fr.Element
	next   uint32
	nodes  map[nodeID]fr.Element
	leaves map[uint32]ledger.Account // written leaves
	read   map[uint32]ledger.Account // committed leaves already read
	index  map[common.Address]uint32
}

func (p *pending) account(idx uint32) (ledger.Account, error) {
	if a, ok := p.leaves[idx]; ok {
		return a, nil
	}
	if a, ok := p.read[idx]; ok {
		return a, nil
	}
	a, err := p.t.leaf(p.r, idx)
	if err != nil {
		return a, err
	}
	p.read[idx] = a
	return a, nil
}

func (p *pending) Account(idx uint32) (ledger.Account, error) { return p.account(idx) }

func (p *pending) Address(idx uint32) (common.Address, error) {
	a, err := p.account(idx)
	return a.Address, err
}

func (p *pending) PubKeyHash(idx uint32) (fr.Element, error) {
	a, err := p.account(idx)
	return a.PubKeyHash, err
}

func (p *pending) Nonce(idx uint32) (uint32, error) {
	a, err := p.account(idx)
	return a.Nonce, err
}

func (p *pending) Balance(idx uint32) (uint256.Int, error) {
	a, err := p.account(idx)
	return a.Balance, err
}

func (p *pending) Lookup(addr common.Address) (uint32, bool, error) {
	if i, ok := p.index[addr]; ok {
		return i, true, nil
	}
	return p.t.lookup(p.r, addr)
}

func (p *pending) NextIndex() (uint32, error) { return p.next, nil }

func (p *pending) node(level int, pos uint32) (fr.Element, error) {
	if h, ok := p.nodes[nodeID{uint8(level), pos}]; ok {
		return h, nil
	}
	return p.t.node(p.r, level, pos)
}

func (p *pending) siblings(idx uint32) ([]fr.Element, error) {
	sib := make([]fr.Element, p.t.depth)
	for l := range sib {
		var err error
		if sib[l], err = p.node(l, (idx>>l)^1); err != nil {
			return nil, err
		}
	}
	return sib, nil
}

// update writes after at idx, recomputing the path, and returns the update.
func (p *pending) update(idx uint32, after ledger.Account) (LeafUpdate, error) {
	before, err := p.account(idx)
	if err != nil {
		return LeafUpdate{}, err
	}
	sib, err := p.siblings(idx)
	if err != nil {
		return LeafUpdate{}, err
	}
	h := after.Hash()
	p.nodes[nodeID{0, idx}] = h
	for l := range sib {
		if idx>>l&1 == 0 {
			h = ledger.Compress(&h, &sib[l])
		} else {
			h = ledger.Compress(&sib[l], &h)
		}
		p.nodes[nodeID{uint8(l + 1), idx >> (l + 1)}] = h
	}
	p.root = h
	p.leaves[idx] = after
	return LeafUpdate{Index: idx, Before: before, After: after, Siblings: sib}, nil
}

func (p *pending) noop() (LeafUpdate, error) {
	a, err := p.account(ledger.FeeAccount)
	if err != nil {
		return LeafUpdate{}, err
	}
	sib, err := p.siblings(ledger.FeeAccount)
	if err != nil {
		return LeafUpdate{}, err
	}
	return LeafUpdate{Index: ledger.FeeAccount, Before: a, After: a, Siblings: sib}, nil
}

// apply replays op and performs its leaf updates; on error p is unchanged
// except for read caches (BuildWitness then discards p anyway).
func (p *pending) apply(op *ledger.Op, params ledger.Params) ([2]LeafUpdate, error) {
	var ups [2]LeafUpdate
	ov := NewOverlay(p)
	if err := ledger.Replay(ov, op, params); err != nil {
		return ups, err
	}
	touched := []uint32{}
	switch op.Type {
	case ledger.OpDeposit, ledger.OpWithdraw, ledger.OpChangePubKey:
		touched = append(touched, op.Account)
	case ledger.OpTransfer, ledger.OpTransferToNew:
		touched = append(touched, op.Account, op.To)
	}
	for _, idx := range ov.Dirty() {
		if !slices.Contains(touched, idx) {
			return ups, fmt.Errorf("%w: writes account %d", ErrBadOp, idx)
		}
	}
	var err error
	switch op.Type {
	case ledger.OpNoop:
		if ups[0], err = p.noop(); err != nil {
			return ups, err
		}
		ups[1] = cloneUpdate(ups[0])
		return ups, nil
	case ledger.OpTransfer, ledger.OpTransferToNew:
		// The sender's update is the debit alone, so that a self-transfer
		// is a debit followed by a credit of the same leaf.
		mid, err := p.account(op.Account)
		if err != nil {
			return ups, err
		}
		var need uint256.Int
		need.Add(&op.Amount, &op.Fee)
		mid.Balance.Sub(&mid.Balance, &need)
		mid.Nonce = op.Nonce + 1
		if ups[0], err = p.update(op.Account, mid); err != nil {
			return ups, err
		}
		to, err := ov.Account(op.To)
		if err != nil {
			return ups, err
		}
		if ups[1], err = p.update(op.To, to); err != nil {
			return ups, err
		}
	default:
		a, err := ov.Account(op.Account)
		if err != nil {
			return ups, err
		}
		if ups[0], err = p.update(op.Account, a); err != nil {
			return ups, err
		}
		if ups[1], err = p.noop(); err != nil {
			return ups, err
		}
	}
	// The leaf updates must reproduce exactly what the rules wrote.
	for _, idx := range ov.Dirty() {
		want, err := ov.Account(idx)
		if err != nil {
			return ups, err
		}
		got, err := p.account(idx)
		if err != nil {
			return ups, err
		}
		if got != want {
			return ups, fmt.Errorf("%w: leaf %d differs from the replayed state", ErrBadOp, idx)
		}
	}
	for addr, idx := range ov.index {
		p.index[addr] = idx
	}
	if ov.nextSet {
		p.next = ov.next
	}
	return ups, nil
}

// treeUpdate turns the replayed batch into a TreeUpdate.
func (p *pending) treeUpdate(version uint64, oldRoot fr.Element, number uint64) *TreeUpdate {
	u := &TreeUpdate{tree: p.t, baseVersion: version, oldRoot: oldRoot, newRoot: p.root, number: number, next: p.next}
	u.nodes = make([]nodeEntry, 0, len(p.nodes))
	for id, h := range p.nodes {
		u.nodes = append(u.nodes, nodeEntry{level: int(id.level), pos: id.pos, hash: h})
	}
	for idx, a := range p.leaves {
		u.leaves = append(u.leaves, LeafWrite{Index: idx, Account: a})
	}
	for addr, idx := range p.index {
		u.index = append(u.index, indexEntry{addr: addr, idx: idx, ok: true})
	}
	return u
}
