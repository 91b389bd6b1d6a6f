package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/urfave/cli/v2"

	"github.com/veloxlabs/velox/client"
	"github.com/veloxlabs/velox/node"
	"github.com/veloxlabs/velox/settlement"
)

func walletFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "key", Usage: "wallet key file (hex Ethereum private key); see `velox wallet new`", Value: "wallet.key", EnvVars: []string{"VELOX_WALLET_KEY"}},
		&cli.StringFlag{Name: "rpc", Usage: "Velox node JSON-RPC URL", Value: "http://127.0.0.1:9545", EnvVars: []string{"VELOX_RPC"}},
		&cli.StringFlag{Name: "l1.rpc", Usage: "L1 JSON-RPC URL (the embedded L1 with `velox node --l1.http`)", Value: "http://127.0.0.1:8545", EnvVars: []string{"VELOX_L1_RPC"}},
		&cli.StringFlag{Name: "datadir", Usage: "node data directory, to find the rollup contract (deployment.json)", Value: node.DefaultDataDir, EnvVars: []string{"VELOX_DATADIR"}},
		&cli.StringFlag{Name: "rollup", Usage: "rollup contract address (default: from DATADIR/deployment.json)", EnvVars: []string{"VELOX_ROLLUP"}},
	}
}

func walletCommand() *cli.Command {
	amount := &cli.StringFlag{Name: "amount", Usage: "amount in ETH (e.g. 0.5)", Required: true}
	fee := &cli.StringFlag{Name: "fee", Usage: "fee in ETH", Value: "0"}
	to := &cli.StringFlag{Name: "to", Usage: "recipient address", Required: true}
	return &cli.Command{
		Name:  "wallet",
		Usage: "a wallet for Velox: keys, deposits, transfers, withdrawals",
		Description: "One Ethereum key is all a wallet needs: the L2 signing key is derived from\n" +
			"its signature. Typical flow: new → deposit → set-key → transfer → withdraw →\n" +
			"(once the batch is finalized on L1) claim.",
		Flags: walletFlags(),
		Subcommands: []*cli.Command{
			{Name: "new", Usage: "create a wallet key file (or import a key with --from-hex, or a funded dev account with --dev N)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "from-hex", Usage: "import this hex private key"},
					&cli.IntFlag{Name: "dev", Value: -1, Usage: "use development L1 account N (funded on the embedded L1)"},
				},
				Action: walletNew},
			{Name: "address", Usage: "print the wallet's address", Action: func(c *cli.Context) error {
				k, err := walletKey(c)
				if err != nil {
					return err
				}
				fmt.Println(crypto.PubkeyToAddress(k.PublicKey))
				return nil
			}},
			{Name: "deposit", Usage: "deposit ETH from L1 into the wallet's L2 account", Flags: []cli.Flag{amount}, Action: walletDeposit},
			{Name: "set-key", Usage: "register the wallet's L2 key on its account (once, after the first deposit)", Action: walletSetKey},
			{Name: "transfer", Usage: "send ETH on L2 (preconfirmed in milliseconds)", Flags: []cli.Flag{to, amount, fee}, Action: walletTransfer(false)},
			{Name: "withdraw", Usage: "withdraw ETH from L2 to an L1 address (claimable once finalized)", Flags: []cli.Flag{to, amount, fee}, Action: walletTransfer(true)},
			{Name: "claim", Usage: "claim finalized withdrawals owed to the wallet on L1", Action: walletClaim},
			{Name: "balance", Usage: "print the wallet's L2 account and L1 balance", Action: walletBalance},
			{Name: "status", Usage: "print a transaction's status", ArgsUsage: "TXHASH",
				Flags:  []cli.Flag{&cli.StringFlag{Name: "wait", Usage: "wait until the status reaches preconfirmed, proven or finalized"}},
				Action: walletStatus},
		},
	}
}

func walletNew(c *cli.Context) error {
	path := c.String("key")
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists; remove it or pass --key for another file", path)
	}
	var k *ecdsa.PrivateKey
	var err error
	switch {
	case c.String("from-hex") != "":
		k, err = crypto.HexToECDSA(trim0x(c.String("from-hex")))
	case c.Int("dev") >= 0:
		k = settlement.DevKey(c.Int("dev"))
	default:
		k, err = crypto.GenerateKey()
	}
	if err != nil {
		return err
	}
	if err := crypto.SaveECDSA(path, k); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	fmt.Printf("wallet %v saved in %s\n", crypto.PubkeyToAddress(k.PublicKey), path)
	return nil
}

func walletKey(c *cli.Context) (*ecdsa.PrivateKey, error) {
	k, err := crypto.LoadECDSA(c.String("key"))
	if err != nil {
		return nil, fmt.Errorf("wallet key %s: %w (create one with `velox wallet new`)", c.String("key"), err)
	}
	return k, nil
}

// session is a wallet connected to the node.
type session struct {
	key *ecdsa.PrivateKey
	cl  *client.Client
	w   *client.Wallet
}

func openSession(c *cli.Context) (*session, error) {
	k, err := walletKey(c)
	if err != nil {
		return nil, err
	}
	cl, err := client.Dial(c.Context, c.String("rpc"))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.String("rpc"), err)
	}
	chain, err := cl.ChainID(c.Context)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("node at %s: %w (is `velox node` running?)", c.String("rpc"), err)
	}
	w, err := client.NewWallet(k, chain)
	if err != nil {
		cl.Close()
		return nil, err
	}
	return &session{key: k, cl: cl, w: w}, nil
}

