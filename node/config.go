package node

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover/circuit"
	"github.com/veloxlabs/velox/prover/dist"
)

// Defaults applied by Config.WithDefaults to zero fields.
const (
	DefaultDataDir = "./velox-data"
	DefaultRPCAddr = "127.0.0.1:9545"
	// DefaultL1HTTPAddr is where the embedded L1 serves JSON-RPC when
	// L1Config.EmbeddedHTTP is set.
	DefaultL1HTTPAddr = "127.0.0.1:8545"
	DefaultChainID    = 4242
	// DefaultSlots is the smallest batch the sequencer accepts: one
	// ChangePubKey (8 chunks), or 8 transfers. With DefaultDepth it keeps
	// the development setup to minutes and a proof to seconds on a laptop.
	DefaultSlots = 8
	// DefaultDepth gives 65,536 accounts: enough for development, and each
	// level of depth costs constraints in every slot.
	DefaultDepth            = 16
	DefaultBlockTime        = 10 * time.Millisecond
	DefaultBatchTimeout     = 2 * time.Second
	DefaultSendTimeout      = 10 * time.Second
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxBatchItems    = 100
	DefaultMaxBatchResponse = 10 << 20
	DefaultL1BlockTime      = time.Second
	DefaultConfirmations    = 2
	DefaultPriorityDeadline = 7200
	DefaultL1PollInterval   = time.Second
)

// Config configures a Node. Zero fields take the defaults above (see
// WithDefaults); Check rejects bad combinations.
type Config struct {
	// DataDir holds the state, the sequencer key, the embedded L1 and the
	// contract deployment record.
	DataDir string
	// RPCAddr is the listen address of JSON-RPC (HTTP and WebSocket),
	// /metrics and /health. Port 0 picks a free port (see Node.RPCAddr).
	RPCAddr string
	// ChainID is the L2 chain id, signed into every transaction.
	ChainID uint64
	// Slots (16-byte chunks per proving batch, at least 8) and Depth
	// (account tree depth) fix the circuit; changing them needs new keys
	// and a new data directory.
	Slots, Depth int
	// KeyDir caches the circuit keys; default DataDir/keys.
	KeyDir string
	// NoDevSetup refuses to run the unsafe development setup when no keys
	// are cached for the circuit.
	NoDevSetup bool
	// SetupProgress, if set, is told each key stage ("compile", "setup",
	// "write", "load") as it starts, for a progress display, and "ready"
	// when the keys are loaded.
	SetupProgress func(stage string)

	// BlockTime paces the sequencer's checks for deposits and batch
	// timeouts (transactions do not wait for it); BatchTimeout closes a partly
	// filled proving batch (padding it).
	BlockTime, BatchTimeout time.Duration
	// SendTimeout bounds how long velox_sendTransaction waits for the
	// preconfirmation.
	SendTimeout time.Duration
	// MaxBodyBytes bounds an HTTP request body and a WebSocket message;
	// MaxBatchItems the calls of a JSON-RPC batch and MaxBatchResponse its
	// response size in bytes.
	MaxBodyBytes, MaxBatchItems, MaxBatchResponse int
	// WSOrigins are the allowed WebSocket origins (default "*").
	WSOrigins []string
	// MaxPoolTxs bounds the mempool (0: the sequencer's default).
	MaxPoolTxs int
	// MaxCheckQueue bounds the transactions waiting for signature checks
	// before new ones are refused (0: the sequencer's default).
	MaxCheckQueue int
	// MaxCheckLinger bounds how long an admitted transaction may wait to
	// share a signature-check batch while a mini-block is being built or
	// at rates that fill such batches (0: the sequencer's default, 500 µs;
	// negative: never wait).
	MaxCheckLinger time.Duration
	// MaxBlockLinger bounds how long the sequencer waits for more
	// transactions to join a mini-block at high arrival rates (0: the
	// sequencer's default, 400 µs; negative: never wait).
	MaxBlockLinger time.Duration

	L1 L1Config
	// NATS is the proving queue.
	NATS NATSConfig
}

