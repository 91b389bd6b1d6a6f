package sequencer

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/executor"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// fit returns how many of the executed entries go into the open batch ob
// (split) and whether the batch is closed after them: when it is exactly
// full, or when the next successful operation does not fit.
func (s *Sequencer) fit(ob *openBatch, rs []executor.Receipt) (split int, cut bool) {
	used := ob.used
	for i := range rs {
		if rs[i].Err != nil {
			continue
		}
		k := rs[i].Op.Type.Chunks()
		if used+k > s.cfg.Slots {
			return i, true
		}
		used += k
		if used == s.cfg.Slots {
			return i + 1, true
		}
	}
	return len(rs), false
}

// built is a mini-block produced in memory, waiting for the synced write
// of its group.
type built struct {
	mb          *MiniBlock
	encReceipts [][]byte
	// deps is the number of deposits leading the entries; txs are the
	// transactions after them.
	deps int
	txs  []*pending
	// head and batch are the sequencer's head and open batch after the
	// block (batch before the hand-off if the block closes it).
	head  head
	batch openBatch
	// closed is the batch the block closes, for the cutter once committed.
	closed *closedBatch
	exec   time.Duration
}

// layer is the flat state as mini-blocks not yet committed leave it: their
// writes over base (the layer of the uncommitted blocks before them), or
// over the committed store once base is nil. It implements executor.Base.
//
// Only the mini-block loop writes a layer, and never once the committer
// has taken its group; the committer reads it and sets base to nil when
// what base holds is committed (see pipe).
type layer struct {
	st       *state.Store
	base     atomic.Pointer[layer]
	accounts map[uint32]ledger.Account
	index    map[common.Address]uint32
	next     uint32
}

var _ executor.Base = (*layer)(nil)

// newLayer returns an empty layer over base, or over st if base is nil.
func newLayer(st *state.Store, base *layer) *layer {
	l := &layer{st: st, accounts: map[uint32]ledger.Account{}, index: map[common.Address]uint32{}}
	if base != nil {
		l.base.Store(base)
		l.next = base.next
	} else {
		l.next, _ = st.NextIndex()
	}
	return l
}

func (l *layer) account(idx uint32) (ledger.Account, error) {
	for x := l; x != nil; x = x.base.Load() {
		if a, ok := x.accounts[idx]; ok {
			return a, nil
		}
	}
	return l.st.Account(idx)
}

func (l *layer) Address(idx uint32) (common.Address, error) {
	a, err := l.account(idx)
	return a.Address, err
}

func (l *layer) PubKeyHash(idx uint32) (fr.Element, error) {
	a, err := l.account(idx)
	return a.PubKeyHash, err
}

func (l *layer) Nonce(idx uint32) (uint32, error) {
	a, err := l.account(idx)
	return a.Nonce, err
}

func (l *layer) Balance(idx uint32) (uint256.Int, error) {
	a, err := l.account(idx)
	return a.Balance, err
}

func (l *layer) Lookup(addr common.Address) (uint32, bool, error) {
	for x := l; x != nil; x = x.base.Load() {
		if idx, ok := x.index[addr]; ok {
			return idx, true, nil
		}
	}
	return l.st.Lookup(addr)
}

func (l *layer) NextIndex() (uint32, error) { return l.next, nil }

// apply records a block's writes. An account's owner never changes, so
// indexing every written account is enough for the ones it creates.
func (l *layer) apply(writes map[uint32]ledger.Account, next uint32) {
	for idx, a := range writes {
		l.accounts[idx] = a
		if !a.IsEmpty() {
			l.index[a.Address] = idx
		}
	}
	l.next = next
}

// merge adds the writes of o, a layer over l, to l.
func (l *layer) merge(o *layer) {
	for idx, a := range o.accounts {
		l.accounts[idx] = a
	}
	for addr, idx := range o.index {
		l.index[addr] = idx
	}
	l.next = o.next
}

