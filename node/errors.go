package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/sequencer"
)

// JSON-RPC error codes of the Velox API (docs/RPC.md). -32602 and -32603
// are JSON-RPC's "invalid params" and "internal error".
const (
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeInvalidTx      = -38001 // malformed, too large, or a stateless rule broken
	CodeBadSignature   = -38002
	CodeNonceTooLow    = -38003
	CodeNonceGap       = -38004
	CodeNonceInUse     = -38005
	CodeDuplicate      = -38006
	CodeMempoolFull    = -38007
	CodeUnavailable    = -38008 // shutting down
	CodeExpired        = -38009
	CodeTimeout        = -38010
	CodeNotFound       = -38011
	CodeBlockTag       = -38012
	CodeInsufficient   = -38013
	CodeUnknownAccount = -38014
	CodeOverloaded     = -38015
)

// Error is a JSON-RPC error with a code, a message a user can act on and
// optional data ({"rule": name} for ledger rules). It implements rpc.Error
// and rpc.DataError.
type Error struct {
	Code int
	Msg  string
	Data any
	err  error
}

func (e *Error) Error() string  { return e.Msg }
func (e *Error) ErrorCode() int { return e.Code }

// ErrorData returns the error's data (nil for none).
func (e *Error) ErrorData() any { return e.Data }
func (e *Error) Unwrap() error  { return e.err }

func invalidParams(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParams, Msg: fmt.Sprintf(format, args...)}
}

// ruleData returns {"rule": name} for an error matching a ledger rule.
func ruleData(err error) any {
	if r := RuleName(err); r != "" {
		return map[string]string{"rule": r}
	}
	return nil
}

// rpcError maps sequencer and ledger errors to a JSON-RPC error.
func rpcError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	code, hint := CodeInternal, ""
	switch {
	case errors.Is(err, sequencer.ErrTooLarge), errors.Is(err, sequencer.ErrMalformed):
		code, hint = CodeInvalidTx, "encode the transaction with ledger.Tx.Encode (docs/PROTOCOL.md §5)"
	case errors.Is(err, sequencer.ErrBadSignature):
		code, hint = CodeBadSignature, "sign with the account's L2 key for this chain id (ChangePubKey: the owner's Ethereum key)"
	case errors.Is(err, ledger.ErrUnknownAccount):
		code = CodeUnknownAccount
	case errors.Is(err, sequencer.ErrWrongKey):
		code, hint = CodeBadSignature, "sign with the account's current L2 key (velox_getAccount shows its key hash)"
	case errors.Is(err, sequencer.ErrOverdraft):
		code, hint = CodeInsufficient, "wait for the account's pending transactions, or send less"
	case errors.Is(err, sequencer.ErrInvalid):
		code = CodeInvalidTx
		if errors.Is(err, ledger.ErrAmountNotPackable) || errors.Is(err, ledger.ErrFeeNotPackable) {
			hint = "amounts keep at most 35 significant bits (fees 11) times a power of ten; round the value"
		}
	case errors.Is(err, sequencer.ErrNonceTooLow):
		code, hint = CodeNonceTooLow, "the nonce was already used; read the account nonce with eth_getTransactionCount"
	case errors.Is(err, sequencer.ErrNonceGap):
		code, hint = CodeNonceGap, "send the transactions with the missing nonces first"
	case errors.Is(err, sequencer.ErrNonceInUse):
		code, hint = CodeNonceInUse, "a pending transaction already has this nonce; wait for it"
	case errors.Is(err, sequencer.ErrDuplicate):
		code, hint = CodeDuplicate, "query it with velox_getTransactionStatus; to retry, change a field (e.g. the fee)"
	case errors.Is(err, sequencer.ErrMempoolFull), errors.Is(err, sequencer.ErrAccountQueueFull):
		code, hint = CodeMempoolFull, "retry later"
	case errors.Is(err, sequencer.ErrOverloaded):
		code, hint = CodeOverloaded, "the node is at capacity; retry with backoff"
	case errors.Is(err, sequencer.ErrShuttingDown):
		code, hint = CodeUnavailable, "the node is stopping; retry on a running node"
	case errors.Is(err, sequencer.ErrExpired):
		code, hint = CodeExpired, "the nonce gap was not filled in time; resend"
	case errors.Is(err, sequencer.ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, context.DeadlineExceeded):
		code, hint = CodeTimeout, "the transaction may still be included; poll velox_getTransactionStatus"
	}
	msg := err.Error()
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return &Error{Code: code, Msg: msg, Data: ruleData(err), err: err}
}

// rules names the ledger rules in receipts and error data.
var rules = []struct {
	err  error
	name string
}{
	{ledger.ErrBadSignature, "badSignature"},
	{ledger.ErrWrongKey, "wrongKey"},
	{ledger.ErrNoPubKey, "noPubKey"},
	{ledger.ErrNonce, "nonce"},
	{ledger.ErrNonceOverflow, "nonceOverflow"},
	{ledger.ErrInsufficientBalance, "insufficientBalance"},
	{ledger.ErrBalanceOverflow, "balanceOverflow"},
	{ledger.ErrUnknownAccount, "unknownAccount"},
	{ledger.ErrZeroAddress, "zeroAddress"},
	{ledger.ErrAmountNotPackable, "amountNotPackable"},
	{ledger.ErrFeeNotPackable, "feeNotPackable"},
	{ledger.ErrAmountRange, "amountRange"},
	{ledger.ErrTreeFull, "treeFull"},
	{ledger.ErrMalformed, "malformed"},
	{ledger.ErrUnknownType, "unknownType"},
	{ledger.ErrNonCanonical, "nonCanonical"},
}

// RuleName returns the short name of the ledger rule err matches, or "".
func RuleName(err error) string {
	for _, r := range rules {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return ""
}
