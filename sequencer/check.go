package sequencer

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veloxlabs/velox/ledger"
)

// Admission checks transactions in small batches (ledger.CheckBatch hashes
// eight at a time in vector lanes, about three times cheaper per hash than
// one at a time, but only from four up) without a separate batching stage:
// a Submit queues its transaction, takes a check worker (Config.CheckWorkers
// bound them), and checks the oldest queued transactions, up to checkBatch,
// until its own has been taken by a worker.
//
// Under load the workers are seldom all busy, so a batch would mostly hold
// one transaction, hashed at the scalar cost. So while the mini-block loop
// runs a step (executing and building blocks; when it is idle, a
// transaction checked now is built into a block now), a queued
// transaction may wait for company: until checkBatch are queued or until
// its deadline (Sequencer.lingerUntil), whichever comes first. The
// deadline is the later of
//   - shortly before the running step is expected to end: the next step
//     takes the ready transactions then, so waiting until then costs no
//     latency;
//   - the time checkBatch arrivals take at the recent arrival rate, bounded
//     by Config.MaxCheckLinger, if that bound lets at least laneMin
//     transactions share the batch: a small delay for a check about half
//     as costly, taken only at rates where the CPU matters.
//
// While the loop lingers before a step (blockLinger in loop.go), nothing
// is being written: a queued transaction then waits until the linger's
// end, and the loop waits for that check (awaitChecks), so that what is
// admitted during a linger is checked in one batch and joins the step.

// checkBatch is the most transactions one worker checks at a time: the
// lanes of the hashing kernels.
const checkBatch = 8

type checkReq struct {
	tx *ledger.Tx
	c  *ledger.Checked
	// taken is set when a worker has taken the request from the queue.
	taken atomic.Bool
	// done is closed when c is set.
	done chan struct{}
}

// checkQueue holds the transactions waiting for a check worker, oldest
// first.
type checkQueue struct {
	mu   sync.Mutex
	reqs []*checkReq
	// gate, if not nil, is closed when the queued transactions may be
	// checked: checkBatch of them are queued, or the linger deadline of the
	// first has passed (its timer).
	gate  chan struct{}
	timer *time.Timer
	// gap is the moving average of the time between arrivals (last).
	gap  time.Duration
	last time.Time
}

// closedGate is a gate that never holds anything back.
var closedGate = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// push queues r and returns the gate r waits at before it is checked. If r
// is the first to wait, until (given the time and the mean time between
// arrivals) returns its deadline, or zero for none.
func (q *checkQueue) push(r *checkReq, until func(now time.Time, gap time.Duration) time.Time) <-chan struct{} {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.last.IsZero() {
		q.gap += (now.Sub(q.last) - q.gap) / 8
	}
	q.last = now
	q.reqs = append(q.reqs, r)
	if q.gate == nil {
		u := until(now, q.gap)
		if u.IsZero() || len(q.reqs) >= checkBatch {
			return closedGate
		}
		g := make(chan struct{})
		q.gate = g
		q.timer = time.AfterFunc(time.Until(u), func() { q.open(g) })
		return g
	}
	g := q.gate
	if len(q.reqs) >= checkBatch {
		q.openLocked()
	}
	return g
}

// open opens g if it is still the queue's gate.
func (q *checkQueue) open(g chan struct{}) {
	q.mu.Lock()
	if q.gate == g {
		q.openLocked()
	}
	q.mu.Unlock()
}

func (q *checkQueue) openLocked() {
	close(q.gate)
	q.timer.Stop()
	q.gate, q.timer = nil, nil
}

// take removes and returns up to n of the oldest requests.
func (q *checkQueue) take(n int) []*checkReq {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.reqs))
	out := make([]*checkReq, n)
	copy(out, q.reqs)
	for _, r := range out {
		r.taken.Store(true)
	}
	q.reqs = append(q.reqs[:0], q.reqs[n:]...)
	if len(q.reqs) == 0 && q.gate != nil {
		// The gate's waiters have all been taken.
		q.openLocked()
	}
	return out
}

// remove removes r if no worker has taken it.
func (q *checkQueue) remove(r *checkReq) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.reqs, r); i >= 0 {
		q.reqs = slices.Delete(q.reqs, i, i+1)
	}
	if len(q.reqs) == 0 && q.gate != nil {
		q.openLocked()
	}
}

