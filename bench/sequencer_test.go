package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veloxlabs/velox/node"
)

// TestMain lets the test binary be the RPC benchmark's load generator
// child (it re-executes itself, see LoadgenMain).
func TestMain(m *testing.M) {
	LoadgenMain()
	os.Exit(m.Run())
}

// BenchmarkSequencerRPC runs the RPC preconfirmation benchmark once at the
// rates $VELOX_BENCH_RATES (comma-separated, default 2000) for
// $VELOX_BENCH_SECONDS (default 5) each, for profiling the node under load:
//
//	VELOX_BENCH_CPUPROFILE=/tmp/cpu go test -run '^$' -bench SequencerRPC -benchtime 1x ./bench/
//
// writes the CPU profile of the node's process during each rate's run to
// /tmp/cpu.RATE (the load generator is a child process: see TestMain);
// VELOX_BENCH_LATENCIES=/tmp/lat writes each rate's per-request latencies
// to /tmp/lat.RATE (see latencyDump); VELOX_BENCH_CHECK_LINGER sets the
// node's --max-check-linger (e.g. -1ns to turn lingering off) and
// VELOX_BENCH_BLOCK_LINGER its --max-block-linger;
// VELOX_BENCH_MEMPROFILE=/tmp/mem writes a heap profile after each rate;
// VELOX_BENCH_TRACE=/tmp/trace an execution trace of each rate's run;
// VELOX_BENCH_EXTRA_PROCS=0 runs the node's process without the P that
// `velox node` adds for disk syncs (node.DefaultExtraProcs).
func BenchmarkSequencerRPC(b *testing.B) {
	rates, secs := []int{2000}, envInt("VELOX_BENCH_SECONDS", 5)
	if v := os.Getenv("VELOX_BENCH_RATES"); v != "" {
		rates = nil
		for _, f := range strings.Split(v, ",") {
			r, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || r <= 0 {
				b.Fatalf("VELOX_BENCH_RATES: %q is not a rate", f)
			}
			rates = append(rates, r)
		}
	}
	rpcCPUProfile = os.Getenv("VELOX_BENCH_CPUPROFILE")
	rpcMemProfile = os.Getenv("VELOX_BENCH_MEMPROFILE")
	rpcTrace = os.Getenv("VELOX_BENCH_TRACE")
	latencyDump = os.Getenv("VELOX_BENCH_LATENCIES")
	if v := os.Getenv("VELOX_BENCH_CHECK_LINGER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("VELOX_BENCH_CHECK_LINGER: %v", err)
		}
		rpcCheckLinger = d
	}
	if v := os.Getenv("VELOX_BENCH_BLOCK_LINGER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("VELOX_BENCH_BLOCK_LINGER: %v", err)
		}
		rpcBlockLinger = d
	}
	if v := os.Getenv("VELOX_BENCH_EXTRA_PROCS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("VELOX_BENCH_EXTRA_PROCS: %v", err)
		}
		rpcExtraProcs = n
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for b.Loop() {
		err := runSequencerRPC(context.Background(), rates, time.Duration(secs)*time.Second, 200, log, func(rate int, r rateResult) {
			b.Logf("rate %d: p50 %v p99 %v p999 %v, %.0f tx/s, node %v CPU/tx, generator %v CPU/tx, %.1f entries/block, commit %v, %.2f txs/check batch, %d of %d failed, %d sent late",
				rate, r.p50, r.p99, r.p999, r.tps, r.cpuPerTx, r.loadgenCPUPerTx, r.blockEntries, r.blockCommit, r.checkBatch, r.errors, r.sent, r.lateSends)
			b.ReportMetric(ms(r.p50), "p50_ms")
			b.ReportMetric(ms(r.p99), "p99_ms")
			b.ReportMetric(ms(r.p999), "p999_ms")
			b.ReportMetric(r.tps, "achieved_tps")
			b.ReportMetric(float64(r.cpuPerTx)/float64(time.Microsecond), "cpu_us/tx")
			b.ReportMetric(float64(r.loadgenCPUPerTx)/float64(time.Microsecond), "loadgen_cpu_us/tx")
			b.ReportMetric(r.blockEntries, "entries/block")
			b.ReportMetric(ms(r.blockCommit), "commit_ms")
			var stages []string
			for i, st := range node.StageNames {
				stages = append(stages, fmt.Sprintf("%s %.3f", st, ms(r.stages[i])))
			}
			b.Logf("rate %d: mean ms in the sequencer's stages: %s; generator lateness p50 %v p99 %v; from the actual send p50 %v p99 %v",
				rate, strings.Join(stages, ", "), r.sendDelay50, r.sendDelay99, r.fromSend50, r.fromSend99)
			if r.errors > 0 {
				b.Logf("%d of %d requests failed, first: %v", r.errors, r.sent, r.firstErr)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
