package bench

import (
	"context"
	"fmt"

	"github.com/veloxlabs/velox/executor"
)

func init() {
	register(Suite{Name: "executor", Doc: "Block-STM vs the sequential executor on blocks of 10,000 p2p transfers", Run: runExecutor})
}

func runExecutor(ctx context.Context, o Options, emit func(Result)) error {
	const txs = 10_000
	runs := 5
	if o.Quick {
		runs = 3
	}
	for _, accounts := range []int{2, 10, 100, 1000, 10000} {
		w, err := executor.NewP2PWorkload(accounts, txs, 1)
		if err != nil {
			return err
		}
		seq, par, err := w.Bench(ctx, 0, runs)
		if err != nil {
			return err
		}
		c := fmt.Sprintf("p2p-%d", accounts)
		base := fmt.Sprintf("sequential executor, same block, same run (median of %d)", runs)
		emit(Result{Suite: "executor", Case: c, Metric: "tps_sequential", Value: seq, Unit: "tx/s"})
		emit(Result{Suite: "executor", Case: c, Metric: "tps_parallel", Value: par, Unit: "tx/s"})
		emit(Result{Suite: "executor", Case: c, Metric: "speedup", Value: par / seq, Unit: "x", Baseline: base})
	}
	return nil
}
