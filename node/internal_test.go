package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/sequencer"
)

func dep(id uint64, amount uint64) ledger.Deposit {
	return ledger.Deposit{ID: id, Address: common.Address{byte(id + 1)}, Amount: *uint256.NewInt(amount)}
}

// The deposit log keeps deposits across restarts, ignores repeats, refuses
// gaps and survives a torn last line.
func TestDepositLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deposits.jsonl")
	l, err := openDepositLog(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(3) {
		if err := l.add(dep(i, 100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.add(dep(1, 999)); err != nil { // a repeat after a watcher restart
		t.Fatal(err)
	}
	if err := l.add(dep(5, 1)); err == nil {
		t.Fatal("a gap in deposit ids was accepted")
	}
	ops, _ := l.Pending(context.Background(), 1, 10)
	if len(ops) != 2 || ops[0].Deposit != dep(1, 101) || ops[1].Deposit != dep(2, 102) {
		t.Fatalf("pending from 1: %+v", ops)
	}
	if ops, _ := l.Pending(context.Background(), 0, 1); len(ops) != 1 || ops[0].Deposit.ID != 0 {
		t.Fatalf("pending max 1: %+v", ops)
	}
	if ops, _ := l.Pending(context.Background(), 3, 10); len(ops) != 0 {
		t.Fatalf("pending past the end: %+v", ops)
	}
	// A crash in the middle of an append leaves a torn line.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"id":3,"addr`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	l2, err := openDepositLog(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ops, _ = l2.Pending(context.Background(), 0, 10)
	if len(ops) != 3 || ops[2].Deposit != dep(2, 102) || ops[2].Deadline.IsZero() {
		t.Fatalf("reopened: %+v", ops)
	}
	// A corrupt record in the middle is an error, not a silent gap.
	if err := os.WriteFile(path, []byte(`{"id":1,"address":"0x0000000000000000000000000000000000000001","amount":"5"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openDepositLog(path, time.Hour); err == nil {
		t.Fatal("a log starting at id 1 was accepted")
	}
}

// The sequencer key is created once with mode 0600 and refused when
// others can read it.
func TestSequencerKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequencer.key")
	k1, err := loadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	k2, err := loadOrCreateKey(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("reloaded another key: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateKey(path); err == nil {
		t.Fatal("a world-readable key was accepted")
	}
}

// Sequencer and ledger errors map to codes; the message keeps the cause.
func TestRPCErrorCodes(t *testing.T) {
	cases := []struct {
		err  error
		code int
		rule string
	}{
		{sequencer.ErrBadSignature, CodeBadSignature, ""},
		{errors.Join(sequencer.ErrBadSignature, ledger.ErrBadSignature), CodeBadSignature, "badSignature"},
		{errors.Join(sequencer.ErrInvalid, ledger.ErrFeeNotPackable), CodeInvalidTx, "feeNotPackable"},
		{sequencer.ErrMalformed, CodeInvalidTx, ""},
		{sequencer.ErrTooLarge, CodeInvalidTx, ""},
		{sequencer.ErrNonceTooLow, CodeNonceTooLow, ""},
		{sequencer.ErrNonceGap, CodeNonceGap, ""},
		{sequencer.ErrNonceInUse, CodeNonceInUse, ""},
		{sequencer.ErrDuplicate, CodeDuplicate, ""},
		{sequencer.ErrMempoolFull, CodeMempoolFull, ""},
		{sequencer.ErrAccountQueueFull, CodeMempoolFull, ""},
		{sequencer.ErrShuttingDown, CodeUnavailable, ""},
		{sequencer.ErrExpired, CodeExpired, ""},
		{sequencer.ErrNotFound, CodeNotFound, ""},
		{context.DeadlineExceeded, CodeTimeout, ""},
		{errors.New("disk on fire"), CodeInternal, ""},
	}
	for _, tc := range cases {
		err := rpcError(tc.err)
		var e *Error
		if !errors.As(err, &e) || e.ErrorCode() != tc.code || !errors.Is(err, tc.err) {
			t.Errorf("%v: %v (code %d), want code %d", tc.err, err, e.ErrorCode(), tc.code)
			continue
		}
		if got, _ := e.ErrorData().(map[string]string); (tc.rule == "") != (got == nil) || (got != nil && got["rule"] != tc.rule) {
			t.Errorf("%v: data %v, want rule %q", tc.err, e.ErrorData(), tc.rule)
		}
	}
	if rpcError(nil) != nil {
		t.Fatal("nil error mapped")
	}
}

func TestStatusAdvances(t *testing.T) {
	q, pc, pr, fin, fail := sequencer.StatusQueued, sequencer.StatusPreconfirmed, sequencer.StatusProven, sequencer.StatusFinalized, sequencer.StatusFailed
	cases := []struct {
		from, to sequencer.Status
		ok       bool
	}{
		{0, pc, true}, {q, pc, true}, {pc, pr, true}, {pr, fin, true}, {pc, fin, true}, {q, fail, true}, {0, fail, true},
		{pc, pc, false}, {pr, pc, false}, {fin, pr, false}, {pc, fail, false}, {fail, fin, false}, {fail, fail, false},
	}
	for _, tc := range cases {
		if got := advances(tc.from, tc.to); got != tc.ok {
			t.Errorf("advances(%v, %v) = %v", tc.from, tc.to, got)
		}
	}
}
