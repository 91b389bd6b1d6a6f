package executor

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user and system) of the process so far.
// Wall-clock time is unreliable on a loaded machine; CPU time of a
// single-worker run measures the per-transaction overhead of Parallel.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runP2P times exec over b.Loop and reports throughput and CPU time per
// transaction.
func runP2P(b *testing.B, txs int, exec func() error) {
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		if err := exec(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - start
	b.ReportMetric(float64(txs*b.N)/b.Elapsed().Seconds(), "tx/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(txs*b.N), "cpu-ns/tx")
}

// BenchmarkP2P executes 10,000-transfer blocks over 2 to 10,000 accounts,
// sequentially and in parallel (GOMAXPROCS workers, and one worker), in the
// same run.
func BenchmarkP2P(b *testing.B) {
	for _, accounts := range []int{2, 10, 100, 1000, 10000} {
		w, err := NewP2PWorkload(accounts, 10000, 1)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.Run(fmt.Sprintf("accounts=%d/sequential", accounts), func(b *testing.B) {
			runP2P(b, len(w.Txs), func() error {
				_, err := Sequential(ctx, w.Base, w.Txs, w.Params)
				return err
			})
		})
		b.Run(fmt.Sprintf("accounts=%d/parallel", accounts), func(b *testing.B) {
			runP2P(b, len(w.Txs), func() error {
				_, err := Parallel(ctx, w.Base, w.Txs, w.Params, Options{})
				return err
			})
		})
		// One worker: the CPU overhead of Block-STM over Sequential.
		b.Run(fmt.Sprintf("accounts=%d/parallel-1", accounts), func(b *testing.B) {
			runP2P(b, len(w.Txs), func() error {
				_, err := Parallel(ctx, w.Base, w.Txs, w.Params, Options{Workers: 1})
				return err
			})
		})
	}
}

// BenchmarkP2PSigned includes the stateless checks (one EdDSA verification
// per transaction) in the timed execution.
func BenchmarkP2PSigned(b *testing.B) {
	w, err := NewSignedP2PWorkload(1000, 1000, 1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Sequential(ctx, w.Base, w.Txs, w.Params); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(w.Txs)*b.N)/b.Elapsed().Seconds(), "tx/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parallel(ctx, w.Base, w.Txs, w.Params, Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(w.Txs)*b.N)/b.Elapsed().Seconds(), "tx/s")
	})
}
