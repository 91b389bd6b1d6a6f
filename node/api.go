package node

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/sequencer"
	"github.com/veloxlabs/velox/state"
)

// subscriptionBuffer bounds the events queued for one subscriber; one that
// falls further behind is dropped by the sequencer.
const subscriptionBuffer = 1024

// ethAPI serves the eth namespace: the Ethereum methods wallets and tools
// expect, and the eth_subscribe topics.
type ethAPI struct{ n *Node }

// ChainId returns the L2 chain id.
func (a *ethAPI) ChainId() hexutil.Uint64 { return hexutil.Uint64(a.n.cfg.ChainID) }

// BlockNumber returns the newest mini-block's number.
func (a *ethAPI) BlockNumber() hexutil.Uint64 {
	n, _ := a.n.seq.Head()
	return hexutil.Uint64(n)
}

// checkTag accepts only the tags that name the newest mini-block.
func checkTag(tag *string) error {
	if tag == nil || *tag == "latest" || *tag == "pending" {
		return nil
	}
	return &Error{Code: CodeBlockTag, Msg: fmt.Sprintf("block %q is not supported: Velox serves the state of the newest mini-block only; use \"latest\" or \"pending\"", *tag)}
}

// GetBalance returns addr's L2 balance in wei (0 without an account).
func (a *ethAPI) GetBalance(addr common.Address, tag *string) (*hexutil.Big, error) {
	if err := checkTag(tag); err != nil {
		return nil, err
	}
	_, acc, err := a.n.seq.AccountByAddress(addr)
	if errors.Is(err, sequencer.ErrNotFound) {
		return (*hexutil.Big)(new(big.Int)), nil
	}
	if err != nil {
		return nil, rpcError(err)
	}
	return (*hexutil.Big)(acc.Balance.ToBig()), nil
}

// GetTransactionCount returns addr's L2 nonce (0 without an account).
func (a *ethAPI) GetTransactionCount(addr common.Address, tag *string) (hexutil.Uint64, error) {
	if err := checkTag(tag); err != nil {
		return 0, err
	}
	_, acc, err := a.n.seq.AccountByAddress(addr)
	if errors.Is(err, sequencer.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, rpcError(err)
	}
	return hexutil.Uint64(acc.Nonce), nil
}

// MiniBlocks is eth_subscribe("miniBlocks"): every committed mini-block
// with its header, signature, transactions and receipts.
func (a *ethAPI) MiniBlocks(ctx context.Context) (*rpc.Subscription, error) {
	notifier, ok := rpc.NotifierFromContext(ctx)
	if !ok {
		return nil, rpc.ErrNotificationsUnsupported
	}
	sub := a.n.seq.SubscribeBlocks(subscriptionBuffer)
	rs := notifier.CreateSubscription()
	a.n.serve(sub.Unsubscribe, func() bool {
		select {
		case mb, ok := <-sub.C:
			if !ok {
				return false
			}
			return notifier.Notify(rs.ID, miniBlockJSON(mb)) == nil
		case <-rs.Err():
			return false
		}
	})
	return rs, nil
}

// TransactionStatus is eth_subscribe("transactionStatus", hash): the
// transaction's current status, then each change.
func (a *ethAPI) TransactionStatus(ctx context.Context, hash common.Hash) (*rpc.Subscription, error) {
	notifier, ok := rpc.NotifierFromContext(ctx)
	if !ok {
		return nil, rpc.ErrNotificationsUnsupported
	}
	sub := a.n.seq.SubscribeStatus(subscriptionBuffer)
	cur, err := a.n.seq.Status(hash)
	if err != nil && !errors.Is(err, sequencer.ErrNotFound) {
		sub.Unsubscribe()
		return nil, rpcError(err)
	}
	rs := notifier.CreateSubscription()
	last := sequencer.Status(0)
	first := err == nil
	a.n.serve(sub.Unsubscribe, func() bool {
		if first {
			first = false
			last = cur.Status
			return notifier.Notify(rs.ID, statusJSON(&cur)) == nil
		}
		select {
		case evs, ok := <-sub.C:
			if !ok {
				return false
			}
			for i := range evs {
				ev := &evs[i]
				// Events may repeat or precede what the first read saw;
				// forward only progress (failed is terminal).
				if ev.Hash != hash || !advances(last, ev.Status) {
					continue
				}
				// Batch events carry no block position: read it.
				if st, err := a.n.seq.Status(hash); err == nil && st.Status == ev.Status {
					ev = &st
				}
				last = ev.Status
				if notifier.Notify(rs.ID, statusJSON(ev)) != nil {
					return false
				}
			}
			return true
		case <-rs.Err():
			return false
		}
	})
	return rs, nil
}

