package dist

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/ethereum/go-ethereum/common"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
)

var testCfg = circuit.Config{Slots: 4, Depth: 4, ChainID: 11}

var testKeys struct {
	once sync.Once
	dir  string
	k    *prover.Keys
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "velox-dist-keys-")
	if err != nil {
		panic(err)
	}
	testKeys.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func keysForTest(t *testing.T) *prover.Keys {
	t.Helper()
	testKeys.once.Do(func() {
		testKeys.k, testKeys.err = prover.LoadOrSetup(context.Background(), testKeys.dir, testCfg, prover.KeyOptions{Setup: true})
	})
	if testKeys.err != nil {
		t.Fatal(testKeys.err)
	}
	return testKeys.k
}

// batches returns n consecutive witnesses of real transfers and withdrawals.
func batches(t *testing.T, n int) []*ledger.BatchWitness {
	c := testchain.New(t, testCfg.Params(), 3, 1_000_000, 7)
	var ws []*ledger.BatchWitness
	for i := 0; i < n; i++ {
		a, b := c.Users[i%3], c.Users[(i+1)%3]
		ops := c.Execute(c.Transfer(a, b.Addr, 1000, 10, c.Nonce(a)))
		ops = append(ops, c.Execute(c.Withdraw(b, common.Address{0xee}, 500, 5, c.Nonce(b)))...)
		ws = append(ws, c.Commit(ops, testCfg.Slots))
	}
	return ws
}

// harness is an embedded server, a dispatcher and its received proofs.
type harness struct {
	t      *testing.T
	srv    *Server
	d      *Dispatcher
	ctx    context.Context
	mu     sync.Mutex
	proofs []uint64 // batches, in the order OnProof got them
}

