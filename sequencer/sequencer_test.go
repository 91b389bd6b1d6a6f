package sequencer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

func TestSubmitPreconfirms(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1_000_000, 1)
	a, b := us[0], us[1]
	blocks := e.seq.SubscribeBlocks(64)
	statuses := e.seq.SubscribeStatus(64)

	raw := a.next(t, b.addr, 1000, 10)
	start := time.Now()
	pre := e.mustSubmit(raw)
	lat := time.Since(start)
	// Within a block time plus a synced commit; generous for a loaded CI box.
	if lat > e.cfg.BlockTime+time.Second {
		t.Errorf("preconfirmation took %v", lat)
	}
	r := pre.Receipt
	if r.Err != nil || r.Op.Type != ledger.OpTransfer || r.Op.Account != a.index || r.Op.To != b.index || r.TxHash != TxHash(raw) {
		t.Fatalf("receipt %+v", r)
	}
	if err := VerifyHeader(&pre.Header, pre.Signature, e.seq.Address()); err != nil {
		t.Fatal(err)
	}
	if pre.HeaderHash != pre.Header.Hash() || pre.Header.Number != r.Block {
		t.Fatal("preconfirmation header does not match its receipt")
	}
	// A signature by another key, or over another header, fails.
	other := pre.Header
	other.Time++
	if err := VerifyHeader(&other, pre.Signature, e.seq.Address()); !errors.Is(err, ErrBadHeaderSignature) {
		t.Fatalf("altered header: %v", err)
	}
	mb, err := e.seq.MiniBlock(r.Block)
	if err != nil {
		t.Fatal(err)
	}
	hashes := make([]common.Hash, len(mb.Entries))
	for i := range mb.Entries {
		hashes[i] = mb.Entries[i].Hash
	}
	if MerkleRoot(hashes) != mb.Header.TxRoot || mb.Entries[r.Position].Hash != r.TxHash {
		t.Fatal("tx root or position wrong")
	}
	st, err := e.seq.Status(r.TxHash)
	if err != nil || st.Status != StatusPreconfirmed || st.Block != r.Block {
		t.Fatalf("status %+v, %v", st, err)
	}
	// Subscribers saw the block and the status change.
	e.eventually("block event", func() bool {
		for {
			select {
			case got := <-blocks.C:
				if got.Header.Number == r.Block {
					return true
				}
			default:
				return false
			}
		}
	})
	e.eventually("status event", func() bool {
		for {
			select {
			case evs := <-statuses.C:
				for _, ev := range evs {
					if ev.Hash == r.TxHash && ev.Status == StatusPreconfirmed {
						return true
					}
				}
			default:
				return false
			}
		}
	})

	// The state is committed: reopen the store and see it.
	wantA, _ := e.st.Account(a.index)
	e.close()
	st2, err := state.Open(e.dir, state.Options{Depth: testDepth})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	gotA, err := st2.Account(a.index)
	if err != nil {
		t.Fatal(err)
	}
	if gotA != wantA || gotA.Nonce != 2 || gotA.Balance.Uint64() != 1_000_000-1010 {
		t.Fatalf("reopened account %+v, want %+v", gotA, wantA)
	}
}

