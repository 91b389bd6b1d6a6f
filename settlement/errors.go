package settlement

import "errors"

// Errors of the settlement package.
var (
	// ErrNoSolc: node or the pinned solc package is not available to
	// compile a contract at run time.
	ErrNoSolc = errors.New("settlement: solidity compiler unavailable")
	// ErrCompile: solc rejected a contract.
	ErrCompile = errors.New("settlement: contract compilation failed")
	// ErrProofFormat: a proof is not a BN254 Groth16 proof gnark can
	// encode for the Solidity verifier.
	ErrProofFormat = errors.New("settlement: unsupported proof")
	// ErrOutOfOrder: a batch was offered before its predecessor settled.
	ErrOutOfOrder = errors.New("settlement: batch out of order")
	// ErrConflict: the contract already settled this batch number with
	// another root.
	ErrConflict = errors.New("settlement: batch settled with another root")
	// ErrReverted: the rollup contract rejects the batch (a critical error:
	// retrying the same calldata cannot succeed).
	ErrReverted = errors.New("settlement: transaction reverted")
	// ErrCursor: a watcher cursor file is unreadable or events skip an id.
	ErrCursor = errors.New("settlement: bad watcher cursor")
	// ErrClosed: the development chain was closed.
	ErrClosed = errors.New("settlement: L1 closed")
)
