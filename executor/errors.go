package executor

import "errors"

var (
	// ErrEmptyTx is the receipt error of a Tx that carries neither Raw,
	// Decoded, Checked nor Deposit.
	ErrEmptyTx = errors.New("executor: empty transaction")
	// ErrBase wraps an error returned by the base state. It fails the
	// whole block: a block cannot be executed on a state it cannot read.
	ErrBase = errors.New("executor: reading base state")
	// ErrInvalidOptions: a negative worker count, a block of 2^31
	// transactions or more, or a benchmark workload of fewer than two
	// accounts.
	ErrInvalidOptions = errors.New("executor: invalid options")
)

// errEstimate is returned by the speculative ledger.State of an
// incarnation when a read hits an ESTIMATE marker of a lower transaction;
// ledger.Apply passes it through, and the incarnation is suspended until
// that transaction has been re-executed. It never reaches a caller.
var errEstimate = errors.New("executor: read hit an estimate")

// errFull is returned by the speculative ledger.State of an incarnation
// whose read or write set, or the block's multi-version memory, is full;
// the block then falls back to sequential execution. It never reaches a
// caller.
var errFull = errors.New("executor: multi-version memory full")
