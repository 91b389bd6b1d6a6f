package ledger

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// TestRuleErrors runs every rule through Check+Apply on a MemState and
// checks the exact error and that a failure writes nothing.
func TestRuleErrors(t *testing.T) {
	stranger := newUser(t, "stranger")
	tests := []struct {
		name   string
		params Params
		// build prepares the state and returns the transaction.
		build func(t *testing.T, f *fixture) *Tx
		want  error
	}{
		{"bad signature: tampered amount", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(1), 0)
			tx.Amount = u256(1000)
			return tx
		}, ErrBadSignature},
		{"bad signature: tampered recipient", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(1), 0)
			tx.To = f.carol.addr
			return tx
		}, ErrBadSignature},
		{"bad signature: transfer replayed as withdraw", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(1), 0)
			tx.Type = TxWithdraw
			return tx
		}, ErrBadSignature},
		{"bad signature: other chain id", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := &Tx{Type: TxTransfer, Account: 1, To: f.bob.addr, Amount: u256(100), Fee: u256(1)}
			if err := tx.SignL2(f.alice.l2, testChainID+1); err != nil {
				t.Fatal(err)
			}
			return tx
		}, ErrBadSignature},
		{"bad signature: flipped signature byte", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, u256(100), u256(1), 0)
			tx.Signature[40] ^= 1
			return tx
		}, ErrBadSignature},
		{"bad signature: malformed public key", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(1), 0)
			tx.PubKey = PubKey{1}
			return tx
		}, ErrBadSignature},
		{"wrong key: valid signature by bob for alice", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.bob.l2, 1, f.bob.addr, u256(100), u256(1), 0)
		}, ErrWrongKey},
		{"no key set", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.carol.l2, 3, f.bob.addr, u256(100), u256(1), 0)
		}, ErrNoPubKey},
		{"nonce too low", testParams, func(t *testing.T, f *fixture) *Tx {
			f.st.SetNonce(1, 5)
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(1), 4)
		}, ErrNonce},
		{"nonce too high", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(1), 1)
		}, ErrNonce},
		{"withdraw nonce", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, u256(100), u256(1), 9)
		}, ErrNonce},
		{"nonce overflow", testParams, func(t *testing.T, f *fixture) *Tx {
			f.st.SetNonce(1, math.MaxUint32)
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(1), math.MaxUint32)
		}, ErrNonceOverflow},
		{"withdraw nonce overflow", testParams, func(t *testing.T, f *fixture) *Tx {
			f.st.SetNonce(1, math.MaxUint32)
			return l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, u256(100), u256(1), math.MaxUint32)
		}, ErrNonceOverflow},
		{"insufficient balance by one", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(999_000), u256(1001), 0)
		}, ErrInsufficientBalance},
		{"self-transfer insufficient", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.alice.addr, u256(1_000_000), u256(1), 0)
		}, ErrInsufficientBalance},
		{"withdraw insufficient by one", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, u256(999_999), u256(2), 0)
		}, ErrInsufficientBalance},
		{"amount+fee overflow 128 bits", testParams, func(t *testing.T, f *fixture) *Tx {
			f.st.SetBalance(1, sub(pow2(128), 1))
			return l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, sub(pow2(128), 1), u256(1), 0)
		}, ErrInsufficientBalance},
		{"recipient balance overflow", testParams, func(t *testing.T, f *fixture) *Tx {
			f.st.SetBalance(2, sub(pow2(128), 5))
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(5), u256(0), 0)
		}, ErrBalanceOverflow},
		{"unknown sender", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 17, f.bob.addr, u256(1), u256(0), 0)
		}, ErrUnknownAccount},
		{"zero recipient", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, common.Address{}, u256(1), u256(0), 0)
		}, ErrZeroAddress},
		{"withdraw to zero address", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxWithdraw, f.alice.l2, 1, common.Address{}, u256(1), u256(0), 0)
		}, ErrZeroAddress},
		{"amount 2^128", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, pow2(128), u256(0), 0)
		}, ErrAmountRange},
		{"fee 2^128", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(1), pow2(128), 0)
		}, ErrAmountRange},
		{"amount not packable", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(1<<35+1), u256(0), 0)
		}, ErrAmountNotPackable},
		{"fee not packable", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(1), u256(2049), 0)
		}, ErrFeeNotPackable},
		{"withdraw fee not packable", testParams, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, u256(1), u256(2049), 0)
		}, ErrFeeNotPackable},
		{"tree full", Params{ChainID: testChainID, Depth: 2}, func(t *testing.T, f *fixture) *Tx {
			return l2Tx(t, TxTransfer, f.alice.l2, 1, stranger.addr, u256(1), u256(0), 0)
		}, ErrTreeFull},
		{"changePubKey signed by non-owner", testParams, func(t *testing.T, f *fixture) *Tx {
			return cpkTx(t, f.bob.eth, 1, 0, f.bob.keyHash(t))
		}, ErrBadSignature},
		{"changePubKey bad v", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := cpkTx(t, f.alice.eth, 1, 0, f.bob.keyHash(t))
			tx.EthSignature[64] = 1
			return tx
		}, ErrBadSignature},
		{"changePubKey tampered nonce", testParams, func(t *testing.T, f *fixture) *Tx {
			tx := cpkTx(t, f.alice.eth, 1, 0, f.bob.keyHash(t))
			tx.Nonce = 1
			f.st.SetNonce(1, 1)
			return tx
		}, ErrBadSignature},
		{"changePubKey wrong nonce", testParams, func(t *testing.T, f *fixture) *Tx {
			return cpkTx(t, f.alice.eth, 1, 3, f.bob.keyHash(t))
		}, ErrNonce},
		{"changePubKey nonce overflow", testParams, func(t *testing.T, f *fixture) *Tx {
			f.st.SetNonce(1, math.MaxUint32)
			return cpkTx(t, f.alice.eth, 1, math.MaxUint32, f.bob.keyHash(t))
		}, ErrNonceOverflow},
		{"changePubKey unknown account", testParams, func(t *testing.T, f *fixture) *Tx {
			return cpkTx(t, stranger.eth, 9, 0, stranger.keyHash(t))
		}, ErrUnknownAccount},
		{"unknown type", testParams, func(t *testing.T, f *fixture) *Tx {
			return &Tx{Type: 0x07, Account: 1}
		}, ErrUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tx := tc.build(t, f)
			mustFailUnchanged(t, f.st, tc.want, func() error {
				_, err := Apply(f.st, Check(tx, tc.params), tc.params)
				return err
			})
		})
	}
}