// check returns tx's stateless check (ledger.Check), made by this call or
// by another Submit's worker in the same batch.
func (s *Sequencer) check(ctx context.Context, tx *ledger.Tx) (*ledger.Checked, error) {
	r := &checkReq{tx: tx, done: make(chan struct{})}
	select {
	case <-s.checks.push(r, s.lingerUntil):
	case <-r.done:
	case <-ctx.Done():
		s.checks.remove(r)
		return nil, ctx.Err()
	}
	// Work until a worker (this one or another) has taken r: with more
	// than checkBatch queued ahead of it, one turn may not reach it.
	for !r.taken.Load() {
		if err := s.sem.Acquire(ctx, 1); err != nil {
			s.checks.remove(r)
			return nil, err
		}
		if batch := s.checks.take(checkBatch); len(batch) > 0 {
			start := time.Now()
			txs := make([]*ledger.Tx, len(batch))
			for i, b := range batch {
				txs[i] = b.tx
			}
			for i, c := range ledger.CheckBatch(txs, s.params) {
				batch[i].c = c
				close(batch[i].done)
			}
			s.timing.checked(len(batch), time.Since(start))
			s.m.CheckBatch(len(batch))
		}
		s.sem.Release(1)
	}
	select {
	case <-r.done:
		return r.c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lingerSlack is what a linger deadline leaves for waking up and taking a
// worker.
const lingerSlack = 200 * time.Microsecond

// laneMin is the smallest batch whose hashes ledger.CheckBatch computes in
// vector lanes.
const laneMin = 4

// lingerUntil returns until when a transaction admitted at now may wait
// for others to share its check, or zero if it should be checked at once;
// gap is the mean time between arrivals. See the top of the file.
func (s *Sequencer) lingerUntil(now time.Time, gap time.Duration) time.Time {
	if f := s.knobs.lingerUntil.Load(); f != nil {
		return (*f)()
	}
	start, end := s.timing.stepStart.Load(), s.timing.lingerEnd.Load()
	if s.cfg.MaxCheckLinger <= 0 || (start == 0 && end == 0) {
		return time.Time{}
	}
	var u time.Time
	if start == 0 {
		// The loop lingers before a step and waits for the checks
		// released at the linger's end (awaitChecks).
		u = time.Unix(0, end)
	} else {
		// Free: three quarters of the average step (a step shorter than
		// average should not leave the waiting behind), less the check
		// of a full batch.
		step := time.Duration(s.timing.step.Load())
		full := time.Duration(s.timing.check.Load()) * checkBatch
		u = time.Unix(0, start).Add(step*3/4 - full - lingerSlack)
		// Cheap: filling the batch at the arrival rate.
		if gap > 0 && gap*(laneMin-1) <= s.cfg.MaxCheckLinger {
			if fill := now.Add(min(gap*(checkBatch-1), s.cfg.MaxCheckLinger)); fill.After(u) {
				u = fill
			}
		}
	}
	if limit := now.Add(s.cfg.MaxCheckLinger); u.After(limit) {
		u = limit
	}
	if !u.After(now) {
		return time.Time{}
	}
	return u
}

// timing holds the averages lingerUntil estimates from.
type timing struct {
	// stepStart is when the running step of the mini-block loop took the
	// ready transactions (unix nanoseconds), zero between steps.
	stepStart atomic.Int64
	// lingerEnd is when the loop's block linger ends (unix nanoseconds),
	// zero when it is not lingering.
	lingerEnd atomic.Int64
	// step is the moving average of the duration of the steps that
	// produced mini-blocks; check of the check time per transaction (ns).
	step, check atomic.Int64
}

func newTiming() *timing {
	t := &timing{}
	t.step.Store(int64(time.Millisecond))
	t.check.Store(int64(60 * time.Microsecond))
	return t
}

// ewma folds x into the moving average a with weight 1/8.
func ewma(a *atomic.Int64, x int64) {
	for {
		old := a.Load()
		if a.CompareAndSwap(old, old+(x-old)/8) {
			return
		}
	}
}

func (t *timing) checked(n int, d time.Duration) { ewma(&t.check, int64(d)/int64(n)) }

func (t *timing) stepped(d time.Duration) { ewma(&t.step, int64(d)) }