func TestAdmissionRejections(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.MaxAccountTxs = 3; c.MaxNonceGap = 3; c.MaxPoolTxs = 5 })
	us := e.fund(3, 1_000_000, 2)
	a, b, c := us[0], us[1], us[2]
	used := a.next(t, b.addr, 10, 1)
	e.mustSubmit(used)

	badSig := a.transfer(t, b.addr, 10, 1, a.nonce)
	badSig[len(badSig)-1] ^= 1
	wrongChain := func() []byte {
		tx := &ledger.Tx{Type: ledger.TxTransfer, Account: a.index, To: b.addr, Nonce: a.nonce}
		tx.Amount.SetUint64(10)
		if err := tx.SignL2(a.l2, testChainID+1); err != nil {
			t.Fatal(err)
		}
		return tx.Encode()
	}()
	tooLarge := append(a.transfer(t, b.addr, 10, 1, a.nonce), 0)
	unknownType := a.transfer(t, b.addr, 10, 1, a.nonce)
	unknownType[0] = 0x09
	feeNotPackable := a.transfer(t, b.addr, 10, 2048, a.nonce)
	zeroTo := a.transfer(t, common.Address{}, 10, 1, a.nonce)

	before := snapshot(t, e.st)
	headBefore, _ := e.seq.Head()
	cases := []struct {
		name string
		raw  []byte
		want []error
	}{
		{"too large", tooLarge, []error{ErrTooLarge}},
		{"empty", nil, []error{ErrMalformed, ledger.ErrMalformed}},
		{"truncated", used[:100], []error{ErrMalformed, ledger.ErrMalformed}},
		{"unknown type", unknownType, []error{ErrMalformed, ledger.ErrUnknownType}},
		{"bad signature", badSig, []error{ErrBadSignature, ledger.ErrBadSignature}},
		{"other chain", wrongChain, []error{ErrBadSignature}},
		{"fee not packable", feeNotPackable, []error{ErrInvalid, ledger.ErrFeeNotPackable}},
		{"zero recipient", zeroTo, []error{ErrInvalid, ledger.ErrZeroAddress}},
		{"replay of included tx", used, []error{ErrDuplicate}},
		{"nonce reused", a.transfer(t, c.addr, 11, 1, a.nonce-1), []error{ErrNonceTooLow}},
		{"nonce gap", a.transfer(t, b.addr, 10, 1, a.nonce+4), []error{ErrNonceGap}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.submit(tc.raw)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Fatalf("error %v, want %v", err, w)
				}
			}
		})
	}

	// Queue limits: gapped transactions wait in the queue.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	gapped := func(u *user, nonce uint32) []byte { return u.transfer(t, feeOwner, 1, 0, nonce) }
	errs := make(chan error, 8)
	queueTx := func(raw []byte) {
		wg.Go(func() {
			_, err := e.seq.Submit(ctx, raw)
			errs <- err
		})
	}
	queueTx(gapped(a, a.nonce+1))
	queueTx(gapped(a, a.nonce+2))
	queueTx(gapped(a, a.nonce+3))
	e.eventually("queued", func() bool { return e.seq.Pending() == 3 })
	if _, err := e.submit(gapped(a, a.nonce+1)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate pending: %v", err)
	}
	if _, err := e.submit(a.transfer(t, c.addr, 5, 0, a.nonce+1)); !errors.Is(err, ErrNonceInUse) {
		t.Fatalf("same nonce: %v", err)
	}
	if _, err := e.submit(gapped(a, a.nonce)); !errors.Is(err, ErrAccountQueueFull) {
		t.Fatalf("account queue: %v", err)
	}
	queueTx(gapped(b, b.nonce+1))
	queueTx(gapped(b, b.nonce+2))
	e.eventually("queued", func() bool { return e.seq.Pending() == 5 })
	if _, err := e.submit(gapped(c, c.nonce+1)); !errors.Is(err, ErrMempoolFull) {
		t.Fatalf("pool: %v", err)
	}
	st, err := e.seq.Status(TxHash(gapped(a, a.nonce+2)))
	if err != nil || st.Status != StatusQueued {
		t.Fatalf("queued status %+v %v", st, err)
	}
	cancel()
	wg.Wait()
	for range 5 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("queued submit: %v", err)
		}
	}

	// Nothing rejected changed anything.
	if h, _ := e.seq.Head(); h != headBefore {
		t.Fatalf("head moved from %d to %d", headBefore, h)
	}
	if after := snapshot(t, e.st); !equalAccounts(before, after) {
		t.Fatal("state changed by rejected transactions")
	}

	// Stop fails the queued ones; Submit after Stop is refused.
	e.close()
	e.open()
	if e.seq.Pending() != 0 {
		t.Fatal("mempool not empty after restart")
	}
}