func newHarness(t *testing.T, cfg DispatcherConfig) *harness {
	t.Helper()
	srv, err := StartServer(ServerConfig{Dir: t.TempDir(), Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, srv: srv, ctx: ctx}
	nc := h.conn("node")
	cfg.Conn, cfg.Keys, cfg.KeyDir = nc, keysForTest(t), testKeys.dir
	cfg.OnProof = func(_ context.Context, b uint64, p groth16.Proof) error {
		h.mu.Lock()
		h.proofs = append(h.proofs, b)
		h.mu.Unlock()
		return nil
	}
	if h.d, err = NewDispatcher(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	go h.d.Run(ctx)
	return h
}

func (h *harness) conn(name string) *nats.Conn {
	nc, err := Connect(h.srv.URL(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(nc.Close)
	return nc
}

// worker starts an in-process worker; cancel stops it and waits for it.
func (h *harness) worker(cfg WorkerConfig) (cancel func()) {
	h.t.Helper()
	_, cancel = h.startWorker(cfg)
	return cancel
}

func (h *harness) startWorker(cfg WorkerConfig) (*Worker, func()) {
	h.t.Helper()
	if cfg.Conn == nil {
		cfg.Conn = h.conn(cfg.ID)
	}
	w, err := NewWorker(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	stop := func() { cancel(); <-done }
	h.t.Cleanup(stop)
	return w, stop
}

func (h *harness) submit(ws ...*ledger.BatchWitness) {
	for _, w := range ws {
		if err := h.d.Submit(h.ctx, w); err != nil {
			h.t.Fatal(err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func (h *harness) waitFor(what string, d time.Duration, cond func(Status) bool) Status {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := h.d.Status()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; status %+v", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) provenBatches() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.proofs)
}

func TestTwoWorkersProveEveryBatchOnce(t *testing.T) {
	h := newHarness(t, DispatcherConfig{})
	k := keysForTest(t)
	h.worker(WorkerConfig{ID: "w1", Keys: []*prover.Keys{k}, Jobs: 2})
	// The second worker has no keys: it fetches them from the bucket.
	h.worker(WorkerConfig{ID: "w2", KeyDir: t.TempDir()})
	ws := batches(t, 4)
	h.submit(ws...)
	h.submit(ws[0]) // pending already: a no-op
	s := h.waitFor("4 proofs", 3*time.Minute, func(s Status) bool { return s.Proven == 4 })
	got := h.provenBatches()
	slices.Sort(got)
	if !slices.Equal(got, []uint64{ws[0].Number, ws[1].Number, ws[2].Number, ws[3].Number}) {
		t.Fatalf("proven batches %v", got)
	}
	if s.Pending != 0 || s.Rejected != 0 || len(s.Parked) != 0 {
		t.Fatalf("status %+v", s)
	}
	// Both workers report, and their counts add up (heartbeats lag).
	h.waitFor("both workers' heartbeats to count 4 proofs", 20*time.Second, func(s Status) bool {
		return len(s.Workers) == 2 && s.Workers[0].Proven+s.Workers[1].Proven == 4
	})
}

func TestCorruptProofIsRejectedAndRetriedElsewhere(t *testing.T) {
	// The liar leaves a job it failed to others only for its first few
	// deliveries, so it may be rejected twice before the honest worker
	// takes the job: allow the attempts for that.
	h := newHarness(t, DispatcherConfig{MaxAttempts: 5})
	k := keysForTest(t)
	h.worker(WorkerConfig{ID: "liar", Keys: []*prover.Keys{k}, mangle: func(p []byte) []byte {
		q := slices.Clone(p)
		q[len(q)/2] ^= 1
		return q
	}})
	w := batches(t, 1)[0]
	h.submit(w)
	h.waitFor("a rejected proof", 2*time.Minute, func(s Status) bool { return s.Rejected >= 1 })
	h.worker(WorkerConfig{ID: "honest", Keys: []*prover.Keys{k}})
	s := h.waitFor("the proof", 2*time.Minute, func(s Status) bool { return s.Proven == 1 })
	if got := h.provenBatches(); !slices.Equal(got, []uint64{w.Number}) {
		t.Fatalf("proofs delivered %v", got)
	}
	if s.Rejected < 1 || s.Rejected > 3 || len(s.Parked) != 0 {
		t.Fatalf("status %+v", s)
	}
}

func TestFailingJobIsParkedWithItsReason(t *testing.T) {
	h := newHarness(t, DispatcherConfig{MaxAttempts: 2})
	h.worker(WorkerConfig{ID: "w1", Keys: []*prover.Keys{keysForTest(t)}})
	w := batches(t, 1)[0]
	w.NewRoot.SetUint64(12345) // the circuit cannot prove this batch
	h.submit(w)
	s := h.waitFor("the job parked", 2*time.Minute, func(s Status) bool { return len(s.Parked) == 1 })
	if p := s.Parked[0]; p.Batch != w.Number || p.Attempts != 2 || p.Reason == "" {
		t.Fatalf("parked %+v", p)
	}
	if s.Pending != 0 || s.Proven != 0 || len(h.provenBatches()) != 0 {
		t.Fatalf("status %+v", s)
	}
	t.Logf("parked: %s", s.Parked[0].Reason)
}

func TestStoppingWorkerHandsItsJobBack(t *testing.T) {
	h := newHarness(t, DispatcherConfig{AckWait: time.Minute})
	k := keysForTest(t)
	slow, stop := h.startWorker(WorkerConfig{ID: "slow", Keys: []*prover.Keys{k}, HoldJob: time.Hour})
	w := batches(t, 1)[0]
	h.submit(w)
	h.waitFor("the slow worker to take the job", time.Minute, func(s Status) bool {
		return slices.ContainsFunc(s.Workers, func(w WorkerStatus) bool { return w.InFlight == 1 })
	})
	stop()
	start := time.Now()
	h.worker(WorkerConfig{ID: "fast", Keys: []*prover.Keys{k}})
	s := h.waitFor("the proof", 2*time.Minute, func(s Status) bool { return s.Proven == 1 })
	// Handed back, not waited out: well within the one-minute ack wait.
	if d := time.Since(start); d > 45*time.Second {
		t.Fatalf("took %v: the job was not handed back", d)
	}
	if s.Redeliveries != 1 {
		t.Fatalf("redeliveries %d, want 1", s.Redeliveries)
	}
	if st := slow.Stats(); st.HandedBack != 1 || st.Proven != 0 || st.InFlight != 0 {
		t.Fatalf("slow worker stats %+v", st)
	}
}

func TestDeadWorkersJobIsRedelivered(t *testing.T) {
	h := newHarness(t, DispatcherConfig{AckWait: 2 * time.Second})
	k := keysForTest(t)
	// The doomed worker's connection is closed under it mid-job: it stops
	// heartbeating and never answers, as if its process were killed.
	nc := h.conn("doomed")
	h.worker(WorkerConfig{ID: "doomed", Conn: nc, Keys: []*prover.Keys{k}, HoldJob: time.Hour})
	w := batches(t, 1)[0]
	h.submit(w)
	h.waitFor("the doomed worker to take the job", time.Minute, func(s Status) bool {
		return slices.ContainsFunc(s.Workers, func(w WorkerStatus) bool { return w.InFlight == 1 })
	})
	nc.Close()
	h.worker(WorkerConfig{ID: "survivor", Keys: []*prover.Keys{k}})
	s := h.waitFor("the proof", 2*time.Minute, func(s Status) bool { return s.Proven == 1 })
	if s.Redeliveries < 1 {
		t.Fatalf("redeliveries %d", s.Redeliveries)
	}
	// A late duplicate result (the dead worker's, had it finished) is
	// dropped.
	js, err := jetstream.New(h.conn("late"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(Result{Circuit: h.d.Circuit(), Batch: w.Number, Worker: "doomed", Delivery: 1, Proof: []byte{1}})
	if _, err := js.Publish(h.ctx, resultSubject(h.d.Circuit()), b); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the duplicate counted", 30*time.Second, func(s Status) bool { return s.Duplicates == 1 })
	if got := h.provenBatches(); !slices.Equal(got, []uint64{w.Number}) {
		t.Fatalf("proofs delivered %v", got)
	}
}

func TestCircuitIDRoundTrip(t *testing.T) {
	k := keysForTest(t)
	id := CircuitID(k)
	cfg, prefix, err := ParseCircuitID(id)
	if err != nil || cfg != k.Config || len(prefix) != 12 {
		t.Fatalf("ParseCircuitID(%q) = %v, %q, %v", id, cfg, prefix, err)
	}
	for _, bad := range []string{"", "batch-4-d4-c11", "batch-x-d4-c11-0123456789ab", "batch-4-d4-c11-0123456789AB", "batch-0-d4-c11-0123456789ab", "a.b"} {
		if _, _, err := ParseCircuitID(bad); err == nil {
			t.Errorf("ParseCircuitID(%q) accepted", bad)
		}
	}
}

func TestJobEncoding(t *testing.T) {
	w := batches(t, 1)[0]
	b, err := encodeJob(w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeJob(b)
	if err != nil || got.Number != w.Number || got.NewRoot != w.NewRoot || len(got.Slots) != len(w.Slots) {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, b[:len(b)/2]} {
		if _, err := decodeJob(bad); err == nil {
			t.Errorf("decodeJob(%d bytes) accepted", len(bad))
		}
	}
}
