package accel

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

var benchSizes = []int{1 << 16, 1 << 18, 1 << 20}

var benchInput = struct {
	sync.Mutex
	points  []bn254.G1Affine
	scalars []fr.Element
}{}

// benchG1 returns n points (consecutive multiples of a random point: cheap to make) and n
// random scalars, shared across benchmarks.
func benchG1(n int) ([]bn254.G1Affine, []fr.Element) {
	benchInput.Lock()
	defer benchInput.Unlock()
	if len(benchInput.points) < n {
		rng := rand.New(rand.NewPCG(42, 42))
		base := randG1(rng, 1)[0]
		jac := make([]bn254.G1Jac, n)
		jac[0].FromAffine(&base)
		for i := 1; i < n; i++ {
			jac[i] = jac[i-1]
			jac[i].AddMixed(&base)
		}
		benchInput.points = bn254.BatchJacobianToAffineG1(jac)
		benchInput.scalars = randScalars(rng, n)
	}
	return benchInput.points[:n], benchInput.scalars[:n]
}

// BenchmarkMultiExpG1 measures MultiExpG1 on the selected path against gnark-crypto's
// MultiExp on the same input, in the same run.
func BenchmarkMultiExpG1(b *testing.B) {
	for _, n := range benchSizes {
		points, scalars := benchG1(n)
		b.Run(fmt.Sprintf("velox-%s/2^%d", Selected(), log2(n)), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, processCPUTime())
			for b.Loop() {
				if _, err := MultiExpG1(points, scalars); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("gnark/2^%d", log2(n)), func(b *testing.B) {
			b.ReportAllocs()
			var r bn254.G1Jac
			for b.Loop() {
				if _, err := r.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

// BenchmarkFixedBaseG1 measures FixedBaseG1.MultiExp (tables built outside the timing, budget
// 1 GiB) next to MultiExpG1 and gnark-crypto on the same input.
func BenchmarkFixedBaseG1(b *testing.B) {
	for _, n := range benchSizes[:2] {
		points, scalars := benchG1(n)
		f, err := NewFixedBaseG1(points, 1<<30)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("velox-%s/2^%d", Selected(), log2(n)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.MultiExp(scalars); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(f.MemoryBytes())/(1<<20), "table-MiB")
		})
	}
}

// BenchmarkMultiExpG1Paired alternates MultiExpG1 and gnark-crypto's MultiExp on the same
// input within every iteration and reports each one's mean time and the speedup, so that load
// changes on a shared machine hit both sides alike.
func BenchmarkMultiExpG1Paired(b *testing.B) {
	for _, n := range benchSizes {
		points, scalars := benchG1(n)
		b.Run(fmt.Sprintf("%s/2^%d", Selected(), log2(n)), func(b *testing.B) {
			var ours, theirs time.Duration
			var r bn254.G1Jac
			for b.Loop() {
				t0 := time.Now()
				if _, err := MultiExpG1(points, scalars); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := r.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
					b.Fatal(err)
				}
				ours += t1.Sub(t0)
				theirs += time.Since(t1)
			}
			b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "velox-ns/op")
			b.ReportMetric(float64(theirs.Nanoseconds())/float64(b.N), "gnark-ns/op")
			b.ReportMetric(float64(theirs)/float64(ours), "speedup")
		})
	}
}

// benchG2 returns n points (consecutive multiples of a random point) and n random scalars.
func benchG2(n int) ([]bn254.G2Affine, []fr.Element) {
	rng := rand.New(rand.NewPCG(43, 43))
	base := randG2(rng, 1)[0]
	jac := make([]bn254.G2Jac, n)
	jac[0].FromAffine(&base)
	for i := 1; i < n; i++ {
		jac[i] = jac[i-1]
		jac[i].AddMixed(&base)
	}
	points := make([]bn254.G2Affine, n)
	batchJacobianToAffineG2(points, jac)
	return points, randScalars(rng, n)
}

// BenchmarkMultiExpG2 measures MultiExpG2 against gnark-crypto's G2 MultiExp at 2^14.
func BenchmarkMultiExpG2(b *testing.B) {
	const n = 1 << 14
	points, scalars := benchG2(n)
	b.Run(fmt.Sprintf("velox/2^%d", log2(n)), func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, processCPUTime())
		for b.Loop() {
			if _, err := MultiExpG2(points, scalars); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("gnark/2^%d", log2(n)), func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, processCPUTime())
		var r bn254.G2Jac
		for b.Loop() {
			if _, err := r.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFixedBaseG2 measures FixedBaseG2.MultiExp (table built outside the timing, budget
// 1 GiB) on the input of BenchmarkMultiExpG2.
func BenchmarkFixedBaseG2(b *testing.B) {
	const n = 1 << 14
	points, scalars := benchG2(n)
	f, err := NewFixedBaseG2(points, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("velox-%s/2^%d", Selected(), log2(n)), func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, processCPUTime())
		for b.Loop() {
			if _, err := f.MultiExp(scalars); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(f.MemoryBytes())/(1<<20), "table-MiB")
	})
}