func equalAccounts(a, b map[uint32]ledger.Account) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestExecutionFailures(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1000, 3)
	a, b := us[0], us[1]
	// A transfer that can only fail at execution is refused at admission
	// (TestAdmissionStateRules); one that passes admission can still fail:
	// signed with the key a ChangePubKey queued ahead of it replaces.
	fail := e.failAtExecution(a, b.addr)
	st, err := e.seq.Status(TxHash(fail))
	if err != nil || st.Status != StatusFailed || !errors.Is(st.Err, ledger.ErrWrongKey) {
		t.Fatalf("status %+v %v", st, err)
	}
	if acc, _ := e.seq.Account(a.index); acc.Nonce != a.nonce || acc.Balance.Uint64() != 1000 {
		t.Fatalf("failed tx changed the account: %+v", acc)
	}
	// Its nonce is still free, but the failed transaction itself is
	// included and cannot be sent again, before and after a restart.
	if _, err := e.submit(fail); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("failed tx sent again: %v, want ErrDuplicate", err)
	}
	e.close()
	e.open()
	if _, err := e.submit(fail); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("failed tx sent again after a restart: %v, want ErrDuplicate", err)
	}
	// The failed tx consumed no nonce; the same nonce works with another tx.
	pre := e.mustSubmit(a.next(t, b.addr, 100, 0))
	if pre.Receipt.Err != nil {
		t.Fatal(pre.Receipt.Err)
	}
	replay(t, e.seq, e.st)
}