func TestTransferSuccess(t *testing.T) {
	newcomer := newUser(t, "newcomer")
	t.Run("to existing", func(t *testing.T) {
		f := newFixture(t)
		// amount + fee exactly equal to the balance is allowed.
		tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(999_000), u256(1000), 0)
		c := Check(tx, testParams)
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		op, err := Apply(f.st, c, testParams)
		if err != nil {
			t.Fatal(err)
		}
		want := Op{Type: OpTransfer, Account: 1, To: 2, Amount: u256(999_000), Fee: u256(1000), Nonce: 0, PubKey: tx.PubKey, Signature: tx.Signature}
		if !reflect.DeepEqual(op, want) {
			t.Fatalf("op = %+v, want %+v", op, want)
		}
		if a := f.st.Account(1); !a.Balance.IsZero() || a.Nonce != 1 {
			t.Fatalf("sender = %+v", a)
		}
		if a := f.st.Account(2); a.Balance != u256(1_999_000) || a.Nonce != 0 {
			t.Fatalf("recipient = %+v", a)
		}
		if a := f.st.Account(0); a.Balance != u256(1_000_000) {
			t.Fatal("fee credited per transaction")
		}
	})
	t.Run("to new address", func(t *testing.T) {
		f := newFixture(t)
		tx := l2Tx(t, TxTransfer, f.alice.l2, 1, newcomer.addr, u256(300), u256(20), 0)
		op, err := Apply(f.st, Check(tx, testParams), testParams)
		if err != nil {
			t.Fatal(err)
		}
		if op.Type != OpTransferToNew || op.To != 4 || op.Address != newcomer.addr {
			t.Fatalf("op = %+v", op)
		}
		a := f.st.Account(4)
		if a.Address != newcomer.addr || a.Balance != u256(300) || a.Nonce != 0 || !a.PubKeyHash.IsZero() {
			t.Fatalf("new account = %+v", a)
		}
		if i, ok, _ := f.st.Lookup(newcomer.addr); !ok || i != 4 || f.st.Next != 5 {
			t.Fatal("index not recorded")
		}
		if b := f.st.Account(1).Balance; b != u256(1_000_000-320) {
			t.Fatalf("sender balance %v", &b)
		}
	})
	t.Run("to new address fills the last leaf", func(t *testing.T) {
		f := newFixture(t)
		p := Params{ChainID: testChainID, Depth: 3} // 8 leaves, 4 used
		f.st.Next = 7
		tx := l2Tx(t, TxTransfer, f.alice.l2, 1, newcomer.addr, u256(1), u256(0), 0)
		op, err := Apply(f.st, Check(tx, p), p)
		if err != nil || op.To != 7 {
			t.Fatalf("op %+v, %v", op, err)
		}
	})
	t.Run("self-transfer", func(t *testing.T) {
		f := newFixture(t)
		tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.alice.addr, u256(500_000), u256(2000), 0)
		op, err := Apply(f.st, Check(tx, testParams), testParams)
		if err != nil {
			t.Fatal(err)
		}
		if op.Type != OpTransfer || op.To != 1 {
			t.Fatalf("op = %+v", op)
		}
		if a := f.st.Account(1); a.Balance != u256(998_000) || a.Nonce != 1 {
			t.Fatalf("self-transfer left %+v", a)
		}
	})
	t.Run("self-transfer of the whole balance", func(t *testing.T) {
		f := newFixture(t)
		tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.alice.addr, u256(999_990), u256(10), 0)
		if _, err := Apply(f.st, Check(tx, testParams), testParams); err != nil {
			t.Fatal(err)
		}
		if a := f.st.Account(1); a.Balance != u256(999_990) {
			t.Fatalf("balance %v", &a.Balance)
		}
	})
	t.Run("recipient reaches exactly 2^128-1", func(t *testing.T) {
		f := newFixture(t)
		f.st.SetBalance(2, sub(pow2(128), 6))
		tx := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(5), u256(0), 0)
		if _, err := Apply(f.st, Check(tx, testParams), testParams); err != nil {
			t.Fatal(err)
		}
		if f.st.Account(2).Balance != MaxAmount() {
			t.Fatal("wrong recipient balance")
		}
	})
}

