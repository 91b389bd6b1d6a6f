package executor

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// run executes txs with Sequential and Parallel on 1, 2, 4 and 8 workers,
// fails unless all results are equal, and returns Sequential's.
func run(t *testing.T, base Base, txs []Tx, p ledger.Params) *Result {
	t.Helper()
	ctx := context.Background()
	seq, err := Sequential(ctx, base, txs, p)
	if err != nil {
		t.Fatalf("sequential: %v", err)
	}
	for _, w := range []int{1, 2, 4, 8} {
		par, err := Parallel(ctx, base, txs, p, Options{Workers: w})
		if err != nil {
			t.Fatalf("parallel, %d workers: %v", w, err)
		}
		if err := diffResults(seq, par); err != nil {
			t.Fatalf("parallel, %d workers, differs from sequential: %v", w, err)
		}
	}
	return seq
}

func TestRuleErrors(t *testing.T) {
	f := getFixture(t)
	badSig := f.transfer(t, 1, 1, f.addrs[2], 10, 1, 0)
	badSig.Signature[40] ^= 1
	unpackable := &ledger.Tx{Type: ledger.TxTransfer, Account: 1, To: f.addrs[2], Nonce: 0}
	unpackable.Amount.SetUint64(123_456_789_012_345)
	if err := unpackable.SignL2(f.keys[1], testChainID); err != nil {
		t.Fatal(err)
	}
	checked := func(tx *ledger.Tx) Tx { return Tx{Checked: ledger.Check(tx, testParams)} }
	maxDeposit := ledger.MaxAmount()
	tiny := ledger.Params{ChainID: testChainID, Depth: 3} // the fixture fills 9 > 2^3 indices
	for _, tc := range []struct {
		name string
		p    ledger.Params
		txs  []Tx
		want error // of the last tx
	}{
		{"bad signature", testParams, []Tx{{Raw: badSig.Encode()}}, ledger.ErrBadSignature},
		{"wrong key", testParams, []Tx{checked(f.transfer(t, 1, 2, f.addrs[2], 10, 1, 0))}, ledger.ErrWrongKey},
		{"no key", testParams, []Tx{checked(f.transfer(t, noKey, 1, f.addrs[2], 10, 1, 0))}, ledger.ErrNoPubKey},
		{"nonce too low", testParams, []Tx{checked(f.transfer(t, 3, 3, f.addrs[2], 10, 1, 1))}, ledger.ErrNonce},
		{"nonce too high", testParams, []Tx{checked(f.transfer(t, 1, 1, f.addrs[2], 10, 1, 1))}, ledger.ErrNonce},
		{"nonce reused", testParams, []Tx{
			checked(f.transfer(t, 1, 1, f.addrs[2], 10, 1, 0)),
			checked(f.transfer(t, 1, 1, f.addrs[3], 10, 1, 0)),
		}, ledger.ErrNonce},
		{"overdraft", testParams, []Tx{checked(f.transfer(t, 1, 1, f.addrs[2], 500, 1, 0))}, ledger.ErrInsufficientBalance},
		{"overdraft after a debit", testParams, []Tx{
			checked(f.transfer(t, 1, 1, f.addrs[2], 400, 0, 0)),
			checked(f.transfer(t, 1, 1, f.addrs[2], 100, 1, 1)),
		}, ledger.ErrInsufficientBalance},
		{"overflow", testParams, []Tx{checked(f.transfer(t, 4, 4, f.addrs[nearMax], 1500, 1, 0))}, ledger.ErrBalanceOverflow},
		{"deposit overflow", testParams, []Tx{{Deposit: &ledger.Deposit{Address: f.addrs[nearMax], Amount: *uint256.NewInt(1001)}}}, ledger.ErrBalanceOverflow},
		{"deposit out of range", testParams, []Tx{{Deposit: &ledger.Deposit{Address: f.addrs[1], Amount: *new(uint256.Int).Add(&maxDeposit, uint256.NewInt(1))}}}, ledger.ErrAmountRange},
		{"unknown sender", testParams, []Tx{checked(f.transfer(t, 40, 1, f.addrs[2], 10, 1, 0))}, ledger.ErrUnknownAccount},
		{"unpackable amount", testParams, []Tx{{Decoded: unpackable}}, ledger.ErrAmountNotPackable},
		{"tree full", tiny, []Tx{checked(f.transfer(t, 1, 1, f.fresh[0], 10, 1, 0))}, ledger.ErrTreeFull},
		{"deposit tree full", tiny, []Tx{{Deposit: &ledger.Deposit{Address: f.fresh[0], Amount: *uint256.NewInt(5)}}}, ledger.ErrTreeFull},
		{"zero address", testParams, []Tx{checked(f.transfer(t, 1, 1, common.Address{}, 10, 1, 0))}, ledger.ErrZeroAddress},
		{"deposit zero address", testParams, []Tx{{Deposit: &ledger.Deposit{Amount: *uint256.NewInt(5)}}}, ledger.ErrZeroAddress},
		{"malformed", testParams, []Tx{{Raw: []byte{byte(ledger.TxTransfer), 1, 2}}}, ledger.ErrMalformed},
		{"empty", testParams, []Tx{{}}, ErrEmptyTx},
		{"checked without tx", testParams, []Tx{{Checked: &ledger.Checked{}}}, ErrEmptyTx},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, f.base, tc.txs, tc.p)
			last := res.Receipts[len(res.Receipts)-1]
			if !errors.Is(last.Err, tc.want) {
				t.Fatalf("receipt error %v, want %v", last.Err, tc.want)
			}
			for i, r := range res.Receipts[:len(res.Receipts)-1] {
				if r.Err != nil {
					t.Fatalf("receipt %d: %v", i, r.Err)
				}
			}
			if len(tc.txs) == 1 && (len(res.Writes) != 0 || res.NextIndex != f.base.Next || !res.Fees.IsZero()) {
				t.Fatalf("a failed transaction wrote %v, next %d, fees %v", res.Writes, res.NextIndex, &res.Fees)
			}
			checkAgainstLedger(t, f.base, tc.txs, tc.p, res)
		})
	}
}