// NATSConfig selects the proving queue: NATS JetStream, on a server the
// node embeds (URL empty, the default; storage in DataDir/nats) or an
// external NATS cluster (URL set). Prover workers (`velox prover`) connect
// to the same server.
type NATSConfig struct {
	// URL of an external NATS server with JetStream; empty embeds one.
	URL string
	// Addr is where the embedded server listens (default
	// dist.DefaultAddr, loopback; port 0 picks a free port).
	Addr string
	// NoLocalProver leaves all proving to external workers; by default the
	// node also runs one worker in its own process.
	NoLocalProver bool
	// AckWait is how long a worker may go without a heartbeat before its
	// job goes to another worker (default dist.DefaultAckWait).
	AckWait time.Duration
}

// L1Config selects the L1: the embedded development chain (RPCURL empty,
// the default) or an Ethereum JSON-RPC endpoint with a funded key.
type L1Config struct {
	// RPCURL of an Ethereum node; empty runs the embedded development L1
	// in DataDir/l1.
	RPCURL string
	// Key deploys the contracts on an external L1 (RPCURL set, required).
	// The sequencer key (DataDir/sequencer.key) submits batches and must
	// hold ETH there; on the embedded L1 it is funded automatically.
	Key *ecdsa.PrivateKey
	// EmbeddedHTTP serves the embedded L1's JSON-RPC on EmbeddedHTTPAddr
	// (default DefaultL1HTTPAddr, loopback only).
	EmbeddedHTTP     bool
	EmbeddedHTTPAddr string
	// EmbeddedBlockTime is the embedded L1's block interval.
	EmbeddedBlockTime time.Duration
	// Confirmations before a deposit is included and a batch is final.
	Confirmations uint64
	// PriorityDeadline is the number of L1 blocks a deposit may wait for
	// inclusion (a constructor argument of a new rollup contract).
	PriorityDeadline uint64
	// PollInterval of the L1 watcher and the submitter.
	PollInterval time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	setInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.RPCAddr == "" {
		c.RPCAddr = DefaultRPCAddr
	}
	if c.ChainID == 0 {
		c.ChainID = DefaultChainID
	}
	setInt(&c.Slots, DefaultSlots)
	setInt(&c.Depth, DefaultDepth)
	if c.KeyDir == "" {
		c.KeyDir = filepath.Join(c.DataDir, "keys")
	}
	set(&c.BlockTime, DefaultBlockTime)
	set(&c.BatchTimeout, DefaultBatchTimeout)
	set(&c.SendTimeout, DefaultSendTimeout)
	setInt(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	setInt(&c.MaxBatchItems, DefaultMaxBatchItems)
	setInt(&c.MaxBatchResponse, DefaultMaxBatchResponse)
	if len(c.WSOrigins) == 0 {
		c.WSOrigins = []string{"*"}
	}
	if c.L1.EmbeddedHTTP && c.L1.EmbeddedHTTPAddr == "" {
		c.L1.EmbeddedHTTPAddr = DefaultL1HTTPAddr
	}
	set(&c.L1.EmbeddedBlockTime, DefaultL1BlockTime)
	if c.L1.Confirmations == 0 {
		c.L1.Confirmations = DefaultConfirmations
	}
	if c.L1.PriorityDeadline == 0 {
		c.L1.PriorityDeadline = DefaultPriorityDeadline
	}
	set(&c.L1.PollInterval, DefaultL1PollInterval)
	if c.NATS.URL == "" && c.NATS.Addr == "" {
		c.NATS.Addr = dist.DefaultAddr
	}
	set(&c.NATS.AckWait, dist.DefaultAckWait)
	return c
}

// ErrConfig is wrapped by every error of Check.
var ErrConfig = errors.New("node: bad configuration")

// Check rejects bad combinations with an error wrapping ErrConfig. Call it
// on WithDefaults' result (New does).
func (c *Config) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.DataDir == "" {
		return bad("a data directory is required")
	}
	if _, _, err := splitAddr(c.RPCAddr); err != nil {
		return bad("RPC address %q: %v (want host:port, e.g. %s)", c.RPCAddr, err, DefaultRPCAddr)
	}
	if err := (circuit.Config{Slots: c.Slots, Depth: c.Depth, ChainID: c.ChainID}).Check(); err != nil {
		return bad("circuit: %v", err)
	}
	if c.Slots < ledger.OpChangePubKey.Chunks() {
		return bad("%d batch slots: a batch must hold a ChangePubKey, at least %d", c.Slots, ledger.OpChangePubKey.Chunks())
	}
	if c.Depth < 2 || c.Depth > ledger.MaxDepth {
		return bad("tree depth %d not in [2, %d]", c.Depth, ledger.MaxDepth)
	}
	switch {
	case c.BlockTime < 0 || c.BatchTimeout < 0 || c.SendTimeout < 0 || c.L1.EmbeddedBlockTime < 0 || c.L1.PollInterval < 0:
		return bad("negative duration")
	case c.BlockTime > time.Second:
		return bad("mini-block time %v is over 1s: preconfirmations would be slow", c.BlockTime)
	case c.BatchTimeout < c.BlockTime:
		return bad("batch timeout %v is shorter than the mini-block time %v", c.BatchTimeout, c.BlockTime)
	case c.MaxBodyBytes < 1024:
		return bad("body limit %d bytes is too small for a transaction (at least 1024)", c.MaxBodyBytes)
	case c.MaxBatchItems < 1 || c.MaxBatchResponse < 1024:
		return bad("batch limits %d items / %d bytes are too small", c.MaxBatchItems, c.MaxBatchResponse)
	case c.MaxPoolTxs < 0:
		return bad("negative mempool size")
	case c.MaxCheckQueue < 0:
		return bad("negative check queue size")
	}
	if c.L1.RPCURL != "" {
		u, err := url.Parse(c.L1.RPCURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
			return bad("L1 RPC URL %q: want http(s):// or ws(s)://", c.L1.RPCURL)
		}
		if c.L1.Key == nil {
			return bad("an external L1 (%s) needs a private key to deploy the contracts", c.L1.RPCURL)
		}
		if c.L1.EmbeddedHTTP {
			return bad("the embedded L1's HTTP server cannot be enabled with an external L1 (%s)", c.L1.RPCURL)
		}
	} else if c.L1.Key != nil {
		return bad("an L1 key is only used with an external L1 URL; the embedded L1 uses its development accounts")
	}
	if c.L1.EmbeddedHTTP {
		host, _, err := splitAddr(c.L1.EmbeddedHTTPAddr)
		if err != nil {
			return bad("embedded L1 HTTP address %q: %v", c.L1.EmbeddedHTTPAddr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return bad("embedded L1 HTTP address %q must be loopback (its accounts' keys are public)", c.L1.EmbeddedHTTPAddr)
		}
		if c.L1.EmbeddedHTTPAddr == c.RPCAddr {
			return bad("the embedded L1 and the L2 RPC both listen on %s", c.RPCAddr)
		}
	}
	if c.NATS.URL != "" {
		u, err := url.Parse(c.NATS.URL)
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
			return bad("NATS URL %q: want nats://host:port", c.NATS.URL)
		}
		if c.NATS.Addr != "" {
			return bad("an embedded NATS address (%s) cannot be set with an external NATS URL (%s)", c.NATS.Addr, c.NATS.URL)
		}
	} else {
		if _, _, err := splitAddr(c.NATS.Addr); err != nil {
			return bad("NATS address %q: %v (want host:port, e.g. %s)", c.NATS.Addr, err, dist.DefaultAddr)
		}
		if _, port, _ := splitAddr(c.NATS.Addr); port != 0 && (c.NATS.Addr == c.RPCAddr || (c.L1.EmbeddedHTTP && c.NATS.Addr == c.L1.EmbeddedHTTPAddr)) {
			return bad("the embedded NATS server and another service both listen on %s", c.NATS.Addr)
		}
	}
	if c.NATS.AckWait < time.Second {
		return bad("NATS ack wait %v is under a second", c.NATS.AckWait)
	}
	if c.L1.Confirmations > 1000 {
		return bad("%d L1 confirmations is more than 1000", c.L1.Confirmations)
	}
	return nil
}

func splitAddr(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: not in 0..65535", port)
	}
	return host, int(p), nil
}
