package settlement

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/settlement/bindings"
)

// RollupConfig are the rollup contract's constructor arguments.
type RollupConfig struct {
	Verifier  common.Address
	Sequencer common.Address
	// ChainID is the L2 chain id (signed into ChangePubKey messages).
	ChainID     uint64
	GenesisRoot fr.Element
	// GenesisNumber is the batch GenesisRoot follows (0 for a new L2).
	GenesisNumber uint64
	// PriorityDeadline is the number of L1 blocks a deposit may wait.
	PriorityDeadline uint64
	// Depth is the account tree depth of the circuit, which exits in
	// exodus prove against (1 to ledger.MaxDepth; 0 means ledger.MaxDepth,
	// the production depth).
	Depth int
}

// DeployRollup deploys the rollup contract (the checked-in artifact).
func DeployRollup(ctx context.Context, l1 L1, from Account, c RollupConfig) (common.Address, error) {
	root := c.GenesisRoot.Bytes()
	depth := c.Depth
	if depth == 0 {
		depth = ledger.MaxDepth
	}
	if depth < 0 || depth > ledger.MaxDepth {
		return common.Address{}, fmt.Errorf("settlement: tree depth %d", c.Depth)
	}
	input := bindings.NewRollup().PackConstructor(c.Verifier, c.Sequencer, c.ChainID, root, c.GenesisNumber, c.PriorityDeadline, uint8(depth))
	return Deploy(ctx, l1, from, common.FromHex(bindings.RollupMetaData.Bin), input)
}

// Rollup reads and drives a deployed rollup contract.
type Rollup struct {
	l1   L1
	addr common.Address
	b    *bindings.Rollup
	c    *bind.BoundContract
}

// NewRollup binds the rollup contract at addr.
func NewRollup(l1 L1, addr common.Address) *Rollup {
	b := bindings.NewRollup()
	return &Rollup{l1: l1, addr: addr, b: b, c: b.Instance(l1, addr)}
}

// Address is the contract's address.
func (r *Rollup) Address() common.Address { return r.addr }

// Settled is the contract's settled state.
type Settled struct {
	Number uint64
	Root   [32]byte
}

// State returns the last settled batch number and root at an L1 block
// (nil: latest).
func (r *Rollup) State(ctx context.Context, block *big.Int) (Settled, error) {
	o := &bind.CallOpts{Context: ctx, BlockNumber: block}
	n, err := bind.Call(r.c, o, r.b.PackBatchNumber(), r.b.UnpackBatchNumber)
	if err != nil {
		return Settled{}, fmt.Errorf("settlement: batchNumber: %w", err)
	}
	root, err := bind.Call(r.c, o, r.b.PackStateRoot(), r.b.UnpackStateRoot)
	if err != nil {
		return Settled{}, fmt.Errorf("settlement: stateRoot: %w", err)
	}
	return Settled{Number: n, Root: root}, nil
}

// PendingWithdrawal returns what addr may claim.
func (r *Rollup) PendingWithdrawal(ctx context.Context, addr common.Address) (*big.Int, error) {
	return bind.Call(r.c, &bind.CallOpts{Context: ctx}, r.b.PackPendingWithdrawals(addr), r.b.UnpackPendingWithdrawals)
}

// ExpiredPriorityOp reports whether the oldest unconsumed deposit is past
// its deadline.
func (r *Rollup) ExpiredPriorityOp(ctx context.Context) (bool, error) {
	return bind.Call(r.c, &bind.CallOpts{Context: ctx}, r.b.PackExpiredPriorityOp(), r.b.UnpackExpiredPriorityOp)
}

// Deposit sends amount wei from `from` to the L2 account of `to` and waits
// for the transaction to be mined.
func (r *Rollup) Deposit(ctx context.Context, from Account, to common.Address, amount *big.Int) (*types.Receipt, error) {
	return r.transact(ctx, from, amount, r.b.PackDeposit(to))
}

// ClaimWithdrawal pays `from` its pending withdrawals and waits for the
// transaction to be mined.
func (r *Rollup) ClaimWithdrawal(ctx context.Context, from Account) (*types.Receipt, error) {
	return r.transact(ctx, from, nil, r.b.PackClaimWithdrawal())
}

// Exodus reports whether the rollup is in exodus (frozen).
func (r *Rollup) Exodus(ctx context.Context) (bool, error) {
	return bind.Call(r.c, &bind.CallOpts{Context: ctx}, r.b.PackExodus(), r.b.UnpackExodus)
}

// Exited reports whether L2 account idx has exited in exodus.
func (r *Rollup) Exited(ctx context.Context, idx uint32) (bool, error) {
	return bind.Call(r.c, &bind.CallOpts{Context: ctx}, r.b.PackExited(idx), r.b.UnpackExited)
}

// ActivateExodus freezes the rollup (it reverts with NoExpiredPriorityOp
// unless the oldest queued deposit is past its deadline) and waits for the
// transaction to be mined.
func (r *Rollup) ActivateExodus(ctx context.Context, from Account) (*types.Receipt, error) {
	return r.transact(ctx, from, nil, r.b.PackActivateExodus())
}

// RefundDeposit releases queued deposit id to its sender in exodus (to be
// claimed with ClaimWithdrawal) and waits for the transaction to be mined.
func (r *Rollup) RefundDeposit(ctx context.Context, from Account, id uint64) (*types.Receipt, error) {
	return r.transact(ctx, from, nil, r.b.PackRefundDeposit(id))
}

// ExitProof is an account leaf of the last verified tree and its Merkle
// path, as state.Tree.Proof returns them.
type ExitProof struct {
	Index   uint32
	Account ledger.Account
	// Siblings are bottom-up; there are as many as the tree is deep.
	Siblings []fr.Element
}

