package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/sequencer"
	"github.com/veloxlabs/velox/settlement"
)

// proofService implements sequencer.Prover: it proves the batches it is
// given, in order, one at a time (a proof already uses every core), and
// hands each proof to the sequencer with Proven.
//
// It proves with settlement.Prove, not prover.Service: the L1 verifier
// needs the Keccak hash-to-field for the commitment, which
// prover.Keys.ProveBatch does not take yet.
type proofService struct {
	keys *prover.Keys
	seq  *sequencer.Sequencer
	m    *metrics
	log  *slog.Logger
	jobs chan *ledger.BatchWitness

	mu struct {
		sync.Mutex
		// All guarded by mu.
		inFlight      int
		proven        uint64
		failed        uint64
		lastBatch     uint64
		lastDur       time.Duration
		lastErr       string
		seenLastBatch bool
	}
}

var _ sequencer.Prover = (*proofService)(nil)

func newProofService(k *prover.Keys, m *metrics, log *slog.Logger) *proofService {
	return &proofService{keys: k, m: m, log: log.With("component", "prover"), jobs: make(chan *ledger.BatchWitness, 1)}
}

// Submit queues w; it blocks while a batch is already waiting (the
// sequencer retries later if ctx ends first).
func (p *proofService) Submit(ctx context.Context, w *ledger.BatchWitness) error {
	select {
	case p.jobs <- w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run proves queued batches until ctx ends.
func (p *proofService) run(ctx context.Context) {
	for {
		var w *ledger.BatchWitness
		select {
		case w = <-p.jobs:
		case <-ctx.Done():
			return
		}
		p.mu.Lock()
		p.mu.inFlight = 1
		p.mu.Unlock()
		start := time.Now()
		proof, err := settlement.Prove(p.keys, w)
		d := time.Since(start)
		p.mu.Lock()
		p.mu.inFlight = 0
		p.mu.lastBatch, p.mu.lastDur, p.mu.seenLastBatch = w.Number, d, true
		if err != nil {
			p.mu.failed++
			p.mu.lastErr = err.Error()
		} else {
			p.mu.proven++
			p.mu.lastErr = ""
		}
		p.mu.Unlock()
		if err != nil {
			// A witness the circuit rejects is a bug: retrying cannot help.
			p.log.Error("batch proof failed", "batch", w.Number, "err", err)
			continue
		}
		p.m.prove.Observe(d.Seconds())
		p.log.Info("batch proven", "batch", w.Number, "took", d)
		for {
			err := p.seq.Proven(ctx, w.Number, proof)
			if err == nil || ctx.Err() != nil {
				break
			}
			p.log.Warn("recording proof", "batch", w.Number, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (p *proofService) status() ProverStatusJSON {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := ProverStatusJSON{Circuit: p.keys.Config.String(), Slots: p.keys.Config.Slots, Depth: p.keys.Config.Depth, DevKeys: p.keys.Dev,
		InFlight: p.mu.inFlight, Queued: len(p.jobs), Proven: p.mu.proven, Failed: p.mu.failed, LastError: p.mu.lastErr}
	if p.mu.seenLastBatch {
		s.LastBatch = u64p(p.mu.lastBatch)
		s.LastProveSeconds = p.mu.lastDur.Seconds()
	}
	return s
}