// parseETH parses a decimal ETH amount into wei.
func parseETH(s string) (*big.Int, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || r.Sign() < 0 {
		return nil, fmt.Errorf("amount %q: want a non-negative decimal number of ETH", s)
	}
	r.Mul(r, new(big.Rat).SetInt(big.NewInt(params.Ether)))
	if !r.IsInt() {
		return nil, fmt.Errorf("amount %q: finer than 1 wei", s)
	}
	return r.Num(), nil
}

func formatETH(wei *big.Int) string {
	r := new(big.Rat).SetFrac(wei, big.NewInt(params.Ether))
	return strings.TrimRight(strings.TrimRight(r.FloatString(18), "0"), ".") + " ETH"
}

func rollupAddress(c *cli.Context) (common.Address, error) {
	if a := c.String("rollup"); a != "" {
		if !common.IsHexAddress(a) {
			return common.Address{}, fmt.Errorf("--rollup %q is not an address", a)
		}
		return common.HexToAddress(a), nil
	}
	raw, err := os.ReadFile(filepath.Join(c.String("datadir"), "deployment.json"))
	if err != nil {
		return common.Address{}, fmt.Errorf("finding the rollup contract: %w (pass --rollup or --datadir)", err)
	}
	var d node.Deployment
	if err := json.Unmarshal(raw, &d); err != nil {
		return common.Address{}, err
	}
	return d.Rollup, nil
}

func l1Rollup(c *cli.Context) (*settlement.Rollup, func(), error) {
	addr, err := rollupAddress(c)
	if err != nil {
		return nil, nil, err
	}
	l1, err := settlement.Dial(c.Context, c.String("l1.rpc"))
	if err != nil {
		return nil, nil, fmt.Errorf("L1 at %s: %w (start the node with --l1.http for the embedded L1)", c.String("l1.rpc"), err)
	}
	return settlement.NewRollup(l1, addr), l1.Close, nil
}

func walletDeposit(c *cli.Context) error {
	k, err := walletKey(c)
	if err != nil {
		return err
	}
	amount, err := parseETH(c.String("amount"))
	if err != nil {
		return err
	}
	r, closeL1, err := l1Rollup(c)
	if err != nil {
		return err
	}
	defer closeL1()
	from := settlement.NewAccount(k)
	rcpt, err := r.Deposit(c.Context, from, from.Address, amount)
	if err != nil {
		return err
	}
	fmt.Printf("deposited %s to %v on L1 (tx %v, block %v); the node credits it after its L1 confirmations\n",
		formatETH(amount), from.Address, rcpt.TxHash, rcpt.BlockNumber)
	return nil
}

func walletSetKey(c *cli.Context) error {
	s, err := openSession(c)
	if err != nil {
		return err
	}
	defer s.cl.Close()
	p, err := s.cl.SetKey(c.Context, s.w)
	if err != nil {
		return err
	}
	return printPreconf(p)
}

func walletTransfer(withdraw bool) cli.ActionFunc {
	return func(c *cli.Context) error {
		s, err := openSession(c)
		if err != nil {
			return err
		}
		defer s.cl.Close()
		if !common.IsHexAddress(c.String("to")) {
			return fmt.Errorf("--to %q is not an address", c.String("to"))
		}
		to := common.HexToAddress(c.String("to"))
		amount, err := parseETH(c.String("amount"))
		if err != nil {
			return err
		}
		fee, err := parseETH(c.String("fee"))
		if err != nil {
			return err
		}
		var p *client.Preconfirmation
		if withdraw {
			p, err = s.cl.Withdraw(c.Context, s.w, to, amount, fee)
		} else {
			p, err = s.cl.Transfer(c.Context, s.w, to, amount, fee)
		}
		if err != nil {
			return err
		}
		return printPreconf(p)
	}
}

func printPreconf(p *client.Preconfirmation) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

func walletClaim(c *cli.Context) error {
	k, err := walletKey(c)
	if err != nil {
		return err
	}
	r, closeL1, err := l1Rollup(c)
	if err != nil {
		return err
	}
	defer closeL1()
	from := settlement.NewAccount(k)
	owed, err := r.PendingWithdrawal(c.Context, from.Address)
	if err != nil {
		return err
	}
	if owed.Sign() == 0 {
		return errors.New("nothing to claim: no finalized withdrawal is owed to this address yet")
	}
	rcpt, err := r.ClaimWithdrawal(c.Context, from)
	if err != nil {
		return err
	}
	fmt.Printf("claimed %s on L1 (tx %v)\n", formatETH(owed), rcpt.TxHash)
	return nil
}

func walletBalance(c *cli.Context) error {
	s, err := openSession(c)
	if err != nil {
		return err
	}
	defer s.cl.Close()
	acc, err := s.cl.Account(c.Context, s.w.Address)
	if err != nil {
		return err
	}
	fmt.Printf("address  %v\nL2       %s (account %d, nonce %d)\n", s.w.Address, formatETH(acc.Balance.ToInt()), acc.Index, acc.Nonce)
	if r, closeL1, err := l1Rollup(c); err == nil {
		defer closeL1()
		if owed, err := r.PendingWithdrawal(c.Context, s.w.Address); err == nil && owed.Sign() > 0 {
			fmt.Printf("claimable on L1: %s (velox wallet claim)\n", formatETH(owed))
		}
	}
	return nil
}

func walletStatus(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("give one transaction hash")
	}
	h := common.HexToHash(c.Args().First())
	cl, err := client.Dial(c.Context, c.String("rpc"))
	if err != nil {
		return err
	}
	defer cl.Close()
	var st *client.TxStatus
	if want := c.String("wait"); want != "" {
		ctx, cancel := context.WithTimeout(c.Context, 10*time.Minute)
		defer cancel()
		st, err = cl.WaitStatus(ctx, h, want, 500*time.Millisecond)
	} else {
		st, err = cl.TransactionStatus(c.Context, h)
	}
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}
