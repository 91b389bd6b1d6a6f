package sequencer

import (
	"context"
	"slices"
	"sync"

	"github.com/veloxlabs/velox/ledger"
)

// Admission checks transactions in small batches (ledger.CheckBatch hashes
// eight at a time in vector lanes) without a separate batching stage: a
// Submit queues its transaction, takes a check worker (Config.CheckWorkers
// bound them), and checks the oldest queued transactions, up to checkBatch,
// until its own has been taken by a worker. Alone, a transaction is checked
// at once; under load, the transactions that arrived while the workers
// were busy are checked together.

// checkBatch is the most transactions one worker checks at a time: the
// lanes of the hashing kernels.
const checkBatch = 8

type checkReq struct {
	tx *ledger.Tx
	c  *ledger.Checked
	// done is closed when c is set.
	done chan struct{}
}

// checkQueue holds the transactions waiting for a check worker, oldest
// first.
type checkQueue struct {
	mu   sync.Mutex
	reqs []*checkReq
}

func (q *checkQueue) push(r *checkReq) {
	q.mu.Lock()
	q.reqs = append(q.reqs, r)
	q.mu.Unlock()
}

// take removes and returns up to n of the oldest requests.
func (q *checkQueue) take(n int) []*checkReq {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.reqs))
	out := make([]*checkReq, n)
	copy(out, q.reqs)
	q.reqs = append(q.reqs[:0], q.reqs[n:]...)
	return out
}

// remove removes r if no worker has taken it.
func (q *checkQueue) remove(r *checkReq) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.reqs, r); i >= 0 {
		q.reqs = slices.Delete(q.reqs, i, i+1)
	}
}

// queued reports whether r still waits for a worker.
func (q *checkQueue) queued(r *checkReq) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Contains(q.reqs, r)
}

// check returns tx's stateless check (ledger.Check), made by this call or
// by another Submit's worker in the same batch.
func (s *Sequencer) check(ctx context.Context, tx *ledger.Tx) (*ledger.Checked, error) {
	r := &checkReq{tx: tx, done: make(chan struct{})}
	s.checks.push(r)
	// Work until a worker (this one or another) has taken r: with more
	// than checkBatch queued ahead of it, one turn may not reach it.
	for queued := true; queued; {
		if err := s.sem.Acquire(ctx, 1); err != nil {
			s.checks.remove(r)
			return nil, err
		}
		if batch := s.checks.take(checkBatch); len(batch) > 0 {
			txs := make([]*ledger.Tx, len(batch))
			for i, b := range batch {
				txs[i] = b.tx
			}
			for i, c := range ledger.CheckBatch(txs, s.params) {
				batch[i].c = c
				close(batch[i].done)
			}
		}
		s.sem.Release(1)
		queued = s.checks.queued(r)
	}
	select {
	case <-r.done:
		return r.c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
