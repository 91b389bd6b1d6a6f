package client

import (
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/veloxlabs/velox/ledger"
)

const chainID = 5

func testWallet(t *testing.T, seed string) *Wallet {
	t.Helper()
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(seed)))
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWallet(k, chainID)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// The wallet's transactions decode and pass the ledger's stateless checks
// (signature included) for its chain only.
func TestWalletSigns(t *testing.T) {
	w := testWallet(t, "alice")
	to := common.Address{0xb0, 0xb}
	params := ledger.Params{ChainID: chainID, Depth: 8}
	cases := []struct {
		name string
		raw  func() ([]byte, error)
		typ  ledger.TxType
	}{
		{"transfer", func() ([]byte, error) { return w.Transfer(3, to, big.NewInt(1_000_000), big.NewInt(1000), 7) }, ledger.TxTransfer},
		{"withdraw", func() ([]byte, error) { return w.Withdraw(3, to, big.NewInt(5), big.NewInt(0), 8) }, ledger.TxWithdraw},
		{"changePubKey", func() ([]byte, error) { return w.ChangePubKey(3, 0) }, ledger.TxChangePubKey},
	}
	for _, tc := range cases {
		raw, err := tc.raw()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		tx, err := ledger.DecodeTx(raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tx.Type != tc.typ || tx.Account != 3 {
			t.Fatalf("%s: decoded %+v", tc.name, tx)
		}
		if c := ledger.Check(tx, params); c.Err != nil {
			t.Fatalf("%s: %v", tc.name, c.Err)
		}
		other := params
		other.ChainID++
		if tc.typ == ledger.TxChangePubKey {
			// The owner's signature is checked against the account's
			// address at execution: on another chain it recovers another
			// signer.
			if signer, err := tx.ChangePubKeySigner(other.ChainID); err == nil && signer == w.Address {
				t.Fatal("ChangePubKey valid on another chain")
			}
		} else if c := ledger.Check(tx, other); !errors.Is(c.Err, ledger.ErrBadSignature) {
			t.Fatalf("%s on another chain: %v", tc.name, c.Err)
		}
		if tc.typ == ledger.TxChangePubKey {
			signer, err := tx.ChangePubKeySigner(chainID)
			if err != nil || signer != w.Address {
				t.Fatalf("ChangePubKey signer %v, %v; want %v", signer, err, w.Address)
			}
			pk := w.L2.Public()
			if h, _ := pk.Hash(); h != tx.NewPubKeyHash {
				t.Fatal("ChangePubKey sets another key")
			}
		} else if tx.To != to {
			t.Fatalf("%s: recipient %v", tc.name, tx.To)
		}
	}
	// Two wallets of one Ethereum key agree; another key differs.
	if w2 := testWallet(t, "alice"); w2.L2.Public() != w.L2.Public() {
		t.Fatal("L2 key derivation is not deterministic")
	}
	if testWallet(t, "bob").L2.Public() == w.L2.Public() {
		t.Fatal("two Ethereum keys derive one L2 key")
	}
}

func TestWalletRejectsBadAmounts(t *testing.T) {
	w := testWallet(t, "alice")
	huge := new(big.Int).Lsh(big.NewInt(1), 256)
	for _, tc := range []struct {
		name        string
		amount, fee *big.Int
	}{
		{"negative", big.NewInt(-1), big.NewInt(0)},
		{"nil fee", big.NewInt(1), nil},
		{"over 256 bits", huge, big.NewInt(0)},
	} {
		if _, err := w.Transfer(1, common.Address{1}, tc.amount, tc.fee, 0); err == nil {
			t.Errorf("%s: signed", tc.name)
		}
	}
}

func TestReached(t *testing.T) {
	cases := []struct {
		status, want string
		ok           bool
	}{
		{StatusPreconfirmed, StatusPreconfirmed, true},
		{StatusProven, StatusPreconfirmed, true},
		{StatusFinalized, StatusProven, true},
		{StatusQueued, StatusPreconfirmed, false},
		{StatusProven, StatusFinalized, false},
		{StatusFailed, StatusPreconfirmed, false},
		{StatusFailed, StatusFailed, true},
		{StatusFinalized, StatusFailed, false},
		{"bogus", StatusQueued, false},
		{StatusFinalized, "bogus", false},
	}
	for _, tc := range cases {
		if got := Reached(tc.status, tc.want); got != tc.ok {
			t.Errorf("Reached(%s, %s) = %v", tc.status, tc.want, got)
		}
	}
}
