package bench

import (
	"context"
	"fmt"
	"runtime"
	"sort"

	"github.com/veloxlabs/velox/state"
)

func init() {
	register(Suite{Name: "state", Doc: "Merkle tree updates per second at depth 32, parallel vs one core", Run: runState})
}

// median runs f n times and returns the median result.
func median(n int, f func() (float64, error)) (float64, error) {
	vs := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		v, err := f()
		if err != nil {
			return 0, err
		}
		vs = append(vs, v)
	}
	sort.Float64s(vs)
	return vs[len(vs)/2], nil
}

func runState(ctx context.Context, o Options, emit func(Result)) error {
	sizes, runs := []int{1000, 10000}, 3
	if o.Quick {
		sizes = []int{1000}
	}
	workers := runtime.GOMAXPROCS(0)
	for _, n := range sizes {
		one, err := median(runs, func() (float64, error) { return state.BenchUpdates(ctx, 32, n, 1) })
		if err != nil {
			return err
		}
		par, err := median(runs, func() (float64, error) { return state.BenchUpdates(ctx, 32, n, workers) })
		if err != nil {
			return err
		}
		c := fmt.Sprintf("smt-update-%d", n)
		emit(Result{Suite: "state", Case: c, Metric: "updates_per_s", Value: par, Unit: "updates/s", Baseline: fmt.Sprintf("%d workers", workers)})
		emit(Result{Suite: "state", Case: c, Metric: "updates_per_s_one_core", Value: one, Unit: "updates/s"})
		emit(Result{Suite: "state", Case: c, Metric: "speedup", Value: par / one, Unit: "x", Baseline: "same updates on one worker, same run (median of 3)"})
	}
	return nil
}
