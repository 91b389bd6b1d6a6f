package sequencer

import "errors"

// Admission errors. Submit returns them (wrapped with detail, and with the
// underlying ledger error where there is one, so errors.Is matches both,
// e.g. ErrBadSignature and ledger.ErrBadSignature). A rejected transaction
// changes nothing: it is neither queued nor recorded.
var (
	// ErrTooLarge: the encoding is longer than ledger.MaxTxSize.
	ErrTooLarge = errors.New("sequencer: transaction too large")
	// ErrMalformed: the bytes do not decode as a transaction (wraps
	// ledger.ErrMalformed, ledger.ErrUnknownType or ledger.ErrNonCanonical).
	ErrMalformed = errors.New("sequencer: malformed transaction")
	// ErrBadSignature: the signature does not verify (wraps
	// ledger.ErrBadSignature).
	ErrBadSignature = errors.New("sequencer: bad signature")
	// ErrInvalid: another stateless rule is broken: amount or fee out of
	// range or not packable, zero recipient (wraps the ledger rule).
	ErrInvalid = errors.New("sequencer: invalid transaction")
	// ErrNonceTooLow: the nonce was already used by a committed transaction
	// of the account (a replay).
	ErrNonceTooLow = errors.New("sequencer: nonce too low")
	// ErrNonceGap: the nonce is more than Config.MaxNonceGap ahead of the
	// account's next nonce.
	ErrNonceGap = errors.New("sequencer: nonce too far ahead")
	// ErrNonceInUse: another pending transaction of the account already
	// has this nonce (replacement is not supported).
	ErrNonceInUse = errors.New("sequencer: nonce already pending")
	// ErrDuplicate: a transaction with the same hash is pending or was
	// already included in a mini-block (successfully or not).
	ErrDuplicate = errors.New("sequencer: duplicate transaction")
	// ErrMempoolFull: the mempool holds Config.MaxPoolTxs transactions.
	ErrMempoolFull = errors.New("sequencer: mempool full")
	// ErrAccountQueueFull: the account has Config.MaxAccountTxs pending
	// transactions.
	ErrAccountQueueFull = errors.New("sequencer: account queue full")
	// ErrShuttingDown: the sequencer is not running (not started, or
	// stopping); a transaction still queued at shutdown gets it too.
	ErrShuttingDown = errors.New("sequencer: shutting down")
	// ErrOverdraft: the transaction's amount and fee exceed the account's
	// committed balance less what its pending transactions may spend
	// (wraps ledger.ErrInsufficientBalance).
	ErrOverdraft = errors.New("sequencer: pending transactions overdraw the account")
	// ErrWrongKey: a transfer or withdrawal is signed with a key that is
	// not the account's, or the account has none, and no queued
	// ChangePubKey may change that (wraps ledger.ErrWrongKey or
	// ledger.ErrNoPubKey); or the account does not exist (wraps
	// ledger.ErrUnknownAccount).
	ErrWrongKey = errors.New("sequencer: not the account's key")
	// ErrOverloaded: more than Config.MaxCheckQueue transactions are
	// waiting to be checked; retry with backoff.
	ErrOverloaded = errors.New("sequencer: overloaded")
	// ErrExpired: a transaction waited for a nonce gap to fill for longer
	// than Config.QueueTTL and was dropped.
	ErrExpired = errors.New("sequencer: queued transaction expired")
)

// Other errors.
var (
	// ErrConfig: Config.Check rejected the configuration.
	ErrConfig = errors.New("sequencer: bad configuration")
	// ErrNotFound: no such mini-block, batch, transaction or account.
	ErrNotFound = errors.New("sequencer: not found")
	// ErrBatchState: a proof or finality notice for a batch that is not in
	// a state that accepts it (unknown, or not yet proven).
	ErrBatchState = errors.New("sequencer: batch not in the expected state")
	// ErrBadHeaderSignature: a mini-block header signature does not
	// recover to the expected sequencer address.
	ErrBadHeaderSignature = errors.New("sequencer: bad mini-block signature")
	// ErrCorrupt: a stored record cannot be decoded.
	ErrCorrupt = errors.New("sequencer: corrupt record")
	// ErrStarted: Start called twice.
	ErrStarted = errors.New("sequencer: already started")
	// ErrChain: an internal invariant broke (for example, a batch witness
	// disagrees with the flat state). The sequencer stops producing
	// mini-blocks; this is a bug, not bad input.
	ErrChain = errors.New("sequencer: chain invariant violated")
)
