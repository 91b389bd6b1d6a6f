package sequencer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
)

// writeMetrics records the commit time of each mini-block: the mini-blocks
// of one synced write report the same duration.
type writeMetrics struct {
	NopMetrics
	mu      sync.Mutex
	commits []time.Duration
}

func (m *writeMetrics) MiniBlock(_ int, _, commit time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits = append(m.commits, commit)
}

// TestGroupCommit submits bursts of transfers from many accounts at once,
// so that transactions arriving during a synced write pile up and the next
// write carries several mini-blocks across batch boundaries. Every
// mini-block must stay within one batch, the chain must replay one
// transaction at a time, and a restart must resume from it.
func TestGroupCommit(t *testing.T) {
	m := &writeMetrics{}
	e := newEnv(t, nil, func(c *Config) { c.Metrics = m })
	us := e.fund(12, 1_000_000, 12)
	m.mu.Lock()
	m.commits = nil
	m.mu.Unlock()
	var wg sync.WaitGroup
	for range 4 {
		var raws [][]byte
		for _, u := range us {
			for range 5 {
				raws = append(raws, u.next(t, us[(len(raws)+1)%len(us)].addr, 10, 1))
			}
		}
		for _, raw := range raws {
			wg.Go(func() {
				if _, err := e.submit(raw); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	m.mu.Lock()
	shared := 0
	for i := 1; i < len(m.commits); i++ {
		if m.commits[i] == m.commits[i-1] {
			shared++
		}
	}
	t.Logf("%d mini-blocks, %d of them in the write of the one before", len(m.commits), shared)
	m.mu.Unlock()
	if shared == 0 {
		t.Error("no synced write carried more than one mini-block")
	}
	head, _ := e.seq.Head()
	for n := uint64(1); n <= head; n++ {
		mb, err := e.seq.MiniBlock(n)
		if err != nil {
			t.Fatal(err)
		}
		used := 0
		for _, r := range mb.Receipts {
			if r.Batch != mb.Header.Batch {
				t.Fatalf("block %d of batch %d has a receipt of batch %d", n, mb.Header.Batch, r.Batch)
			}
			if r.Err == nil {
				used += r.Op.Type.Chunks()
			}
		}
		if used > testSlots {
			t.Fatalf("block %d uses %d chunks, a batch has %d", n, used, testSlots)
		}
	}
	e.restartReplays()
}

// TestReadyDoesNotWaitForTick checks that a ready transaction is committed
// at once, not at the next BlockTime tick.
func TestReadyDoesNotWaitForTick(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(2, 1_000_000, 21)
	e.close()
	e.cfg.BlockTime = time.Hour
	e.open()
	for range 3 {
		start := time.Now()
		e.mustSubmit(us[0].next(t, us[1].addr, 10, 1))
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("preconfirmed after %v with an hourly tick", d)
		}
	}
}

// TestOpenBatchAppendsDoNotAlias checks the open batch's copy-on-extend
// rule: mini-blocks append to the batch's arrays in place, but a batch
// value that was already extended never sees its operations change when
// another mini-block is built on it.
func TestOpenBatchAppendsDoNotAlias(t *testing.T) {
	s := &Sequencer{cfg: Config{Slots: 4}}
	op := func(n uint32) ledger.Op { return ledger.Op{Type: ledger.OpTransfer, Account: n} }
	extend := func(ob openBatch, n uint32) openBatch {
		ob.own(s.cfg.Slots)
		ob.ops = append(ob.ops, op(n))
		ob.hashes = append(ob.hashes, common.Hash{byte(n)})
		ob.claim()
		return ob
	}
	base := s.newOpenBatch(1, 1)
	a := extend(base, 1)
	a2 := extend(a, 2)
	if &a2.ops[0] != &a.ops[0] {
		t.Fatal("extending the longest copy copied the arrays")
	}
	// A second block on a (a retry, or a fork): a2's operations stay.
	b := extend(a, 3)
	if a2.ops[1].Account != 2 || a2.hashes[1] != (common.Hash{2}) {
		t.Fatalf("a2 changed: %+v", a2.ops[1])
	}
	if b.ops[1].Account != 3 || b.ops[0].Account != 1 || len(b.ops) != 2 {
		t.Fatalf("b = %+v", b.ops)
	}
	// And on the empty base again.
	c := extend(base, 4)
	if a.ops[0].Account != 1 || c.ops[0].Account != 4 || cap(c.ops) < s.cfg.Slots {
		t.Fatalf("a %+v, c %+v", a.ops, c.ops)
	}
	// A batch without a claim counter (rebuilt at recovery) copies once.
	r := openBatch{ops: []ledger.Op{op(5)}, hashes: []common.Hash{{5}}}
	r2 := extend(r, 6)
	if len(r.ops) != 1 || r2.ops[1].Account != 6 || r2.claimed == nil {
		t.Fatalf("r2 %+v", r2.ops)
	}
}

// TestBlockLinger: while the loop lingers, transactions that arrive join
// the waiting mini-block; blockTarget ready transactions end the linger at
// once; a stop during a linger still includes what waits.
func TestBlockLinger(t *testing.T) {
	e := newEnv(t, nil, nil)
	us := e.fund(blockTarget+4, 1_000_000, 21)
	linger := func(d time.Duration) {
		f := func() time.Duration { return d }
		e.seq.knobs.blockLinger.Store(&f)
	}
	// spaced submits three transactions 30 ms apart and returns their
	// mini-blocks.
	spaced := func(us []*user) []uint64 {
		blocks := make([]uint64, len(us))
		var wg sync.WaitGroup
		for i, u := range us {
			raw := u.next(t, us[(i+1)%len(us)].addr, 1, 1)
			wg.Go(func() { blocks[i] = e.mustSubmit(raw).Receipt.Block })
			time.Sleep(30 * time.Millisecond)
		}
		wg.Wait()
		return blocks
	}

	linger(0)
	if b := spaced(us[:3]); b[0] == b[1] || b[1] == b[2] {
		t.Fatalf("without lingering, transactions 30 ms apart shared mini-blocks %v", b)
	}
	linger(time.Second)
	if b := spaced(us[:3]); b[0] != b[1] || b[1] != b[2] {
		t.Fatalf("lingering, transactions 30 ms apart got mini-blocks %v, want one", b)
	}

	// blockTarget ready transactions end an hour's linger.
	linger(time.Hour)
	errs := make([]error, blockTarget)
	var wg sync.WaitGroup
	for i, u := range us[:blockTarget] {
		raw := u.next(t, us[blockTarget].addr, 1, 1)
		wg.Go(func() { _, errs[i] = e.submit(raw) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	// A stop ends a linger; the waiting transaction is included.
	u := us[blockTarget+1]
	raw := u.next(t, us[0].addr, 1, 1)
	done := make(chan error, 1)
	go func() {
		pre, err := e.submit(raw)
		if err == nil && !pre.Receipt.OK() {
			err = pre.Receipt.Err
		}
		done <- err
	}()
	e.eventually("lingering with the transaction ready", func() bool {
		return e.seq.timing.lingerEnd.Load() != 0 && e.seq.pool.readyCount() == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.seq.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("transaction waiting in a linger at stop: %v", err)
	}
}

// TestBlockLingerRule covers when the loop lingers and how check
// lingering yields to it.
func TestBlockLingerRule(t *testing.T) {
	s := &Sequencer{cfg: Config{MaxBlockLinger: 800 * time.Microsecond, MaxCheckLinger: time.Millisecond}, timing: newTiming()}
	for _, c := range []struct {
		gap  time.Duration
		want time.Duration
	}{{0, 0}, {200 * time.Microsecond, 800 * time.Microsecond}, {400 * time.Microsecond, 800 * time.Microsecond}, {401 * time.Microsecond, 0}} {
		if got := s.blockLingerFor(c.gap); got != c.want {
			t.Errorf("gap %v: linger %v, want %v", c.gap, got, c.want)
		}
	}
	s.cfg.MaxBlockLinger = -1
	if got := s.blockLingerFor(time.Microsecond); got != 0 {
		t.Errorf("disabled: linger %v", got)
	}

	// While the loop lingers, checks wait for its end (capped by
	// MaxCheckLinger).
	now := time.Now()
	end := now.Add(700 * time.Microsecond)
	s.timing.lingerEnd.Store(end.UnixNano())
	if got := s.lingerUntil(now, 100*time.Microsecond); !got.Equal(time.Unix(0, end.UnixNano())) {
		t.Fatalf("check linger during a block linger: until %v, want the linger's end", got.Sub(now))
	}
	if got := s.lingerUntil(now.Add(-time.Millisecond), 100*time.Microsecond); !got.Equal(now) {
		t.Fatalf("check linger capped by MaxCheckLinger: until %v", got.Sub(now))
	}
	if got := s.lingerUntil(end, 100*time.Microsecond); !got.IsZero() {
		t.Fatalf("check linger after the block linger's end: until %v", got.Sub(end))
	}
}

// TestBlockLingerAwaitsChecks: a transaction admitted during a block
// linger is checked when the linger ends, and the loop waits for that
// check, so it joins the mini-block of the transaction that started the
// linger.
func TestBlockLingerAwaitsChecks(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.MaxCheckLinger = time.Minute })
	us := e.fund(4, 1_000_000, 23)
	for round := range 3 {
		f := func() time.Duration { return 100 * time.Millisecond }
		e.seq.knobs.blockLinger.Store(&f)
		// awaitChecks waits at most a full batch's check time: make that
		// long enough for a machine busy with other tests (the bound is
		// not what this test is about).
		e.seq.timing.check.Store(int64(20 * time.Millisecond))
		a, b := us[0], us[1+round%3]
		blocks := make([]uint64, 2)
		var wg sync.WaitGroup
		rawA := a.next(t, b.addr, 1, 1)
		wg.Go(func() { blocks[0] = e.mustSubmit(rawA).Receipt.Block })
		e.eventually("lingering", func() bool { return e.seq.timing.lingerEnd.Load() != 0 })
		rawB := b.next(t, a.addr, 1, 1)
		wg.Go(func() { blocks[1] = e.mustSubmit(rawB).Receipt.Block })
		wg.Wait()
		if blocks[0] != blocks[1] {
			t.Fatalf("round %d: mini-blocks %v, want one", round, blocks)
		}
	}
}
