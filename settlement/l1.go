package settlement

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// L1 is what settlement needs from an Ethereum node. *ethclient.Client
// implements it, for the embedded development chain (DevChain.Client) and
// for any JSON-RPC endpoint (Dial).
type L1 interface {
	bind.ContractBackend
	bind.DeployBackend
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	BalanceAt(ctx context.Context, account common.Address, block *big.Int) (*big.Int, error)
	NonceAt(ctx context.Context, account common.Address, block *big.Int) (uint64, error)
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
	ethereum.ChainReader
}

var _ L1 = (*ethclient.Client)(nil)

// Dial connects to an Ethereum JSON-RPC endpoint (http, ws or ipc).
func Dial(ctx context.Context, url string) (*ethclient.Client, error) {
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("settlement: dialing L1 %s: %w", url, err)
	}
	return c, nil
}

// Account is an L1 signing key and its address.
type Account struct {
	Key     *ecdsa.PrivateKey
	Address common.Address
}

// NewAccount returns the account of key.
func NewAccount(key *ecdsa.PrivateKey) Account {
	return Account{Key: key, Address: crypto.PubkeyToAddress(key.PublicKey)}
}

// Transactor returns bind options signing with a for the given chain.
func (a Account) Transactor(ctx context.Context, l1 L1) (*bind.TransactOpts, error) {
	id, err := l1.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("settlement: chain id: %w", err)
	}
	o := bind.NewKeyedTransactor(a.Key, id)
	o.Context = ctx
	return o, nil
}
