package sequencer

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestBenchLatency runs BenchLatency small, to keep it working.
func TestBenchLatency(t *testing.T) {
	p50, p99, p999, tps, err := BenchLatency(context.Background(), t.TempDir(), 500, 200)
	if err != nil {
		t.Fatal(err)
	}
	if p50 <= 0 || p50 > p99 || p99 > p999 || tps <= 0 {
		t.Fatalf("p50 %v p99 %v p999 %v tps %.0f", p50, p99, p999, tps)
	}
	t.Logf("200 tx at 500/s: p50 %v p99 %v p999 %v, %.0f tx/s", p50, p99, p999, tps)
}

// BenchmarkPreconfirmation reports preconfirmation latency percentiles of
// 2,000 transfers at several rates (synced writes on a temp dir). Run:
//
//	go test -run '^$' -bench Preconfirmation -benchtime 1x ./sequencer/
func BenchmarkPreconfirmation(b *testing.B) {
	for _, rate := range []int{200, 1000, 4000} {
		b.Run(benchName(rate), func(b *testing.B) {
			for b.Loop() {
				p50, p99, p999, tps, err := BenchLatency(context.Background(), b.TempDir(), rate, 2000)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(p50)/float64(time.Millisecond), "p50_ms")
				b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99_ms")
				b.ReportMetric(float64(p999)/float64(time.Millisecond), "p999_ms")
				b.ReportMetric(tps, "achieved_tps")
			}
		})
	}
}

func benchName(rate int) string { return fmt.Sprintf("rate-%d", rate) }
