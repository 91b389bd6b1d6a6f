package bench

import (
	"context"
	"fmt"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
	"github.com/veloxlabs/velox/settlement"
)

func init() {
	register(Suite{Name: "l1", Doc: "L1 gas per batch and per transfer of submitBatch (calldata + proof verification)", Run: runL1})
}

// runL1 proves a real 4-slot transfer batch at depth 32, verifies it on an
// embedded L1, and measures submitBatch for batches of 4, 16 and 64
// transfer slots: the verifier's cost is measured with the real proof (it
// does not depend on the batch size), the rest with each size's pubdata.
func runL1(ctx context.Context, o Options, emit func(Result)) error {
	cfg := circuit.Config{Slots: 4, Depth: 32, ChainID: benchChainID}
	keys, err := prover.LoadOrSetup(ctx, KeysDir(), cfg, prover.KeyOptions{Setup: true, Log: o.Log})
	if err != nil {
		return err
	}
	var w *ledger.BatchWitness
	err = withChain(cfg.Params(), 4, func(c *testchain.Chain) error {
		ws, err := transferBatches(c, 1, cfg.Slots)
		if err != nil {
			return err
		}
		w = ws[0]
		return nil
	})
	if err != nil {
		return err
	}
	proof, err := settlement.Prove(keys, w)
	if err != nil {
		return err
	}
	sizes := []int{4, 16, 64}
	if o.Full {
		sizes = append(sizes, 256)
	}
	res, err := settlement.MeasureGas(ctx, settlement.GasConfig{
		Keys:          keys,
		Sample:        &settlement.Batch{Number: w.Number, NewRoot: w.NewRoot.Bytes(), Pubdata: w.Pubdata, Proof: proof},
		SampleOldRoot: w.OldRoot,
		Slots:         sizes,
	})
	if err != nil {
		return err
	}
	for _, r := range res {
		c := fmt.Sprintf("batch-%d", r.Slots)
		emit(Result{Suite: "l1", Case: c, Metric: "gas_per_batch", Value: float64(r.Batch), Unit: "gas"})
		emit(Result{Suite: "l1", Case: c, Metric: "gas_per_transfer", Value: float64(r.PerTransfer), Unit: "gas", Baseline: "all slots Transfers; verifier cost amortized"})
		emit(Result{Suite: "l1", Case: c, Metric: "gas_verify", Value: float64(r.Verify), Unit: "gas"})
	}
	return nil
}
