package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
)

func init() {
	register(Suite{Name: "prover", Doc: "Groth16 batch proofs at depth 32: setup, proving time vs gnark, pipelined throughput", Run: runProver})
}

// KeysDir is where benchmarks cache circuit keys (VELOX_KEYS_DIR, or the
// user cache directory).
func KeysDir() string {
	if d := os.Getenv("VELOX_KEYS_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "velox", "keys")
	}
	return filepath.Join(os.TempDir(), "velox-keys")
}

func runProver(ctx context.Context, o Options, emit func(Result)) error {
	sizes := []int{4, 16}
	if o.Quick {
		sizes = []int{4}
	}
	if o.Full {
		sizes = append(sizes, 64)
	}
	for _, n := range sizes {
		if err := proverCase(ctx, o, n, emit); err != nil {
			return err
		}
	}
	return nil
}

func proverCase(ctx context.Context, o Options, slots int, emit func(Result)) error {
	cfg := circuit.Config{Slots: slots, Depth: 32, ChainID: benchChainID}
	name := fmt.Sprintf("batch-%d-d32", slots)
	r := func(metric string, v float64, unit, base string) {
		emit(Result{Suite: "prover", Case: name, Metric: metric, Value: v, Unit: unit, Baseline: base})
	}
	// Keys are cached across runs: setup_s is reported when this run made
	// them, load_s otherwise.
	var setupStart time.Time
	start := time.Now()
	keys, err := prover.LoadOrSetup(ctx, KeysDir(), cfg, prover.KeyOptions{Setup: true, Log: o.Log, Progress: func(s string) {
		if s == "setup" {
			setupStart = time.Now()
		}
	}})
	if err != nil {
		return err
	}
	if !setupStart.IsZero() {
		r("setup_s", time.Since(setupStart).Seconds(), "s", "")
	} else {
		r("load_s", time.Since(start).Seconds(), "s", "compile + cached key load")
	}
	if st, err := os.Stat(filepath.Join(prover.KeyDir(KeysDir(), cfg, keys.CircuitHash), "pk.bin")); err == nil {
		r("pk_bytes", float64(st.Size()), "bytes", "")
	}
	r("constraints", float64(keys.CCS.GetNbConstraints()), "constraints", "")

	p := cfg.Params()
	batches := 3
	if o.Quick {
		batches = 2
	}
	var ws []*ledger.BatchWitness
	err = withChain(p, 8, func(c *testchain.Chain) error {
		var err error
		ws, err = transferBatches(c, batches+1, slots)
		return err
	})
	if err != nil {
		return err
	}

	// Single-proof latency, ours and gnark's, on the same witness.
	prove := func(b prover.Backend) (time.Duration, error) {
		runtime.GC()
		start := time.Now()
		if _, err := keys.ProveBatch(ctx, ws[0], b); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	gnarkT, err := prove(prover.Gnark)
	if err != nil {
		return err
	}
	oursT, err := prove(prover.Velox)
	if err != nil {
		return err
	}
	r("prove_s", oursT.Seconds(), "s", "")
	r("prove_s_gnark", gnarkT.Seconds(), "s", "")
	r("speedup_vs_gnark", gnarkT.Seconds()/oursT.Seconds(), "x", "gnark groth16.Prove, same witness, same run")
	r("constraints_per_s", float64(keys.CCS.GetNbConstraints())/oursT.Seconds(), "constraints/s", "")

	// Throughput on a stream: gnark one batch after another vs our
	// pipelined service.
	stream := ws[1:]
	start = time.Now()
	for _, w := range stream {
		if _, err := keys.ProveBatch(ctx, w, prover.Gnark); err != nil {
			return err
		}
	}
	seq := time.Since(start)
	svc := prover.NewService(keys, prover.ServiceOptions{InFlight: 2, Backend: prover.Velox, Log: o.Log})
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := svc.Start(sctx); err != nil {
		return err
	}
	start = time.Now()
	errc := make(chan error, 1)
	go func() {
		for _, w := range stream {
			if err := svc.Submit(sctx, w); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range stream {
		res := <-svc.Results()
		if res.Err != nil {
			return res.Err
		}
	}
	pipe := time.Since(start)
	if err := <-errc; err != nil {
		return err
	}
	_ = svc.Stop(ctx)
	perHour := func(d time.Duration) float64 { return float64(len(stream)) / d.Hours() }
	r("proofs_per_hour", perHour(pipe), "proofs/h", "")
	r("proofs_per_hour_gnark", perHour(seq), "proofs/h", "")
	r("throughput_speedup", seq.Seconds()/pipe.Seconds(), "x", "gnark groth16.Prove one batch after another, same batches")
	r("peak_rss_mb", peakRSSMB(), "MiB", "")
	return nil
}

// peakRSSMB is the process's peak resident set size so far.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
