package settlement

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	groth16_bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"golang.org/x/crypto/sha3"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
)

// ProofCalldata encodes a Groth16 proof for the verifier's verifyProof
// (gnark's MarshalSolidity: A, B, C, the BSB22 commitments and their proof
// of knowledge, uncompressed, EIP-197 order).
func ProofCalldata(p groth16.Proof) ([]byte, error) {
	bp, ok := p.(*groth16_bn254.Proof)
	if !ok || bp == nil {
		return nil, fmt.Errorf("%w: %T is not a BN254 Groth16 proof", ErrProofFormat, p)
	}
	return bp.MarshalSolidity(), nil
}

// L1HashToField returns the hash the Solidity verifier uses to derive the
// commitment challenge (legacy Keccak-256, gnark ExportSolidity's default).
// A proof verifies on L1 only if the prover used the same function
// (backend.WithProverHashToFieldFunction).
func L1HashToField() backend.ProverOption {
	return backend.WithProverHashToFieldFunction(sha3.NewLegacyKeccak256())
}

// Prove proves a batch witness with our prover for the L1 verifier (that
// is, with L1HashToField) and checks it with gnark's verifier. It returns
// the proof's calldata.
// It is prover.Keys.ProveBatch with our backend, returning calldata; the
// node proves through the prover/dist queue instead.
func Prove(k *prover.Keys, w *ledger.BatchWitness) ([]byte, error) {
	p, err := k.ProveBatch(context.Background(), w, prover.Velox)
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	return ProofCalldata(p.Proof)
}

// CompileVerifier exports the Solidity verifier of k's verifying key and
// compiles it with the pinned solc.
func CompileVerifier(ctx context.Context, k *prover.Keys) (*Artifact, error) {
	var src bytes.Buffer
	if err := k.ExportVerifier(&src); err != nil {
		return nil, fmt.Errorf("settlement: exporting verifier: %w", err)
	}
	dir, err := os.MkdirTemp("", "velox-verifier-")
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	defer os.RemoveAll(dir)
	f := filepath.Join(dir, "Verifier.sol")
	if err := os.WriteFile(f, src.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	arts, err := Compile(ctx, f)
	if err != nil {
		return nil, err
	}
	a, ok := arts["Verifier"]
	if !ok {
		return nil, fmt.Errorf("%w: exported verifier defines no Verifier contract", ErrCompile)
	}
	return a, nil
}

// Deploy deploys bytecode with constructor input and waits for it to be
// mined.
func Deploy(ctx context.Context, l1 L1, from Account, bytecode, input []byte) (common.Address, error) {
	opts, err := from.Transactor(ctx, l1)
	if err != nil {
		return common.Address{}, err
	}
	addr, tx, err := bind.DeployContract(opts, bytecode, l1, input)
	if err != nil {
		return common.Address{}, fmt.Errorf("settlement: deploying: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rc, err := WaitMined(ctx, l1, tx.Hash())
	if err != nil {
		return common.Address{}, fmt.Errorf("settlement: deploying: %w", err)
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		return common.Address{}, fmt.Errorf("%w: deployment %s", ErrReverted, tx.Hash())
	}
	return addr, nil
}
