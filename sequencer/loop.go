package sequencer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/executor"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// loop produces mini-blocks until Stop, then includes what is ready one
// last time and fails the rest of the mempool.
func (s *Sequencer) loop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.BlockTime)
	defer tick.Stop()
	sweep := time.NewTicker(min(s.cfg.QueueTTL/4+time.Millisecond, time.Second))
	defer sweep.Stop()
	var err error
	for err == nil {
		select {
		case <-s.stop:
			err = s.step(ctx)
			if err == nil {
				err = ErrShuttingDown
			}
			s.failAll(err)
			return
		case <-sweep.C:
			s.deliverDropped(s.pool.expire(time.Now()))
			s.m.Mempool(s.pool.size())
			continue
		case <-tick.C:
		case <-s.pool.full:
		}
		err = s.step(ctx)
	}
	s.fatal.Store(&err)
	s.running.Store(false)
	s.log.Error("mini-block loop stopped", "err", err)
	s.failAll(fmt.Errorf("%w: %w", ErrShuttingDown, err))
}

func (s *Sequencer) failAll(err error) {
	for _, p := range s.pool.close() {
		p.done <- outcome{err: err}
	}
}

func (s *Sequencer) deliverDropped(ds []dropped) {
	for _, d := range ds {
		d.tx.done <- outcome{err: d.err}
	}
}

// step closes a timed-out batch, then produces a mini-block of the ready
// deposits and transactions, if any.
func (s *Sequencer) step(ctx context.Context) error {
	if s.batch.used > 0 && time.Since(s.batch.firstAt) >= s.cfg.BatchTimeout {
		if err := s.closeBatch(); err != nil {
			return err
		}
	}
	deps, err := s.pendingDeposits(ctx)
	if err != nil {
		return err
	}
	txs := s.pool.readyTxs(s.cfg.MaxBlockTxs - len(deps))
	if len(deps)+len(txs) == 0 {
		return nil
	}
	return s.produce(ctx, deps, txs)
}

// pendingDeposits asks the priority queue for the next operations; a
// failing source only delays deposits.
func (s *Sequencer) pendingDeposits(ctx context.Context) ([]ledger.Deposit, error) {
	if s.cfg.PriorityOps == nil {
		return nil, nil
	}
	ops, err := s.cfg.PriorityOps.Pending(ctx, s.head.NextPrio, s.cfg.MaxDeposits)
	if err != nil {
		s.log.Warn("priority operations unavailable", "from", s.head.NextPrio, "err", err)
		return nil, nil
	}
	var deps []ledger.Deposit
	now := time.Now()
	for i, op := range ops {
		if op.Deposit.ID != s.head.NextPrio+uint64(i) || i == s.cfg.MaxDeposits {
			s.log.Error("priority operations out of sequence", "want", s.head.NextPrio+uint64(i), "got", op.Deposit.ID)
			break
		}
		if !op.Deadline.IsZero() && now.After(op.Deadline) {
			s.log.Warn("priority operation past its deadline", "id", op.Deposit.ID, "deadline", op.Deadline)
		}
		deps = append(deps, op.Deposit)
	}
	return deps, nil
}