func (e *ExitProof) args() (owner common.Address, pkh *big.Int, nonce uint32, balance *big.Int, siblings []*big.Int) {
	siblings = make([]*big.Int, len(e.Siblings))
	for i := range e.Siblings {
		siblings[i] = e.Siblings[i].BigInt(new(big.Int))
	}
	return e.Account.Address, e.Account.PubKeyHash.BigInt(new(big.Int)), e.Account.Nonce, e.Account.Balance.ToBig(), siblings
}

// Exit releases the balance of the proven account to its address in
// exodus (to be claimed with ClaimWithdrawal) and waits for the
// transaction to be mined. Anyone may send it.
func (r *Rollup) Exit(ctx context.Context, from Account, e *ExitProof) (*types.Receipt, error) {
	return r.transact(ctx, from, nil, r.ExitData(e))
}

// ExitData is the calldata of exit.
func (r *Rollup) ExitData(e *ExitProof) []byte {
	owner, pkh, nonce, bal, sib := e.args()
	return r.b.PackExit(e.Index, owner, pkh, nonce, bal, sib)
}

// CallExit simulates exit from `from` at the latest block and returns nil
// or the revert (a *RevertError).
func (r *Rollup) CallExit(ctx context.Context, from common.Address, e *ExitProof) error {
	_, err := r.l1.CallContract(ctx, ethereum.CallMsg{From: from, To: &r.addr, Data: r.ExitData(e)}, nil)
	return r.decodeRevert(err)
}

// AccountRoot returns the root the contract computes for e (its
// accountRoot), whatever the tree's depth: exit succeeds only if it is the
// settled root.
func (r *Rollup) AccountRoot(ctx context.Context, e *ExitProof) ([32]byte, error) {
	owner, pkh, nonce, bal, sib := e.args()
	return bind.Call(r.c, &bind.CallOpts{Context: ctx}, r.b.PackAccountRoot(e.Index, owner, pkh, nonce, bal, sib), r.b.UnpackAccountRoot)
}

// SubmitBatchData is the calldata of submitBatch.
func (r *Rollup) SubmitBatchData(b *Batch) []byte {
	return r.b.PackSubmitBatch(b.Number, b.NewRoot, b.Pubdata, b.Proof)
}

// CallSubmitBatch simulates submitBatch from `from` at the latest block
// and returns nil or the revert (a *RevertError).
func (r *Rollup) CallSubmitBatch(ctx context.Context, from common.Address, b *Batch) error {
	_, err := r.l1.CallContract(ctx, ethereum.CallMsg{From: from, To: &r.addr, Data: r.SubmitBatchData(b)}, nil)
	return r.decodeRevert(err)
}

func (r *Rollup) transact(ctx context.Context, from Account, value *big.Int, data []byte) (*types.Receipt, error) {
	opts, err := from.Transactor(ctx, r.l1)
	if err != nil {
		return nil, err
	}
	opts.Value = value
	tx, err := bind.Transact(r.c, opts, data)
	if err != nil {
		return nil, r.decodeRevert(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rc, err := WaitMined(ctx, r.l1, tx.Hash())
	if err != nil {
		return nil, fmt.Errorf("settlement: waiting for %s: %w", tx.Hash(), err)
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		return rc, fmt.Errorf("%w: %s", ErrReverted, tx.Hash())
	}
	return rc, nil
}

// RevertError is a revert of the rollup contract with one of its custom
// errors. It matches ErrReverted with errors.Is.
type RevertError struct {
	// Name is the Solidity error's name, e.g. "InvalidProof".
	Name string
	Args []any
}

func (e *RevertError) Error() string {
	return fmt.Sprintf("rollup reverted: %s%v", e.Name, e.Args)
}

// Is makes a RevertError match ErrReverted.
func (e *RevertError) Is(target error) bool { return target == ErrReverted }

// decodeRevert turns a JSON-RPC execution error carrying revert data into a
// *RevertError; other errors are returned wrapped.
func (r *Rollup) decodeRevert(err error) error {
	if err == nil {
		return nil
	}
	var de rpc.DataError
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			if data, derr := hexutil.Decode(s); derr == nil {
				if re := decodeRollupError(data); re != nil {
					return re
				}
			}
		}
	}
	if strings.Contains(err.Error(), "revert") {
		return fmt.Errorf("%w: %v", ErrReverted, err)
	}
	return fmt.Errorf("settlement: %w", err)
}

var rollupABI = func() *abi.ABI {
	a, err := bindings.RollupMetaData.ParseABI()
	if err != nil {
		panic(err) // the checked-in ABI is tested
	}
	return a
}()

func decodeRollupError(data []byte) *RevertError {
	if len(data) < 4 {
		return nil
	}
	for name, e := range rollupABI.Errors {
		if bytes.Equal(e.ID[:4], data[:4]) {
			args, err := e.Inputs.Unpack(data[4:])
			if err != nil {
				return nil
			}
			return &RevertError{Name: name, Args: args}
		}
	}
	return nil
}

// WaitMined polls for tx's receipt (every 100ms) until it exists or ctx
// ends.
func WaitMined(ctx context.Context, l1 L1, tx common.Hash) (*types.Receipt, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		rc, err := l1.TransactionReceipt(ctx, tx)
		if err == nil && rc != nil {
			return rc, nil
		}
		if err != nil && !receiptPending(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// receiptPending reports whether a receipt lookup error means "not (yet)
// available": unknown transaction, or a node still indexing transactions
// (geth at start-up).
func receiptPending(err error) bool {
	return errors.Is(err, ethereum.NotFound) || strings.Contains(err.Error(), "indexing is in progress")
}
