package sequencer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// workQueue is an ordered set of batch numbers with a wake-up signal.
type workQueue struct {
	wake chan struct{}
	mu   struct {
		sync.Mutex
		// items is sorted ascending; guarded by mu.
		items []uint64
	}
}

func newWorkQueue() *workQueue { return &workQueue{wake: make(chan struct{}, 1)} }

func (q *workQueue) push(n uint64) {
	q.mu.Lock()
	i, found := slices.BinarySearch(q.mu.items, n)
	if !found {
		q.mu.items = slices.Insert(q.mu.items, i, n)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// first returns the smallest queued number.
func (q *workQueue) first() (uint64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.mu.items) == 0 {
		return 0, false
	}
	return q.mu.items[0], true
}

func (q *workQueue) remove(n uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i, found := slices.BinarySearch(q.mu.items, n); found {
		q.mu.items = slices.Delete(q.mu.items, i, i+1)
	}
}

// wait blocks until the queue is signalled, d passes (if d > 0), or ctx
// ends.
func (q *workQueue) wait(ctx context.Context, d time.Duration) error {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-q.wake:
	case <-timer:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// cutQueue is the FIFO of closed batches waiting for the cutter.
type cutQueue struct {
	wake chan struct{}
	mu   struct {
		sync.Mutex
		// items is guarded by mu.
		items []*closedBatch
	}
}

func newCutQueue() *cutQueue { return &cutQueue{wake: make(chan struct{}, 1)} }

func (q *cutQueue) push(c *closedBatch) {
	q.mu.Lock()
	q.mu.items = append(q.mu.items, c)
	q.mu.Unlock()
	q.signal()
}

// signal wakes the cutter.
func (q *cutQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *cutQueue) first() (*closedBatch, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.mu.items) == 0 {
		return nil, false
	}
	return q.mu.items[0], true
}

func (q *cutQueue) pop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.mu.items[0] = nil
	q.mu.items = q.mu.items[1:]
}

func (q *cutQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.mu.items)
}

// wait blocks until the queue is signalled, d passes, or ctx ends.
func (q *cutQueue) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-q.wake:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (s *Sequencer) witness(n uint64) (*ledger.BatchWitness, error) {
	v, err := getRecord(s.st, state.NamespaceBatch, witnessKey(n))
	if err != nil {
		return nil, fmt.Errorf("batch %d witness: %w", n, err)
	}
	return decodeWitness(v)
}

// proveLoop hands cut batches to the Prover in order, retrying failures.
func (s *Sequencer) proveLoop(ctx context.Context) {
	for {
		n, ok := s.proveQ.first()
		if !ok || s.cfg.Prover == nil {
			if s.proveQ.wait(ctx, 0) != nil {
				return
			}
			continue
		}
		err := s.submitProof(ctx, n)
		if err == nil {
			s.proveQ.remove(n)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("prover submission failed", "batch", n, "err", err)
		if s.proveQ.wait(ctx, s.cfg.RetryDelay) != nil {
			return
		}
	}
}

func (s *Sequencer) submitProof(ctx context.Context, n uint64) error {
	w, err := s.witness(n)
	if err != nil {
		return err
	}
	return s.cfg.Prover.Submit(ctx, w)
}

// Proven records the proof of batch n (delivered by the Prover), marks
// its transactions proven and queues it for settlement. Recording a
// proof twice is a no-op. It fails with ErrBatchState if batch n was not
// cut, or on a store error. The proof is trusted: the Prover verifies it.
func (s *Sequencer) Proven(ctx context.Context, n uint64, proof []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	rec, err := s.Batch(n)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: batch %d was not cut", ErrBatchState, n)
	}
	if err != nil {
		return err
	}
	if rec.Status != BatchCut {
		return nil
	}
	rec.Status, rec.Proof, rec.ProvenAt = BatchProven, append([]byte(nil), proof...), time.Now()
	if err := s.putBatch(rec, false); err != nil {
		return err
	}
	s.proveQ.remove(n)
	s.m.BatchProven(rec.ProvenAt.Sub(rec.CutAt))
	s.log.Info("batch proven", "number", n, "proof", len(proof))
	s.publishBatch(rec, StatusProven)
	s.settleQ.push(n)
	return nil
}

// Finalized records that batch n is final on L1 (reported by the L1
// watcher) and marks its transactions finalized; the stored witness is
// dropped. Repeating it is a no-op. It fails with ErrBatchState if the
// batch is not proven yet.
func (s *Sequencer) Finalized(ctx context.Context, n uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	rec, err := s.Batch(n)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: batch %d was not cut", ErrBatchState, n)
	}
	if err != nil {
		return err
	}
	switch rec.Status {
	case BatchFinalized:
		return nil
	case BatchCut:
		return fmt.Errorf("%w: batch %d is not proven", ErrBatchState, n)
	}
	rec.Status = BatchFinalized
	if err := s.putBatch(rec, true); err != nil {
		return err
	}
	s.settleQ.remove(n)
	s.log.Info("batch finalized", "number", n)
	s.publishBatch(rec, StatusFinalized)
	return nil
}

// putBatch writes a batch record (and drops its witness) in a synced
// write.
func (s *Sequencer) putBatch(rec *BatchRecord, dropWitness bool) error {
	v, err := encodeBatch(rec)
	if err != nil {
		return err
	}
	b := s.st.NewBatch()
	defer b.Close()
	if err := b.Set(state.NamespaceBatch, batchKey(rec.Number), v); err != nil {
		return err
	}
	if dropWitness {
		if err := b.Delete(state.NamespaceBatch, witnessKey(rec.Number)); err != nil {
			return err
		}
	}
	return b.Commit(true)
}

