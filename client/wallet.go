package client

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/veloxlabs/velox/ledger"
)

// Wallet is a user's keys: the Ethereum key that owns the L1 address and
// the L2 key derived from it (ledger.DeriveKey) for one chain.
type Wallet struct {
	Eth     *ecdsa.PrivateKey
	L2      *ledger.PrivateKey
	Address common.Address
	ChainID uint64
}

// NewWallet derives the L2 key of ethKey for chainID.
func NewWallet(ethKey *ecdsa.PrivateKey, chainID uint64) (*Wallet, error) {
	l2, err := ledger.DeriveKey(ethKey, chainID)
	if err != nil {
		return nil, fmt.Errorf("client: deriving the L2 key: %w", err)
	}
	return &Wallet{Eth: ethKey, L2: l2, Address: crypto.PubkeyToAddress(ethKey.PublicKey), ChainID: chainID}, nil
}

// ChangePubKey returns a signed ChangePubKey that sets the wallet's L2 key
// on account idx (authorized by the Ethereum key).
func (w *Wallet) ChangePubKey(idx, nonce uint32) ([]byte, error) {
	pk := w.L2.Public()
	h, err := pk.Hash()
	if err != nil {
		return nil, err
	}
	tx := &ledger.Tx{Type: ledger.TxChangePubKey, Account: idx, Nonce: nonce, NewPubKeyHash: h}
	if err := tx.SignChangePubKey(w.Eth, w.ChainID); err != nil {
		return nil, err
	}
	return tx.Encode(), nil
}

// Transfer returns a signed transfer of amount wei (plus fee) from account
// idx to the L2 account of `to` (created if new).
func (w *Wallet) Transfer(idx uint32, to common.Address, amount, fee *big.Int, nonce uint32) ([]byte, error) {
	return w.sign(ledger.TxTransfer, idx, to, amount, fee, nonce)
}

// Withdraw returns a signed withdrawal of amount wei (plus fee) from
// account idx, paid to `to` on L1 once its batch is settled.
func (w *Wallet) Withdraw(idx uint32, to common.Address, amount, fee *big.Int, nonce uint32) ([]byte, error) {
	return w.sign(ledger.TxWithdraw, idx, to, amount, fee, nonce)
}

func (w *Wallet) sign(typ ledger.TxType, idx uint32, to common.Address, amount, fee *big.Int, nonce uint32) ([]byte, error) {
	if amount == nil || fee == nil || amount.Sign() < 0 || fee.Sign() < 0 {
		return nil, errors.New("client: amount and fee must be non-negative")
	}
	tx := &ledger.Tx{Type: typ, Account: idx, To: to, Nonce: nonce}
	if tx.Amount.SetFromBig(amount) || tx.Fee.SetFromBig(fee) {
		return nil, fmt.Errorf("client: %w", ledger.ErrAmountRange)
	}
	if err := tx.SignL2(w.L2, w.ChainID); err != nil {
		return nil, err
	}
	return tx.Encode(), nil
}

// SetKey sends the wallet's ChangePubKey for its account and returns the
// preconfirmation.
func (c *Client) SetKey(ctx context.Context, w *Wallet) (*Preconfirmation, error) {
	a, err := c.Account(ctx, w.Address)
	if err != nil {
		return nil, err
	}
	raw, err := w.ChangePubKey(uint32(a.Index), uint32(a.Nonce))
	if err != nil {
		return nil, err
	}
	return c.SendTransaction(ctx, raw)
}

// Transfer sends amount (plus fee) from the wallet's account to `to` with
// the account's current nonce and returns the preconfirmation.
func (c *Client) Transfer(ctx context.Context, w *Wallet, to common.Address, amount, fee *big.Int) (*Preconfirmation, error) {
	return c.send(ctx, w, ledger.TxTransfer, to, amount, fee)
}

// Withdraw sends amount (plus fee) from the wallet's account to the L1
// address `to` and returns the preconfirmation.
func (c *Client) Withdraw(ctx context.Context, w *Wallet, to common.Address, amount, fee *big.Int) (*Preconfirmation, error) {
	return c.send(ctx, w, ledger.TxWithdraw, to, amount, fee)
}

func (c *Client) send(ctx context.Context, w *Wallet, typ ledger.TxType, to common.Address, amount, fee *big.Int) (*Preconfirmation, error) {
	a, err := c.Account(ctx, w.Address)
	if err != nil {
		return nil, err
	}
	raw, err := w.sign(typ, uint32(a.Index), to, amount, fee, uint32(a.Nonce))
	if err != nil {
		return nil, err
	}
	return c.SendTransaction(ctx, raw)
}