func TestWithdrawSuccess(t *testing.T) {
	f := newFixture(t)
	l1 := newUser(t, "l1 recipient").addr
	// Withdraw amounts are not packed: any 128-bit value.
	tx := l2Tx(t, TxWithdraw, f.alice.l2, 1, l1, u256(999_999-2000), u256(2000), 0)
	op, err := Apply(f.st, Check(tx, testParams), testParams)
	if err != nil {
		t.Fatal(err)
	}
	want := Op{Type: OpWithdraw, Account: 1, Address: l1, Amount: u256(999_999 - 2000), Fee: u256(2000), PubKey: tx.PubKey, Signature: tx.Signature}
	if !reflect.DeepEqual(op, want) {
		t.Fatalf("op = %+v", op)
	}
	if a := f.st.Account(1); a.Balance != u256(1) || a.Nonce != 1 {
		t.Fatalf("account = %+v", a)
	}
	if _, ok, _ := f.st.Lookup(l1); ok {
		t.Fatal("withdraw created an account")
	}
}

func TestChangePubKeySuccess(t *testing.T) {
	f := newFixture(t)
	// carol has no key; she sets one, then transfers with it.
	h := f.carol.keyHash(t)
	f.st.SetNonce(3, 2)
	tx := cpkTx(t, f.carol.eth, 3, 2, h)
	op, err := Apply(f.st, Check(tx, testParams), testParams)
	if err != nil {
		t.Fatal(err)
	}
	want := Op{Type: OpChangePubKey, Account: 3, Address: f.carol.addr, Nonce: 2, NewPubKeyHash: h, EthSignature: tx.EthSignature}
	if !reflect.DeepEqual(op, want) {
		t.Fatalf("op = %+v", op)
	}
	if a := f.st.Account(3); a.PubKeyHash != h || a.Nonce != 3 {
		t.Fatalf("account = %+v", a)
	}
	tr := l2Tx(t, TxTransfer, f.carol.l2, 3, f.bob.addr, u256(10), u256(1), 3)
	if _, err := Apply(f.st, Check(tr, testParams), testParams); err != nil {
		t.Fatal(err)
	}
	// Key rotation: alice's old key stops working.
	rot := newUser(t, "rotated")
	if _, err := Apply(f.st, Check(cpkTx(t, f.alice.eth, 1, 0, rot.keyHash(t)), testParams), testParams); err != nil {
		t.Fatal(err)
	}
	old := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(10), u256(1), 1)
	mustFailUnchanged(t, f.st, ErrWrongKey, func() error {
		_, err := Apply(f.st, Check(old, testParams), testParams)
		return err
	})
	// Replaying the same ChangePubKey fails on the nonce.
	mustFailUnchanged(t, f.st, ErrNonce, func() error {
		_, err := Apply(f.st, Check(tx, testParams), testParams)
		return err
	})
}

