package dist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"golang.org/x/crypto/sha3"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
)

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	Conn *nats.Conn
	// Keys are the node's circuit keys: their verifying key checks every
	// proof; KeyDir is where LoadOrSetup keeps them (they are published to
	// the keys bucket for workers that lack them).
	Keys   *prover.Keys
	KeyDir string
	// OnProof receives each verified proof, once per batch, in the order
	// they are verified (the sequencer settles in batch order). An error
	// retries the delivery later.
	OnProof func(ctx context.Context, batch uint64, proof groth16.Proof) error
	// AckWait is how long a job may go without a heartbeat before it is
	// redelivered (default DefaultAckWait); MaxDeliver bounds deliveries of
	// one attempt (default DefaultMaxDeliver); MaxAttempts bounds attempts
	// (failed or rejected proofs, or deliveries exhausted) before the job is
	// parked (default DefaultMaxAttempts); MaxPending bounds the jobs queued
	// or being proven (Submit blocks beyond it; default DefaultMaxPending).
	AckWait                             time.Duration
	MaxDeliver, MaxAttempts, MaxPending int
	Metrics                             Metrics
	Log                                 *slog.Logger
}

// Metrics receives the dispatcher's measurements (the node provides
// Prometheus). Implementations must be safe for concurrent use.
type Metrics interface {
	// QueueDepth reports jobs waiting and jobs being proven.
	QueueDepth(waiting, inFlight int)
	// WorkerJobs reports a worker's jobs in flight (negative: forget it).
	WorkerJobs(worker string, n int)
	// Proof observes a verified proof's worker time and its time from
	// publication to verification.
	Proof(prove, total time.Duration)
	Redelivered(n int)
	Rejected()
	Duplicate()
	Parked()
}

type nopMetrics struct{}

func (nopMetrics) QueueDepth(int, int)                {}
func (nopMetrics) WorkerJobs(string, int)             {}
func (nopMetrics) Proof(time.Duration, time.Duration) {}
func (nopMetrics) Redelivered(int)                    {}
func (nopMetrics) Rejected()                          {}
func (nopMetrics) Duplicate()                         {}
func (nopMetrics) Parked()                            {}

