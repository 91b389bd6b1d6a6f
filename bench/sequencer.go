package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/veloxlabs/velox/node"
	"github.com/veloxlabs/velox/sequencer"
)

func init() {
	register(Suite{Name: "sequencer", Doc: "preconfirmation latency of velox_sendTransaction over loopback JSON-RPC, open-loop load from a separate generator process, synced writes", Run: runSequencer})
}

// runSequencer measures preconfirmation latency at increasing offered
// rates. The rate-R cases run a real node (JSON-RPC over loopback HTTP,
// synced Pebble commits, embedded L1) with batch cutting and proving held
// off the measured path, loaded by a generator in a child process (see
// LoadgenMain); the inproc-rate-R cases call Sequencer.Submit in
// process, without JSON-RPC, for comparison.
func runSequencer(ctx context.Context, o Options, emit func(Result)) error {
	rates, dur, users := []int{500, 1000, 2000, 5000}, 10*time.Second, 200
	inRates, inN := []int{2000, 5000}, 10000
	if o.Quick {
		rates, dur = []int{1000, 5000}, 4*time.Second
		inRates, inN = []int{5000}, 5000
	}
	base := fmt.Sprintf("velox_sendTransaction over loopback HTTP (raw HTTP/1.1 generator in a separate process, %d keep-alive connections), open loop from the scheduled send time, "+
		"%v per rate after a warm-up of %v or %d requests, whichever is more, %d accounts, %d-slot batches at depth %d, synced commits; batch cutting and proving held (node.HoldBatches)",
		rpcConns, dur, rpcWarmup, rpcWarmupTxs, users, rpcSlots, rpcDepth)
	err := runSequencerRPC(ctx, rates, dur, users, o.Log, func(rate int, r rateResult) {
		c := fmt.Sprintf("rate-%d", rate)
		b := base
		if r.lateSends > r.sent/100 {
			b += fmt.Sprintf("; %d of %d requests sent over 1 ms late (generator starved of CPU; counted from the schedule)", r.lateSends, r.sent)
		}
		if r.errors > 0 {
			b += fmt.Sprintf("; %d of %d requests FAILED (first: %v)", r.errors, r.sent, r.firstErr)
		}
		emit(Result{Suite: "sequencer", Case: c, Metric: "p50_ms", Value: ms(r.p50), Unit: "ms", Baseline: b})
		emit(Result{Suite: "sequencer", Case: c, Metric: "p99_ms", Value: ms(r.p99), Unit: "ms", Baseline: b})
		emit(Result{Suite: "sequencer", Case: c, Metric: "p999_ms", Value: ms(r.p999), Unit: "ms", Baseline: b})
		emit(Result{Suite: "sequencer", Case: c, Metric: "achieved_tps", Value: r.tps, Unit: "tx/s", Baseline: b})
		emit(Result{Suite: "sequencer", Case: c, Metric: "cpu_us_per_tx", Value: float64(r.cpuPerTx) / float64(time.Microsecond), Unit: "µs",
			Baseline: "node process CPU (node and embedded L1, not the load generator) per transaction sent"})
		emit(Result{Suite: "sequencer", Case: c, Metric: "loadgen_cpu_us_per_tx", Value: float64(r.loadgenCPUPerTx) / float64(time.Microsecond), Unit: "µs",
			Baseline: "load generator process CPU (its sending loop) per transaction sent"})
		emit(Result{Suite: "sequencer", Case: c, Metric: "block_entries", Value: r.blockEntries, Unit: "entries",
			Baseline: "mean entries per mini-block (the node's metrics)"})
		emit(Result{Suite: "sequencer", Case: c, Metric: "commit_ms", Value: ms(r.blockCommit), Unit: "ms",
			Baseline: "mean synced write per mini-block (shared by the mini-blocks of one write)"})
		emit(Result{Suite: "sequencer", Case: c, Metric: "send_delay_p50_ms", Value: ms(r.sendDelay50), Unit: "ms",
			Baseline: "the load generator's lateness: from a request's schedule to its send (included in p50_ms and p99_ms)"})
		emit(Result{Suite: "sequencer", Case: c, Metric: "send_delay_p99_ms", Value: ms(r.sendDelay99), Unit: "ms",
			Baseline: "the load generator's lateness: from a request's schedule to its send (included in p50_ms and p99_ms)"})
		emit(Result{Suite: "sequencer", Case: c, Metric: "from_send_p50_ms", Value: ms(r.fromSend50), Unit: "ms",
			Baseline: "latency from the request's actual send, without the generator's lateness"})
		emit(Result{Suite: "sequencer", Case: c, Metric: "from_send_p99_ms", Value: ms(r.fromSend99), Unit: "ms",
			Baseline: "latency from the request's actual send, without the generator's lateness"})
		for i, st := range node.StageNames {
			emit(Result{Suite: "sequencer", Case: c, Metric: "stage_" + st + "_ms", Value: ms(r.stages[i]), Unit: "ms",
				Baseline: "mean time of a preconfirmed transaction in this stage of the sequencer (velox_preconfirm_stage_seconds)"})
		}
	})
	if err != nil {
		return err
	}
	for _, rate := range inRates {
		dir, err := os.MkdirTemp("", "velox-bench-seq-")
		if err != nil {
			return err
		}
		p50, p99, p999, tps, err := sequencer.BenchLatency(ctx, dir, rate, inN)
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		c := fmt.Sprintf("inproc-rate-%d", rate)
		b := fmt.Sprintf("%d transfers, open loop, Sequencer.Submit in process (no JSON-RPC), synced commits", inN)
		emit(Result{Suite: "sequencer", Case: c, Metric: "p50_ms", Value: ms(p50), Unit: "ms", Baseline: b})
		emit(Result{Suite: "sequencer", Case: c, Metric: "p99_ms", Value: ms(p99), Unit: "ms", Baseline: b})
		emit(Result{Suite: "sequencer", Case: c, Metric: "p999_ms", Value: ms(p999), Unit: "ms", Baseline: b})
		emit(Result{Suite: "sequencer", Case: c, Metric: "achieved_tps", Value: tps, Unit: "tx/s", Baseline: b})
	}
	return nil
}
