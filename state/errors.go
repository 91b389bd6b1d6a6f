package state

import "errors"

// Errors returned by this package, possibly wrapped with context; match
// them with errors.Is. Errors of the rules (ledger.ErrNonce,
// ledger.ErrInsufficientBalance, ledger.ErrReplay, …) met while replaying a
// batch are passed through wrapped, so errors.Is works for them too.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("state: not found")
	// ErrClosed: the store (or the batch) was used after Close or Commit.
	ErrClosed = errors.New("state: closed")
	// ErrCorrupt: a stored value cannot be decoded; the database is damaged
	// or was written by an incompatible version.
	ErrCorrupt = errors.New("state: corrupt record")
	// ErrDepth: the tree depth is outside [1, ledger.MaxDepth], or differs
	// from the depth the database was created with, or from Params.Depth.
	ErrDepth = errors.New("state: bad tree depth")
	// ErrIndexRange: an account index does not fit the tree depth.
	ErrIndexRange = errors.New("state: account index out of range")
	// ErrTooManyChunks: a batch's operations need more slots than it has.
	ErrTooManyChunks = errors.New("state: operations exceed batch slots")
	// ErrBadOp: an operation is malformed for the witness (unknown type, a
	// fee on an operation that carries none, writes outside its accounts).
	ErrBadOp = errors.New("state: bad operation")
	// ErrNoFeeAccount: a batch collects fees but ledger.FeeAccount is empty
	// in the tree, so the fees would be lost (call Genesis first).
	ErrNoFeeAccount = errors.New("state: fee account does not exist")
	// ErrStale: a TreeUpdate was not built on the tree's current root (the
	// tree moved on since, or the update was already written).
	ErrStale = errors.New("state: tree update is stale")
	// ErrBatchNumber: a witness batch number is not the next one.
	ErrBatchNumber = errors.New("state: unexpected batch number")
	// ErrGenesis: Genesis on a store that already holds other state.
	ErrGenesis = errors.New("state: store already initialized differently")
	// ErrProof: a Merkle proof does not verify.
	ErrProof = errors.New("state: invalid Merkle proof")
)
