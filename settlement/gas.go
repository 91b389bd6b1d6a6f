package settlement

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
)

// GasConfig configures MeasureGas.
type GasConfig struct {
	// Keys are the circuit keys whose verifier is measured.
	Keys *prover.Keys
	// Verifier is Keys' compiled verifier; nil compiles it.
	Verifier *Artifact
	// Sample is a real proven batch of Keys' circuit that consumes no
	// deposit, and SampleOldRoot the root it starts from.
	Sample        *Batch
	SampleOldRoot fr.Element
	// Slots are the batch sizes to report (default 4, 16, 64, 256).
	Slots []int
}

// GasResult is the L1 cost of settling one batch of transfers.
type GasResult struct {
	Slots int
	// Batch is the gas of the submitBatch transaction (intrinsic cost and
	// calldata included) for a batch of Slots Transfer chunks.
	Batch uint64
	// PerTransfer is Batch / Slots.
	PerTransfer uint64
	// Verify is the part spent in the Groth16 verifier (measured with
	// the Sample's real proof; it does not depend on the batch size: one
	// public input, one commitment).
	Verify uint64
}

// gasProbeSource is a verifier that accepts everything. It exists only for
// MeasureGas, to measure what submitBatch costs besides the proof check for
// batch sizes whose circuit has no keys at hand; it is never deployed
// anywhere else.
const gasProbeSource = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;
contract GasProbeVerifier {
    function verifyProof(bytes calldata, uint256[1] calldata) external pure {}
}
`

// MeasureGas measures settlement gas on an in-memory embedded L1:
//
//   - the real cost of submitBatch for the Sample with its real proof,
//   - the cost of submitBatch for batches of N Transfer chunks with the
//     proof check replaced by GasProbeVerifier, for every N,
//
// and reports, for each N, the second plus the verifier's cost (the first
// minus the probe's cost for the Sample's own pubdata). The verifier's cost
// is the same for every batch size, so this is the gas of an N-slot batch
// with its own circuit's verifier, within the few hundred gas by which the
// proof's calldata (the same length at every size) may differ.
func MeasureGas(ctx context.Context, c GasConfig) ([]GasResult, error) {
	if c.Keys == nil || c.Sample == nil || c.Sample.Number == 0 {
		return nil, errors.New("settlement: MeasureGas needs keys and a proven sample batch")
	}
	if len(c.Slots) == 0 {
		c.Slots = []int{4, 16, 64, 256}
	}
	ops, err := ledger.DecodePubdata(c.Sample.Pubdata)
	if err != nil {
		return nil, fmt.Errorf("settlement: sample pubdata: %w", err)
	}
	for _, op := range ops {
		if op.Type.IsPriority() {
			return nil, errors.New("settlement: the gas sample must not consume deposits")
		}
	}
	dev, err := StartDevChain(DevConfig{BlockTime: 50 * time.Millisecond, Accounts: 1})
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	l1 := dev.Client()
	admin := NewAccount(DevKey(0))

	ver := c.Verifier
	if ver == nil {
		if ver, err = CompileVerifier(ctx, c.Keys); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "velox-gasprobe-")
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	defer os.RemoveAll(dir)
	probeFile := filepath.Join(dir, "GasProbeVerifier.sol")
	if err := os.WriteFile(probeFile, []byte(gasProbeSource), 0o644); err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	arts, err := Compile(ctx, probeFile)
	if err != nil {
		return nil, err
	}
	probe := arts["GasProbeVerifier"]
	if probe == nil {
		return nil, fmt.Errorf("%w: no GasProbeVerifier", ErrCompile)
	}

	// submit deploys a rollup at the sample's parent on the given verifier
	// and settles b.
	submit := func(bin []byte, b *Batch) (uint64, error) {
		v, err := Deploy(ctx, l1, admin, bin, nil)
		if err != nil {
			return 0, err
		}
		raddr, err := DeployRollup(ctx, l1, admin, RollupConfig{Verifier: v, Sequencer: admin.Address, ChainID: c.Keys.Config.ChainID,
			GenesisRoot: c.SampleOldRoot, GenesisNumber: b.Number - 1, PriorityDeadline: 1000})
		if err != nil {
			return 0, err
		}
		r := NewRollup(l1, raddr)
		rc, err := r.transact(ctx, admin, nil, r.SubmitBatchData(b))
		if err != nil {
			return 0, fmt.Errorf("settlement: gas sample of %d bytes: %w", len(b.Pubdata), err)
		}
		if rc.Status != types.ReceiptStatusSuccessful {
			return 0, fmt.Errorf("%w: gas sample", ErrReverted)
		}
		return rc.GasUsed, nil
	}
	full, err := submit(ver.Bin, c.Sample)
	if err != nil {
		return nil, err
	}
	rest, err := submit(probe.Bin, c.Sample)
	if err != nil {
		return nil, err
	}
	if rest > full {
		return nil, fmt.Errorf("settlement: probe cost %d above the real %d", rest, full)
	}
	verify := full - rest
	var res []GasResult
	for _, n := range c.Slots {
		if n <= 0 {
			return nil, fmt.Errorf("settlement: %d slots", n)
		}
		b := *c.Sample
		b.Pubdata = transferPubdata(n)
		g, err := submit(probe.Bin, &b)
		if err != nil {
			return nil, err
		}
		total := g + verify
		res = append(res, GasResult{Slots: n, Batch: total, PerTransfer: total / uint64(n), Verify: verify})
	}
	return res, nil
}

// transferPubdata is n Transfer chunks between distinct accounts with
// non-zero amounts and fees (calldata cost depends on zero bytes).
func transferPubdata(n int) []byte {
	p := make([]byte, 0, n*ledger.ChunkSize)
	for i := 0; i < n; i++ {
		c := make([]byte, ledger.ChunkSize)
		c[0] = byte(ledger.OpTransfer)
		from, to := uint32(1000+i), uint32(5000+i)
		c[1], c[2], c[3], c[4] = byte(from>>24), byte(from>>16), byte(from>>8), byte(from)
		c[5], c[6], c[7], c[8] = byte(to>>24), byte(to>>16), byte(to>>8), byte(to)
		copy(c[9:14], []byte{0x4a, 0x81, 0x7c, 0x80, 0x08}) // 1 ether
		copy(c[14:16], []byte{0x19, 0xa1})                  // fee 2050
		p = append(p, c...)
	}
	return p
}
