package sequencer

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// loop produces mini-blocks until Stop, then includes what is ready one
// last time, waits for their commit and fails the rest of the mempool. It
// starts a step as soon as transactions are ready, and every BlockTime for
// deposits and batch timeouts; the committer writes what the steps build
// (group commit: what is built during a commit goes into the next one).
func (s *Sequencer) loop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.BlockTime)
	defer tick.Stop()
	sweep := time.NewTicker(min(s.cfg.QueueTTL/4+time.Millisecond, time.Second))
	defer sweep.Stop()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var err error
	for err == nil {
		select {
		case <-s.stop:
			err = s.step(ctx)
			if err == nil {
				err = s.pipe.drain()
			}
			s.pipe.close()
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
		case <-s.pool.ready:
		}
		s.blockLinger(linger)
		s.timing.stepStart.Store(time.Now().UnixNano())
		err = s.step(ctx)
		s.timing.stepStart.Store(0)
	}
	s.fatal.Store(&err)
	s.running.Store(false)
	s.log.Error("mini-block loop stopped", "err", err)
	// The committer returns after a failure, or else once what was
	// queued before the failure here is committed and announced.
	s.pipe.close()
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

// blockTarget is the number of ready transactions that ends a block
// linger at once.
const blockTarget = 2 * checkBatch

// blockLingerFor returns how long the loop may wait for more transactions
// before a step, given the mean time between arrivals: Config.MaxBlockLinger
// if at least two more are expected within it, else zero.
func (s *Sequencer) blockLingerFor(gap time.Duration) time.Duration {
	if f := s.knobs.blockLinger.Load(); f != nil {
		return (*f)()
	}
	if w := s.cfg.MaxBlockLinger; w > 0 && gap > 0 && gap*2 <= w {
		return w
	}
	return 0
}

// blockLinger waits, if transactions are ready and the arrival rate calls
// for it (blockLingerFor), until blockTarget transactions are ready, the
// linger ends or the sequencer stops. Transactions admitted meanwhile
// share a check batch released at the linger's end (lingerUntil), and the
// loop then waits for those checks (awaitChecks), so that they join this
// mini-block and their signatures are hashed in vector lanes.
func (s *Sequencer) blockLinger(t *time.Timer) {
	s.checks.mu.Lock()
	gap := s.checks.gap
	s.checks.mu.Unlock()
	w := s.blockLingerFor(gap)
	if n := s.pool.readyCount(); w <= 0 || n == 0 || n >= blockTarget {
		return
	}
	s.timing.lingerEnd.Store(time.Now().Add(w).UnixNano())
	defer s.timing.lingerEnd.Store(0)
	t.Reset(w)
	defer t.Stop()
	for s.pool.readyCount() < blockTarget {
		select {
		case <-s.pool.ready:
		case <-t.C:
			s.awaitChecks(t)
			return
		case <-s.stop:
			return
		}
	}
}

// awaitChecks gives the checks that lingered until the end of a block
// linger (lingerUntil) the time a full check batch takes to become ready.
func (s *Sequencer) awaitChecks(t *time.Timer) {
	if s.checking.Load() == 0 {
		return
	}
	t.Reset(time.Duration(s.timing.check.Load())*checkBatch + lingerSlack)
	for s.checking.Load() > 0 {
		select {
		case <-s.pool.ready:
		case <-t.C:
			return
		case <-s.stop:
			return
		}
	}
}

// step closes a timed-out batch, then produces the mini-blocks of the
// ready deposits and transactions, if any, and queues them for their
// synced write. A commit failure ends the loop.
func (s *Sequencer) step(ctx context.Context) error {
	if err := s.pipe.failure(); err != nil {
		return err
	}
	if s.batch.used > 0 && time.Since(s.batch.firstAt) >= s.cfg.BatchTimeout {
		// The close is written on the committed state.
		if err := s.pipe.drain(); err != nil {
			return err
		}
		if err := s.closeBatch(); err != nil {
			return err
		}
	}
	deps, err := s.pendingDeposits(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	txs := s.pool.readyTxs(s.cfg.MaxBlockTxs - len(deps))
	if len(deps)+len(txs) == 0 {
		return nil
	}
	err = s.produce(ctx, deps, txs)
	s.timing.stepped(time.Since(start))
	return err
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
	s.batch = s.newOpenBatch(ob.number+1, s.head.Number+1)
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