func (s *Sequencer) publishBatch(rec *BatchRecord, st Status) {
	evs := make([]TxStatus, len(rec.Ops))
	for i, h := range rec.Ops {
		evs[i] = TxStatus{Hash: h, Status: st, Batch: rec.Number}
	}
	s.statuses.publish(evs)
}

// settleLoop hands proven batches to the Settler in batch order: batch n
// waits until batch n-1 (if the sequencer cut it) is submitted.
func (s *Sequencer) settleLoop(ctx context.Context) {
	for {
		n, ok := s.settleQ.first()
		ready := ok && s.cfg.Settler != nil
		if ready && n > 1 {
			prev, err := s.Batch(n - 1)
			ready = errors.Is(err, ErrNotFound) || (err == nil && prev.Status >= BatchSubmitted)
		}
		if !ready {
			if s.settleQ.wait(ctx, s.cfg.RetryDelay) != nil {
				return
			}
			continue
		}
		err := s.settle(ctx, n)
		if err == nil {
			s.settleQ.remove(n)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("settlement failed", "batch", n, "err", err)
		if s.settleQ.wait(ctx, s.cfg.RetryDelay) != nil {
			return
		}
	}
}

func (s *Sequencer) settle(ctx context.Context, n uint64) error {
	rec, err := s.Batch(n)
	if err != nil {
		return err
	}
	if rec.Status != BatchProven {
		return nil
	}
	w, err := s.witness(n)
	if err != nil {
		return err
	}
	if err := s.cfg.Settler.Settle(ctx, n, rec.Proof, w); err != nil {
		return err
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if rec, err = s.Batch(n); err != nil {
		return err
	}
	if rec.Status != BatchProven {
		return nil
	}
	rec.Status = BatchSubmitted
	s.log.Info("batch submitted for settlement", "number", n)
	return s.putBatch(rec, false)
}

// recover restores the chain head, the batches closed but not cut, the
// open batch and the prover and settler queues from the store.
func (s *Sequencer) recover() error {
	if err := s.failed.load(s.st); err != nil {
		return fmt.Errorf("sequencer: loading failed transactions: %w", err)
	}
	v, err := getRecord(s.st, state.NamespaceMeta, keyHead)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		if s.head, err = decodeHead(v); err != nil {
			return err
		}
	}
	s.headMu.head = s.head
	cutUpTo := s.st.Tree().Number()
	s.batch = s.newOpenBatch(cutUpTo+1, s.head.Number+1)
	// The operations of batches not cut yet are those of the newest
	// mini-blocks, whose headers name them.
	var blocks []*MiniBlock
	for n := s.head.Number; n > 0; n-- {
		mb, err := s.MiniBlock(n)
		if err != nil {
			return fmt.Errorf("sequencer: recover mini-block %d: %w", n, err)
		}
		if mb.Header.Batch <= cutUpTo {
			break
		}
		blocks = append(blocks, mb)
	}
	slices.Reverse(blocks)
	closed := false
	for _, mb := range blocks {
		if mb.Header.Batch == s.batch.number+1 && !closed {
			// The batch was closed between mini-blocks, since a later
			// one exists.
			s.handOffAt(mb.Header.Number - 1)
		}
		closed = false
		if mb.Header.Batch != s.batch.number {
			return fmt.Errorf("%w: mini-block %d is in batch %d, expected %d", ErrChain, mb.Header.Number, mb.Header.Batch, s.batch.number)
		}
		s.batch.firstBlock = min(s.batch.firstBlock, mb.Header.Number)
		for i := range mb.Receipts {
			r := &mb.Receipts[i]
			if r.Err != nil {
				continue
			}
			if s.batch.used == 0 {
				s.batch.firstAt = time.UnixMicro(int64(mb.Header.Time))
			}
			s.batch.ops = append(s.batch.ops, r.Op)
			s.batch.hashes = append(s.batch.hashes, r.TxHash)
			s.batch.used += r.Op.Type.Chunks()
		}
		if mb.CutAfter {
			s.handOffAt(mb.Header.Number)
			closed = true
		}
	}
	if s.batch.used > 0 {
		// Closed between mini-blocks (timeout) without a later block?
		_, err := getRecord(s.st, state.NamespaceBatch, closeKey(s.batch.number))
		switch {
		case err == nil:
			s.handOff()
		case !errors.Is(err, ErrNotFound):
			return err
		}
	}
	return s.st.Scan(state.NamespaceBatch, []byte{'r'}, func(_, v []byte) error {
		rec, err := decodeBatch(v)
		if err != nil {
			return err
		}
		switch rec.Status {
		case BatchCut:
			s.proveQ.push(rec.Number)
		case BatchProven:
			s.settleQ.push(rec.Number)
		}
		return nil
	})
}

// handOffAt hands the open batch to the cutter as closed after mini-block
// last (recovery).
func (s *Sequencer) handOffAt(last uint64) {
	ob := s.batch
	s.cutQ.push(&closedBatch{number: ob.number, ops: ob.ops, hashes: ob.hashes, used: ob.used,
		firstBlock: ob.firstBlock, lastBlock: last})
	s.batch = s.newOpenBatch(ob.number+1, last+1)
}