func TestTransfers(t *testing.T) {
	f := getFixture(t)
	txs := []Tx{
		{Decoded: f.transfer(t, 1, 1, f.fresh[0], 100, 3, 0)}, // creates index numUsers+1
		{Decoded: f.transfer(t, 2, 2, f.addrs[2], 50, 2, 0)},  // to itself
		{Decoded: f.transfer(t, 1, 1, f.fresh[0], 10, 1, 1)},  // to the new account
		{Deposit: &ledger.Deposit{ID: 9, Address: f.fresh[1], Amount: *uint256.NewInt(77)}},
	}
	res := run(t, f.base, txs, testParams)
	checkAgainstLedger(t, f.base, txs, testParams, res)
	for i, r := range res.Receipts {
		if r.Err != nil {
			t.Fatalf("receipt %d: %v", i, r.Err)
		}
	}
	next := uint32(numUsers + 1)
	if got := res.Receipts[0].Op; got.Type != ledger.OpTransferToNew || got.To != next {
		t.Fatalf("op 0 is %v to %d, want transferToNew to %d", got.Type, got.To, next)
	}
	if got := res.Receipts[3].Op; got.Type != ledger.OpDeposit || got.Account != next+1 {
		t.Fatalf("op 3 is %v of %d, want deposit to %d", got.Type, got.Account, next+1)
	}
	if res.NextIndex != next+2 || res.Fees.Uint64() != 6 || res.Stats.Checks != 3 {
		t.Fatalf("next %d fees %v checks %d, want %d, 6, 3", res.NextIndex, &res.Fees, res.Stats.Checks, next+2)
	}
	if a := res.Writes[next]; a.Address != f.fresh[0] || a.Balance.Uint64() != 110 || a.Nonce != 0 {
		t.Fatalf("new account %+v", a)
	}
	if a := res.Writes[2]; a.Balance.Uint64() != 998 || a.Nonce != 1 || a.PubKeyHash != f.pkh[2] || a.Address != f.addrs[2] {
		t.Fatalf("self-transfer account %+v", a)
	}
	if _, ok := res.Writes[ledger.FeeAccount]; ok {
		t.Fatal("fees were credited per transaction")
	}
}

