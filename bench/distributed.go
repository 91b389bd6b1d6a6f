package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/consensys/gnark/backend/groth16"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
	"github.com/veloxlabs/velox/prover/dist"
)

func init() {
	register(Suite{Name: "distributed", Doc: "proving through the NATS JetStream queue with 1 and 2 workers vs proving in-process", Run: runDistributed})
}

// runDistributed proves the same batches in-process (one after another)
// and through an embedded NATS server with K workers in this process. On
// one machine the workers share its cores, so workers-2 measures the
// queue's scaling overhead, not extra hardware.
func runDistributed(ctx context.Context, o Options, emit func(Result)) error {
	slots, n := 16, 6
	if o.Quick {
		slots, n = 4, 4
	}
	cfg := circuit.Config{Slots: slots, Depth: 32, ChainID: benchChainID}
	keys, err := prover.LoadOrSetup(ctx, KeysDir(), cfg, prover.KeyOptions{Setup: true, Log: o.Log})
	if err != nil {
		return err
	}
	var ws []*ledger.BatchWitness
	if err := withChain(cfg.Params(), 8, func(c *testchain.Chain) error {
		var err error
		ws, err = transferBatches(c, n, slots)
		return err
	}); err != nil {
		return err
	}
	name := fmt.Sprintf("batch-%d-d32", slots)
	r := func(c, metric string, v float64, unit, base string) {
		emit(Result{Suite: "distributed", Case: c, Metric: metric, Value: v, Unit: unit, Baseline: base})
	}
	// Warm the prover (fixed-base tables) outside the timings.
	if _, err := keys.ProveBatch(ctx, ws[0], prover.Velox); err != nil {
		return err
	}

	runtime.GC()
	start := time.Now()
	for _, w := range ws {
		if _, err := keys.ProveBatch(ctx, w, prover.Velox); err != nil {
			return err
		}
	}
	local := time.Since(start)
	perHour := func(d time.Duration) float64 { return float64(len(ws)) / d.Hours() }
	r("in-process", "proofs_per_hour", perHour(local), "proofs/h", name+", one proof after another, no queue")

	for _, k := range []int{1, 2} {
		d, err := distributedRun(ctx, keys, ws, k)
		if err != nil {
			return fmt.Errorf("workers-%d: %w", k, err)
		}
		c := fmt.Sprintf("workers-%d", k)
		r(c, "proofs_per_hour", perHour(d), "proofs/h", name)
		r(c, "vs_in_process", local.Seconds()/d.Seconds(), "x", "in-process proving of the same batches, same run")
		if k == 1 {
			r(c, "overhead_ms_per_job", float64((d-local).Microseconds())/1000/float64(len(ws)), "ms",
				"queue time per job over in-process proving (publish, delivery, result, node-side verification)")
		}
	}
	return nil
}

// distributedRun proves ws through an embedded NATS server with k workers
// and returns the wall time from the first submission to the last
// verified proof.
func distributedRun(ctx context.Context, keys *prover.Keys, ws []*ledger.BatchWitness, k int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "velox-bench-nats-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	srv, err := dist.StartServer(dist.ServerConfig{Dir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nc, err := dist.Connect(srv.URL(), "bench-node")
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	proofs := make(chan uint64, len(ws))
	d, err := dist.NewDispatcher(ctx, dist.DispatcherConfig{Conn: nc, Keys: keys, MaxPending: len(ws),
		OnProof: func(_ context.Context, b uint64, _ groth16.Proof) error { proofs <- b; return nil }})
	if err != nil {
		return 0, err
	}
	go d.Run(ctx)
	for i := range k {
		wc, err := dist.Connect(srv.URL(), fmt.Sprintf("bench-worker-%d", i))
		if err != nil {
			return 0, err
		}
		defer wc.Close()
		w, err := dist.NewWorker(dist.WorkerConfig{Conn: wc, ID: fmt.Sprintf("w%d", i), Keys: []*prover.Keys{keys}})
		if err != nil {
			return 0, err
		}
		go w.Run(ctx)
	}
	runtime.GC()
	start := time.Now()
	for _, w := range ws {
		if err := d.Submit(ctx, w); err != nil {
			return 0, err
		}
	}
	for range ws {
		select {
		case <-proofs:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(30 * time.Minute):
			return 0, fmt.Errorf("no proof in 30 minutes: %+v", d.Status())
		}
	}
	took := time.Since(start)
	if s := d.Status(); s.Rejected != 0 || len(s.Parked) != 0 {
		return 0, fmt.Errorf("queue status %+v", s)
	}
	return took, nil
}
