package accel

import (
	"fmt"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
)

// benchNTTSizes are the log2 sizes of the default NTT benchmarks; VELOX_BENCH_LARGE=1 adds 2^22.
func benchNTTSizes() []int {
	s := []int{16, 18, 20}
	if os.Getenv("VELOX_BENCH_LARGE") != "" {
		s = append(s, 22)
	}
	return s
}

// BenchmarkNTT compares our forward DIF transform on each kernel path with gnark-crypto's
// fft.Domain.FFT on the same input size, in the same run.
func BenchmarkNTT(b *testing.B) {
	for _, lg := range benchNTTSizes() {
		n := 1 << lg
		a := randomVector(n)
		b.Run(fmt.Sprintf("2^%d/gnark", lg), func(b *testing.B) {
			d := fft.NewDomain(uint64(n))
			b.ReportAllocs()
			defer reportCPU(b, processCPUTime())
			for b.Loop() {
				d.FFT(a, fft.DIF)
			}
		})
		d, err := NewDomain(uint64(n))
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range allPaths(b) {
			b.Run(fmt.Sprintf("2^%d/%s", lg, p), func(b *testing.B) {
				defer SetPath(p)()
				b.ReportAllocs()
				defer reportCPU(b, processCPUTime())
				for b.Loop() {
					if err := d.FFT(a, DIF); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCosetNTT compares the coset transforms used by the Groth16 quotient (forward DIT on
// the coset) with gnark-crypto's.
func BenchmarkCosetNTT(b *testing.B) {
	for _, lg := range benchNTTSizes() {
		n := 1 << lg
		a := randomVector(n)
		b.Run(fmt.Sprintf("2^%d/gnark", lg), func(b *testing.B) {
			d := fft.NewDomain(uint64(n))
			b.ReportAllocs()
			defer reportCPU(b, processCPUTime())
			for b.Loop() {
				d.FFT(a, fft.DIT, fft.OnCoset())
			}
		})
		d, err := NewDomain(uint64(n))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("2^%d/%s", lg, Detected()), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, processCPUTime())
			for b.Loop() {
				if err := d.CosetFFT(a, DIT); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportCPU reports the process CPU time per operation since start, in ms.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPUTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
	}
}

// BenchmarkGroth16Quotient compares Domain.Groth16Quotient with the same computation done the
// way gnark's Groth16 prover does it (seven fft.Domain transforms and two element-wise passes).
func BenchmarkGroth16Quotient(b *testing.B) {
	for _, lg := range []int{16, 17} {
		n := 1 << lg
		a, bb, c := randomVector(n), randomVector(n), randomVector(n)
		b.Run(fmt.Sprintf("2^%d/gnark", lg), func(b *testing.B) {
			d := fft.NewDomain(uint64(n))
			var den, one fr.Element
			one.SetOne()
			den.Exp(d.FrMultiplicativeGen, big.NewInt(int64(n)))
			den.Sub(&den, &one).Inverse(&den)
			b.ReportAllocs()
			defer reportCPU(b, processCPUTime())
			for b.Loop() {
				for _, x := range [][]fr.Element{a, bb, c} {
					d.FFTInverse(x, fft.DIF)
					d.FFT(x, fft.DIT, fft.OnCoset())
				}
				for i := range a {
					a[i].Mul(&a[i], &bb[i]).Sub(&a[i], &c[i]).Mul(&a[i], &den)
				}
				d.FFTInverse(a, fft.DIF, fft.OnCoset())
			}
		})
		d, err := NewDomain(uint64(n))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("2^%d/%s", lg, Detected()), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, processCPUTime())
			for b.Loop() {
				if err := d.Groth16Quotient(a, bb, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
