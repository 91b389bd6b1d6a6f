package sequencer

import (
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
)

// Defaults applied by Config.withDefaults to zero fields.
const (
	DefaultBlockTime      = 10 * time.Millisecond
	DefaultMaxCheckLinger = 500 * time.Microsecond
	DefaultMaxBlockLinger = 400 * time.Microsecond
	DefaultMaxBlockTxs    = 2048
	DefaultMaxPoolTxs     = 1 << 16
	DefaultMaxAccountTxs  = 64
	DefaultQueueTTL       = time.Minute
	DefaultBatchTimeout   = 5 * time.Second
	DefaultMaxDeposits    = 64
	DefaultRetryDelay     = time.Second
	DefaultMaxCheckQueue  = 1024
)

// maxOpChunks is the largest operation (ChangePubKey) in chunks; a batch
// must hold at least one of each operation.
const maxOpChunks = 8

// Config configures a Sequencer. Zero durations and sizes take the
// defaults above; Key, Params and Slots are required.
type Config struct {
	// Params are the chain parameters; Params.Depth must be the store's.
	Params ledger.Params
	// Key signs mini-block headers; its address is the sequencer address
	// the L1 contract knows.
	Key *ecdsa.PrivateKey
	// FeeOwner, if non-zero, is passed to state.Store.Genesis at Start, so
	// that a new store gets its fee account. If zero, the fee account must
	// already exist.
	FeeOwner common.Address

	// BlockTime (default 10 ms) is how often the mini-block loop looks
	// for deposits and batch timeouts. Ready transactions do not wait for
	// it: they go into the next synced write as soon as the previous one
	// is done (see the package documentation). No mini-block is produced
	// when nothing is ready.
	BlockTime time.Duration
	// MaxBlockTxs bounds the entries (transactions and deposits) of a
	// mini-block, and of the mini-blocks of one synced write together.
	MaxBlockTxs int
	// MaxPoolTxs bounds the mempool; MaxAccountTxs one account's queue.
	MaxPoolTxs    int
	MaxAccountTxs int
	// MaxNonceGap is how far ahead of the account's next nonce a
	// transaction may be queued (default MaxAccountTxs).
	MaxNonceGap uint32
	// QueueTTL is how long a transaction may wait for a nonce gap to fill.
	QueueTTL time.Duration
	// MaxDeposits bounds the priority operations taken per mini-block;
	// at most half of MaxBlockTxs (but one at least).
	MaxDeposits int

	// Slots is the number of 16-byte pubdata chunks of a proving batch
	// (the circuit's N); at least 8, the size of the largest operation.
	Slots int
	// BatchTimeout closes a partially filled batch (padding it with Noop)
	// this long after its first operation.
	BatchTimeout time.Duration

	// CheckWorkers bounds concurrent stateless checks (signature
	// verification) in Submit; ExecWorkers the executor's goroutines.
	// Zero means GOMAXPROCS.
	CheckWorkers int
	ExecWorkers  int
	// MaxCheckQueue bounds the transactions admitted but waiting for a
	// check worker. Past it Submit fails fast with ErrOverloaded instead
	// of queueing work the node cannot catch up with (by the time it
	// would be checked, its sender has timed out). At about 100 µs of
	// checking per transaction and worker, the default (1024) is some
	// 50 ms of backlog on two cores.
	MaxCheckQueue int
	// MaxCheckLinger (default 500 µs) bounds how long an admitted
	// transaction may wait for others to share its signature-check batch
	// while a mini-block step runs (see check.go). It waits only as long
	// as that does not delay its inclusion or, if at least four
	// transactions arrive within this bound, until eight have.
	// Negative disables the wait.
	MaxCheckLinger time.Duration
	// MaxBlockLinger (default 400 µs) bounds how long the mini-block loop
	// waits, once transactions are ready, for more to join the mini-block
	// (see blockLingerFor): only at arrival rates where at least two more
	// are expected within the bound, and never past blockTarget ready
	// transactions. Each mini-block costs a signature and its records, and
	// a synced write unless it shares one (blocks built while a write is in
	// flight share the next), so under load fewer, larger ones save CPU.
	// Negative disables the wait.
	MaxBlockLinger time.Duration
	// RetryDelay is the pause before re-submitting to a failing Prover or
	// Settler.
	RetryDelay time.Duration

	// PriorityOps, Prover and Settler are optional: without them no
	// deposits are included, batches stay unproven, proofs are not
	// settled.
	PriorityOps PriorityOps
	Prover      Prover
	Settler     Settler
	// Log defaults to slog.Default(); Metrics to NopMetrics.
	Log     *slog.Logger
	Metrics Metrics
}

// Check rejects bad combinations with an error wrapping ErrConfig. It is
// called by New after defaults are applied.
func (c *Config) Check() error {
	switch {
	case c.Key == nil:
		return fmt.Errorf("%w: a signing key is required", ErrConfig)
	case c.Params.Depth < 1 || c.Params.Depth > ledger.MaxDepth:
		return fmt.Errorf("%w: tree depth %d not in [1, %d]", ErrConfig, c.Params.Depth, ledger.MaxDepth)
	case c.Slots < maxOpChunks:
		return fmt.Errorf("%w: %d batch slots, need at least %d", ErrConfig, c.Slots, maxOpChunks)
	case c.BlockTime < 0 || c.QueueTTL < 0 || c.BatchTimeout < 0 || c.RetryDelay < 0:
		return fmt.Errorf("%w: negative duration", ErrConfig)
	case c.MaxBlockTxs < 0 || c.MaxPoolTxs < 0 || c.MaxAccountTxs < 0 || c.MaxDeposits < 0 || c.CheckWorkers < 0 || c.ExecWorkers < 0 || c.MaxCheckQueue < 0:
		return fmt.Errorf("%w: negative size", ErrConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.BlockTime, DefaultBlockTime)
	def(&c.QueueTTL, DefaultQueueTTL)
	def(&c.BatchTimeout, DefaultBatchTimeout)
	def(&c.RetryDelay, DefaultRetryDelay)
	def(&c.MaxCheckLinger, DefaultMaxCheckLinger)
	def(&c.MaxBlockLinger, DefaultMaxBlockLinger)
	defInt(&c.MaxBlockTxs, DefaultMaxBlockTxs)
	defInt(&c.MaxPoolTxs, DefaultMaxPoolTxs)
	defInt(&c.MaxAccountTxs, DefaultMaxAccountTxs)
	defInt(&c.MaxDeposits, DefaultMaxDeposits)
	defInt(&c.CheckWorkers, runtime.GOMAXPROCS(0))
	defInt(&c.MaxCheckQueue, DefaultMaxCheckQueue)
	if c.MaxDeposits > c.MaxBlockTxs/2 {
		// Deposits never crowd transactions out of a block.
		c.MaxDeposits = max(1, c.MaxBlockTxs/2)
	}
	if c.MaxNonceGap == 0 {
		c.MaxNonceGap = uint32(c.MaxAccountTxs)
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NopMetrics{}
	}
	return c
}