func TestDeposit(t *testing.T) {
	newcomer := newUser(t, "depositor")
	t.Run("new", func(t *testing.T) {
		f := newFixture(t)
		op, err := ApplyDeposit(f.st, Deposit{ID: 42, Address: newcomer.addr, Amount: u256(77)}, testParams)
		if err != nil {
			t.Fatal(err)
		}
		want := Op{Type: OpDeposit, Account: 4, Address: newcomer.addr, Amount: u256(77), PriorityID: 42}
		if !reflect.DeepEqual(op, want) {
			t.Fatalf("op = %+v", op)
		}
		if a := f.st.Account(4); a.Address != newcomer.addr || a.Balance != u256(77) {
			t.Fatalf("account = %+v", a)
		}
	})
	t.Run("existing", func(t *testing.T) {
		f := newFixture(t)
		// Deposit amounts are not packed.
		op, err := ApplyDeposit(f.st, Deposit{ID: 1, Address: f.bob.addr, Amount: u256(123_456_789_123)}, testParams)
		if err != nil || op.Account != 2 {
			t.Fatalf("op %+v, %v", op, err)
		}
		if a := f.st.Account(2); a.Balance != u256(1_000_000+123_456_789_123) || a.Nonce != 0 {
			t.Fatalf("account = %+v", a)
		}
		if f.st.Next != 4 {
			t.Fatal("deposit to an existing account advanced NextIndex")
		}
	})
	t.Run("zero amount creates the account", func(t *testing.T) {
		f := newFixture(t)
		if op, err := ApplyDeposit(f.st, Deposit{Address: newcomer.addr}, testParams); err != nil || op.Account != 4 {
			t.Fatalf("op %+v, %v", op, err)
		}
	})
	errCases := []struct {
		name   string
		d      Deposit
		params Params
		prep   func(*MemState)
		want   error
	}{
		{"zero address", Deposit{Amount: u256(1)}, testParams, nil, ErrZeroAddress},
		{"amount 2^128", Deposit{Address: newcomer.addr, Amount: pow2(128)}, testParams, nil, ErrAmountRange},
		{"amount 2^256-1", Deposit{Address: newcomer.addr, Amount: *new(uint256.Int).SetAllOne()}, testParams, nil, ErrAmountRange},
		{"balance overflow", Deposit{Address: newcomer.addr, Amount: u256(1)}, testParams, func(s *MemState) {
			s.Create(4, newcomer.addr)
			s.SetBalance(4, MaxAmount())
		}, ErrBalanceOverflow},
		{"tree full", Deposit{Address: newcomer.addr, Amount: u256(1)}, Params{ChainID: testChainID, Depth: 2}, nil, ErrTreeFull},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.prep != nil {
				tc.prep(f.st)
			}
			mustFailUnchanged(t, f.st, tc.want, func() error {
				_, err := ApplyDeposit(f.st, tc.d, tc.params)
				return err
			})
		})
	}
}

func TestCreditFees(t *testing.T) {
	f := newFixture(t)
	if err := CreditFees(f.st, u256(1234)); err != nil {
		t.Fatal(err)
	}
	if b := f.st.Account(0).Balance; b != u256(1_001_234) {
		t.Fatalf("fee account balance %v", &b)
	}
	if err := CreditFees(f.st, u256(0)); err != nil {
		t.Fatal(err)
	}
	f.st.SetBalance(0, sub(pow2(128), 10))
	if err := CreditFees(f.st, u256(10)); !errors.Is(err, ErrBalanceOverflow) {
		t.Fatalf("overflow: %v", err)
	}
	// A total that wraps 256 bits back into range is still rejected.
	f.st.SetBalance(0, u256(10))
	var huge uint256.Int
	huge.SetAllOne() // 2^256-1: 10 + huge = 9 mod 2^256
	mustFailUnchanged(t, f.st, ErrAmountRange, func() error { return CreditFees(f.st, huge) })
	mustFailUnchanged(t, f.st, ErrAmountRange, func() error { return CreditFees(f.st, pow2(128)) })
	mustFailUnchanged(t, f.st, ErrBalanceOverflow, func() error { return CreditFees(f.st, MaxAmount()) })

	// Without a fee account, a non-zero credit is refused: it would land
	// in a leaf that hashes as empty.
	empty := NewMemState()
	mustFailUnchanged(t, empty, ErrUnknownAccount, func() error { return CreditFees(empty, u256(1)) })
	if err := CreditFees(empty, u256(0)); err != nil || len(empty.Accounts) != 0 {
		t.Fatalf("zero credit on empty state: %v, %d accounts", err, len(empty.Accounts))
	}
}

// A batch: several transfers, fees accumulated, credited once.
func TestBatchFees(t *testing.T) {
	f := newFixture(t)
	var total uint256.Int
	txs := []*Tx{
		l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(100), u256(3), 0),
		l2Tx(t, TxTransfer, f.bob.l2, 2, f.alice.addr, u256(50), u256(5), 0),
		l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, u256(10), u256(7), 1),
	}
	for _, tx := range txs {
		op, err := Apply(f.st, Check(tx, testParams), testParams)
		if err != nil {
			t.Fatal(err)
		}
		total.Add(&total, &op.Fee)
	}
	if err := CreditFees(f.st, total); err != nil {
		t.Fatal(err)
	}
	var sum uint256.Int
	for _, a := range f.st.Accounts {
		sum.Add(&sum, &a.Balance)
	}
	if sum != u256(4_000_000-10) {
		t.Fatalf("value not conserved: %v", &sum)
	}
	if f.st.Account(0).Balance != u256(1_000_015) {
		t.Fatal("fees not credited")
	}
}