// produce executes the deposits and transactions, in order, into as many
// mini-blocks as batch boundaries require (a mini-block never spans two
// batches), on the state the blocks not yet committed leave, and queues
// them for the committer (pipe). Entries left over (a block that must
// close the batch first, after other blocks of the group) go back to the
// pool for the next step; deposits are taken again from the source.
func (s *Sequencer) produce(ctx context.Context, deps []ledger.Deposit, txs []*pending) error {
	etxs := make([]executor.Tx, 0, len(deps)+len(txs))
	for i := range deps {
		etxs = append(etxs, executor.Tx{Deposit: &deps[i]})
	}
	for _, p := range txs {
		etxs = append(etxs, executor.Tx{Checked: p.checked})
	}
	l := newLayer(s.st, s.pipe.top())
	h, ob := s.head, s.batch
	var blocks []*built
	pos := 0
	for pos < len(etxs) {
		start := time.Now()
		// A successful operation takes at least one chunk: more entries
		// than the batch has room for cannot all go into this block.
		k := min(len(etxs)-pos, max(1, s.cfg.Slots-ob.used))
		res, err := s.execute(ctx, l, etxs[pos:pos+k])
		if err != nil {
			return fmt.Errorf("sequencer: execute mini-block: %w", err)
		}
		split, cutAfter := s.fit(&ob, res.Receipts)
		if split == 0 && cutAfter {
			if len(blocks) > 0 {
				break // closed by the next step, after this group's commit
			}
			// The first operation does not fit: close the batch (on the
			// committed state: wait for the pipeline), then run the block
			// again on the state with the fees credited.
			if err := s.pipe.drain(); err != nil {
				return err
			}
			if err := s.closeBatch(); err != nil {
				return err
			}
			l, h, ob = newLayer(s.st, nil), s.head, s.batch
			continue
		}
		if split < k {
			// The prefix's results are those of the whole block's prefix;
			// re-executing it (signatures already checked) yields its
			// writes.
			if res, err = executor.Sequential(ctx, l, etxs[pos:pos+split], s.params); err != nil {
				return fmt.Errorf("sequencer: execute mini-block prefix: %w", err)
			}
		}
		b, err := s.build(l, res, h, ob, deps, txs, pos, split, cutAfter, start)
		if err != nil {
			return err
		}
		blocks = append(blocks, b)
		pos += split
		h = b.head
		ob = b.batch
		if cutAfter {
			b.closed = &closedBatch{number: ob.number, ops: ob.ops, hashes: ob.hashes, used: ob.used,
				firstBlock: ob.firstBlock, lastBlock: h.Number}
			ob = s.newOpenBatch(ob.number+1, h.Number+1)
		}
	}
	if used := max(0, pos-len(deps)); used < len(txs) {
		s.pool.release(txs[used:])
	}
	if len(blocks) == 0 {
		return nil
	}
	if err := s.pipe.push(l, blocks); err != nil {
		return err
	}
	// The loop's view: the head and open batch after the queued blocks.
	s.head, s.batch = h, ob
	return nil
}

// parallelFrom is the block size from which the parallel executor is used:
// below it, handing a few transactions to worker goroutines costs more
// latency (each hand-off waits for a scheduler slot, long on a busy
// machine) than running them on the mini-block loop.
const parallelFrom = 64

// execute runs a block's entries on l, in parallel if it is large.
func (s *Sequencer) execute(ctx context.Context, l *layer, txs []executor.Tx) (*executor.Result, error) {
	if len(txs) < parallelFrom || s.cfg.ExecWorkers == 1 {
		return executor.Sequential(ctx, l, txs, s.params)
	}
	return executor.Parallel(ctx, l, txs, s.params, executor.Options{Workers: s.cfg.ExecWorkers})
}

// build makes the mini-block of entries [pos, pos+n) executed as res on
// the group's layer l, after head h with open batch ob, and applies its
// writes (and, if it closes the batch, the batch's fee credit) to l.
func (s *Sequencer) build(l *layer, res *executor.Result, h head, ob openBatch, deps []ledger.Deposit, txs []*pending,
	pos, n int, cutAfter bool, start time.Time) (*built, error) {
	number := h.Number + 1
	b := &built{mb: &MiniBlock{CutAfter: cutAfter, Entries: make([]Entry, n), Receipts: make([]Receipt, n)}, encReceipts: make([][]byte, n)}
	mb := b.mb
	txHashes := make([]common.Hash, n)
	rcHashes := make([]common.Hash, n)
	for i := range n {
		e := &mb.Entries[i]
		if j := pos + i; j < len(deps) {
			e.Deposit = &deps[j]
			e.Hash = DepositHash(e.Deposit)
			b.deps++
		} else {
			p := txs[j-len(deps)]
			e.Raw, e.Hash = p.raw, p.hash
			b.txs = append(b.txs, p)
		}
		r := &mb.Receipts[i]
		*r = Receipt{TxHash: e.Hash, Block: number, Position: uint32(i), Batch: ob.number, Err: res.Receipts[i].Err, Op: res.Receipts[i].Op}
		b.encReceipts[i] = encodeReceipt(r)
		txHashes[i] = e.Hash
		rcHashes[i] = crypto.Keccak256Hash(b.encReceipts[i])
	}
	mb.Header = Header{ChainID: s.params.ChainID, Number: number, Parent: h.Hash, Time: uint64(start.UnixMicro()),
		Batch: ob.number, TxRoot: MerkleRoot(txHashes), ReceiptRoot: MerkleRoot(rcHashes)}
	mb.Hash = mb.Header.Hash()
	var err error
	if mb.Signature, err = crypto.Sign(mb.Hash[:], s.cfg.Key); err != nil {
		return nil, fmt.Errorf("sequencer: sign mini-block: %w", err)
	}
	b.head = head{Number: number, Hash: mb.Hash, NextPrio: h.NextPrio + uint64(b.deps)}

	// The open batch after this block; if the block closes it, the
	// batch's fees are credited in the group's write, after its entries.
	ob.own(s.cfg.Slots)
	for i := range mb.Receipts {
		r := &mb.Receipts[i]
		if r.Err != nil {
			if i < b.deps {
				s.log.Error("deposit failed", "id", mb.Entries[i].Deposit.ID, "err", r.Err)
			}
			continue
		}
		if ob.used == 0 {
			ob.firstAt = start
		}
		ob.ops = append(ob.ops, r.Op)
		ob.hashes = append(ob.hashes, r.TxHash)
		ob.used += r.Op.Type.Chunks()
	}
	ob.claim()
	b.batch = ob
	l.apply(res.Writes, res.NextIndex)
	if cutAfter {
		fee, err := l.account(ledger.FeeAccount)
		if err != nil {
			return nil, err
		}
		if fee, err = creditedFeeAccount(fee, &ob); err != nil {
			return nil, err
		}
		l.apply(map[uint32]ledger.Account{ledger.FeeAccount: fee}, l.next)
	}
	now := time.Now()
	b.exec = now.Sub(start)
	for _, p := range b.txs {
		p.built = now
	}
	return b, nil
}

