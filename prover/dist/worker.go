package dist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/veloxlabs/velox/prover"
)

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Conn is the connection to NATS (the worker does not close it).
	Conn *nats.Conn
	// ID names the worker in results, heartbeats and logs (e.g. host-pid).
	ID string
	// Keys are the circuits the worker serves. If empty, it serves every
	// circuit published in the keys bucket when it starts, loading each
	// from KeyDir or fetching it from the bucket into KeyDir.
	Keys   []*prover.Keys
	KeyDir string
	// Backend proves (default prover.Velox, on accel).
	Backend prover.Backend
	// Jobs is how many jobs the worker proves at once (default 1). Two
	// overlap one proof's solving and witness work with another's MSMs and
	// FFTs, for more proofs per hour at twice the memory.
	Jobs int
	Log  *slog.Logger

	// HoldJob delays every proof by this long after taking the job: fault
	// injection for tests that must kill a worker in the middle of a job.
	HoldJob time.Duration
	// mangle, if set, rewrites each proof before it is published (tests of
	// a worker that sends corrupt proofs).
	mangle func([]byte) []byte
}

// Worker takes proving jobs from the queue and publishes their results,
// WorkerConfig.Jobs at a time (each proof already uses every core).
type Worker struct {
	cfg WorkerConfig
	js  jetstream.JetStream
	log *slog.Logger

	mu struct {
		sync.Mutex
		inFlight                   int
		batch                      uint64
		proven, failed, handedBack uint64
		proving                    time.Duration
	}
}

// WorkerStats are a worker's counters since it started.
type WorkerStats struct {
	InFlight int
	// Proven and Failed count published results; HandedBack the jobs
	// returned to the queue on stop.
	Proven, Failed, HandedBack uint64
	// Proving sums the time spent proving (and self-checking) batches.
	Proving time.Duration
}

// Stats returns the worker's counters.
func (w *Worker) Stats() WorkerStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return WorkerStats{InFlight: w.mu.inFlight, Proven: w.mu.proven, Failed: w.mu.failed, HandedBack: w.mu.handedBack, Proving: w.mu.proving}
}

// NewWorker returns a worker for cfg.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Conn == nil || cfg.ID == "" {
		return nil, errors.New("dist: a worker needs a NATS connection and an ID")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = 1
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, js: js, log: cfg.Log.With("component", "prover-worker", "worker", cfg.ID)}, nil
}

type served struct {
	id   string
	keys *prover.Keys
	cons jetstream.Consumer
	// ackWait is the consumer's, for the heartbeat interval.
	ackWait time.Duration
}

// Run serves jobs until ctx ends. A job in progress when ctx ends is
// handed back to the queue (negative acknowledgement) at once, so another
// worker can take it without waiting for the ack deadline.
func (w *Worker) Run(ctx context.Context) error {
	circuits, err := w.circuits(ctx)
	if err != nil {
		return err
	}
	go w.heartbeats(ctx, circuits)
	slots := make(chan struct{}, w.cfg.Jobs)
	var jobs sync.WaitGroup
	defer jobs.Wait()
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		c := circuits[i%len(circuits)]
		msg, err := c.cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				break
			}
			if !errors.Is(err, jetstream.ErrMsgIteratorClosed) && !errors.Is(err, nats.ErrTimeout) {
				w.log.Debug("fetching a job", "err", err)
			}
			if !errors.Is(err, nats.ErrTimeout) {
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		jobs.Add(1)
		go func() {
			defer jobs.Done()
			defer func() { <-slots }()
			w.handle(ctx, c, msg)
		}()
	}
	return ctx.Err()
}

// circuits resolves the served circuits and binds their consumers, waiting
// for the node to create them.
func (w *Worker) circuits(ctx context.Context) ([]*served, error) {
	keys := w.cfg.Keys
	for len(keys) == 0 {
		ids, err := PublishedCircuits(ctx, w.js)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			w.log.Info("loading circuit keys", "circuit", id, "dir", w.cfg.KeyDir)
			k, err := LoadKeys(ctx, w.js, w.cfg.KeyDir, id)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			w.log.Info("waiting for a node to publish circuit keys", "bucket", KeysBucket)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(2 * time.Second):
			}
		}
	}
	var out []*served
	for _, k := range keys {
		id := CircuitID(k)
		for {
			cons, err := w.js.Consumer(ctx, JobsStream, consumerName(id))
			if err == nil {
				info := cons.CachedInfo()
				out = append(out, &served{id: id, keys: k, cons: cons, ackWait: info.Config.AckWait})
				w.log.Info("serving circuit", "circuit", id, "ack_wait", info.Config.AckWait)
				break
			}
			w.log.Info("waiting for the node's job queue", "circuit", id, "err", err)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(2 * time.Second):
			}
		}
	}
	return out, nil
}

