package prover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"golang.org/x/crypto/sha3"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover/circuit"
)

// Backend selects the Groth16 implementation.
type Backend uint8

const (
	// Velox is this package's Prove, on accel's MSM and NTT kernels.
	Velox Backend = iota
	// Gnark is gnark's groth16.Prove: the baseline and the fallback.
	Gnark
)

func (b Backend) String() string {
	if b == Gnark {
		return "gnark"
	}
	return "velox"
}

// Service errors.
var (
	// ErrStopped is returned by Submit after Stop.
	ErrStopped = errors.New("prover: service stopped")
	// ErrNotStarted is returned by Submit before Start.
	ErrNotStarted = errors.New("prover: service not started")
)

// Timings of one proof.
type Timings struct {
	Assign time.Duration // witness assignment
	Prove  time.Duration // solving and the Groth16 prover
	Verify time.Duration // gnark's groth16.Verify of the result
	Total  time.Duration // from Submit to the result, queueing included
}

// Proof is a batch's validity proof.
type Proof struct {
	Number      uint64
	Proof       groth16.Proof
	PublicInput fr.Element
	Backend     Backend
	Timings     Timings
}

// ProveBatch proves one batch witness with the chosen backend and checks
// the proof with gnark's verifier. It returns an error if the witness
// does not fit or satisfy the circuit, or if the proof does not verify.
func (k *Keys) ProveBatch(ctx context.Context, w *ledger.BatchWitness, b Backend) (*Proof, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var t Timings
	start := time.Now()
	a, err := circuit.Assign(k.Config, w)
	if err != nil {
		return nil, fmt.Errorf("prover: batch %d: %w", w.Number, err)
	}
	full, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
	if err != nil {
		return nil, fmt.Errorf("prover: batch %d: witness: %w", w.Number, err)
	}
	t.Assign = time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start = time.Now()
	var proof groth16.Proof
	// The commitment challenge uses the hash of the L1 verifier (gnark's
	// ExportSolidity: legacy Keccak-256), so every proof also verifies on L1.
	if b == Gnark {
		proof, err = groth16.Prove(k.CCS, k.PK, full, backend.WithProverHashToFieldFunction(sha3.NewLegacyKeccak256()))
	} else {
		var p *Prover
		if p, err = k.Prover(); err == nil {
			proof, err = p.Prove(full, backend.WithProverHashToFieldFunction(sha3.NewLegacyKeccak256()))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("prover: batch %d (%v): %w", w.Number, b, err)
	}
	t.Prove = time.Since(start)
	start = time.Now()
	pub, err := full.Public()
	if err != nil {
		return nil, err
	}
	if err := groth16.Verify(proof, k.VK, pub, backend.WithVerifierHashToFieldFunction(sha3.NewLegacyKeccak256())); err != nil {
		return nil, fmt.Errorf("prover: batch %d (%v): proof does not verify: %w", w.Number, b, err)
	}
	t.Verify = time.Since(start)
	var pi fr.Element
	if _, err := pi.SetInterface(a.PublicInput); err != nil {
		return nil, err
	}
	return &Proof{Number: w.Number, Proof: proof, PublicInput: pi, Backend: b, Timings: t}, nil
}

// ServiceOptions configure a Service.
type ServiceOptions struct {
	// InFlight bounds the batches being proven or waiting to be delivered
	// (and so the memory held: one witness and solution each). Default 2,
	// which overlaps one batch's solving with another's MSMs and FFTs.
	InFlight int
	Backend  Backend
	Log      *slog.Logger
}

// Result is the outcome of one submitted batch.
type Result struct {
	Number uint64
	Proof  *Proof
	Err    error
}

// Status is a snapshot of the service.
type Status struct {
	Backend  string
	InFlight int
	Proven   uint64
	Failed   uint64
	Last     *Timings
}

// Service is the pipelined prover: it consumes batch witnesses in order,
// proves up to InFlight of them concurrently, and delivers results in
// submission order on Results.
type Service struct {
	keys *Keys
	o    ServiceOptions

	slots   chan struct{} // one token per batch in flight
	order   chan *job     // submission order, for in-order delivery
	results chan Result
	abort   context.CancelFunc
	ctx     context.Context
	wg      sync.WaitGroup

	mu struct {
		sync.Mutex
		stopped  bool
		inFlight int
		proven   uint64
		failed   uint64
		last     *Timings
	}
}

type job struct {
	w     *ledger.BatchWitness
	start time.Time
	done  chan Result
}

// NewService returns a stopped service proving with k.
func NewService(k *Keys, o ServiceOptions) *Service {
	if o.InFlight <= 0 {
		o.InFlight = 2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{keys: k, o: o, slots: make(chan struct{}, o.InFlight), order: make(chan *job, o.InFlight), results: make(chan Result, o.InFlight)}
}

// Start launches the delivery loop. ctx bounds the service's lifetime;
// Stop ends it earlier.
func (s *Service) Start(ctx context.Context) error {
	s.ctx, s.abort = context.WithCancel(ctx)
	s.wg.Add(1)
	go s.deliver()
	return nil
}

// Submit queues a batch. It blocks while InFlight batches are pending,
// which bounds memory, and returns ctx's error or ErrStopped if it gives up,
// and ErrNotStarted before Start.
func (s *Service) Submit(ctx context.Context, w *ledger.BatchWitness) error {
	if s.ctx == nil {
		return ErrNotStarted
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrStopped
	}
	s.mu.Lock()
	if s.mu.stopped {
		s.mu.Unlock()
		<-s.slots
		return ErrStopped
	}
	s.mu.inFlight++
	s.wg.Add(1)
	s.mu.Unlock()
	j := &job{w: w, start: time.Now(), done: make(chan Result, 1)}
	s.order <- j // never blocks: capacity equals the slot count
	go func() {
		defer s.wg.Done()
		p, err := s.keys.ProveBatch(s.ctx, w, s.o.Backend)
		if p != nil {
			p.Timings.Total = time.Since(j.start)
		}
		j.done <- Result{Number: w.Number, Proof: p, Err: err}
	}()
	return nil
}

// Results delivers one Result per submitted batch, in submission order.
// It is closed after Stop.
func (s *Service) Results() <-chan Result { return s.results }

func (s *Service) deliver() {
	defer s.wg.Done()
	defer close(s.results)
	for {
		var j *job
		select {
		case j = <-s.order:
		case <-s.ctx.Done():
			return
		}
		var r Result
		select {
		case r = <-j.done:
		case <-s.ctx.Done():
			return
		}
		s.mu.Lock()
		s.mu.inFlight--
		if r.Err != nil {
			s.mu.failed++
			s.o.Log.Error("batch proof failed", "batch", r.Number, "err", r.Err)
		} else {
			s.mu.proven++
			t := r.Proof.Timings
			s.mu.last = &t
			s.o.Log.Info("batch proven", "batch", r.Number, "backend", r.Proof.Backend, "prove", t.Prove, "total", t.Total)
		}
		s.mu.Unlock()
		select {
		case s.results <- r:
		case <-s.ctx.Done():
			return
		}
		<-s.slots
	}
}

// Stop stops accepting batches, abandons the ones in flight and waits for
// every goroutine of the service, or for ctx.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.mu.stopped = true
	s.mu.Unlock()
	if s.abort != nil {
		s.abort()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status reports the service's counters.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Backend: s.o.Backend.String(), InFlight: s.mu.inFlight, Proven: s.mu.proven, Failed: s.mu.failed, Last: s.mu.last}
}