// TestAdmissionStateRules: admission refuses what could only fail at
// execution — an overdraft counting the account's queued transactions,
// a key that is not the account's — and changes nothing; funds that come
// in while the account has transactions queued count.
func TestAdmissionStateRules(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1000, 15)
	a, b := us[0], us[1]
	refused := func(raw []byte, want, rule error) {
		t.Helper()
		before, _ := e.seq.Account(a.index)
		if _, err := e.submit(raw); !errors.Is(err, want) || !errors.Is(err, rule) {
			t.Fatalf("got %v, want %v (%v)", err, want, rule)
		}
		if st, err := e.seq.Status(TxHash(raw)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("refused tx is known: %+v %v", st, err)
		}
		if after, _ := e.seq.Account(a.index); after != before {
			t.Fatalf("refused tx changed the account: %+v -> %+v", before, after)
		}
	}
	// Alone: amount + fee above the balance.
	refused(a.transfer(t, b.addr, 1000, 1, a.nonce), ErrOverdraft, ledger.ErrInsufficientBalance)

	// With a queued transfer of 600 + 1 (behind a nonce gap), 400 more
	// does not fit, 300 does.
	res := e.submitGapped(a.transfer(t, b.addr, 600, 1, a.nonce+1))
	refused(a.transfer(t, b.addr, 399, 1, a.nonce), ErrOverdraft, ledger.ErrInsufficientBalance)
	if pre := e.mustSubmit(a.transfer(t, b.addr, 300, 1, a.nonce)); pre.Receipt.Err != nil {
		t.Fatal(pre.Receipt.Err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	a.nonce += 2
	if acc, _ := e.seq.Account(a.index); acc.Balance.Uint64() != 98 {
		t.Fatalf("balance %v, want 98", acc.Balance.Dec())
	}

	// Funds that arrive while a transfer of a is queued count: 98 + 500
	// covers the queued 50 and 500 more.
	res = e.submitGapped(a.transfer(t, b.addr, 50, 0, a.nonce+1))
	if pre := e.mustSubmit(b.next(t, a.addr, 500, 0)); pre.Receipt.Err != nil {
		t.Fatal(pre.Receipt.Err)
	}
	if pre := e.mustSubmit(a.transfer(t, b.addr, 500, 0, a.nonce)); pre.Receipt.Err != nil {
		t.Fatal(pre.Receipt.Err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	a.nonce += 2

	// Signed by a key that is not the account's: refused, not included.
	mallory := newUser(t, nil2rng())
	mallory.index = a.index
	refused(mallory.transfer(t, b.addr, 1, 0, a.nonce), ErrWrongKey, ledger.ErrWrongKey)
	// An account with no L2 key yet.
	c := newUser(t, nil2rng())
	e.q.add(c.addr, 1000)
	c.index = e.waitAccount(c.addr)
	if _, err := e.submit(c.transfer(t, b.addr, 1, 0, 0)); !errors.Is(err, ErrWrongKey) || !errors.Is(err, ledger.ErrNoPubKey) {
		t.Fatalf("transfer without a key: %v", err)
	}
	// A ChangePubKey not signed by the account's owner.
	refused(changeKey(t, a, a.nonce, a.l2, mallory.eth), ErrBadSignature, ledger.ErrBadSignature)
	// An account that does not exist.
	ghost := newUser(t, nil2rng())
	ghost.index = 200
	if _, err := e.submit(ghost.transfer(t, b.addr, 1, 0, 0)); !errors.Is(err, ErrWrongKey) || !errors.Is(err, ledger.ErrUnknownAccount) {
		t.Fatalf("transfer from no account: %v", err)
	}
	// The account still works.
	if pre := e.mustSubmit(a.next(t, b.addr, 1, 0)); pre.Receipt.Err != nil {
		t.Fatal(pre.Receipt.Err)
	}
	replay(t, e.seq, e.st)
}

func TestNonceGapFills(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1_000_000, 4)
	a, b := us[0], us[1]
	first := a.next(t, b.addr, 1, 0)
	second := a.next(t, b.addr, 2, 0)
	var pre2 *Preconfirmation
	var err2 error
	done := make(chan struct{})
	go func() {
		defer close(done)
		pre2, err2 = e.submit(second)
	}()
	e.eventually("gapped tx queued", func() bool { return e.seq.Pending() == 1 })
	time.Sleep(5 * e.cfg.BlockTime)
	if st, _ := e.seq.Status(TxHash(second)); st.Status != StatusQueued {
		t.Fatalf("gapped tx status %v", st.Status)
	}
	pre1 := e.mustSubmit(first)
	<-done
	if err2 != nil || pre1.Receipt.Err != nil || pre2.Receipt.Err != nil {
		t.Fatal(err2, pre1.Receipt.Err, pre2.Receipt.Err)
	}
	r1, r2 := pre1.Receipt, pre2.Receipt
	if r2.Block < r1.Block || (r2.Block == r1.Block && r2.Position < r1.Position) {
		t.Fatalf("nonce %d at %d/%d before nonce %d at %d/%d", r2.Op.Nonce, r2.Block, r2.Position, r1.Op.Nonce, r1.Block, r1.Position)
	}
}

func TestNonceGapExpires(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.QueueTTL = 20 * time.Millisecond })
	us := e.fund(2, 1000, 5)
	a := us[0]
	_, err := e.submit(a.transfer(t, us[1].addr, 1, 0, a.nonce+1))
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("gapped tx: %v", err)
	}
	if e.seq.Pending() != 0 {
		t.Fatal("expired tx still queued")
	}
}

