package bench

import (
	"context"
	"fmt"
	"math/big"
	"runtime"
	"sort"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"

	"github.com/veloxlabs/velox/accel"
)

func init() {
	register(Suite{Name: "msm", Doc: "multi-scalar multiplication, accel vs gnark-crypto MultiExp", Run: runMSM})
	register(Suite{Name: "ntt", Doc: "number-theoretic transforms, accel vs gnark-crypto FFT", Run: runNTT})
}

// pathNote names the kernel path and CPU features behind a measurement.
func pathNote() string {
	return fmt.Sprintf("path=%v cpu=[%s]", accel.Selected(), accel.Features())
}

// paired times ours and theirs alternately, runs times each, and returns
// the medians: alternating spreads the noise of a shared machine over both.
func paired(runs int, ours, theirs func() error) (time.Duration, time.Duration, error) {
	var a, b []time.Duration
	for i := 0; i < runs; i++ {
		for j, f := range []func() error{theirs, ours} {
			runtime.GC()
			start := time.Now()
			if err := f(); err != nil {
				return 0, 0, err
			}
			if j == 0 {
				b = append(b, time.Since(start))
			} else {
				a = append(a, time.Since(start))
			}
		}
	}
	med := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	return med(a), med(b), nil
}

func randomScalars(n int) []fr.Element {
	s := make([]fr.Element, n)
	for i := range s {
		s[i].MustSetRandom()
	}
	return s
}

func g1Points(n int) []bn254.G1Affine {
	_, _, g, _ := bn254.Generators()
	var step, acc bn254.G1Jac
	var k fr.Element
	k.MustSetRandom()
	step.ScalarMultiplication(new(bn254.G1Jac).FromAffine(&g), k.BigInt(new(big.Int)))
	jac := make([]bn254.G1Jac, n)
	acc = step
	for i := range jac {
		jac[i] = acc
		acc.AddAssign(&step)
	}
	return bn254.BatchJacobianToAffineG1(jac)
}

func g2Points(n int) []bn254.G2Affine {
	_, _, _, g := bn254.Generators()
	var step, acc bn254.G2Jac
	var k fr.Element
	k.MustSetRandom()
	step.ScalarMultiplication(new(bn254.G2Jac).FromAffine(&g), k.BigInt(new(big.Int)))
	out := make([]bn254.G2Affine, n)
	acc = step
	for i := range out {
		out[i].FromJacobian(&acc)
		acc.AddAssign(&step)
	}
	return out
}

func runMSM(ctx context.Context, o Options, emit func(Result)) error {
	g1, g2, runs := []int{16, 18, 20}, []int{16, 18}, 3
	if o.Quick {
		g1, g2, runs = []int{16, 18}, []int{14}, 3
	}
	base := "gnark-crypto MultiExp, same inputs, same run, alternated (median of 3); " + pathNote()
	for _, k := range g1 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 1 << k
		pts, sc := g1Points(n), randomScalars(n)
		ours, theirs, err := paired(runs, func() error {
			_, err := accel.MultiExpG1(pts, sc)
			return err
		}, func() error {
			var r bn254.G1Jac
			_, err := r.MultiExp(pts, sc, ecc.MultiExpConfig{})
			return err
		})
		if err != nil {
			return err
		}
		c := fmt.Sprintf("g1-2^%d", k)
		emit(Result{Suite: "msm", Case: c, Metric: "ms", Value: ms(ours), Unit: "ms"})
		emit(Result{Suite: "msm", Case: c, Metric: "ms_gnark", Value: ms(theirs), Unit: "ms"})
		emit(Result{Suite: "msm", Case: c, Metric: "speedup", Value: theirs.Seconds() / ours.Seconds(), Unit: "x", Baseline: base})
	}
	for _, k := range g2 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 1 << k
		pts, sc := g2Points(n), randomScalars(n)
		ours, theirs, err := paired(runs, func() error {
			_, err := accel.MultiExpG2(pts, sc)
			return err
		}, func() error {
			var r bn254.G2Jac
			_, err := r.MultiExp(pts, sc, ecc.MultiExpConfig{})
			return err
		})
		if err != nil {
			return err
		}
		c := fmt.Sprintf("g2-2^%d", k)
		emit(Result{Suite: "msm", Case: c, Metric: "ms", Value: ms(ours), Unit: "ms"})
		emit(Result{Suite: "msm", Case: c, Metric: "ms_gnark", Value: ms(theirs), Unit: "ms"})
		emit(Result{Suite: "msm", Case: c, Metric: "speedup", Value: theirs.Seconds() / ours.Seconds(), Unit: "x", Baseline: base})
	}
	return nil
}

func runNTT(ctx context.Context, o Options, emit func(Result)) error {
	sizes, runs := []int{16, 18, 20, 22}, 5
	if o.Quick {
		sizes, runs = []int{16, 18, 20}, 3
	}
	base := fmt.Sprintf("gnark-crypto fft.Domain.FFT (DIF), same input, same run, alternated (median of %d); %s", runs, pathNote())
	for _, k := range sizes {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := uint64(1) << k
		ours, err := accel.NewDomain(n)
		if err != nil {
			return err
		}
		theirs := fft.NewDomain(n)
		in := randomScalars(int(n))
		a := make([]fr.Element, n)
		b := make([]fr.Element, n)
		to, tt, err := paired(runs, func() error {
			copy(a, in)
			return ours.FFT(a, accel.DIF)
		}, func() error {
			copy(b, in)
			theirs.FFT(b, fft.DIF)
			return nil
		})
		if err != nil {
			return err
		}
		for i := range a {
			if a[i] != b[i] {
				return fmt.Errorf("ntt 2^%d: accel and gnark-crypto disagree at %d", k, i)
			}
		}
		c := fmt.Sprintf("2^%d", k)
		emit(Result{Suite: "ntt", Case: c, Metric: "ms", Value: ms(to), Unit: "ms"})
		emit(Result{Suite: "ntt", Case: c, Metric: "ms_gnark", Value: ms(tt), Unit: "ms"})
		emit(Result{Suite: "ntt", Case: c, Metric: "speedup", Value: tt.Seconds() / to.Seconds(), Unit: "x", Baseline: base})
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
