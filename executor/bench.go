package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// P2PWorkload is a block of peer-to-peer transfers among a fixed set of
// funded accounts, for benchmarks.
type P2PWorkload struct {
	Base   *ledger.MemState
	Txs    []Tx
	Params ledger.Params
}

// NewP2PWorkload builds a block of txs transfers, each from a uniformly
// random account to another one, over accounts accounts (indices 1 to
// accounts; index 0 is the fee account), with per-sender nonce chains and
// small packable amounts so that every transfer succeeds. The result is a
// deterministic function of the arguments.
//
// The transactions are not signed: each Tx carries the ledger.Checked that
// admission would have produced (the sender's key hash, no error), so
// executing the block measures execution only, as in the Block-STM paper.
// All accounts share one L2 key.
func NewP2PWorkload(accounts, txs int, seed uint64) (*P2PWorkload, error) {
	w, _, err := newP2PWorkload(accounts, txs, seed)
	return w, err
}

// NewSignedP2PWorkload is NewP2PWorkload with every transaction signed and
// given as Tx.Decoded, so that executing the block includes the stateless
// checks (EdDSA verification, about as costly as signing). Signing runs on
// GOMAXPROCS goroutines and takes a while for large blocks.
func NewSignedP2PWorkload(accounts, txs int, seed uint64) (*P2PWorkload, error) {
	w, key, err := newP2PWorkload(accounts, txs, seed)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(w.Txs); i += len(errs) {
				tx := w.Txs[i].Checked.Tx
				if err := tx.SignL2(key, w.Params.ChainID); err != nil {
					errs[g] = err
					return
				}
				w.Txs[i] = Tx{Decoded: tx}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return w, nil
}

func newP2PWorkload(accounts, txs int, seed uint64) (*P2PWorkload, *ledger.PrivateKey, error) {
	if accounts < 2 || txs < 0 {
		return nil, nil, fmt.Errorf("%w: p2p workload needs at least 2 accounts, got %d", ErrInvalidOptions, accounts)
	}
	key, err := ledger.GenerateKey(bytes.NewReader(make([]byte, 32)))
	if err != nil {
		return nil, nil, err
	}
	pub := key.Public()
	pkh, err := pub.Hash()
	if err != nil {
		return nil, nil, err
	}
	w := &P2PWorkload{Base: ledger.NewMemState(), Params: ledger.Params{ChainID: 1, Depth: 32}}
	w.Base.Create(ledger.FeeAccount, common.Address{0xfe})
	addr := func(i int) common.Address {
		var a common.Address
		a[0] = 0xaa
		a[16], a[17], a[18], a[19] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		return a
	}
	rich := uint256.NewInt(1 << 62)
	for i := 1; i <= accounts; i++ {
		w.Base.Create(uint32(i), addr(i))
		w.Base.SetPubKeyHash(uint32(i), pkh)
		w.Base.SetBalance(uint32(i), *rich)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(accounts)))
	nonces := make([]uint32, accounts+1)
	w.Txs = make([]Tx, txs)
	for i := range w.Txs {
		from := 1 + rng.IntN(accounts)
		to := 1 + rng.IntN(accounts-1)
		if to >= from {
			to++
		}
		tx := &ledger.Tx{Type: ledger.TxTransfer, Account: uint32(from), To: addr(to), Nonce: nonces[from], PubKey: pub}
		tx.Amount.SetUint64(1 + rng.Uint64N(1000))
		tx.Fee.SetUint64(1)
		nonces[from]++
		w.Txs[i] = Tx{Checked: &ledger.Checked{Tx: tx, KeyHash: pkh}}
	}
	return w, key, nil
}

// BenchP2P measures a p2p block (NewP2PWorkload(accounts, txs, 1)) executed
// by Sequential and by Parallel with the given workers (0 = GOMAXPROCS),
// and returns their throughputs in transactions per second: the median of
// five timed runs of each, alternated, after one untimed run of each
// (whose results must be equal, or BenchP2P fails).
//
// What is timed is the call to Sequential or Parallel only: execution
// against an in-memory base (ledger.MemState), building receipts and the
// write set. Decoding and stateless checks (signature verification) are
// excluded: they belong to admission and the transactions come already
// checked (Tx.Checked), as in the Block-STM paper. Building the workload
// is not timed.
func BenchP2P(ctx context.Context, accounts, txs, workers int) (seqTPS, parTPS float64, err error) {
	w, err := NewP2PWorkload(accounts, txs, 1)
	if err != nil {
		return 0, 0, err
	}
	return w.Bench(ctx, workers, 5)
}

