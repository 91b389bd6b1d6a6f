package bench

import (
	"context"
	"fmt"
	"os"

	"github.com/veloxlabs/velox/sequencer"
)

func init() {
	register(Suite{Name: "sequencer", Doc: "preconfirmation latency under an open-loop load, synced writes (in-process)", Run: runSequencer})
}

// runSequencer drives the sequencer in-process with an open-loop load at
// increasing rates, every mini-block committed with a synced write on a
// temporary directory. JSON-RPC overhead over loopback is not included.
func runSequencer(ctx context.Context, o Options, emit func(Result)) error {
	rates, n := []int{500, 1000, 2000, 5000}, 5000
	if o.Quick {
		rates, n = []int{500, 2000}, 2000
	}
	for _, rate := range rates {
		dir, err := os.MkdirTemp("", "velox-bench-seq-")
		if err != nil {
			return err
		}
		p50, p99, p999, tps, err := sequencer.BenchLatency(ctx, dir, rate, n)
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		c := fmt.Sprintf("rate-%d", rate)
		base := fmt.Sprintf("%d transfers, open loop, in-process (no JSON-RPC), synced commits", n)
		emit(Result{Suite: "sequencer", Case: c, Metric: "p50_ms", Value: ms(p50), Unit: "ms", Baseline: base})
		emit(Result{Suite: "sequencer", Case: c, Metric: "p99_ms", Value: ms(p99), Unit: "ms", Baseline: base})
		emit(Result{Suite: "sequencer", Case: c, Metric: "p999_ms", Value: ms(p999), Unit: "ms", Baseline: base})
		emit(Result{Suite: "sequencer", Case: c, Metric: "achieved_tps", Value: tps, Unit: "tx/s", Baseline: base})
	}
	return nil
}