// ParkedJob is a job that failed MaxAttempts times.
type ParkedJob struct {
	Batch    uint64    `json:"batch"`
	Attempts int       `json:"attempts"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// WorkerStatus is what the node last heard from a worker.
type WorkerStatus struct {
	ID       string    `json:"id"`
	InFlight int       `json:"inFlight"`
	Batch    uint64    `json:"batch,omitempty"`
	Proven   uint64    `json:"proven"`
	Failed   uint64    `json:"failed"`
	LastSeen time.Time `json:"lastSeen"`
}

// Status is a snapshot of the queue as the node sees it.
type Status struct {
	Circuit string `json:"circuit"`
	// Pending are jobs published and not yet proven; Waiting and InFlight
	// split the queue as the server reports it.
	Pending, Waiting, InFlight int
	Proven, Rejected           uint64
	Duplicates, Redeliveries   uint64
	LastBatch                  *uint64
	LastProve, LastTotal       time.Duration
	LastError                  string
	// Overhead sums, over verified proofs, the time from publishing a job
	// to its verified proof minus the worker's proving time: queueing,
	// transport, decoding and the node's verification.
	Overhead time.Duration
	Workers  []WorkerStatus
	Parked   []ParkedJob
}

type job struct {
	w         *ledger.BatchWitness
	attempt   int
	exclude   []string
	published time.Time
	reasons   []string
}

// Dispatcher is the node's side of the queue: it publishes batches as jobs
// and turns results into verified proofs. It implements sequencer.Prover.
type Dispatcher struct {
	cfg     DispatcherConfig
	circuit string
	js      jetstream.JetStream
	jobs    jetstream.Stream
	log     *slog.Logger
	room    chan struct{} // signalled when a pending job leaves
	// run distinguishes this dispatcher's job IDs from an earlier
	// process's, so a batch resubmitted after a restart is queued again
	// rather than dropped by the stream's duplicate window.
	run string

	mu struct {
		sync.Mutex
		pending  map[uint64]*job
		parked   map[uint64]ParkedJob
		workers  map[string]WorkerStatus
		waiting  int
		inFlight int

		proven, rejected, duplicates, redeliveries uint64
		lastBatch                                  *uint64
		lastProve, lastTotal                       time.Duration
		lastErr                                    string
		overhead                                   time.Duration
	}
}

// NewDispatcher creates (or updates) the streams and the circuit's
// consumers and publishes the circuit's keys for workers.
func NewDispatcher(ctx context.Context, cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Conn == nil || cfg.Keys == nil || cfg.OnProof == nil {
		return nil, errors.New("dist: a dispatcher needs a connection, keys and OnProof")
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.MaxDeliver <= 0 {
		cfg.MaxDeliver = DefaultMaxDeliver
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{cfg: cfg, circuit: CircuitID(cfg.Keys), js: js, log: cfg.Log.With("component", "prover-queue"),
		room: make(chan struct{}, 1), run: nuid.Next()}
	d.mu.pending = map[uint64]*job{}
	d.mu.parked = map[uint64]ParkedJob{}
	d.mu.workers = map[string]WorkerStatus{}

	if d.jobs, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: JobsStream, Subjects: []string{jobsPrefix + ">"},
		Description: "Velox proving jobs", Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		Duplicates: 10 * time.Minute, MaxMsgSize: MaxJobBytes}); err != nil {
		return nil, fmt.Errorf("dist: jobs stream: %w", err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: ResultsStream, Subjects: []string{resultsPrefix + ">"},
		Description: "Velox proving results", Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		Duplicates: 10 * time.Minute}); err != nil {
		return nil, fmt.Errorf("dist: results stream: %w", err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{Durable: consumerName(d.circuit),
		Description: "prover workers of " + d.circuit, FilterSubject: jobSubject(d.circuit), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver, MaxAckPending: -1}); err != nil {
		return nil, fmt.Errorf("dist: workers' consumer: %w", err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, ResultsStream, jetstream.ConsumerConfig{Durable: resultsConsumer(d.circuit),
		Description: "node results of " + d.circuit, FilterSubject: resultSubject(d.circuit), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: time.Minute}); err != nil {
		return nil, fmt.Errorf("dist: results consumer: %w", err)
	}
	if cfg.KeyDir != "" {
		if err := PublishKeys(ctx, js, cfg.KeyDir, cfg.Keys); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Circuit returns the circuit name the dispatcher serves.
func (d *Dispatcher) Circuit() string { return d.circuit }

// Submit publishes batch w as a job. It blocks while MaxPending jobs are
// pending. Submitting a pending batch again is a no-op; a parked batch is
// retried from its first attempt.
func (d *Dispatcher) Submit(ctx context.Context, w *ledger.BatchWitness) error {
	for {
		d.mu.Lock()
		if _, ok := d.mu.pending[w.Number]; ok {
			d.mu.Unlock()
			return nil
		}
		if len(d.mu.pending) < d.cfg.MaxPending {
			delete(d.mu.parked, w.Number)
			j := &job{w: w}
			d.mu.pending[w.Number] = j
			d.mu.Unlock()
			if err := d.publish(ctx, j); err != nil {
				d.mu.Lock()
				delete(d.mu.pending, w.Number)
				d.mu.Unlock()
				return err
			}
			return nil
		}
		d.mu.Unlock()
		select {
		case <-d.room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *Dispatcher) publish(ctx context.Context, j *job) error {
	data, err := encodeJob(j.w)
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: jobSubject(d.circuit), Data: data}
	d.mu.Lock()
	h := jobHeader{batch: j.w.Number, attempt: j.attempt, exclude: slices.Clone(j.exclude)}
	j.published = time.Now()
	d.mu.Unlock()
	h.set(m, d.circuit, d.run)
	if _, err := d.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("dist: publishing batch %d: %w", j.w.Number, err)
	}
	d.log.Info("job queued", "batch", h.batch, "attempt", h.attempt, "bytes", len(data))
	return nil
}

// Run consumes results, worker heartbeats and delivery advisories until
// ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	cons, err := d.js.Consumer(ctx, ResultsStream, resultsConsumer(d.circuit))
	if err != nil {
		return err
	}
	hb, err := d.cfg.Conn.Subscribe(workerSubject(d.circuit), d.onHeartbeat)
	if err != nil {
		return err
	}
	defer hb.Unsubscribe()
	adv, err := d.cfg.Conn.Subscribe(fmt.Sprintf("%s.%s.%s", maxDeliveriesAdvisory, JobsStream, consumerName(d.circuit)),
		func(m *nats.Msg) { d.onMaxDeliveries(ctx, m) })
	if err != nil {
		return err
	}
	defer adv.Unsubscribe()
	cc, err := cons.Consume(func(m jetstream.Msg) { d.onResult(ctx, m) }, jetstream.PullMaxMessages(4))
	if err != nil {
		return err
	}
	defer cc.Stop()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			d.poll(ctx)
		}
	}
}

// poll refreshes the queue depth and forgets silent workers.
func (d *Dispatcher) poll(ctx context.Context) {
	if c, err := d.js.Consumer(ctx, JobsStream, consumerName(d.circuit)); err == nil {
		if info, err := c.Info(ctx); err == nil {
			d.mu.Lock()
			d.mu.waiting, d.mu.inFlight = int(info.NumPending), info.NumAckPending
			d.mu.Unlock()
			d.cfg.Metrics.QueueDepth(int(info.NumPending), info.NumAckPending)
		}
	}
	d.mu.Lock()
	for id, w := range d.mu.workers {
		if time.Since(w.LastSeen) > 3*HeartbeatInterval {
			delete(d.mu.workers, id)
			d.cfg.Metrics.WorkerJobs(id, -1)
		}
	}
	d.mu.Unlock()
}

func (d *Dispatcher) onHeartbeat(m *nats.Msg) {
	var hb Heartbeat
	if json.Unmarshal(m.Data, &hb) != nil || hb.Worker == "" {
		return
	}
	d.mu.Lock()
	if _, known := d.mu.workers[hb.Worker]; !known {
		d.log.Info("prover worker joined", "worker", hb.Worker)
	}
	d.mu.workers[hb.Worker] = WorkerStatus{ID: hb.Worker, InFlight: hb.InFlight, Batch: hb.Batch, Proven: hb.Proven, Failed: hb.Failed, LastSeen: time.Now()}
	d.mu.Unlock()
	d.cfg.Metrics.WorkerJobs(hb.Worker, hb.InFlight)
}

// onResult handles one result; the message is acknowledged once handled,
// or left for redelivery if the proof could not be recorded.
func (d *Dispatcher) onResult(ctx context.Context, m jetstream.Msg) {
	r, err := decodeResult(m.Data())
	if err != nil || r.Circuit != d.circuit {
		d.log.Warn("dropping a malformed result", "err", err)
		_ = m.Term()
		return
	}
	log := d.log.With("batch", r.Batch, "worker", r.Worker, "attempt", r.Attempt, "delivery", r.Delivery)
	d.mu.Lock()
	j, ok := d.mu.pending[r.Batch]
	d.mu.Unlock()
	if !ok {
		// Proven already (a redelivered job proven twice, or a result from
		// before a restart), or parked.
		d.mu.Lock()
		d.mu.duplicates++
		d.mu.Unlock()
		d.cfg.Metrics.Duplicate()
		log.Info("ignoring a result for a batch that is not pending")
		_ = m.Ack()
		return
	}
	if r.Delivery > 1 {
		d.mu.Lock()
		d.mu.redeliveries += r.Delivery - 1
		d.mu.Unlock()
		d.cfg.Metrics.Redelivered(int(r.Delivery - 1))
	}
	if r.Error != "" {
		d.retry(ctx, j, r.Worker, fmt.Sprintf("worker %s: %s", r.Worker, r.Error))
		_ = m.Ack()
		return
	}
	proof, err := d.verify(j.w, r.Proof)
	if err != nil {
		d.mu.Lock()
		d.mu.rejected++
		d.mu.Unlock()
		d.cfg.Metrics.Rejected()
		log.Warn("rejected a proof", "err", err)
		d.retry(ctx, j, r.Worker, fmt.Sprintf("worker %s sent a proof that does not verify: %v", r.Worker, err))
		_ = m.Ack()
		return
	}
	if err := d.cfg.OnProof(ctx, r.Batch, proof); err != nil {
		log.Warn("recording a proof failed; retrying", "err", err)
		_ = m.NakWithDelay(time.Second)
		return
	}
	d.mu.Lock()
	total := time.Since(j.published)
	delete(d.mu.pending, r.Batch)
	d.mu.proven++
	b := r.Batch
	d.mu.lastBatch, d.mu.lastProve, d.mu.lastTotal, d.mu.lastErr = &b, time.Duration(r.ProveMillis*float64(time.Millisecond)), total, ""
	d.mu.overhead += total - d.mu.lastProve
	d.mu.Unlock()
	d.signalRoom()
	d.cfg.Metrics.Proof(time.Duration(r.ProveMillis*float64(time.Millisecond)), total)
	log.Info("proof verified", "prove_ms", r.ProveMillis, "total", total)
	_ = m.Ack()
}

func (d *Dispatcher) signalRoom() {
	select {
	case d.room <- struct{}{}:
	default:
	}
}

// verify checks a worker's proof against the batch's public input.
func (d *Dispatcher) verify(w *ledger.BatchWitness, raw []byte) (groth16.Proof, error) {
	proof := groth16.NewProof(ecc.BN254)
	if _, err := proof.ReadFrom(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	a, err := circuit.Assign(d.cfg.Keys.Config, w)
	if err != nil {
		return nil, err
	}
	pub, err := frontend.NewWitness(a, ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err != nil {
		return nil, err
	}
	if err := groth16.Verify(proof, d.cfg.Keys.VK, pub, backend.WithVerifierHashToFieldFunction(sha3.NewLegacyKeccak256())); err != nil {
		return nil, err
	}
	return proof, nil
}

// retry publishes the job's next attempt, excluding worker, or parks it.
// A job no longer pending (proven or parked meanwhile) is left alone.
func (d *Dispatcher) retry(ctx context.Context, j *job, worker, reason string) {
	d.mu.Lock()
	if cur, ok := d.mu.pending[j.w.Number]; !ok || cur != j {
		d.mu.Unlock()
		return
	}
	j.reasons = append(j.reasons, reason)
	d.mu.lastErr = reason
	attempts := j.attempt + 1
	if attempts >= d.cfg.MaxAttempts {
		delete(d.mu.pending, j.w.Number)
		d.mu.parked[j.w.Number] = ParkedJob{Batch: j.w.Number, Attempts: attempts, Reason: strings.Join(j.reasons, "; "), At: time.Now()}
		d.mu.Unlock()
		d.signalRoom()
		d.cfg.Metrics.Parked()
		d.log.Error("proving job parked after repeated failures (restart the node to retry it)", "batch", j.w.Number, "attempts", attempts, "reason", reason)
		return
	}
	j.attempt = attempts
	if worker != "" && !slices.Contains(j.exclude, worker) {
		j.exclude = append(j.exclude, worker)
	}
	d.mu.Unlock()
	d.log.Warn("retrying a proving job", "batch", j.w.Number, "attempt", attempts, "reason", reason)
	for ctx.Err() == nil {
		err := d.publish(ctx, j)
		if err == nil {
			return
		}
		d.log.Warn("republishing a job", "batch", j.w.Number, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// onMaxDeliveries handles a job whose deliveries ran out without a result:
// its workers died or timed out every time.
func (d *Dispatcher) onMaxDeliveries(ctx context.Context, m *nats.Msg) {
	var adv struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if json.Unmarshal(m.Data, &adv) != nil {
		return
	}
	raw, err := d.jobs.GetMsg(ctx, adv.StreamSeq)
	if err != nil {
		d.log.Warn("max deliveries advisory for a job that is gone", "seq", adv.StreamSeq, "err", err)
		return
	}
	_ = d.jobs.DeleteMsg(ctx, adv.StreamSeq)
	h, err := parseJobHeader(raw.Header)
	if err != nil {
		return
	}
	d.mu.Lock()
	j, ok := d.mu.pending[h.batch]
	if ok && j.attempt != h.attempt {
		ok = false // a newer attempt is under way
	}
	d.mu.redeliveries += adv.Deliveries - 1
	d.mu.Unlock()
	d.cfg.Metrics.Redelivered(int(adv.Deliveries - 1))
	if ok {
		d.retry(ctx, j, "", fmt.Sprintf("delivered %d times without a result (workers died or missed the %v ack deadline)", adv.Deliveries, d.cfg.AckWait))
	}
}

// Status returns a snapshot.
func (d *Dispatcher) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := Status{Circuit: d.circuit, Pending: len(d.mu.pending), Waiting: d.mu.waiting, InFlight: d.mu.inFlight,
		Proven: d.mu.proven, Rejected: d.mu.rejected, Duplicates: d.mu.duplicates, Redeliveries: d.mu.redeliveries,
		LastProve: d.mu.lastProve, LastTotal: d.mu.lastTotal, LastError: d.mu.lastErr, Overhead: d.mu.overhead}
	if d.mu.lastBatch != nil {
		b := *d.mu.lastBatch
		s.LastBatch = &b
	}
	for _, w := range d.mu.workers {
		s.Workers = append(s.Workers, w)
	}
	sort.Slice(s.Workers, func(i, k int) bool { return s.Workers[i].ID < s.Workers[k].ID })
	for _, p := range d.mu.parked {
		s.Parked = append(s.Parked, p)
	}
	sort.Slice(s.Parked, func(i, k int) bool { return s.Parked[i].Batch < s.Parked[k].Batch })
	return s
}