// TestSequentialEquivalence submits many transactions concurrently
// (transfers, to new accounts, withdrawals, some failing) and checks the
// committed chain against a one-by-one ledger run.
func TestSequentialEquivalence(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.MaxBlockTxs = 24 })
	us := e.fund(6, 50_000, 6)
	rng := nil2rng()
	var wg sync.WaitGroup
	var deps []ledger.Deposit
	for round := range 4 {
		for ui, u := range us {
			var raws [][]byte
			for k := range 5 {
				to := us[rng.IntN(len(us))].addr
				amount := uint64(rng.IntN(8000))
				switch {
				case (round+k+ui)%7 == 0:
					to = common.Address{0xaa, byte(round), byte(ui), byte(k)}
				case (round+k)%5 == 0:
					raws = append(raws, u.sign(t, ledger.TxWithdraw, to, amount/4, 3, u.nonce))
					u.nonce++
					continue
				}
				raws = append(raws, u.next(t, to, amount, uint64(rng.IntN(20))))
			}
			wg.Go(func() {
				for _, raw := range raws {
					if _, err := e.submit(raw); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		// a deposit in between
		deps = append(deps, e.q.add(us[round].addr, 500))
		wg.Wait()
	}
	for _, d := range deps {
		e.eventually("deposit", func() bool {
			st, err := e.seq.Status(DepositHash(&d))
			return err == nil && (st.Status == StatusPreconfirmed || st.Status == StatusProven)
		})
	}
	e.close()
	e.open()
	replay(t, e.seq, e.st)
}

func TestConfig(t *testing.T) {
	st, err := state.Open(t.TempDir(), state.Options{Depth: testDepth})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := newUser(t, nil2rng()).eth
	cases := map[string]func(*Config){
		"no key":      func(c *Config) { c.Key = nil },
		"few slots":   func(c *Config) { c.Slots = 7 },
		"depth":       func(c *Config) { c.Params.Depth = testDepth + 1 },
		"negative":    func(c *Config) { c.MaxPoolTxs = -1 },
		"neg. period": func(c *Config) { c.BlockTime = -time.Millisecond },
	}
	for name, tweak := range cases {
		cfg := testConfig(key)
		tweak(&cfg)
		if _, err := New(st, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Without a fee owner the store must already have a fee account.
	cfg := testConfig(key)
	cfg.FeeOwner = common.Address{}
	seq, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := seq.Start(context.Background()); !errors.Is(err, ErrConfig) {
		t.Fatalf("start without fee account: %v", err)
	}
	if _, err := seq.Submit(context.Background(), nil); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("submit before start: %v", err)
	}
}

func TestStopFailsQueued(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1000, 14)
	a := us[0]
	errc := make(chan error, 1)
	go func() {
		_, err := e.submit(a.transfer(t, us[1].addr, 1, 0, a.nonce+1))
		errc <- err
	}()
	e.eventually("queued", func() bool { return e.seq.Pending() == 1 })
	seq := e.seq
	e.close()
	if err := <-errc; !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("queued at stop: %v", err)
	}
	if _, err := seq.Submit(context.Background(), a.transfer(t, us[1].addr, 1, 0, a.nonce)); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("after stop: %v", err)
	}
	if err := seq.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("restart: %v", err)
	}
}

// FuzzSubmit: any input is either rejected with an admission error and
// changes nothing, or preconfirmed with its own hash; Submit never panics.
func FuzzSubmit(f *testing.F) {
	e := newEnv(f, nil, nil)
	us := e.fund(2, 1_000_000, 15)
	a, b := us[0], us[1]
	valid := a.transfer(f, b.addr, 1, 1, a.nonce)
	f.Add(valid)
	f.Add(valid[:60])
	f.Add(append([]byte{0x05}, make([]byte, ledger.ChangePubKeySize-1)...))
	f.Add([]byte{0x02})
	f.Add(append(valid, 1))
	f.Fuzz(func(t *testing.T, raw []byte) {
		head, _ := e.seq.Head()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pre, err := e.seq.Submit(ctx, raw)
		if err != nil {
			admission := []error{ErrTooLarge, ErrMalformed, ErrBadSignature, ErrInvalid, ErrNonceTooLow, ErrNonceGap, ErrNonceInUse, ErrDuplicate, context.DeadlineExceeded, ErrExpired}
			if !slices.ContainsFunc(admission, func(x error) bool { return errors.Is(err, x) }) {
				t.Fatalf("unexpected error %v", err)
			}
			if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
				if h, _ := e.seq.Head(); h != head {
					t.Fatal("rejected input produced a block")
				}
			}
			return
		}
		if pre.Receipt.TxHash != TxHash(raw) {
			t.Fatal("receipt of another transaction")
		}
	})
}

