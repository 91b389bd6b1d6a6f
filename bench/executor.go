package bench

import (
	"context"
	"fmt"

	"github.com/veloxlabs/velox/executor"
)

func init() {
	register(Suite{Name: "executor", Doc: "Block-STM vs the sequential executor on blocks of 10,000 signed p2p transfers", Run: runExecutor})
}

// runExecutor measures the workload — blocks of 10,000 signed
// transfers, the executor doing each transaction's stateless checks (one
// EdDSA verification, cached across re-executions) and its state
// transition — and, separately, execution alone on pre-checked
// transactions (as in the Block-STM paper, signatures verified at
// admission).
func runExecutor(ctx context.Context, o Options, emit func(Result)) error {
	txs, runs := 10_000, 5
	if o.Quick {
		txs, runs = 2_000, 3 // signing 10,000 transactions per case alone takes longer than a minute
	}
	base := fmt.Sprintf("sequential executor, same block of %d, same run (median of %d)", txs, runs)
	for _, accounts := range []int{2, 10, 100, 1000, 10000} {
		c := fmt.Sprintf("p2p-%d", accounts)
		signed, err := executor.NewSignedP2PWorkload(accounts, txs, 1)
		if err != nil {
			return err
		}
		seq, par, err := signed.Bench(ctx, 0, runs)
		if err != nil {
			return err
		}
		emit(Result{Suite: "executor", Case: c, Metric: "tps_sequential", Value: seq, Unit: "tx/s"})
		emit(Result{Suite: "executor", Case: c, Metric: "tps_parallel", Value: par, Unit: "tx/s"})
		emit(Result{Suite: "executor", Case: c, Metric: "speedup", Value: par / seq, Unit: "x", Baseline: base})

		checked, err := executor.NewP2PWorkload(accounts, txs, 1)
		if err != nil {
			return err
		}
		seq, par, err = checked.Bench(ctx, 0, runs)
		if err != nil {
			return err
		}
		emit(Result{Suite: "executor", Case: c, Metric: "tps_sequential_exec_only", Value: seq, Unit: "tx/s"})
		emit(Result{Suite: "executor", Case: c, Metric: "tps_parallel_exec_only", Value: par, Unit: "tx/s"})
		emit(Result{Suite: "executor", Case: c, Metric: "speedup_exec_only", Value: par / seq, Unit: "x", Baseline: base + "; signatures checked beforehand"})
	}
	return nil
}
