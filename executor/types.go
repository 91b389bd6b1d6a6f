package executor

import (
	"runtime"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// Base is the committed state a block executes against. It is only read,
// and must be safe for concurrent readers. An index that holds no account
// reads as zero fields. ledger.MemState satisfies it.
type Base interface {
	Address(idx uint32) (common.Address, error)
	PubKeyHash(idx uint32) (fr.Element, error)
	Nonce(idx uint32) (uint32, error)
	Balance(idx uint32) (uint256.Int, error)
	Lookup(addr common.Address) (idx uint32, ok bool, err error)
	NextIndex() (uint32, error)
}

var _ Base = (*ledger.MemState)(nil)

// Tx is one entry of a block: an L2 transaction or a deposit (an L1
// priority operation). For an L2 transaction the first non-nil of Checked,
// Decoded and Raw is used: Checked when admission already ran ledger.Check
// (the executor trusts it), Decoded to be checked here, Raw to be decoded
// and checked here. The executor never modifies what the fields point to.
type Tx struct {
	Raw     []byte
	Decoded *ledger.Tx
	Checked *ledger.Checked
	Deposit *ledger.Deposit
}

// Receipt is the outcome of one Tx.
type Receipt struct {
	// Op is the executed operation; meaningful only when Err is nil.
	Op ledger.Op
	// Err is nil on success, else the broken ledger rule or decoding
	// error (match with errors.Is), or ErrEmptyTx. A failed transaction
	// writes nothing.
	Err error
}

// Stats describes how a block was executed.
type Stats struct {
	// Workers is the number of goroutines that executed (1 for
	// Sequential).
	Workers int
	// Executions counts incarnations run, complete or not; Txs of them
	// are first incarnations, the rest are re-executions.
	Executions int
	// Aborts counts incarnations that failed validation.
	Aborts int
	// Suspensions counts incarnations that read an ESTIMATE and waited
	// for the lower transaction.
	Suspensions int
	// Validations counts read-set validations.
	Validations int
	// Checks counts stateless checks (ledger.Check) performed: at most
	// one per L2 transaction not given as Checked.
	Checks int
	// FellBack reports that the re-execution cap was exceeded and the
	// remaining transactions were executed sequentially, from
	// transaction SequentialFrom on.
	FellBack       bool
	SequentialFrom int
}

// Result is the outcome of a block.
type Result struct {
	// Receipts has one entry per Tx, in block order.
	Receipts []Receipt
	// Writes holds the final value, all fields, of every account that at
	// least one successful transaction wrote.
	Writes map[uint32]ledger.Account
	// NextIndex is the index the next new account receives.
	NextIndex uint32
	// Fees is the sum of the fees of successful transactions. It is not
	// credited to any account: the caller credits it once per batch.
	Fees  uint256.Int
	Stats Stats
}

// DefaultMaxReexecutions is the re-execution cap of a block of n
// transactions when Options.MaxReexecutions is zero: a block whose
// transactions conflict this much runs faster sequentially.
func DefaultMaxReexecutions(n int) int { return n/16 + 16 }

// Options tune Parallel. The zero value is usable.
type Options struct {
	// Workers is the number of goroutines; zero means GOMAXPROCS.
	Workers int
	// MaxReexecutions caps the re-executions (incarnations beyond each
	// transaction's first) of a block; once exceeded, the workers stop
	// and the remaining transactions run sequentially. Zero means
	// DefaultMaxReexecutions(len(txs)), and also falls back as soon as
	// re-executions exceed an eighth of the transactions started so far
	// (after at least 16 re-executions); a negative value allows none.
	MaxReexecutions int
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (o Options) maxReexecutions(n int) int {
	switch {
	case o.MaxReexecutions < 0:
		return 0
	case o.MaxReexecutions == 0:
		return DefaultMaxReexecutions(n)
	}
	return o.MaxReexecutions
}
