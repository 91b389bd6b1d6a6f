package bench

import (
	"context"
	"fmt"

	"github.com/veloxlabs/velox/prover/circuit"
)

func init() {
	register(Suite{Name: "circuit", Doc: "R1CS constraint counts of the batch circuit at depth 32", Run: runCircuit})
}

// benchChainID is the chain id of benchmark circuits.
const benchChainID = 1

func runCircuit(ctx context.Context, o Options, emit func(Result)) error {
	count := func(slots int) (int, error) {
		ccs, err := circuit.Compile(circuit.Config{Slots: slots, Depth: 32, ChainID: benchChainID})
		if err != nil {
			return 0, err
		}
		return ccs.GetNbConstraints(), nil
	}
	perSlot, _, err := circuit.Cost(32)
	if err != nil {
		return err
	}
	emit(Result{Suite: "circuit", Case: "transfer-d32", Metric: "constraints", Value: float64(perSlot), Unit: "constraints/slot"})
	sizes := []int{4, 16}
	if o.Quick {
		sizes = []int{4}
	}
	if o.Full {
		sizes = append(sizes, 64)
	}
	for _, n := range sizes {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := count(n)
		if err != nil {
			return err
		}
		emit(Result{Suite: "circuit", Case: fmt.Sprintf("batch-%d-d32", n), Metric: "constraints", Value: float64(c), Unit: "constraints"})
	}
	return nil
}