// advances reports whether a transaction may move from status from to to.
func advances(from, to sequencer.Status) bool {
	if from == sequencer.StatusFailed {
		return false
	}
	if to == sequencer.StatusFailed {
		return from < sequencer.StatusPreconfirmed
	}
	return to > from
}

// veloxAPI serves the velox namespace.
type veloxAPI struct{ n *Node }

// SendTransaction admits a wire-encoded transaction and returns its
// preconfirmation once its mini-block is durably committed. A transaction
// that fails a rule at execution is preconfirmed with a failed receipt.
func (a *veloxAPI) SendTransaction(ctx context.Context, raw hexutil.Bytes) (*PreconfirmationJSON, error) {
	if len(raw) == 0 {
		return nil, invalidParams("empty transaction: pass the hex of ledger.Tx.Encode()")
	}
	tx, err := a.n.precheck(raw)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.n.cfg.SendTimeout)
	defer cancel()
	pre, err := a.n.seq.SubmitDecoded(ctx, raw, tx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, &Error{Code: CodeTimeout, Msg: fmt.Sprintf("no preconfirmation within %v; transaction %v may still be included: poll velox_getTransactionStatus",
				a.n.cfg.SendTimeout, sequencer.TxHash(raw)), err: err}
		}
		return nil, rpcError(err)
	}
	return &PreconfirmationJSON{Receipt: receiptJSON(&pre.Receipt), Header: headerJSON(&pre.Header), HeaderHash: pre.HeaderHash,
		Signature: pre.Signature, Sequencer: a.n.seq.Address()}, nil
}

// GetTransactionStatus returns a transaction's or deposit's status.
func (a *veloxAPI) GetTransactionStatus(hash common.Hash) (*TxStatusJSON, error) {
	st, err := a.n.seq.Status(hash)
	if errors.Is(err, sequencer.ErrNotFound) {
		return nil, &Error{Code: CodeNotFound, Msg: fmt.Sprintf("transaction %v is unknown: neither queued nor included (resend it if it was dropped)", hash)}
	}
	if err != nil {
		return nil, rpcError(err)
	}
	j := statusJSON(&st)
	return &j, nil
}

// GetAccount returns an account, by address (0x + 40 hex digits) or index
// (a decimal or a 0x quantity), with a Merkle proof against the tree root
// of the last cut batch.
func (a *veloxAPI) GetAccount(who string) (*AccountJSON, error) {
	var (
		idx uint32
		acc ledger.Account
		err error
	)
	switch {
	case len(who) == 42 && (strings.HasPrefix(who, "0x") || strings.HasPrefix(who, "0X")):
		if !common.IsHexAddress(who) {
			return nil, invalidParams("%q is not an address", who)
		}
		idx, acc, err = a.n.seq.AccountByAddress(common.HexToAddress(who))
	default:
		var v uint64
		if strings.HasPrefix(who, "0x") || strings.HasPrefix(who, "0X") {
			v, err = hexutil.DecodeUint64(who)
		} else {
			v, err = strconv.ParseUint(who, 10, 32)
		}
		if err != nil || v > 1<<32-1 {
			return nil, invalidParams("%q is neither an address (0x + 40 hex digits) nor an account index", who)
		}
		if v >= 1<<a.n.cfg.Depth {
			return nil, invalidParams("account index %s is outside the tree (depth %d: indices below %d)", who, a.n.cfg.Depth, uint64(1)<<a.n.cfg.Depth)
		}
		idx = uint32(v)
		acc, err = a.n.seq.Account(idx)
	}
	if errors.Is(err, state.ErrIndexRange) {
		return nil, invalidParams("account index %s is outside the tree (depth %d)", who, a.n.cfg.Depth)
	}
	if errors.Is(err, sequencer.ErrNotFound) {
		return nil, &Error{Code: CodeNotFound, Msg: fmt.Sprintf("no account %s (an address gets one with its first deposit or transfer)", who)}
	}
	if err != nil {
		return nil, rpcError(err)
	}
	tree := a.n.st.Tree()
	batch := tree.Number()
	leaf, siblings, root, err := tree.ProofWithRoot(idx)
	if err != nil {
		return nil, rpcError(err)
	}
	j := &AccountJSON{Index: hexutil.Uint64(idx), Address: acc.Address, PubKeyHash: elemHash(acc.PubKeyHash), Nonce: hexutil.Uint64(acc.Nonce),
		Balance: (*hexutil.Big)(acc.Balance.ToBig()),
		Proof:   ProofJSON{Batch: hexutil.Uint64(batch), Root: elemHash(root), Account: leafJSON(&leaf), Siblings: make([]common.Hash, len(siblings))}}
	for i := range siblings {
		j.Proof.Siblings[i] = elemHash(siblings[i])
	}
	return j, nil
}