func (w *Worker) handle(ctx context.Context, c *served, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		w.log.Warn("job without metadata: dropped", "err", err)
		_ = msg.Term()
		return
	}
	h, err := parseJobHeader(msg.Headers())
	if err != nil {
		w.log.Warn("malformed job: dropped", "err", err)
		_ = msg.TermWithReason(err.Error())
		return
	}
	log := w.log.With("batch", h.batch, "attempt", h.attempt, "delivery", meta.NumDelivered)
	// A worker whose earlier attempt failed leaves the job to the others,
	// unless it keeps coming back (no one else is serving).
	if slices.Contains(h.exclude, w.cfg.ID) && meta.NumDelivered < 3 {
		log.Info("leaving a job this worker failed to another worker")
		_ = msg.NakWithDelay(time.Second)
		return
	}
	res := &Result{Circuit: c.id, Batch: h.batch, Attempt: h.attempt, Worker: w.cfg.ID, Delivery: meta.NumDelivered,
		QueueMillis: float64(time.Since(meta.Timestamp).Microseconds()) / 1000}
	w.addInFlight(h.batch, 1)
	defer w.addInFlight(h.batch, -1)
	log.Info("proving batch")

	// Heartbeats keep the job ours while the proof runs.
	done := make(chan struct{})
	var hb sync.WaitGroup
	hb.Add(1)
	go func() {
		defer hb.Done()
		every := max(c.ackWait/3, 100*time.Millisecond)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					log.Warn("heartbeat", "err", err)
				}
			}
		}
	}()
	type outcome struct {
		proof []byte
		err   error
		took  time.Duration
	}
	out := make(chan outcome, 1)
	go func() {
		start := time.Now()
		if w.cfg.HoldJob > 0 {
			time.Sleep(w.cfg.HoldJob)
		}
		p, err := w.prove(ctx, c.keys, msg.Data())
		out <- outcome{p, err, time.Since(start)}
	}()
	var o outcome
	select {
	case o = <-out:
	case <-ctx.Done():
		close(done)
		hb.Wait()
		// Hand the job back now rather than after the ack deadline.
		_ = msg.Nak()
		w.mu.Lock()
		w.mu.handedBack++
		w.mu.Unlock()
		log.Info("stopping: job handed back to the queue")
		return
	}
	close(done)
	hb.Wait()
	res.ProveMillis = float64(o.took.Microseconds()) / 1000
	if o.err != nil {
		res.Error = o.err.Error()
		log.Warn("proof failed", "err", o.err)
	} else {
		res.Proof = o.proof
		if w.cfg.mangle != nil {
			res.Proof = w.cfg.mangle(res.Proof)
		}
	}
	if err := w.publish(ctx, res); err != nil {
		// Not acknowledged: the job is redelivered after the ack wait.
		log.Warn("publishing the result failed; the job will be redelivered", "err", err)
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		// The result is stored; a redelivered job's second result is
		// dropped by the node as a duplicate.
		log.Warn("acknowledging the job", "err", err)
	}
	w.mu.Lock()
	if o.err != nil {
		w.mu.failed++
	} else {
		w.mu.proven++
	}
	w.mu.proving += o.took
	w.mu.Unlock()
	if o.err == nil {
		log.Info("batch proven", "took", o.took)
	}
}

func (w *Worker) prove(ctx context.Context, k *prover.Keys, data []byte) ([]byte, error) {
	bw, err := decodeJob(data)
	if err != nil {
		return nil, err
	}
	p, err := k.ProveBatch(ctx, bw, w.cfg.Backend)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := p.Proof.WriteRawTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (w *Worker) publish(ctx context.Context, r *Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_, last = w.js.Publish(pctx, resultSubject(r.Circuit), b, jetstream.WithMsgID(r.msgID()))
		cancel()
		if last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (stopping)", last)
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	return last
}

func (w *Worker) addInFlight(batch uint64, d int) {
	w.mu.Lock()
	w.mu.inFlight += d
	if d > 0 {
		w.mu.batch = batch
	}
	w.mu.Unlock()
}

func (w *Worker) heartbeats(ctx context.Context, circuits []*served) {
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		w.mu.Lock()
		hb := Heartbeat{Worker: w.cfg.ID, InFlight: w.mu.inFlight, Batch: w.mu.batch, Proven: w.mu.proven, Failed: w.mu.failed}
		w.mu.Unlock()
		b, _ := json.Marshal(hb)
		for _, c := range circuits {
			_ = w.cfg.Conn.Publish(workerSubject(c.id), b)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