// BenchP2PSigned is BenchP2P on NewSignedP2PWorkload: the timed runs
// include decoding-free stateless checks, i.e. one EdDSA verification per
// transaction, which Parallel spreads over its workers. Signing the block
// beforehand is not timed but takes about as long as one sequential run.
func BenchP2PSigned(ctx context.Context, accounts, txs, workers int) (seqTPS, parTPS float64, err error) {
	w, err := NewSignedP2PWorkload(accounts, txs, 1)
	if err != nil {
		return 0, 0, err
	}
	return w.Bench(ctx, workers, 3)
}

// Bench runs the block with Sequential and with Parallel (workers, 0 =
// GOMAXPROCS) once untimed, fails unless both results are equal, then
// times runs more runs of each, alternated, and returns the median
// throughputs in transactions per second. Only the Sequential and
// Parallel calls are timed.
func (w *P2PWorkload) Bench(ctx context.Context, workers, runs int) (seqTPS, parTPS float64, err error) {
	txs := len(w.Txs)
	opts := Options{Workers: workers}
	seq, err := Sequential(ctx, w.Base, w.Txs, w.Params)
	if err != nil {
		return 0, 0, err
	}
	par, err := Parallel(ctx, w.Base, w.Txs, w.Params, opts)
	if err != nil {
		return 0, 0, err
	}
	if err := diffResults(seq, par); err != nil {
		return 0, 0, fmt.Errorf("executor: parallel differs from sequential: %w", err)
	}
	runs = max(runs, 1)
	var ts, tp []time.Duration
	for range runs {
		start := time.Now()
		if _, err := Sequential(ctx, w.Base, w.Txs, w.Params); err != nil {
			return 0, 0, err
		}
		ts = append(ts, time.Since(start))
		start = time.Now()
		if _, err := Parallel(ctx, w.Base, w.Txs, w.Params, opts); err != nil {
			return 0, 0, err
		}
		tp = append(tp, time.Since(start))
	}
	tps := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(txs) / d[len(d)/2].Seconds()
	}
	return tps(ts), tps(tp), nil
}

// diffResults reports the first difference between two results, Stats
// aside. Errors are equal if they have the same message and wrap the same
// ledger sentinel.
func diffResults(a, b *Result) error {
	if len(a.Receipts) != len(b.Receipts) {
		return fmt.Errorf("%d receipts vs %d", len(a.Receipts), len(b.Receipts))
	}
	for i := range a.Receipts {
		ra, rb := &a.Receipts[i], &b.Receipts[i]
		if (ra.Err == nil) != (rb.Err == nil) || ra.Err != nil && (ra.Err.Error() != rb.Err.Error() || !errors.Is(rb.Err, errors.Unwrap(ra.Err)) && !errors.Is(rb.Err, ra.Err)) {
			return fmt.Errorf("receipt %d: error %v vs %v", i, ra.Err, rb.Err)
		}
		if ra.Op != rb.Op {
			return fmt.Errorf("receipt %d: op %+v vs %+v", i, ra.Op, rb.Op)
		}
	}
	if len(a.Writes) != len(b.Writes) {
		return fmt.Errorf("%d written accounts vs %d", len(a.Writes), len(b.Writes))
	}
	for idx, x := range a.Writes {
		y, ok := b.Writes[idx]
		if !ok || x != y {
			return fmt.Errorf("account %d: %+v vs %+v (present %v)", idx, x, y, ok)
		}
	}
	if a.NextIndex != b.NextIndex {
		return fmt.Errorf("next index %d vs %d", a.NextIndex, b.NextIndex)
	}
	if a.Fees != b.Fees {
		return fmt.Errorf("fees %v vs %v", &a.Fees, &b.Fees)
	}
	return nil
}
