package settlement

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/sequencer"
)

// The node hands the sequencer's proven batches to a Submitter.
var _ sequencer.Settler = (*Submitter)(nil)

// TestEndToEnd runs deposits, a key change, a transfer and a withdrawal
// through the embedded L1, the watcher, the L2 state, real proofs and the
// rollup contract, with the contract's rejections checked at each batch.
func TestEndToEnd(t *testing.T) {
	verifierForTest(t) // the setup, before the clock starts
	ctx := testCtx(t)
	c := newL2(t)
	dev := startDev(t, "")
	l1 := dev.Client()
	genesis := c.Store.Tree().Root()
	d := deploy(t, ctx, l1, genesis, 1000)
	dir := t.TempDir()

	// 1. Deposits on L1, delivered by the watcher, applied on L2.
	a, b, x := l2User(t, 1), l2User(t, 2), NewAccount(DevKey(3))
	if _, err := d.rollup.Deposit(ctx, NewAccount(a.Eth), a.Addr, ether(5)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.rollup.Deposit(ctx, NewAccount(b.Eth), b.Addr, ether(1)); err != nil {
		t.Fatal(err)
	}
	var depOps []ledger.Op
	var verified []uint64
	var mu sync.Mutex
	wcfg := WatcherConfig{Rollup: d.rollup.Address(), Confirmations: 2, CursorPath: filepath.Join(dir, "watcher.json"),
		OnDeposit: func(_ context.Context, dep ledger.Deposit, _ uint64) error {
			depOps = append(depOps, c.Deposit(dep)...)
			return nil
		},
		OnBatchVerified: func(_ context.Context, n uint64, _ [32]byte, _ uint64) error {
			mu.Lock()
			verified = append(verified, n)
			mu.Unlock()
			return nil
		}}
	w, err := NewWatcher(l1, wcfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		if err := w.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		return len(depOps) == 2
	})
	a.Index, b.Index = depOps[0].Account, depOps[1].Account
	// The same deposits, as the sequencer's priority queue source.
	queued, err := w.Deposits(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 2 || queued[0].Deposit.Address != a.Addr || queued[1].Deposit.ID != 1 || queued[1].Deposit.Amount.ToBig().Cmp(ether(1)) != 0 ||
		queued[0].Deadline <= queued[0].L1Block {
		t.Fatalf("queued deposits %+v", queued)
	}
	if q, err := w.Deposits(ctx, 1, 10); err != nil || len(q) != 1 || q[0].Deposit.ID != 1 {
		t.Fatalf("deposits from 1: %+v, %v", q, err)
	}
	// A restarted watcher does not deliver them again.
	w2, err := NewWatcher(l1, wcfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if len(depOps) != 2 || w2.Cursor().NextDeposit != 2 {
		t.Fatalf("restarted watcher redelivered: %d deposits, cursor %+v", len(depOps), w2.Cursor())
	}

	var sent atomic.Int32
	sub, err := NewSubmitter(ctx, l1, SubmitterConfig{Rollup: d.rollup.Address(), Key: d.admin.Key,
		StatePath: filepath.Join(dir, "submitter.json"), PollInterval: 100 * time.Millisecond,
		OnSent: func(uint64, common.Hash) { sent.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}

	// Batch 1: the two deposits.
	w1 := c.Commit(depOps, testCfg.Slots)
	b1 := batchFor(t, w1)
	t.Run("rejections-batch1", func(t *testing.T) {
		reorder := cloneBatch(b1)
		copy(reorder.Pubdata[0:48], b1.Pubdata[48:96])
		copy(reorder.Pubdata[48:96], b1.Pubdata[0:48])
		expectRevert(t, ctx, d, reorder, "PriorityOpMismatch")
		skip := cloneBatch(b1)
		copy(skip.Pubdata[0:48], b1.Pubdata[48:96])
		clear(skip.Pubdata[48:96])
		expectRevert(t, ctx, d, skip, "PriorityOpMismatch")
		extra := cloneBatch(b1)
		copy(extra.Pubdata[96:], b1.Pubdata[48:80]) // a third deposit chunk group, truncated
		expectRevert(t, ctx, d, extra, "TruncatedOp")
		badProof := cloneBatch(b1)
		badProof.Proof[5] ^= 1
		expectRevert(t, ctx, d, badProof, "InvalidProof")
		tampered := cloneBatch(b1)
		tampered.Pubdata[len(tampered.Pubdata)-3] ^= 1 // padding of the last Noop
		expectRevert(t, ctx, d, tampered, "InvalidProof")
		wrongRoot := cloneBatch(b1)
		wrongRoot.NewRoot[31] ^= 1
		expectRevert(t, ctx, d, wrongRoot, "InvalidProof")
		wrongNumber := cloneBatch(b1)
		wrongNumber.Number = 2
		expectRevert(t, ctx, d, wrongNumber, "BadBatchNumber")
		unknown := cloneBatch(b1)
		unknown.Pubdata[7*16] = 0x07
		expectRevert(t, ctx, d, unknown, "UnknownOp")
		short := cloneBatch(b1)
		short.Pubdata = short.Pubdata[:len(short.Pubdata)-1]
		expectRevert(t, ctx, d, short, "BadPubdataLength")
		huge := cloneBatch(b1)
		huge.NewRoot = [32]byte{0xff}
		expectRevert(t, ctx, d, huge, "RootNotInField")
		if err := d.rollup.CallSubmitBatch(ctx, a.Addr, b1); !isRevert(err, "NotSequencer") {
			t.Fatalf("submit by a non-sequencer: %v", err)
		}
		// The same batch against another parent root: a rollup whose
		// genesis differs, with the same deposits queued.
		other := genesis
		other.SetUint64(12345)
		d2 := deploy(t, ctx, l1, other, 1000)
		for _, dep := range []struct {
			u   Account
			amt *big.Int
		}{{NewAccount(a.Eth), ether(5)}, {NewAccount(b.Eth), ether(1)}} {
			if _, err := d2.rollup.Deposit(ctx, dep.u, dep.u.Address, dep.amt); err != nil {
				t.Fatal(err)
			}
		}
		expectRevert(t, ctx, d2, b1, "InvalidProof")
	})
	// Settled by a submitter that finds its transaction stuck (no blocks
	// for a while) and replaces it with higher fees.
	var hashes []common.Hash
	bumper, err := NewSubmitter(ctx, l1, SubmitterConfig{Rollup: d.rollup.Address(), Key: d.admin.Key,
		StatePath: filepath.Join(dir, "submitter.json"), PollInterval: 50 * time.Millisecond, ResendAfter: 200 * time.Millisecond,
		OnSent: func(_ uint64, h common.Hash) {
			mu.Lock()
			hashes = append(hashes, h)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	dev.Pause()
	go func() {
		// Resume once a replacement went out (or after a minute, and
		// the checks below fail).
		for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			n := len(hashes)
			mu.Unlock()
			if n >= 2 {
				break
			}
		}
		dev.Resume()
	}()
	rc1 := settle(t, ctx, bumper, d, b1, w1.NewRoot.Bytes())
	mu.Lock()
	if rc1.TxHash == hashes[0] {
		t.Fatalf("the stuck transaction was mined, not its replacement (%d sent)", len(hashes))
	}
	firstTx, _, err := l1.TransactionByHash(ctx, hashes[0])
	if err == nil {
		t.Fatalf("replaced transaction %v still known", firstTx.Hash())
	}
	mu.Unlock()

	// Batch 2: A's key change, authorized by A's Ethereum signature. The
	// submitter is stopped between sending and confirmation, then
	// restarted: the batch is settled once.
	w2b := c.Commit(c.Execute(c.ChangePubKey(a, a.L2)), testCfg.Slots)
	b2 := batchFor(t, w2b)
	t.Run("rejections-batch2", func(t *testing.T) {
		badSig := cloneBatch(b2)
		badSig.Pubdata[61+7] ^= 1 // r
		expectRevert(t, ctx, d, badSig, "BadSignature")
		otherOwner := cloneBatch(b2)
		copy(otherOwner.Pubdata[5:25], b.Addr.Bytes())
		expectRevert(t, ctx, d, otherOwner, "BadSignature")
		highV := cloneBatch(b2)
		highV.Pubdata[125] = 29
		expectRevert(t, ctx, d, highV, "BadSignature")
		replay := cloneBatch(b1)
		expectRevert(t, ctx, d, replay, "BadBatchNumber")
	})
	nonceBefore, err := l1.NonceAt(ctx, d.admin.Address, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev.Pause()
	sendCtx, stop := context.WithCancel(ctx)
	first, err := NewSubmitter(ctx, l1, SubmitterConfig{Rollup: d.rollup.Address(), Key: d.admin.Key,
		StatePath: filepath.Join(dir, "submitter.json"), PollInterval: 100 * time.Millisecond,
		OnSent: func(uint64, common.Hash) { stop() }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Submit(sendCtx, b2); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted submitter: %v", err)
	}
	if dev.PendingTransactions() != 1 {
		t.Fatalf("%d transactions pending after the interrupted send", dev.PendingTransactions())
	}
	dev.Resume()
	sent.Store(0)
	if err := sub.Settle(ctx, b2.Number, b2.Proof, w2b); err != nil { // the sequencer's Settler
		t.Fatal(err)
	}
	checkState(t, ctx, d, 2, w2b.NewRoot.Bytes())
	if n := sent.Load(); n != 0 {
		t.Fatalf("restarted submitter sent %d new transactions", n)
	}
	if nonce, _ := l1.NonceAt(ctx, d.admin.Address, nil); nonce != nonceBefore+1 {
		t.Fatalf("sequencer nonce %d -> %d: batch 2 sent more than once", nonceBefore, nonce)
	}

	// Batch 3: a transfer and a withdrawal to an L1 address. The batch's
	// block is reorged out before its confirmations; the submitter
	// settles it again.
	ops := c.Execute(
		c.Transfer(a, b.Addr, 1_000_000_000_000_000_000, 1000, c.Nonce(a)),
		c.Withdraw(a, x.Address, 2_000_000_000_000_000_000, 1000, c.Nonce(a)+1),
	)
	if len(ops) != 2 {
		t.Fatalf("%d of 2 transactions executed", len(ops))
	}
	w3 := c.Commit(ops, testCfg.Slots)
	b3 := batchFor(t, w3)
	reorgSub, err := NewSubmitter(ctx, l1, SubmitterConfig{Rollup: d.rollup.Address(), Key: d.admin.Key,
		StatePath: filepath.Join(dir, "submitter.json"), PollInterval: 50 * time.Millisecond, Confirmations: 4,
		OnSent: func(uint64, common.Hash) { sent.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	sent.Store(0)
	nonceBefore, _ = l1.NonceAt(ctx, d.admin.Address, nil)
	dev.Pause()
	done := make(chan error, 1)
	go func() {
		_, err := reorgSub.Submit(ctx, b3)
		done <- err
	}()
	waitFor(t, func() bool { return dev.PendingTransactions() == 1 })
	dev.Mine()
	if st, _ := d.rollup.State(ctx, nil); st.Number != 3 {
		t.Fatalf("batch 3 not mined: contract at %d", st.Number)
	}
	mined, err := l1.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Reorg(1); err != nil {
		t.Fatal(err)
	}
	// The block is gone. (The submitter may already have sent the batch
	// again into the new branch, so the contract may be at 2 or 3.)
	if h, err := l1.HeaderByNumber(ctx, mined.Number); err != nil || h.Hash() == mined.Hash() {
		t.Fatalf("reorg kept block %d: %v", mined.Number, err)
	}
	dev.Resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkState(t, ctx, d, 3, w3.NewRoot.Bytes())
	if n := sent.Load(); n < 2 {
		t.Fatalf("batch 3 broadcast %d times, want a resubmission after the reorg", n)
	}
	if nonce, _ := l1.NonceAt(ctx, d.admin.Address, nil); nonce != nonceBefore+1 {
		t.Fatalf("sequencer nonce %d -> %d", nonceBefore, nonce)
	}
	// A replay is refused by the contract, and the submitter does not
	// resend a settled batch.
	expectRevert(t, ctx, d, b3, "BadBatchNumber")
	sent.Store(0)
	if _, err := sub.Submit(ctx, b3); err != nil {
		t.Fatal(err)
	}
	if sent.Load() != 0 {
		t.Fatal("settled batch sent again")
	}
	conflict := cloneBatch(b3)
	conflict.NewRoot[31] ^= 1
	if _, err := sub.Submit(ctx, conflict); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflicting batch: %v", err)
	}

	// The withdrawal is claimed on L1.
	owed, err := d.rollup.PendingWithdrawal(ctx, x.Address)
	if err != nil || owed.Cmp(ether(2)) != 0 {
		t.Fatalf("pending withdrawal %v, %v", owed, err)
	}
	before, _ := l1.BalanceAt(ctx, x.Address, nil)
	rc, err := d.rollup.ClaimWithdrawal(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := l1.BalanceAt(ctx, x.Address, rc.BlockNumber)
	fee := new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), rc.EffectiveGasPrice)
	got := new(big.Int).Sub(after, before)
	if got.Add(got, fee).Cmp(ether(2)) != 0 {
		t.Fatalf("claim paid %v wei (+%v fee), want 2 ether", new(big.Int).Sub(after, before), fee)
	}
	if _, err := d.rollup.ClaimWithdrawal(ctx, x); !isRevert(err, "NothingToClaim") {
		t.Fatalf("second claim: %v", err)
	}

	// Gas, with batch 3 (no deposits) as the real sample.
	t.Run("gas", func(t *testing.T) {
		res, err := MeasureGas(ctx, GasConfig{Keys: keysForTest(t), Verifier: verifierForTest(t), Sample: b3, SampleOldRoot: w3.OldRoot})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 4 {
			t.Fatalf("%d results", len(res))
		}
		for i, r := range res {
			t.Logf("l1 batch-%d: gas_per_batch %d gas_per_transfer %d (verifier %d)", r.Slots, r.Batch, r.PerTransfer, r.Verify)
			if r.Verify < 150_000 || r.Batch <= r.Verify {
				t.Fatalf("implausible measure %+v", r)
			}
			if i > 0 && (r.Batch <= res[i-1].Batch || r.PerTransfer >= res[i-1].PerTransfer) {
				t.Fatalf("gas does not scale: %+v after %+v", r, res[i-1])
			}
		}
	})

	// The watcher reports the three batches final, once each.
	waitFor(t, func() bool {
		if err := w.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return len(verified) >= 3
	})
	if len(verified) != 3 || verified[0] != 1 || verified[2] != 3 {
		t.Fatalf("verified batches %v", verified)
	}
}

func settle(t *testing.T, ctx context.Context, s *Submitter, d *deployment, b *Batch, root [32]byte) *types.Receipt {
	t.Helper()
	rc, err := s.Submit(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("batch %d settled: gas %d", b.Number, rc.GasUsed)
	checkState(t, ctx, d, b.Number, root)
	return rc
}

func checkState(t *testing.T, ctx context.Context, d *deployment, n uint64, root [32]byte) {
	t.Helper()
	st, err := d.rollup.State(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Number != n || st.Root != root {
		t.Fatalf("contract at batch %d root %x, want %d %x", st.Number, st.Root, n, root)
	}
}

func cloneBatch(b *Batch) *Batch {
	c := *b
	c.Pubdata = append([]byte(nil), b.Pubdata...)
	c.Proof = append([]byte(nil), b.Proof...)
	return &c
}

func isRevert(err error, name string) bool {
	var re *RevertError
	return errors.As(err, &re) && re.Name == name
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