// commit writes a group of mini-blocks, their entries and receipts, the
// state they leave and the new head in one synced Pebble write.
func (s *Sequencer) commit(l *layer, blocks []*built) error {
	wb := s.st.NewBatch()
	defer wb.Close()
	for idx, a := range l.accounts {
		if err := wb.PutAccount(idx, a); err != nil {
			return err
		}
	}
	if next, _ := s.st.NextIndex(); l.next != next {
		if err := wb.SetNextIndex(l.next); err != nil {
			return err
		}
	}
	for _, b := range blocks {
		mb := b.mb
		for i := range mb.Entries {
			e := &mb.Entries[i]
			if err := wb.Set(state.NamespaceTx, e.Hash[:], encodeTxRecord(b.head.Number, uint32(i), e)); err != nil {
				return err
			}
			if err := wb.Set(state.NamespaceReceipt, e.Hash[:], b.encReceipts[i]); err != nil {
				return err
			}
			if i >= b.deps && mb.Receipts[i].Err != nil {
				if err := wb.Set(state.NamespaceFailedTx, e.Hash[:], nil); err != nil {
					return err
				}
			}
		}
		if err := wb.Set(state.NamespaceMiniBlock, blockKey(b.head.Number), encodeBlockRecord(mb)); err != nil {
			return err
		}
	}
	last := blocks[len(blocks)-1]
	if err := wb.Set(state.NamespaceMeta, keyHead, last.head.encode()); err != nil {
		return err
	}
	if err := wb.Commit(true); err != nil {
		return fmt.Errorf("sequencer: commit mini-blocks %d-%d: %w", blocks[0].head.Number, last.head.Number, err)
	}
	return nil
}

// announce releases a committed block's preconfirmations to the waiting
// callers and publishes it and its status events.
func (s *Sequencer) announce(b *built) {
	mb := b.mb
	pre := Preconfirmation{Header: mb.Header, HeaderHash: mb.Hash, Signature: mb.Signature}
	events := make([]TxStatus, len(mb.Receipts))
	for i := range mb.Receipts {
		r := mb.Receipts[i]
		events[i] = TxStatus{Hash: r.TxHash, Status: StatusPreconfirmed, Block: r.Block, Position: r.Position, Batch: r.Batch, Err: r.Err}
		if r.Err != nil {
			events[i].Status = StatusFailed
		}
		if i >= b.deps {
			p := pre
			p.Receipt = r
			b.txs[i-b.deps].done <- outcome{pre: &p}
		}
	}
	s.blocks.publish(mb)
	s.statuses.publish(events)
}

// batchFees sums the fees of a batch's operations.
func batchFees(ops []ledger.Op) uint256.Int {
	var t uint256.Int
	for i := range ops {
		t.Add(&t, &ops[i].Fee)
	}
	return t
}

// creditedFeeAccount returns the flat fee account acc after the credit of
// batch ob's fees (ledger.CreditFees).
func creditedFeeAccount(acc ledger.Account, ob *openBatch) (ledger.Account, error) {
	ms := ledger.NewMemState()
	ms.Accounts[ledger.FeeAccount] = &acc
	if err := ledger.CreditFees(ms, batchFees(ob.ops)); err != nil {
		return acc, fmt.Errorf("%w: batch %d fee credit: %w", ErrChain, ob.number, err)
	}
	return ms.Account(ledger.FeeAccount), nil
}
