package ledger

import "errors"

// Rule errors. Each is returned (possibly wrapped) by Execute when a
// transaction breaks the rule; the circuit enforces the same rules, so an
// operation that fails here can never be proven.
var (
	// ErrBadSignature: the EdDSA (or, for ChangePubKey, the Ethereum)
	// signature does not verify for the transaction and its signer.
	ErrBadSignature = errors.New("ledger: invalid signature")
	// ErrWrongKey: the public key in the transaction does not hash to the
	// account's pubKeyHash.
	ErrWrongKey = errors.New("ledger: public key does not match the account")
	// ErrNoPubKey: the account has not set an L2 key (pubKeyHash is zero).
	ErrNoPubKey = errors.New("ledger: account has no L2 public key set")
	// ErrNonce: the transaction nonce differs from the account nonce.
	ErrNonce = errors.New("ledger: nonce mismatch")
	// ErrNonceOverflow: the account nonce is at its 32-bit maximum.
	ErrNonceOverflow = errors.New("ledger: account nonce exhausted")
	// ErrInsufficientBalance: balance < amount + fee.
	ErrInsufficientBalance = errors.New("ledger: insufficient balance")
	// ErrBalanceOverflow: a credit would take a balance past 2^128-1.
	ErrBalanceOverflow = errors.New("ledger: balance overflows 128 bits")
	// ErrUnknownAccount: the sender's account index holds no account.
	ErrUnknownAccount = errors.New("ledger: unknown account")
	// ErrZeroAddress: the zero address cannot own an account.
	ErrZeroAddress = errors.New("ledger: zero address")
	// ErrAmountNotPackable: the amount is not exactly representable in the
	// 40-bit floating-point packing (35-bit mantissa, 5-bit decimal exponent).
	ErrAmountNotPackable = errors.New("ledger: amount not representable in packed form")
	// ErrFeeNotPackable: the fee is not exactly representable in the
	// 16-bit floating-point packing (11-bit mantissa, 5-bit decimal exponent).
	ErrFeeNotPackable = errors.New("ledger: fee not representable in packed form")
	// ErrAmountRange: an amount or fee is not below 2^128.
	ErrAmountRange = errors.New("ledger: amount out of 128-bit range")
	// ErrTreeFull: no free account index is left at the configured tree depth.
	ErrTreeFull = errors.New("ledger: account tree is full")
)

// Decoding errors.
var (
	// ErrMalformed: the bytes are not a well-formed encoding.
	ErrMalformed = errors.New("ledger: malformed encoding")
	// ErrUnknownType: the type byte names no transaction or operation.
	ErrUnknownType = errors.New("ledger: unknown type")
	// ErrNonCanonical: a field element or point is not in canonical form.
	ErrNonCanonical = errors.New("ledger: non-canonical encoding")
)
