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
		d, _, err := distributedRun(ctx, keys, ws, k, false)
		if err != nil {
			return fmt.Errorf("workers-%d: %w", k, err)
		}
		c := fmt.Sprintf("workers-%d", k)
		r(c, "proofs_per_hour", perHour(d), "proofs/h", name)
		r(c, "vs_in_process", local.Seconds()/d.Seconds(), "x", "in-process proving of the same batches, same run")
	}
	// The queue's overhead per job: one job at a time through one worker,
	// each job's time from publication to verified proof minus the worker's
	// own proving time for it.
	_, overhead, err := distributedRun(ctx, keys, ws, 1, true)
	if err != nil {
		return err
	}
	per := overhead / time.Duration(len(ws))
	r("workers-1", "overhead_ms_per_job", float64(per.Microseconds())/1000, "ms",
		"publish, delivery, result and the node's verification, per job, one job at a time")
	r("workers-1", "overhead_fraction", per.Seconds()/(local.Seconds()/float64(len(ws))), "x", "of an in-process proof")
	return nil
}

// distributedRun proves ws through an embedded NATS server with k workers
// and returns the wall time from the first submission to the last
// verified proof, and the dispatcher's summed queue overhead. With
// oneByOne, each batch is submitted after the previous one is proven.
func distributedRun(ctx context.Context, keys *prover.Keys, ws []*ledger.BatchWitness, k int, oneByOne bool) (time.Duration, time.Duration, error) {
	dir, err := os.MkdirTemp("", "velox-bench-nats-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	srv, err := dist.StartServer(dist.ServerConfig{Dir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		return 0, 0, err
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nc, err := dist.Connect(srv.URL(), "bench-node")
	if err != nil {
		return 0, 0, err
	}
	defer nc.Close()
	proofs := make(chan uint64, len(ws))
	d, err := dist.NewDispatcher(ctx, dist.DispatcherConfig{Conn: nc, Keys: keys, MaxPending: len(ws),
		OnProof: func(_ context.Context, b uint64, _ groth16.Proof) error { proofs <- b; return nil }})
	if err != nil {
		return 0, 0, err
	}
	go d.Run(ctx)
	for i := range k {
		wc, err := dist.Connect(srv.URL(), fmt.Sprintf("bench-worker-%d", i))
		if err != nil {
			return 0, 0, err
		}
		defer wc.Close()
		w, err := dist.NewWorker(dist.WorkerConfig{Conn: wc, ID: fmt.Sprintf("w%d", i), Keys: []*prover.Keys{keys}})
		if err != nil {
			return 0, 0, err
		}
		go w.Run(ctx)
	}
	wait := func() error {
		select {
		case <-proofs:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Minute):
			return fmt.Errorf("no proof in 30 minutes: %+v", d.Status())
		}
	}
	runtime.GC()
	start := time.Now()
	for _, w := range ws {
		if err := d.Submit(ctx, w); err != nil {
			return 0, 0, err
		}
		if oneByOne {
			if err := wait(); err != nil {
				return 0, 0, err
			}
		}
	}
	if !oneByOne {
		for range ws {
			if err := wait(); err != nil {
				return 0, 0, err
			}
		}
	}
	took := time.Since(start)
	s := d.Status()
	if s.Rejected != 0 || len(s.Parked) != 0 {
		return 0, 0, fmt.Errorf("queue status %+v", s)
	}
	return took, s.Overhead, nil
}