// fit returns how many of the executed entries go into the open batch
// (split) and whether the batch is closed after them: when it is exactly
// full, or when the next successful operation does not fit.
func (s *Sequencer) fit(rs []executor.Receipt) (split int, cut bool) {
	used := s.batch.used
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

// produce executes, commits and announces one mini-block. A mini-block
// never spans two batches: if its operations overflow the open batch, the
// block is truncated where the batch ends and the rest stays queued for
// the next block (deposits are taken again from the source).
func (s *Sequencer) produce(ctx context.Context, deps []ledger.Deposit, txs []*pending) error {
	start := time.Now()
	etxs := make([]executor.Tx, 0, len(deps)+len(txs))
	for i := range deps {
		etxs = append(etxs, executor.Tx{Deposit: &deps[i]})
	}
	for _, p := range txs {
		etxs = append(etxs, executor.Tx{Checked: p.checked})
	}
	opts := executor.Options{Workers: s.cfg.ExecWorkers}
	res, err := executor.Parallel(ctx, s.st, etxs, s.params, opts)
	if err != nil {
		return fmt.Errorf("sequencer: execute mini-block: %w", err)
	}
	split, cutAfter := s.fit(res.Receipts)
	if split == 0 && cutAfter {
		// The first operation does not fit: close the batch, then run
		// the block again on the state with the fees credited.
		if err := s.closeBatch(); err != nil {
			return err
		}
		if res, err = executor.Parallel(ctx, s.st, etxs, s.params, opts); err != nil {
			return fmt.Errorf("sequencer: execute mini-block: %w", err)
		}
		split, cutAfter = s.fit(res.Receipts)
	}
	if split < len(etxs) {
		// The prefix's results are those of the whole block's prefix;
		// re-executing it (signatures already checked) yields its writes.
		etxs = etxs[:split]
		if res, err = executor.Sequential(ctx, s.st, etxs, s.params); err != nil {
			return fmt.Errorf("sequencer: execute mini-block prefix: %w", err)
		}
		if split < len(deps) {
			deps = deps[:split]
		}
		txs = txs[:split-len(deps)]
	}
	if len(etxs) == 0 {
		return nil
	}
	execDone := time.Now()

	number := s.head.Number + 1
	n := len(etxs)
	mb := &MiniBlock{CutAfter: cutAfter, Entries: make([]Entry, n), Receipts: make([]Receipt, n)}
	txHashes := make([]common.Hash, n)
	rcHashes := make([]common.Hash, n)
	encReceipts := make([][]byte, n)
	for i := range etxs {
		e := &mb.Entries[i]
		if i < len(deps) {
			e.Deposit = &deps[i]
			e.Hash = DepositHash(e.Deposit)
		} else {
			p := txs[i-len(deps)]
			e.Raw, e.Hash = p.raw, p.hash
		}
		r := &mb.Receipts[i]
		*r = Receipt{TxHash: e.Hash, Block: number, Position: uint32(i), Batch: s.batch.number, Err: res.Receipts[i].Err, Op: res.Receipts[i].Op}
		encReceipts[i] = encodeReceipt(r)
		txHashes[i] = e.Hash
		rcHashes[i] = crypto.Keccak256Hash(encReceipts[i])
	}
	mb.Header = Header{ChainID: s.params.ChainID, Number: number, Parent: s.head.Hash, Time: uint64(start.UnixMicro()),
		Batch: s.batch.number, TxRoot: MerkleRoot(txHashes), ReceiptRoot: MerkleRoot(rcHashes)}
	mb.Hash = mb.Header.Hash()
	if mb.Signature, err = crypto.Sign(mb.Hash[:], s.cfg.Key); err != nil {
		return fmt.Errorf("sequencer: sign mini-block: %w", err)
	}
	nextPrio := s.head.NextPrio + uint64(len(deps))

	// The open batch after this block; if the block closes it, the
	// batch's fees are credited in this block's write, after its entries.
	ob := s.batch
	ob.ops, ob.hashes = slices.Clip(ob.ops), slices.Clip(ob.hashes)
	for i := range mb.Receipts {
		r := &mb.Receipts[i]
		if r.Err != nil {
			if i < len(deps) {
				s.log.Error("deposit failed", "id", deps[i].ID, "err", r.Err)
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
	if cutAfter {
		fee, err := s.creditedFeeAccount(res.Writes, &ob)
		if err != nil {
			return err
		}
		if res.Writes == nil {
			res.Writes = map[uint32]ledger.Account{}
		}
		res.Writes[ledger.FeeAccount] = fee
	}

	b := s.st.NewBatch()
	defer b.Close()
	for idx, a := range res.Writes {
		if err := b.PutAccount(idx, a); err != nil {
			return err
		}
	}
	if next, _ := s.st.NextIndex(); res.NextIndex != next {
		if err := b.SetNextIndex(res.NextIndex); err != nil {
			return err
		}
	}
	for i := range mb.Entries {
		e := &mb.Entries[i]
		if err := b.Set(state.NamespaceTx, e.Hash[:], encodeTxRecord(number, uint32(i), e)); err != nil {
			return err
		}
		if err := b.Set(state.NamespaceReceipt, e.Hash[:], encReceipts[i]); err != nil {
			return err
		}
	}
	if err := b.Set(state.NamespaceMiniBlock, blockKey(number), encodeBlockRecord(mb)); err != nil {
		return err
	}
	h := head{Number: number, Hash: mb.Hash, NextPrio: nextPrio}
	if err := b.Set(state.NamespaceMeta, keyHead, h.encode()); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return fmt.Errorf("sequencer: commit mini-block %d: %w", number, err)
	}
	commitDone := time.Now()

	// Committed: from here on everything is announcement.
	s.head = h
	s.headMu.Lock()
	s.headMu.head = h
	s.headMu.Unlock()
	s.batch = ob
	pre := Preconfirmation{Header: mb.Header, HeaderHash: mb.Hash, Signature: mb.Signature}
	events := make([]TxStatus, n)
	for i := range mb.Receipts {
		r := mb.Receipts[i]
		events[i] = TxStatus{Hash: r.TxHash, Status: StatusPreconfirmed, Block: number, Position: r.Position, Batch: r.Batch, Err: r.Err}
		if r.Err != nil {
			events[i].Status = StatusFailed
		}
		if i >= len(deps) {
			p := pre
			p.Receipt = r
			txs[i-len(deps)].done <- outcome{pre: &p}
		}
	}
	s.deliverDropped(s.pool.included(txs, s.st.Nonce))
	s.blocks.publish(mb)
	s.statuses.publish(events)
	s.m.MiniBlock(n, execDone.Sub(start), commitDone.Sub(execDone))
	s.log.Debug("sealed mini-block", "number", number, "entries", n, "batch", mb.Header.Batch, "cut", cutAfter)
	if cutAfter {
		// After the preconfirmed events, so that no proven event of
		// these transactions can precede them.
		s.handOff()
	}
	return nil
}

// batchFees sums the fees of a batch's operations.
func batchFees(ops []ledger.Op) uint256.Int {
	var t uint256.Int
	for i := range ops {
		t.Add(&t, &ops[i].Fee)
	}
	return t
}

// creditedFeeAccount returns the flat fee account after the block's
// writes and the credit of batch ob's fees (ledger.CreditFees).
func (s *Sequencer) creditedFeeAccount(writes map[uint32]ledger.Account, ob *openBatch) (ledger.Account, error) {
	acc, ok := writes[ledger.FeeAccount]
	if !ok {
		var err error
		if acc, err = s.st.Account(ledger.FeeAccount); err != nil {
			return acc, err
		}
	}
	ms := ledger.NewMemState()
	ms.Accounts[ledger.FeeAccount] = &acc
	if err := ledger.CreditFees(ms, batchFees(ob.ops)); err != nil {
		return acc, fmt.Errorf("%w: batch %d fee credit: %w", ErrChain, ob.number, err)
	}
	return ms.Account(ledger.FeeAccount), nil
}

// closeBatch closes the open batch between mini-blocks (timeout, or the
// next operation does not fit): it credits the batch's fees to the flat
// fee account and records the close in one synced write, then hands the
// batch to the cutter.
func (s *Sequencer) closeBatch() error {
	ob := &s.batch
	ov := state.NewOverlay(s.st)
	if err := ledger.CreditFees(ov, batchFees(ob.ops)); err != nil {
		return fmt.Errorf("%w: batch %d fee credit: %w", ErrChain, ob.number, err)
	}
	b := s.st.NewBatch()
	defer b.Close()
	if err := ov.WriteTo(b); err != nil {
		return err
	}
	if err := b.Set(state.NamespaceBatch, closeKey(ob.number), blockKey(s.head.Number)); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return fmt.Errorf("sequencer: close batch %d: %w", ob.number, err)
	}
	s.handOff()
	return nil
}

// handOff queues the open batch, just closed (its fees credited in the
// flat state), for the cutter and opens the next one.
func (s *Sequencer) handOff() {
	ob := s.batch
	s.cutQ.push(&closedBatch{number: ob.number, ops: ob.ops, hashes: ob.hashes, used: ob.used,
		firstBlock: ob.firstBlock, lastBlock: s.head.Number})
	s.batch = openBatch{number: ob.number + 1, firstBlock: s.head.Number + 1}
}

// closedBatch is a batch closed in the flat state, waiting to be cut in
// the tree.
type closedBatch struct {
	number                uint64
	ops                   []ledger.Op
	hashes                []common.Hash
	used                  int
	firstBlock, lastBlock uint64
}

// cutLoop cuts closed batches in order, off the mini-block path.
func (s *Sequencer) cutLoop(ctx context.Context) {
	for {
		c, ok := s.cutQ.first()
		if s.knobs.holdCuts.Load() {
			ok = false
		}
		if !ok {
			if s.cutQ.wait(ctx, s.cfg.RetryDelay) != nil {
				return
			}
			continue
		}
		if err := s.cut(c); err != nil {
			s.log.Error("cutting batch failed", "number", c.number, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.cfg.RetryDelay):
			}
			continue
		}
		s.cutQ.pop()
		if ctx.Err() != nil {
			return
		}
	}
}

// cut builds a closed batch's witness from the tree and commits the tree
// update, the batch record and the witness in one synced write; then it
// queues the batch for the prover. The fees were credited to the flat
// state when the batch closed; the witness must agree on their total.
func (s *Sequencer) cut(c *closedBatch) error {
	start := time.Now()
	w, u, err := s.st.Tree().BuildWitness(c.number, c.ops, s.cfg.Slots, s.params)
	if err != nil {
		return fmt.Errorf("%w: batch %d witness: %w", ErrChain, c.number, err)
	}
	if fees := batchFees(c.ops); fees != w.FeeTotal {
		return fmt.Errorf("%w: batch %d: fees %v credited, witness %v", ErrChain, c.number, fees.Dec(), w.FeeTotal.Dec())
	}
	rec := &BatchRecord{Number: c.number, Status: BatchCut, OldRoot: w.OldRoot, NewRoot: w.NewRoot,
		FirstBlock: c.firstBlock, LastBlock: c.lastBlock, Ops: c.hashes, Used: c.used,
		PriorityOps: w.PriorityOps(), FeeTotal: w.FeeTotal, Pubdata: w.Pubdata, CutAt: start}
	rb, err := encodeBatch(rec)
	if err != nil {
		return err
	}
	wb, err := encodeWitness(w)
	if err != nil {
		return err
	}
	b := s.st.NewBatch()
	defer b.Close()
	if err := b.PutTree(u); err != nil {
		return err
	}
	if err := b.Set(state.NamespaceBatch, batchKey(c.number), rb); err != nil {
		return err
	}
	if err := b.Set(state.NamespaceBatch, witnessKey(c.number), wb); err != nil {
		return err
	}
	if err := b.Delete(state.NamespaceBatch, closeKey(c.number)); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return fmt.Errorf("sequencer: commit batch %d: %w", c.number, err)
	}
	s.m.BatchCut(c.used, time.Since(start))
	s.log.Info("cut batch", "number", c.number, "used", c.used, "slots", s.cfg.Slots, "ops", len(c.ops), "fees", w.FeeTotal.Dec())
	s.proveQ.push(c.number)
	return nil
}