// TestDifferential runs random blocks through Sequential, Parallel on 1 to
// 8 workers and the ledger applied one transaction at a time.
func TestDifferential(t *testing.T) {
	p := getPool(t)
	blocks := 2500
	if raceEnabled {
		blocks = 150
	}
	r := rand.New(rand.NewPCG(1, 2))
	for b := range blocks {
		n := 1 + r.IntN(48)
		if b%50 == 0 {
			n = 150 + r.IntN(150)
		}
		txs := p.randomBlock(r, n, false)
		res := run(t, p.f.base, txs, testParams)
		checkAgainstLedger(t, p.f.base, txs, testParams, res)
	}
}

// TestRawBlocks runs blocks of wire-encoded transactions: each is decoded
// and checked once, however often it is re-executed.
func TestRawBlocks(t *testing.T) {
	p := getPool(t)
	r := rand.New(rand.NewPCG(3, 4))
	for range 4 {
		txs := p.randomBlock(r, 40, true)
		raw := 0
		for _, tx := range txs {
			if tx.Raw != nil {
				raw++
			}
		}
		res := run(t, p.f.base, txs, testParams)
		checkAgainstLedger(t, p.f.base, txs, testParams, res)
		par, err := Parallel(context.Background(), p.f.base, txs, testParams, Options{Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Checks != raw || par.Stats.Checks != raw {
			t.Fatalf("%d checks sequential, %d parallel (%d executions), want %d", res.Stats.Checks, par.Stats.Checks, par.Stats.Executions, raw)
		}
	}
}

// TestSignedHotSpot checks that re-executed transactions are never
// checked again, on a block of signed transfers between two accounts.
func TestSignedHotSpot(t *testing.T) {
	w, err := NewSignedP2PWorkload(2, 64, 9)
	if err != nil {
		t.Fatal(err)
	}
	seq := run(t, w.Base, w.Txs, w.Params)
	for _, limit := range []int{0, 1 << 20} {
		par, err := Parallel(context.Background(), w.Base, w.Txs, w.Params, Options{Workers: 4, MaxReexecutions: limit})
		if err != nil {
			t.Fatal(err)
		}
		if err := diffResults(seq, par); err != nil {
			t.Fatal(err)
		}
		if par.Stats.Checks != len(w.Txs) || seq.Stats.Checks != len(w.Txs) {
			t.Fatalf("%d checks parallel (stats %+v), %d sequential; want %d", par.Stats.Checks, par.Stats, seq.Stats.Checks, len(w.Txs))
		}
	}
}

// TestP2PBlocks compares large p2p blocks, from full contention to none.
func TestP2PBlocks(t *testing.T) {
	n := 3000
	if raceEnabled {
		n = 500
	}
	for _, accounts := range []int{2, 10, 1000} {
		w, err := NewP2PWorkload(accounts, n, uint64(accounts))
		if err != nil {
			t.Fatal(err)
		}
		seq := run(t, w.Base, w.Txs, w.Params)
		for i, r := range seq.Receipts {
			if r.Err != nil {
				t.Fatalf("%d accounts, receipt %d: %v", accounts, i, r.Err)
			}
		}
		// Without a cap, Block-STM must finish on its own.
		par, err := Parallel(context.Background(), w.Base, w.Txs, w.Params, Options{Workers: 4, MaxReexecutions: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		if err := diffResults(seq, par); err != nil {
			t.Fatalf("%d accounts, uncapped: %v", accounts, err)
		}
		if par.Stats.FellBack || par.Stats.Executions < n || par.Stats.Validations < n {
			t.Fatalf("uncapped stats %+v", par.Stats)
		}
	}
}

// TestReexecutionCap runs a full-contention block (transfers between two
// accounts, each first checked for its signature, so that executions
// overlap) with caps that force the sequential fallback.
func TestReexecutionCap(t *testing.T) {
	w, err := NewSignedP2PWorkload(2, 160, 5)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := Sequential(context.Background(), w.Base, w.Txs, w.Params)
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{-1, 1} {
		fellBack := false
		for attempt := 0; attempt < 10 && !fellBack; attempt++ {
			par, err := Parallel(context.Background(), w.Base, w.Txs, w.Params, Options{Workers: 4, MaxReexecutions: limit})
			if err != nil {
				t.Fatal(err)
			}
			if err := diffResults(seq, par); err != nil {
				t.Fatalf("cap %d: %v (stats %+v)", limit, err, par.Stats)
			}
			if par.Stats.Checks != len(w.Txs) {
				t.Fatalf("cap %d: %d checks, want %d", limit, par.Stats.Checks, len(w.Txs))
			}
			fellBack = par.Stats.FellBack
			if fellBack && (par.Stats.SequentialFrom >= len(w.Txs) || par.Stats.Executions < len(w.Txs)) {
				t.Fatalf("cap %d: stats %+v", limit, par.Stats)
			}
		}
		if !fellBack {
			t.Fatalf("cap %d: a full-contention block never fell back", limit)
		}
	}
}

func TestCancel(t *testing.T) {
	p := getPool(t)
	f := p.f
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	txs := p.randomBlock(rand.New(rand.NewPCG(5, 6)), 10, false)
	if _, err := Sequential(ctx, f.base, txs, testParams); !errors.Is(err, context.Canceled) {
		t.Fatalf("sequential on a cancelled context: %v", err)
	}
	if _, err := Parallel(ctx, f.base, txs, testParams, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("parallel on a cancelled context: %v", err)
	}

	// A long block of transactions whose signatures must be checked.
	raw := p.bySender[1][0][0].tx.Encode()
	long := make([]Tx, 5000)
	for i := range long {
		long[i] = Tx{Raw: raw}
	}
	before := runtime.NumGoroutine()
	for _, exec := range []func(context.Context) (*Result, error){
		func(ctx context.Context) (*Result, error) { return Sequential(ctx, f.base, long, testParams) },
		func(ctx context.Context) (*Result, error) {
			return Parallel(ctx, f.base, long, testParams, Options{Workers: 4})
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		start := time.Now()
		res, err := exec(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || res != nil {
			t.Fatalf("got %v, %v; want the context's error", res, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("cancellation took %v", d)
		}
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left behind", n-before)
	}
}

func TestBaseError(t *testing.T) {
	f := getFixture(t)
	txs := []Tx{{Decoded: f.transfer(t, 1, 1, f.addrs[2], 10, 1, 0)}, {Decoded: f.transfer(t, 4, 4, f.addrs[5], 10, 1, 0)}}
	base := failingBase{MemState: f.base, bad: 5}
	if _, err := Sequential(context.Background(), base, txs, testParams); !errors.Is(err, ErrBase) || !errors.Is(err, errBase) {
		t.Fatalf("sequential: %v", err)
	}
	for _, w := range []int{1, 2, 4} {
		if _, err := Parallel(context.Background(), base, txs, testParams, Options{Workers: w}); !errors.Is(err, ErrBase) || !errors.Is(err, errBase) {
			t.Fatalf("parallel, %d workers: %v", w, err)
		}
	}
	if _, err := Parallel(context.Background(), f.base, txs, testParams, Options{Workers: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("negative workers: %v", err)
	}
}

func TestEmptyBlock(t *testing.T) {
	f := getFixture(t)
	res := run(t, f.base, nil, testParams)
	if len(res.Receipts) != 0 || len(res.Writes) != 0 || res.NextIndex != f.base.Next {
		t.Fatalf("empty block: %+v", res)
	}
}

func TestBenchP2P(t *testing.T) {
	seq, par, err := BenchP2P(context.Background(), 10, 300, 2)
	if err != nil || seq <= 0 || par <= 0 {
		t.Fatalf("BenchP2P: %v, %v, %v", seq, par, err)
	}
	seq, par, err = BenchP2PSigned(context.Background(), 10, 16, 2)
	if err != nil || seq <= 0 || par <= 0 {
		t.Fatalf("BenchP2PSigned: %v, %v, %v", seq, par, err)
	}
	if _, _, err := BenchP2P(context.Background(), 1, 10, 2); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("one account: %v", err)
	}
	w, err := NewSignedP2PWorkload(5, 30, 3)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, w.Base, w.Txs, w.Params)
	checkAgainstLedger(t, w.Base, w.Txs, w.Params, res)
	for i, r := range res.Receipts {
		if r.Err != nil {
			t.Fatalf("signed workload, receipt %d: %v", i, r.Err)
		}
	}
}