// TestOverloaded: with CheckWorkers+MaxCheckQueue transactions in or
// waiting for the checks (the worker is held by the test), the next
// transaction is refused at once with ErrOverloaded and changes nothing; the waiting ones go through when
// the workers free up, and so does the refused one when sent again.
func TestOverloaded(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.CheckWorkers = 1 })
	// Funding submits five transactions at once: bound the queue after it.
	us := e.fund(5, 1_000_000, 9)
	e.seq.cfg.MaxCheckQueue = 2
	before := snapshot(t, e.st)
	headBefore, _ := e.seq.Head()

	// Occupy the only check worker.
	if err := e.seq.sem.Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			e.seq.sem.Release(1)
		}
	}
	defer release()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, u := range us[:3] {
		raw := u.next(t, us[4].addr, 5, 1)
		wg.Go(func() {
			pre, err := e.submit(raw)
			if err == nil && pre.Receipt.Err != nil {
				err = pre.Receipt.Err
			}
			errs[i] = err
		})
	}
	e.eventually("three waiting for a check", func() bool { return e.seq.checking.Load() == 3 })
	refused := us[3].next(t, us[4].addr, 7, 1)
	start := time.Now()
	_, err := e.submit(refused)
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("fourth transaction: %v, want ErrOverloaded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusal took %v: it must not wait for a worker", d)
	}
	if h, _ := e.seq.Head(); h != headBefore {
		t.Fatalf("head moved from %d to %d while the checks were held", headBefore, h)
	}
	if after := snapshot(t, e.st); !equalAccounts(before, after) {
		t.Fatal("state changed while the checks were held")
	}
	if st, err := e.seq.Status(TxHash(refused)); err == nil {
		t.Fatalf("refused transaction has a status: %+v", st)
	}

	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("waiting transaction %d: %v", i, err)
		}
	}
	if e.seq.checking.Load() != 0 {
		t.Fatalf("%d still counted as checking", e.seq.checking.Load())
	}
	if pre := e.mustSubmit(refused); pre.Receipt.Err != nil {
		t.Fatalf("resent transaction: %v", pre.Receipt.Err)
	}
}

// TestBatchedChecks: transactions that queue up behind a busy check worker
// are checked together (ledger.CheckBatch, up to checkBatch at a time,
// more than one batch here) and each gets its own outcome: the valid ones
// are preconfirmed, the ones with a bad signature are refused, and a
// refused one does not disturb the others of its batch.
func TestBatchedChecks(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.CheckWorkers = 1 })
	us := e.fund(20, 1_000_000, 10)
	if err := e.seq.sem.Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	type result struct {
		bad bool
		pre *Preconfirmation
		err error
	}
	results := make([]result, len(us))
	var wg sync.WaitGroup
	for i, u := range us {
		raw := u.next(t, us[(i+1)%len(us)].addr, 3, 1)
		bad := i%3 == 1
		if bad {
			raw = slices.Clone(raw)
			raw[len(raw)-5] ^= 0x10 // inside the signature's S
		}
		results[i].bad = bad
		wg.Go(func() {
			results[i].pre, results[i].err = e.submit(raw)
		})
	}
	e.eventually("all queued for the check", func() bool { return e.seq.checking.Load() == int64(len(us)) })
	e.seq.sem.Release(1)
	wg.Wait()
	for i, r := range results {
		switch {
		case r.bad && !errors.Is(r.err, ErrBadSignature):
			t.Fatalf("tx %d (bad signature): %v", i, r.err)
		case !r.bad && (r.err != nil || r.pre.Receipt.Err != nil):
			t.Fatalf("tx %d: %v %v", i, r.err, r.pre)
		}
	}
	if n := len(e.seq.checks.reqs); n != 0 {
		t.Fatalf("%d requests left in the check queue", n)
	}
}

// TestFailedSetOverflow: past maxFailed failed transactions, admission
// looks failed hashes up in the store, and still refuses them as
// duplicates, before and after a restart (which finds the set too large
// to load).
func TestFailedSetOverflow(t *testing.T) {
	defer func(m int) { maxFailed = m }(maxFailed)
	maxFailed = 1
	e := newEnv(t, nil, nil)
	us := e.fund(3, 1000, 12)
	var failed [][]byte
	for _, u := range us[:2] {
		failed = append(failed, e.failAtExecution(u, us[2].addr))
	}
	check := func(when string) {
		t.Helper()
		if !e.seq.failed.overflow {
			t.Fatalf("%s: the failed set did not overflow", when)
		}
		for i, raw := range failed {
			if _, err := e.submit(raw); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("%s: failed tx %d sent again: %v, want ErrDuplicate", when, i, err)
			}
		}
		// A new transaction at the same nonce still goes through.
		u := us[0]
		if pre := e.mustSubmit(u.transfer(t, us[2].addr, 1, 0, u.nonce)); pre.Receipt.Err != nil {
			t.Fatalf("%s: %v", when, pre.Receipt.Err)
		}
		u.nonce++
	}
	check("running")
	e.close()
	e.open()
	check("after a restart")
}

