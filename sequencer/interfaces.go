package sequencer

import (
	"context"
	"time"

	"github.com/veloxlabs/velox/ledger"
)

// PriorityOp is an L1 priority operation (a deposit) ready for inclusion:
// confirmed on L1, with the deadline by which the L1 contract requires it.
type PriorityOp struct {
	Deposit  ledger.Deposit
	Deadline time.Time
}

// PriorityOps is the source of L1 priority operations (the L1 watcher).
// The sequencer persists the ID of the next operation it needs with every
// mini-block, so the source keeps no cursor for it and a restart resumes
// where the last committed mini-block left off.
type PriorityOps interface {
	// Pending returns up to max confirmed priority operations with IDs
	// from, from+1, … in L1 queue order (fewer, or none, if not yet
	// confirmed). It must not block for long: it is called by the
	// mini-block loop. Operations whose IDs do not continue the sequence
	// are ignored (and logged).
	Pending(ctx context.Context, from uint64, max int) ([]PriorityOp, error)
}

// Prover proves batches. Submit hands over a batch witness, in batch
// order; it may block to apply back-pressure and returns an error if the
// batch was not accepted (the sequencer retries after Config.RetryDelay).
// The proof is delivered later, out of band, with Sequencer.Proven. After
// a restart, batches not yet proven are submitted again.
type Prover interface {
	Submit(ctx context.Context, w *ledger.BatchWitness) error
}

// Settler posts proven batches to L1. Settle is called once per proven
// batch, in batch order, and retried (after Config.RetryDelay) until it
// returns nil; it must therefore be idempotent (a batch already accepted on
// L1 returns nil). Finality is reported later with Sequencer.Finalized.
type Settler interface {
	Settle(ctx context.Context, number uint64, proof []byte, w *ledger.BatchWitness) error
}

// Metrics receives the sequencer's measurements. Implementations must be
// cheap and safe for concurrent use; the node provides Prometheus.
type Metrics interface {
	// Preconfirmed observes the time from Submit to preconfirmation.
	Preconfirmed(d time.Duration)
	// MiniBlock observes a committed mini-block: entries, execution and
	// commit (fsync) time.
	MiniBlock(entries int, exec, commit time.Duration)
	// Mempool reports the number of queued transactions.
	Mempool(n int)
	// CheckBatch observes the transactions whose signatures one worker
	// checked together (see check.go).
	CheckBatch(txs int)
	// BatchCut observes a cut batch: chunks used by operations (the rest
	// is padding) and the time to build the witness and commit it.
	BatchCut(used int, d time.Duration)
	// BatchProven observes the time from cut to proof.
	BatchProven(d time.Duration)
	// Stages observes where a preconfirmed transaction's time in the
	// sequencer went, in order: admission and signature check (waiting
	// for a check batch included), ready in the pool until a mini-block
	// took it, execution and building of its block, waiting behind the
	// write in flight, and its block's synced write.
	Stages(check, ready, build, queued, write time.Duration)
}

// NopMetrics discards all measurements.
type NopMetrics struct{}

func (NopMetrics) Preconfirmed(time.Duration)                  {}
func (NopMetrics) MiniBlock(int, time.Duration, time.Duration) {}
func (NopMetrics) Mempool(int)                                 {}
func (NopMetrics) CheckBatch(int)                              {}
func (NopMetrics) BatchCut(int, time.Duration)                 {}
func (NopMetrics) BatchProven(time.Duration)                   {}
func (NopMetrics) Stages(_, _, _, _, _ time.Duration)          {}

var _ Metrics = NopMetrics{}
