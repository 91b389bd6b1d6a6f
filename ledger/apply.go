package ledger

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// Params are the chain parameters the rules depend on.
type Params struct {
	// ChainID is signed into every L2 transaction.
	ChainID uint64
	// Depth is the account tree depth: indices range over [0, 2^Depth).
	Depth int
}

// capacity is the number of leaves of the tree.
func (p Params) capacity() uint64 { return uint64(1) << p.Depth }

// State is the view of L2 state the rules read and write, at the level of
// individual account fields so that a parallel executor can track
// conflicts precisely. Reads return an error only when the implementation
// cannot answer (I/O, or a read that must abort a speculative execution);
// rules pass such errors through unchanged. An index that holds no account
// reads as the zero address, zero key hash, zero nonce and zero balance.
type State interface {
	Address(idx uint32) (common.Address, error)
	PubKeyHash(idx uint32) (fr.Element, error)
	Nonce(idx uint32) (uint32, error)
	Balance(idx uint32) (uint256.Int, error)
	// Lookup returns the index of the account owned by addr.
	Lookup(addr common.Address) (idx uint32, ok bool, err error)
	// NextIndex returns the index the next new account receives.
	NextIndex() (uint32, error)

	SetPubKeyHash(idx uint32, h fr.Element)
	SetNonce(idx uint32, n uint32)
	SetBalance(idx uint32, v uint256.Int)
	// Create makes addr the owner of the empty index idx (== NextIndex())
	// and advances NextIndex.
	Create(idx uint32, addr common.Address)
}

// Checked is a transaction after its stateless checks: the work that does
// not depend on state, done once and cached by the executor across
// re-executions.
type Checked struct {
	Tx *Tx
	// Err is the stateless rule the transaction breaks, if any.
	Err error
	// KeyHash is Hash(PubKey) of a Transfer or Withdraw.
	KeyHash fr.Element
	// Signer is the Ethereum address that authorized a ChangePubKey.
	Signer common.Address
}

// Check performs the stateless rules: field ranges, packability, and the
// signature (EdDSA for Transfer and Withdraw, Ethereum for ChangePubKey).
// It never fails for state reasons; the result's Err is the rule broken.
func Check(tx *Tx, p Params) *Checked {
	c := &Checked{Tx: tx}
	c.Err = check(c, p)
	return c
}

func check(c *Checked, p Params) error {
	tx := c.Tx
	switch tx.Type {
	case TxTransfer, TxWithdraw:
		k, err := checkFields(c)
		if err != nil {
			return err
		}
		msg := tx.Hash(p.ChainID)
		if !k.verify(&tx.Signature, &msg) {
			return ErrBadSignature
		}
		return nil
	case TxChangePubKey:
		signer, err := tx.ChangePubKeySigner(p.ChainID)
		if err != nil {
			return err
		}
		c.Signer = signer
		return nil
	}
	return fmt.Errorf("%w: transaction type 0x%02x", ErrUnknownType, uint8(tx.Type))
}

// checkFields checks a Transfer's or Withdraw's fields, decodes its key and
// sets c.KeyHash: everything of check but the signature.
func checkFields(c *Checked) (*decodedKey, error) {
	tx := c.Tx
	if !fitsU128(&tx.Amount) || !fitsU128(&tx.Fee) {
		return nil, ErrAmountRange
	}
	if tx.To == (common.Address{}) {
		return nil, ErrZeroAddress
	}
	if tx.Type == TxTransfer {
		if _, err := PackAmount(&tx.Amount); err != nil {
			return nil, err
		}
	}
	if _, err := PackFee(&tx.Fee); err != nil {
		return nil, err
	}
	k, err := tx.PubKey.decoded()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	c.KeyHash = k.hash
	return k, nil
}