// batchRecorder records the sizes of check batches.
type batchRecorder struct {
	NopMetrics
	mu    sync.Mutex
	sizes []int
}

func (r *batchRecorder) CheckBatch(n int) {
	r.mu.Lock()
	r.sizes = append(r.sizes, n)
	r.mu.Unlock()
}

func (r *batchRecorder) take() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sizes
	r.sizes = nil
	return s
}

// TestCheckLinger: while lingering is allowed, admitted transactions wait
// for a full batch (checkBatch) or their deadline, whichever comes first,
// and are then checked together; with no deadline (the loop idle) a
// transaction is checked at once; a transaction whose caller gives up
// while it waits leaves the queue.
func TestCheckLinger(t *testing.T) {
	rec := &batchRecorder{}
	e := newEnv(t, nil, func(c *Config) { c.CheckWorkers = 1; c.Metrics = rec })
	us := e.fund(12, 1_000_000, 14)
	linger := func(f func() time.Time) { e.seq.knobs.lingerUntil.Store(&f) }
	submitAll := func(us []*user) []error {
		errs := make([]error, len(us))
		var wg sync.WaitGroup
		for i, u := range us {
			raw := u.next(t, us[(i+1)%len(us)].addr, 1, 1)
			wg.Go(func() {
				pre, err := e.submit(raw)
				if err == nil && pre.Receipt.Err != nil {
					err = pre.Receipt.Err
				}
				errs[i] = err
			})
		}
		wg.Wait()
		return errs
	}
	rec.take()

	// Until a batch is full: seven wait, the eighth releases all.
	linger(func() time.Time { return time.Now().Add(time.Hour) })
	var wg sync.WaitGroup
	var first []error
	wg.Go(func() { first = submitAll(us[:7]) })
	e.eventually("seven waiting", func() bool { return e.seq.checking.Load() == 7 })
	time.Sleep(50 * time.Millisecond)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("checked before the batch was full: %v", got)
	}
	last := submitAll(us[7:8])
	wg.Wait()
	for i, err := range append(first, last...) {
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	if got := rec.take(); !slices.Equal(got, []int{8}) {
		t.Fatalf("check batches %v, want [8]", got)
	}

	// Until the deadline: three are checked together when it passes.
	deadline := time.Now().Add(100 * time.Millisecond)
	linger(func() time.Time { return deadline })
	for i, err := range submitAll(us[8:11]) {
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	if time.Now().Before(deadline) {
		t.Fatal("checked before the deadline")
	}
	if got := rec.take(); !slices.Equal(got, []int{3}) {
		t.Fatalf("check batches %v, want [3]", got)
	}

	// A caller that gives up while waiting leaves nothing queued.
	linger(func() time.Time { return time.Now().Add(time.Hour) })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	u := us[11]
	if _, err := e.seq.Submit(ctx, u.transfer(t, us[0].addr, 1, 1, u.nonce)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned submit: %v", err)
	}
	cancel()
	if n, c := len(e.seq.checks.reqs), e.seq.checking.Load(); n != 0 || c != 0 || e.seq.checks.gate != nil {
		t.Fatalf("after an abandoned submit: %d queued, %d checking, gate %v", n, c, e.seq.checks.gate)
	}

	// No deadline: checked at once, alone.
	linger(func() time.Time { return time.Time{} })
	for i, err := range submitAll(us[11:12]) {
		if err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	if got := rec.take(); !slices.Equal(got, []int{1}) {
		t.Fatalf("check batches %v, want [1]", got)
	}
}
