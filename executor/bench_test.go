package executor

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkP2P executes 10,000-transfer blocks over 2 to 10,000 accounts,
// sequentially and in parallel (GOMAXPROCS workers), in the same run.
func BenchmarkP2P(b *testing.B) {
	for _, accounts := range []int{2, 10, 100, 1000, 10000} {
		w, err := NewP2PWorkload(accounts, 10000, 1)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.Run(fmt.Sprintf("accounts=%d/sequential", accounts), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sequential(ctx, w.Base, w.Txs, w.Params); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(w.Txs)*b.N)/b.Elapsed().Seconds(), "tx/s")
		})
		b.Run(fmt.Sprintf("accounts=%d/parallel", accounts), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parallel(ctx, w.Base, w.Txs, w.Params, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(w.Txs)*b.N)/b.Elapsed().Seconds(), "tx/s")
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