// GetMiniBlock returns a committed mini-block ("latest": the newest).
func (a *veloxAPI) GetMiniBlock(n Number) (*MiniBlockJSON, error) {
	num := n.N
	if n.Latest {
		num, _ = a.n.seq.Head()
	}
	mb, err := a.n.seq.MiniBlock(num)
	if errors.Is(err, sequencer.ErrNotFound) {
		head, _ := a.n.seq.Head()
		return nil, &Error{Code: CodeNotFound, Msg: fmt.Sprintf("no mini-block %d (the newest is %d)", num, head)}
	}
	if err != nil {
		return nil, rpcError(err)
	}
	return miniBlockJSON(mb), nil
}

// GetBatch returns a cut proving batch ("latest": the newest cut).
func (a *veloxAPI) GetBatch(n Number) (*BatchJSON, error) {
	num := n.N
	if n.Latest {
		num = a.n.st.Tree().Number()
	}
	b, err := a.n.seq.Batch(num)
	if errors.Is(err, sequencer.ErrNotFound) {
		return nil, &Error{Code: CodeNotFound, Msg: fmt.Sprintf("no batch %d: not cut yet (the newest cut batch is %d)", num, a.n.st.Tree().Number())}
	}
	if err != nil {
		return nil, rpcError(err)
	}
	return batchJSON(b), nil
}

// ProverStatus reports the prover's circuit, queue and last proof.
func (a *veloxAPI) ProverStatus() ProverStatusJSON {
	s := a.n.prover.status()
	s.TreeBatch = hexutil.Uint64(a.n.st.Tree().Number())
	return s
}

// precheck rejects, before the signature check, a transfer or withdrawal
// of an account that does not exist, or that is the account's next
// transaction and that its committed balance cannot pay: cheap refusals
// that spare the check's CPU. Later nonces are left to the sequencer's
// admission, which counts the account's pending transactions. It returns
// raw decoded, or nil if it does not decode (the sequencer reports that).
func (n *Node) precheck(raw []byte) (*ledger.Tx, error) {
	tx, err := ledger.DecodeTx(raw)
	if err != nil {
		return nil, nil
	}
	if tx.Type != ledger.TxTransfer && tx.Type != ledger.TxWithdraw {
		return tx, nil
	}
	acc, err := n.seq.Account(tx.Account)
	if errors.Is(err, sequencer.ErrNotFound) {
		return nil, &Error{Code: CodeUnknownAccount, Msg: fmt.Sprintf("account %d does not exist: deposit to your address on L1 first", tx.Account),
			Data: map[string]string{"rule": "unknownAccount"}}
	}
	if err != nil || tx.Nonce != acc.Nonce {
		return tx, nil
	}
	var need uint256.Int
	if _, overflow := need.AddOverflow(&tx.Amount, &tx.Fee); overflow || acc.Balance.Lt(&need) {
		if overflow {
			need.SetAllOne()
		}
		return nil, &Error{Code: CodeInsufficient, Msg: fmt.Sprintf("insufficient balance: account %d has %v wei, the transaction needs %v (amount + fee)", tx.Account, acc.Balance.Dec(), need.Dec()),
			Data: map[string]string{"rule": "insufficientBalance"}}
	}
	return tx, nil
}
