package settlement

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// DevSeed is the public seed of the development accounts: account i's key
// is keccak256(DevSeed ‖ uint32 i big-endian). They are funded in the
// embedded L1's genesis. Never use them outside a development chain.
// The first ones are:
//
//	0 0x23FD7be824f9A973955e35E478521686Db9379c4 key 0x7e73a189eb8b1ced7213885288dc5812b60ffb5a310202718a94c36be313d41b
//	1 0x94D4Efb9F8c1367202BC7Abc0bE9041722FD26BE key 0x64f3441f21e61c0ae86f52b997df64b164c23c99b3efffd89d85b9851b135f97
//	2 0x8467C72C814db2922766889676D1d096ABbD628F key 0x39f4367c0824250e0c123f53ec836932dfd4c2b175514775064d0fa4364eb8fc
const DevSeed = "velox development L1 account"

// DevChainID is the default chain id of the embedded L1.
const DevChainID = 1337

// DevAccountBalance is each development account's genesis balance
// (1,000,000 ETH).
var DevAccountBalance = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))

// DevKey returns development account i's private key.
func DevKey(i int) *ecdsa.PrivateKey {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(i))
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(DevSeed), b[:]))
	if err != nil {
		// keccak output is a valid secp256k1 scalar except with
		// negligible probability; the derivation is fixed and tested.
		panic(fmt.Sprintf("settlement: dev key %d: %v", i, err))
	}
	return k
}

// DevConfig configures the embedded development L1.
type DevConfig struct {
	// DataDir keeps the chain across restarts; empty means in memory.
	DataDir string
	// BlockTime is the sealing period (default 1s). Blocks are sealed even
	// when empty, so confirmations accrue.
	BlockTime time.Duration
	// HTTPAddr, when set (e.g. "127.0.0.1:8545"), serves JSON-RPC (eth,
	// net, web3) over HTTP. Only loopback addresses are accepted.
	HTTPAddr string
	// ChainID defaults to DevChainID.
	ChainID uint64
	// Accounts is the number of funded development accounts (default 10).
	Accounts int
	// Alloc adds genesis accounts (tests); it must stay the same for a
	// DataDir.
	Alloc types.GenesisAlloc
	Log   *slog.Logger
}

// Check rejects a bad configuration.
func (c *DevConfig) Check() error {
	if c.BlockTime < 0 {
		return fmt.Errorf("settlement: negative block time %v", c.BlockTime)
	}
	if c.Accounts < 0 || c.Accounts > 1000 {
		return fmt.Errorf("settlement: %d development accounts (0..1000)", c.Accounts)
	}
	if c.HTTPAddr != "" {
		host, port, err := net.SplitHostPort(c.HTTPAddr)
		if err != nil {
			return fmt.Errorf("settlement: L1 HTTP address %q: %w", c.HTTPAddr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("settlement: L1 HTTP address %q is not loopback", c.HTTPAddr)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("settlement: L1 HTTP port %q: %w", port, err)
		}
	}
	return nil
}

// DevChain is an embedded go-ethereum node in development mode: a
// proof-of-stake chain whose blocks a simulated beacon seals on a timer,
// with funded development accounts (DevKey) and mainnet-like EIP-1559
// pricing (1 gwei initial base fee, 36M gas limit).
type DevChain struct {
	stack  *node.Node
	eth    *eth.Ethereum
	client *ethclient.Client
	log    *slog.Logger
	http   string

	// sealMu serializes block production (the timer and Mine) and
	// guards paused.
	sealMu sync.Mutex
	paused bool
	beacon *catalyst.SimulatedBeacon

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// DevGenesis returns the development chain's genesis: every fork active,
// the system contracts, and n funded development accounts.
func DevGenesis(chainID uint64, n int) *core.Genesis {
	g := core.DeveloperGenesisBlock(36_000_000, nil)
	cfg := *g.Config
	cfg.ChainID = new(big.Int).SetUint64(chainID)
	g.Config = &cfg
	for i := 0; i < n; i++ {
		g.Alloc[crypto.PubkeyToAddress(DevKey(i).PublicKey)] = types.Account{Balance: new(big.Int).Set(DevAccountBalance)}
	}
	return g
}

// StartDevChain starts the embedded L1 (reopening the chain in DataDir if
// one is there) and its block timer.
func StartDevChain(c DevConfig) (*DevChain, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if c.BlockTime == 0 {
		c.BlockTime = time.Second
	}
	if c.ChainID == 0 {
		c.ChainID = DevChainID
	}
	if c.Accounts == 0 {
		c.Accounts = 10
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	nc := node.DefaultConfig
	nc.Name = "velox-l1"
	nc.DataDir = c.DataDir
	nc.IPCPath = ""
	nc.HTTPHost, nc.HTTPPort = "", 0
	nc.WSHost = ""
	nc.AuthPort = 0
	nc.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""}
	nc.UseLightweightKDF = true
	if c.HTTPAddr != "" {
		host, port, _ := net.SplitHostPort(c.HTTPAddr)
		p, _ := strconv.Atoi(port)
		nc.HTTPHost, nc.HTTPPort = host, p
		nc.HTTPModules = []string{"eth", "net", "web3"}
		nc.HTTPVirtualHosts = []string{"localhost"}
	}
	stack, err := node.New(&nc)
	if err != nil {
		return nil, fmt.Errorf("settlement: dev L1 node: %w", err)
	}
	ec := ethconfig.Defaults
	ec.NetworkId = c.ChainID
	ec.Genesis = DevGenesis(c.ChainID, c.Accounts)
	maps.Copy(ec.Genesis.Alloc, c.Alloc)
	ec.SyncMode = ethconfig.FullSync
	// Archive mode on the hash scheme commits every block's state to disk as
	// it is sealed, so the chain survives a killed process (the default
	// keeps recent state in memory and, after a crash, rewinds to genesis).
	ec.NoPruning = true
	ec.StateScheme = rawdb.HashScheme
	ec.Miner.PendingFeeRecipient = crypto.PubkeyToAddress(DevKey(0).PublicKey)
	backend, err := eth.New(stack, &ec)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("settlement: dev L1: %w", err)
	}
	fs := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("settlement: starting dev L1: %w", err)
	}
	beacon, err := catalyst.NewSimulatedBeacon(0, ec.Miner.PendingFeeRecipient, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("settlement: dev L1 beacon: %w", err)
	}
	d := &DevChain{stack: stack, eth: backend, beacon: beacon, client: ethclient.NewClient(stack.Attach()),
		log: c.Log, http: c.HTTPAddr, stop: make(chan struct{})}
	d.wg.Add(1)
	go d.seal(c.BlockTime)
	c.Log.Info("embedded L1 started", "chain_id", c.ChainID, "datadir", c.DataDir, "head", backend.BlockChain().CurrentBlock().Number,
		"block_time", c.BlockTime, "http", c.HTTPAddr, "dev_account0", crypto.PubkeyToAddress(DevKey(0).PublicKey))
	return d, nil
}