// Apply executes a checked transaction against s. On success it returns the
// executed operation; on failure it returns the broken rule and has written
// nothing to s. Fees are not credited here: the caller accumulates Op.Fee
// and calls CreditFees once per batch.
func Apply(s State, c *Checked, p Params) (Op, error) {
	if c.Err != nil {
		return Op{}, c.Err
	}
	tx := c.Tx
	op := Op{Account: tx.Account, Nonce: tx.Nonce}
	addr, err := s.Address(tx.Account)
	if err != nil {
		return op, err
	}
	if addr == (common.Address{}) {
		return op, ErrUnknownAccount
	}
	if tx.Type == TxChangePubKey {
		if c.Signer != addr {
			return op, fmt.Errorf("%w: signed by %v, account owned by %v", ErrBadSignature, c.Signer, addr)
		}
		if err := checkNonce(s, tx); err != nil {
			return op, err
		}
		s.SetPubKeyHash(tx.Account, tx.NewPubKeyHash)
		s.SetNonce(tx.Account, tx.Nonce+1)
		op.Type, op.Address, op.NewPubKeyHash, op.EthSignature = OpChangePubKey, addr, tx.NewPubKeyHash, tx.EthSignature
		return op, nil
	}

	pkh, err := s.PubKeyHash(tx.Account)
	if err != nil {
		return op, err
	}
	if pkh.IsZero() {
		return op, ErrNoPubKey
	}
	if pkh != c.KeyHash {
		return op, ErrWrongKey
	}
	if err := checkNonce(s, tx); err != nil {
		return op, err
	}
	bal, err := s.Balance(tx.Account)
	if err != nil {
		return op, err
	}
	var need uint256.Int
	need.Add(&tx.Amount, &tx.Fee)
	if bal.Lt(&need) {
		return op, ErrInsufficientBalance
	}
	op.Amount, op.Fee, op.PubKey, op.Signature = tx.Amount, tx.Fee, tx.PubKey, tx.Signature

	if tx.Type == TxWithdraw {
		bal.Sub(&bal, &need)
		s.SetNonce(tx.Account, tx.Nonce+1)
		s.SetBalance(tx.Account, bal)
		op.Type, op.Address = OpWithdraw, tx.To
		return op, nil
	}

	to, exists, err := s.Lookup(tx.To)
	if err != nil {
		return op, err
	}
	if !exists {
		if to, err = s.NextIndex(); err != nil {
			return op, err
		}
		if uint64(to) >= p.capacity() {
			return op, ErrTreeFull
		}
	}
	var toBal uint256.Int
	if to == tx.Account {
		toBal.Sub(&bal, &need)
	} else if exists {
		if toBal, err = s.Balance(to); err != nil {
			return op, err
		}
	}
	toBal.Add(&toBal, &tx.Amount)
	if !fitsU128(&toBal) {
		return op, ErrBalanceOverflow
	}
	bal.Sub(&bal, &need)
	s.SetNonce(tx.Account, tx.Nonce+1)
	s.SetBalance(tx.Account, bal)
	if !exists {
		s.Create(to, tx.To)
		op.Type, op.Address = OpTransferToNew, tx.To
	} else {
		op.Type = OpTransfer
	}
	s.SetBalance(to, toBal)
	op.To = to
	return op, nil
}

func checkNonce(s State, tx *Tx) error {
	n, err := s.Nonce(tx.Account)
	if err != nil {
		return err
	}
	if tx.Nonce != n {
		return fmt.Errorf("%w: transaction nonce %d, account nonce %d", ErrNonce, tx.Nonce, n)
	}
	if n == ^uint32(0) {
		return ErrNonceOverflow
	}
	return nil
}

// ApplyDeposit credits a deposit, creating the account if the address is
// new. On failure nothing is written.
func ApplyDeposit(s State, d Deposit, p Params) (Op, error) {
	op := Op{Type: OpDeposit, Address: d.Address, Amount: d.Amount, PriorityID: d.ID}
	if d.Address == (common.Address{}) {
		return op, ErrZeroAddress
	}
	if !fitsU128(&d.Amount) {
		return op, ErrAmountRange
	}
	idx, exists, err := s.Lookup(d.Address)
	if err != nil {
		return op, err
	}
	var bal uint256.Int
	if exists {
		if bal, err = s.Balance(idx); err != nil {
			return op, err
		}
	} else {
		if idx, err = s.NextIndex(); err != nil {
			return op, err
		}
		if uint64(idx) >= p.capacity() {
			return op, ErrTreeFull
		}
	}
	bal.Add(&bal, &d.Amount)
	if !fitsU128(&bal) {
		return op, ErrBalanceOverflow
	}
	if !exists {
		s.Create(idx, d.Address)
	}
	s.SetBalance(idx, bal)
	op.Account = idx
	return op, nil
}

// CreditFees credits a batch's accumulated fees to the fee account. It
// returns ErrAmountRange if total is not below 2^128, ErrUnknownAccount if
// total is non-zero and the fee account does not exist (the credit would
// land in a leaf that hashes as empty), and ErrBalanceOverflow if the
// balance would pass 2^128-1. On error nothing is written; a zero total
// writes nothing.
func CreditFees(s State, total uint256.Int) error {
	if !fitsU128(&total) {
		return ErrAmountRange
	}
	if total.IsZero() {
		return nil
	}
	addr, err := s.Address(FeeAccount)
	if err != nil {
		return err
	}
	if addr == (common.Address{}) {
		return fmt.Errorf("%w: fee account %d", ErrUnknownAccount, FeeAccount)
	}
	bal, err := s.Balance(FeeAccount)
	if err != nil {
		return err
	}
	bal.Add(&bal, &total)
	if !fitsU128(&bal) {
		return ErrBalanceOverflow
	}
	s.SetBalance(FeeAccount, bal)
	return nil
}
