package prover

import (
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/rangecheck"
)

// benchCircuit has about 2^16 R1CS constraints: a chain of squarings and 1024 16-bit range
// checks, which give it a BSB22 commitment like Velox's batch circuit.
type benchCircuit struct {
	Chain chainCircuit
	R     [1024]frontend.Variable
}

func (c *benchCircuit) Define(api frontend.API) error {
	if err := c.Chain.Define(api); err != nil {
		return err
	}
	rc := rangecheck.New(api)
	for _, x := range c.R {
		rc.Check(x, 16)
	}
	return nil
}

const benchChain = 58000

var bench struct {
	once sync.Once
	s    setup
	full witness.Witness

	fixedOnce sync.Once
	fixed     *Prover // with fixed-base tables
	fixedErr  error
}

func benchSetup(b *testing.B) (setup, witness.Witness) {
	bench.once.Do(func() {
		bench.s = newSetup(b, &benchCircuit{Chain: chainCircuit{N: benchChain}})
		a := &benchCircuit{Chain: chainCircuit{N: benchChain, X: 3, Y: chainOutput(3, benchChain)}}
		for i := range a.R {
			a.R[i] = new(big.Int).SetUint64(uint64(i*40503) % (1 << 16))
		}
		bench.full, _ = newWitness(b, a)
		b.Logf("benchmark circuit: %d constraints", bench.s.ccs.GetNbConstraints())
	})
	if bench.s.ccs == nil {
		b.Fatal("benchmark setup failed")
	}
	return bench.s, bench.full
}

// BenchmarkProve compares our Prove with gnark's groth16.Prove on the same circuit, key and
// witness, in the same run: "velox" uses accel's MSM (the default), "velox-gnarkmsm" the
// gnark-crypto MultiExp behind the same seam, which isolates the gain of the rest of Prove.
func BenchmarkProve(b *testing.B) {
	s, full := benchSetup(b)
	b.Run(fmt.Sprintf("%dk/gnark", s.ccs.GetNbConstraints()/1000), func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b, processCPUTime())
		for b.Loop() {
			if _, err := groth16.Prove(s.ccs, s.pk, full); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, backend := range []struct {
		name string
		msm  msmBackend
	}{{"velox", accelMSM}, {"velox-gnarkmsm", gnarkMSM}} {
		b.Run(fmt.Sprintf("%dk/%s", s.ccs.GetNbConstraints()/1000, backend.name), func(b *testing.B) {
			defer func(prev msmBackend) { msm = prev }(msm)
			msm = backend.msm
			b.ReportAllocs()
			defer reportCPU(b, processCPUTime())
			for b.Loop() {
				if _, err := Prove(s.ccs, s.pk, full); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// a Prover with fixed-base tables for its G1 MSMs, built once outside the measurement
	b.Run(fmt.Sprintf("%dk/velox-fixedbase", s.ccs.GetNbConstraints()/1000), func(b *testing.B) {
		bench.fixedOnce.Do(func() {
			bench.fixed, bench.fixedErr = NewProver(s.ccs, s.pk, ProverConfig{FixedBaseTableBytes: 1 << 30})
		})
		if bench.fixedErr != nil {
			b.Fatal(bench.fixedErr)
		}
		b.ReportAllocs()
		defer reportCPU(b, processCPUTime())
		for b.Loop() {
			if _, err := bench.fixed.Prove(full); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU reports the process CPU time per operation since start, in ms.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPUTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
	}
}
