// Package client is a typed Go client of the Velox JSON-RPC API
// (docs/RPC.md) over HTTP or WebSocket, with the wallet helpers that build
// and sign L2 transactions (package ledger).
package client

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Client is a connection to a Velox node. It is safe for concurrent use.
type Client struct {
	c *rpc.Client
}

// Dial connects to a node: http(s):// for HTTP, ws(s):// for WebSocket
// (needed for subscriptions).
func Dial(ctx context.Context, url string) (*Client, error) {
	c, err := rpc.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("client: dialing %s: %w", url, err)
	}
	return &Client{c: c}, nil
}

// New wraps an rpc.Client.
func New(c *rpc.Client) *Client { return &Client{c: c} }

// Close closes the connection.
func (c *Client) Close() { c.c.Close() }

// RPC returns the underlying rpc.Client.
func (c *Client) RPC() *rpc.Client { return c.c }

// ErrorCode returns the JSON-RPC error code of err, or 0 if it carries
// none.
func ErrorCode(err error) int {
	var e rpc.Error
	if errors.As(err, &e) {
		return e.ErrorCode()
	}
	return 0
}

// ChainID returns the L2 chain id.
func (c *Client) ChainID(ctx context.Context) (uint64, error) {
	var v hexutil.Uint64
	err := c.c.CallContext(ctx, &v, "eth_chainId")
	return uint64(v), err
}

// BlockNumber returns the newest mini-block's number.
func (c *Client) BlockNumber(ctx context.Context) (uint64, error) {
	var v hexutil.Uint64
	err := c.c.CallContext(ctx, &v, "eth_blockNumber")
	return uint64(v), err
}

// Balance returns addr's L2 balance in wei.
func (c *Client) Balance(ctx context.Context, addr common.Address) (*big.Int, error) {
	var v hexutil.Big
	if err := c.c.CallContext(ctx, &v, "eth_getBalance", addr, "latest"); err != nil {
		return nil, err
	}
	return (*big.Int)(&v), nil
}

// Nonce returns addr's next L2 nonce.
func (c *Client) Nonce(ctx context.Context, addr common.Address) (uint32, error) {
	var v hexutil.Uint64
	err := c.c.CallContext(ctx, &v, "eth_getTransactionCount", addr, "latest")
	return uint32(v), err
}

// SendTransaction submits a wire-encoded transaction and returns its
// preconfirmation. A transaction that failed a rule at execution is
// preconfirmed too: check Receipt.OK.
func (c *Client) SendTransaction(ctx context.Context, raw []byte) (*Preconfirmation, error) {
	var p Preconfirmation
	if err := c.c.CallContext(ctx, &p, "velox_sendTransaction", hexutil.Bytes(raw)); err != nil {
		return nil, err
	}
	return &p, nil
}

// TransactionStatus returns a transaction's (or deposit's) status.
func (c *Client) TransactionStatus(ctx context.Context, hash common.Hash) (*TxStatus, error) {
	var s TxStatus
	if err := c.c.CallContext(ctx, &s, "velox_getTransactionStatus", hash); err != nil {
		return nil, err
	}
	return &s, nil
}

// Account returns the account owned by addr, with its Merkle proof.
func (c *Client) Account(ctx context.Context, addr common.Address) (*Account, error) {
	return c.account(ctx, addr.Hex())
}

// AccountAt returns the account at index idx, with its Merkle proof.
func (c *Client) AccountAt(ctx context.Context, idx uint32) (*Account, error) {
	return c.account(ctx, strconv.FormatUint(uint64(idx), 10))
}

func (c *Client) account(ctx context.Context, who string) (*Account, error) {
	var a Account
	if err := c.c.CallContext(ctx, &a, "velox_getAccount", who); err != nil {
		return nil, err
	}
	return &a, nil
}

// MiniBlock returns mini-block n.
func (c *Client) MiniBlock(ctx context.Context, n uint64) (*MiniBlock, error) {
	var b MiniBlock
	if err := c.c.CallContext(ctx, &b, "velox_getMiniBlock", hexutil.Uint64(n)); err != nil {
		return nil, err
	}
	return &b, nil
}

// Batch returns proving batch n.
func (c *Client) Batch(ctx context.Context, n uint64) (*Batch, error) {
	var b Batch
	if err := c.c.CallContext(ctx, &b, "velox_getBatch", hexutil.Uint64(n)); err != nil {
		return nil, err
	}
	return &b, nil
}

// ProverStatus returns the node's prover status.
func (c *Client) ProverStatus(ctx context.Context) (*ProverStatus, error) {
	var s ProverStatus
	if err := c.c.CallContext(ctx, &s, "velox_proverStatus"); err != nil {
		return nil, err
	}
	return &s, nil
}

// SubscribeMiniBlocks delivers every new mini-block on ch (WebSocket only).
func (c *Client) SubscribeMiniBlocks(ctx context.Context, ch chan<- *MiniBlock) (*rpc.ClientSubscription, error) {
	return c.c.EthSubscribe(ctx, ch, "miniBlocks")
}

// SubscribeTransactionStatus delivers the transaction's current status and
// then each change on ch (WebSocket only).
func (c *Client) SubscribeTransactionStatus(ctx context.Context, hash common.Hash, ch chan<- *TxStatus) (*rpc.ClientSubscription, error) {
	return c.c.EthSubscribe(ctx, ch, "transactionStatus", hash)
}

var rank = map[string]int{StatusQueued: 1, StatusPreconfirmed: 2, StatusProven: 3, StatusFinalized: 4}

// Reached reports whether status is at least want on the finality ladder
// (failed reaches nothing but "failed").
func Reached(status, want string) bool {
	if status == StatusFailed || want == StatusFailed {
		return status == want
	}
	return rank[status] >= rank[want] && rank[want] > 0
}

// WaitStatus polls the transaction's status every interval (100ms if 0)
// until it reaches want (see Reached) and returns it. It returns an error
// if the transaction failed, or when ctx ends.
func (c *Client) WaitStatus(ctx context.Context, hash common.Hash, want string, interval time.Duration) (*TxStatus, error) {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s, err := c.TransactionStatus(ctx, hash)
		if err == nil {
			if Reached(s.Status, want) {
				return s, nil
			}
			if s.Status == StatusFailed {
				return s, fmt.Errorf("client: transaction %v failed: %s", hash, s.Error)
			}
		} else if ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("client: waiting for %v to be %s: %w", hash, want, ctx.Err())
		case <-t.C:
		}
	}
}