func (d *DevChain) seal(period time.Duration) {
	defer d.wg.Done()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.sealMu.Lock()
			if !d.paused {
				d.beacon.Commit()
				d.syncDB()
			}
			d.sealMu.Unlock()
		}
	}
}

// HTTPEndpoint returns the URL of the HTTP JSON-RPC server, or "" when it
// is off.
func (d *DevChain) HTTPEndpoint() string {
	if d.http == "" {
		return ""
	}
	return d.stack.HTTPEndpoint()
}

// Stop is Close for the node's lifecycle.
func (d *DevChain) Stop(context.Context) error { return d.Close() }

// Client returns an in-process JSON-RPC client of the chain.
func (d *DevChain) Client() *ethclient.Client { return d.client }

// Mine seals a block now (with the pending transactions) and returns the
// new head's hash.
func (d *DevChain) Mine() common.Hash {
	d.sealMu.Lock()
	defer d.sealMu.Unlock()
	h := d.beacon.Commit()
	d.syncDB()
	return h
}

// syncDB makes the chain database durable up to the new block. go-ethereum
// writes its key-value store asynchronously (the WAL is flushed in the
// background), so a killed process would otherwise lose its last seconds
// of blocks and state and reopen rewound — without the rollup contract, if
// it was deployed in them.
func (d *DevChain) syncDB() {
	if err := d.eth.ChainDb().SyncKeyValue(); err != nil {
		d.log.Warn("syncing the L1 database", "err", err)
	}
}

// Pause stops the block timer (Mine still seals); Resume restarts it.
// Tests use them to hold transactions in the pool.
func (d *DevChain) Pause() {
	d.sealMu.Lock()
	d.paused = true
	d.sealMu.Unlock()
}

// Resume restarts sealing on the timer.
func (d *DevChain) Resume() {
	d.sealMu.Lock()
	d.paused = false
	d.sealMu.Unlock()
}

// PendingTransactions returns the number of transactions waiting in the
// pool.
func (d *DevChain) PendingTransactions() int {
	p, q := d.eth.TxPool().Stats()
	return p + q
}

// Reorg rewinds the head by depth blocks, drops every transaction of the
// removed blocks and of the pool, and seals depth+1 empty blocks so the
// new branch is longer: what a deep L1 reorg looks like to a client.
func (d *DevChain) Reorg(depth uint64) error {
	d.sealMu.Lock()
	defer d.sealMu.Unlock()
	head := d.eth.BlockChain().CurrentBlock().Number.Uint64()
	if depth == 0 || depth > head {
		return fmt.Errorf("settlement: reorg depth %d at head %d", depth, head)
	}
	d.beacon.Rollback()
	anc := d.eth.BlockChain().GetHeaderByNumber(head - depth)
	if err := d.beacon.Fork(anc.Hash()); err != nil {
		return fmt.Errorf("settlement: reorg: %w", err)
	}
	for i := uint64(0); i <= depth; i++ {
		// The pool re-injects the removed blocks' transactions; drop
		// them before each block so the new branch leaves them out.
		if err := d.eth.TxPool().Sync(); err != nil {
			return err
		}
		d.beacon.Rollback()
		d.beacon.Commit()
	}
	return nil
}

// Close stops block production and the node; a chain with a DataDir can be
// reopened with StartDevChain.
func (d *DevChain) Close() error {
	var err error
	d.once.Do(func() {
		close(d.stop)
		d.wg.Wait()
		d.client.Close()
		d.sealMu.Lock()
		err = d.beacon.Stop()
		d.sealMu.Unlock()
		if cerr := d.stack.Close(); cerr != nil && err == nil {
			err = cerr
		}
	})
	return err
}
