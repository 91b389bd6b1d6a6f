// Package testchain builds real L2 histories for tests and benchmarks:
// users with Ethereum and L2 keys, signed transactions executed with the
// ledger rules on a Pebble state store, and batch witnesses from the
// store's tree. Library packages never import it.
package testchain

import (
	"context"
	"crypto/ecdsa"
	"math/rand/v2"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/executor"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// TB is the part of testing.TB the chain uses; benchmarks outside tests
// provide their own.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
	TempDir() string
}

// User holds both keys of an account.
type User struct {
	Eth   *ecdsa.PrivateKey
	Addr  common.Address
	L2    *ledger.PrivateKey
	Index uint32
}

// Chain is a state store with funded users whose L2 keys are set.
type Chain struct {
	T      TB
	Params ledger.Params
	Store  *state.Store
	Users  []*User
	// Sequencer owns the fee account.
	Sequencer common.Address
	rng       *rand.Rand
}

type rngReader struct{ r *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// New opens a store in a temporary directory and funds n users with
// balance wei each; their deposits and key changes are applied to both the
// flat state and the tree (as batch 1, not proven).
func New(t TB, p ledger.Params, n int, balance uint64, seed uint64) *Chain {
	t.Helper()
	st, err := state.Open(t.TempDir(), state.Options{Depth: p.Depth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &Chain{T: t, Params: p, Store: st, Sequencer: common.Address{0x5e, 0x0}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	if err := st.Genesis(context.Background(), c.Sequencer); err != nil {
		t.Fatal(err)
	}
	var setup []*ledger.Tx
	var deposits []ledger.Deposit
	for i := 0; i < n; i++ {
		u := c.NewUser()
		deposits = append(deposits, ledger.Deposit{ID: uint64(i), Address: u.Addr, Amount: *uint256.NewInt(balance)})
		c.Users = append(c.Users, u)
	}
	ops := c.Deposit(deposits...)
	for i, u := range c.Users {
		u.Index = ops[i].Account
		setup = append(setup, c.ChangePubKey(u, u.L2))
	}
	ops = append(ops, c.Execute(setup...)...)
	c.Commit(ops, len(ops)*8)
	return c
}

// NewUser makes a user with fresh keys (no account yet).
func (c *Chain) NewUser() *User {
	k, err := ecdsa.GenerateKey(crypto.S256(), rngReader{c.rng})
	if err != nil {
		c.T.Fatal(err)
	}
	u := &User{Eth: k, Addr: crypto.PubkeyToAddress(k.PublicKey)}
	if u.L2, err = ledger.DeriveKey(k, c.Params.ChainID); err != nil {
		c.T.Fatal(err)
	}
	return u
}

// Rand is the chain's deterministic random source.
func (c *Chain) Rand() *rand.Rand { return c.rng }

// Nonce is the user's current nonce in the flat state.
func (c *Chain) Nonce(u *User) uint32 {
	n, err := c.Store.Nonce(u.Index)
	if err != nil {
		c.T.Fatal(err)
	}
	return n
}

// Transfer returns a signed transfer from u to addr with the next nonce
// (plus skip).
func (c *Chain) Transfer(u *User, to common.Address, amount, fee uint64, nonce uint32) *ledger.Tx {
	return c.sign(ledger.TxTransfer, u, to, amount, fee, nonce)
}

// Withdraw returns a signed withdrawal.
func (c *Chain) Withdraw(u *User, to common.Address, amount, fee uint64, nonce uint32) *ledger.Tx {
	return c.sign(ledger.TxWithdraw, u, to, amount, fee, nonce)
}

func (c *Chain) sign(typ ledger.TxType, u *User, to common.Address, amount, fee uint64, nonce uint32) *ledger.Tx {
	tx := &ledger.Tx{Type: typ, Account: u.Index, To: to, Nonce: nonce}
	tx.Amount.SetUint64(amount)
	tx.Fee.SetUint64(fee)
	if err := tx.SignL2(u.L2, c.Params.ChainID); err != nil {
		c.T.Fatal(err)
	}
	return tx
}

// ChangePubKey returns u's owner-signed key change to k, with u's current
// nonce.
func (c *Chain) ChangePubKey(u *User, k *ledger.PrivateKey) *ledger.Tx {
	pub := k.Public()
	h, err := pub.Hash()
	if err != nil {
		c.T.Fatal(err)
	}
	tx := &ledger.Tx{Type: ledger.TxChangePubKey, Account: u.Index, Nonce: c.Nonce(u), NewPubKeyHash: h}
	if err := tx.SignChangePubKey(u.Eth, c.Params.ChainID); err != nil {
		c.T.Fatal(err)
	}
	return tx
}

// Deposit applies deposits to the flat state with the parallel executor
// and returns their operations.
func (c *Chain) Deposit(ds ...ledger.Deposit) []ledger.Op {
	txs := make([]executor.Tx, len(ds))
	for i := range ds {
		txs[i].Deposit = &ds[i]
	}
	ops, errs := c.execute(txs)
	for _, err := range errs {
		if err != nil {
			c.T.Fatal(err)
		}
	}
	return ops
}

// Execute applies transactions in order to the flat state (failed ones
// change nothing) and returns the operations of the successful ones.
func (c *Chain) Execute(txs ...*ledger.Tx) []ledger.Op {
	ops, _ := c.ExecuteAll(txs...)
	return ops
}

// ExecuteAll is Execute that also returns each transaction's error. The
// transactions run through the Block-STM executor (executor.Parallel) on
// the committed store, as the sequencer runs a mini-block.
func (c *Chain) ExecuteAll(txs ...*ledger.Tx) ([]ledger.Op, []error) {
	in := make([]executor.Tx, len(txs))
	for i, tx := range txs {
		in[i].Decoded = tx
	}
	return c.execute(in)
}

func (c *Chain) execute(txs []executor.Tx) ([]ledger.Op, []error) {
	c.T.Helper()
	res, err := executor.Parallel(context.Background(), c.Store, txs, c.Params, executor.Options{})
	if err != nil {
		c.T.Fatal(err)
	}
	var ops []ledger.Op
	errs := make([]error, len(txs))
	for i, r := range res.Receipts {
		errs[i] = r.Err
		if r.Err == nil {
			ops = append(ops, r.Op)
		}
	}
	b := c.Store.NewBatch()
	defer b.Close()
	for idx, a := range res.Writes {
		if err := b.PutAccount(idx, a); err != nil {
			c.T.Fatal(err)
		}
	}
	if err := b.SetNextIndex(res.NextIndex); err != nil {
		c.T.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		c.T.Fatal(err)
	}
	return ops, errs
}

// Witness builds the next batch's witness from the tree without
// committing it.
func (c *Chain) Witness(ops []ledger.Op, slots int) (*ledger.BatchWitness, *state.TreeUpdate) {
	c.T.Helper()
	w, u, err := c.Store.Tree().BuildWitness(c.Store.Tree().Number()+1, ops, slots, c.Params)
	if err != nil {
		c.T.Fatal(err)
	}
	return w, u
}

// Commit builds the next batch of ops and moves the tree (and the flat fee
// account) to its end; it returns the witness.
func (c *Chain) Commit(ops []ledger.Op, slots int) *ledger.BatchWitness {
	c.T.Helper()
	w, u := c.Witness(ops, slots)
	o := state.NewOverlay(c.Store)
	if err := ledger.CreditFees(o, w.FeeTotal); err != nil {
		c.T.Fatal(err)
	}
	b := c.Store.NewBatch()
	defer b.Close()
	if err := o.WriteTo(b); err != nil {
		c.T.Fatal(err)
	}
	if err := b.PutTree(u); err != nil {
		c.T.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		c.T.Fatal(err)
	}
	return w
}
