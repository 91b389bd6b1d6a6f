package sequencer

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
)

// walFS is an in-memory file system whose write-ahead-log syncs can be
// held: while the gate is closed, every WAL sync waits for it to open.
type walFS struct {
	vfs.FS
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func newWalFS() *walFS { return &walFS{FS: vfs.NewMem()} }

func (fs *walFS) hold() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.gate = make(chan struct{})
}

func (fs *walFS) release() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.gate != nil {
		close(fs.gate)
		fs.gate = nil
	}
}

func (fs *walFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &walFile{File: f, fs: fs}, nil
}

func (fs *walFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f, err)
}

func (fs *walFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(newname, f, err)
}

type walFile struct {
	vfs.File
	fs *walFS
}

func (f *walFile) Sync() error     { f.wait(); return f.File.Sync() }
func (f *walFile) SyncData() error { f.wait(); return f.File.SyncData() }

func (f *walFile) wait() {
	f.fs.mu.Lock()
	g := f.fs.gate
	f.fs.mu.Unlock()
	if g != nil {
		<-g
	}
}

// inFlight returns the transactions (not deposits) of the group being
// committed and of the one pending behind it.
func inFlight(s *Sequencer) (inflight, pending []common.Hash) {
	s.pipe.mu.Lock()
	defer s.pipe.mu.Unlock()
	hashes := func(g *group) (hs []common.Hash) {
		if g != nil {
			for _, b := range g.blocks {
				for i := b.deps; i < len(b.mb.Entries); i++ {
					hs = append(hs, b.mb.Entries[i].Hash)
				}
			}
		}
		return hs
	}
	return hashes(s.pipe.inflight), hashes(s.pipe.pending)
}

// awaitPending waits until n transactions wait behind the group in
// flight, which must hold exactly the transaction first.
func (e *env) awaitPending(first common.Hash, n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in, pend := inFlight(e.seq)
		if len(in) != 1 || in[0] != first {
			e.t.Fatalf("in flight: %v, want just %v", in, first)
		}
		if len(pend) == n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d transactions built behind a held commit, want %d: blocks are not built while a commit syncs", len(pend), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// newPipeEnv starts a sequencer on a walFS, funds four users (seed) and
// holds batch cuts, so that only the mini-block commits write.
func newPipeEnv(t *testing.T, seed uint64, tweak func(*Config)) (*walFS, *env, []*user) {
	t.Helper()
	fs := newWalFS()
	e := newEnv(t, fs, tweak)
	us := e.fund(4, 1_000_000, seed)
	e.seq.HoldCuts(true)
	return fs, e, us
}

type submitted struct {
	pre *Preconfirmation
	err error
}

func (e *env) submitAsync(raw []byte) <-chan submitted {
	c := make(chan submitted, 1)
	go func() {
		pre, err := e.submit(raw)
		c <- submitted{pre, err}
	}()
	return c
}

// holdFirst holds WAL syncs, submits raw and waits until its mini-block is
// being committed (in flight, its sync held); it returns the transaction's
// hash and its outcome.
func (e *env) holdFirst(fs *walFS, raw []byte) (common.Hash, <-chan submitted) {
	e.t.Helper()
	h := TxHash(raw)
	fs.hold()
	e.t.Cleanup(fs.release) // before the env's own cleanup stops it
	c := e.submitAsync(raw)
	e.eventually("the first transfer in flight", func() bool {
		in, _ := inFlight(e.seq)
		return len(in) == 1
	})
	return h, c
}

// TestPipelineBuildsDuringSync holds the write-ahead log's syncs while a
// mini-block is being committed: the transfers submitted meanwhile are
// executed into mini-blocks behind it (without the pipeline the loop would
// wait for the commit), one at a time, and all of them are committed with
// one write once the sync returns, after the first one's block.
func TestPipelineBuildsDuringSync(t *testing.T) {
	m := &writeMetrics{}
	fs, e, us := newPipeEnv(t, 31, func(c *Config) { c.Metrics = m })

	first, r0 := e.holdFirst(fs, us[0].next(t, us[1].addr, 10, 1))
	later := []<-chan submitted{e.submitAsync(us[1].next(t, us[2].addr, 10, 1))}
	e.awaitPending(first, 1)
	later = append(later, e.submitAsync(us[2].next(t, us[3].addr, 10, 1)))
	e.awaitPending(first, 2)
	m.mu.Lock()
	m.commits = nil
	m.mu.Unlock()
	fs.release()

	pre0 := <-r0
	if pre0.err != nil {
		t.Fatal(pre0.err)
	}
	var blocks []uint64
	for _, c := range later {
		r := <-c
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.pre.Header.Number <= pre0.pre.Header.Number {
			t.Fatalf("a later transfer is in block %d, not after the first one's block %d", r.pre.Header.Number, pre0.pre.Header.Number)
		}
		blocks = append(blocks, r.pre.Header.Number)
	}
	if blocks[1] != blocks[0]+1 {
		t.Fatalf("the later transfers are in blocks %v, want two consecutive ones", blocks)
	}
	m.mu.Lock()
	commits := append([]time.Duration(nil), m.commits...)
	m.mu.Unlock()
	if len(commits) != 3 || commits[1] != commits[2] {
		t.Fatalf("commit times of the 3 blocks: %v, want the last 2 from one write", commits)
	}

	e.restartReplays()
}

// TestCommitFailure fails the commit of mini-blocks built behind a commit
// in flight: the blocks committed before are preconfirmed, none of the
// failed or later ones, every waiting caller gets an error, the sequencer
// stops, and a restart on the same store continues the chain.
func TestCommitFailure(t *testing.T) {
	fs, e, us := newPipeEnv(t, 32, nil)

	first, r0 := e.holdFirst(fs, us[0].next(t, us[1].addr, 10, 1))
	later := e.submitAsync(us[1].next(t, us[2].addr, 10, 1))
	e.awaitPending(first, 1)
	injected := errors.New("injected commit failure")
	e.seq.knobs.failCommit.Store(&injected)
	fs.release()

	pre0 := <-r0
	if pre0.err != nil {
		t.Fatalf("the commit in flight before the failure: %v", pre0.err)
	}
	if r := <-later; !errors.Is(r.err, ErrShuttingDown) || !errors.Is(r.err, injected) {
		t.Fatalf("transfer whose commit failed: %+v, want ErrShuttingDown wrapping the failure", r)
	}
	if h, _ := e.seq.Head(); h != pre0.pre.Header.Number {
		t.Fatalf("head %d after the failed commit, want %d", h, pre0.pre.Header.Number)
	}
	if _, err := e.submit(us[2].next(t, us[3].addr, 10, 1)); err == nil {
		t.Fatal("a stopped sequencer preconfirmed")
	}

	e.seq.knobs.failCommit.Store(nil)
	e.close()
	e.open()
	if h, _ := e.seq.Head(); h != pre0.pre.Header.Number {
		t.Fatalf("head %d after restart, want %d", h, pre0.pre.Header.Number)
	}
	if got, err := e.seq.Receipt(first); err != nil || got.Block != pre0.pre.Header.Number {
		t.Fatalf("preconfirmed transfer after restart: %+v, %v", got, err)
	}
	// The failed transfer and the refused one can be sent again.
	us[1].nonce--
	us[2].nonce--
	e.mustSubmit(us[1].next(t, us[2].addr, 10, 1))
	e.mustSubmit(us[2].next(t, us[3].addr, 10, 1))
	replay(t, e.seq, e.st)
}

// TestPoolInFlight checks the pool's accounting of transactions handed to
// mini-blocks that are not committed yet: they are not handed out again
// or counted ready, release returns them, and a commit that leaves a
// nonce unused (a failed transaction) makes a resubmitted nonce ready only
// once nothing of the account is in flight.
func TestPoolInFlight(t *testing.T) {
	p := newMempool(&Config{MaxPoolTxs: 100, MaxAccountTxs: 10, MaxNonceGap: 10, QueueTTL: time.Minute})
	var kh fr.Element
	kh.SetUint64(7)
	acct := ledger.Account{Address: common.Address{1}, PubKeyHash: kh}
	acct.Balance.SetUint64(1_000_000)
	committed := func(uint32) (ledger.Account, error) { return acct, nil }
	no := func(common.Hash) (bool, error) { return false, nil }
	seq := byte(0)
	add := func(nonce uint32) *pending {
		t.Helper()
		seq++
		tx := &ledger.Tx{Type: ledger.TxTransfer, Account: 1, Nonce: nonce}
		tx.Amount.SetUint64(1)
		p := &pending{hash: common.Hash{seq}, checked: &ledger.Checked{Tx: tx, KeyHash: kh}, account: 1, nonce: nonce,
			arrived: time.Now(), done: make(chan outcome, 1)}
		return p
	}
	mustAdd := func(tx *pending) {
		t.Helper()
		if err := p.add(tx, committed, no, no); err != nil {
			t.Fatal(err)
		}
	}
	want := func(what string, got []*pending, nonces ...uint32) {
		t.Helper()
		var ns []uint32
		for _, tx := range got {
			ns = append(ns, tx.nonce)
		}
		if fmt.Sprint(ns) != fmt.Sprint(nonces) {
			t.Fatalf("%s: nonces %v, want %v", what, ns, nonces)
		}
	}
	txs := []*pending{add(0), add(1), add(2), add(3)}
	for _, tx := range txs {
		mustAdd(tx)
	}
	first := p.readyTxs(2)
	want("first block", first, 0, 1)
	if n := p.readyCount(); n != 2 {
		t.Fatalf("ready %d with 2 of 4 in flight, want 2", n)
	}
	second := p.readyTxs(10)
	want("second block", second, 2, 3)
	want("nothing left", p.readyTxs(10))
	// A block took only nonce 2: 3 goes back.
	p.release(second[1:])
	if n := p.readyCount(); n != 1 {
		t.Fatalf("ready %d after a release, want 1", n)
	}
	want("after release", p.readyTxs(10), 3)
	if err := p.add(add(1), committed, no, no); !errors.Is(err, ErrNonceInUse) {
		t.Fatalf("nonce of an uncommitted block resubmitted: %v, want ErrNonceInUse", err)
	}

	// The first block commits with both transfers failed: the account's
	// nonce stays 0, while 2 and 3 are still in flight.
	if ds := p.included(first, committed); len(ds) != 0 {
		t.Fatalf("dropped %v", ds)
	}
	again := add(0)
	mustAdd(again)
	want("nonce 0 again, 2 and 3 in flight", p.readyTxs(10))
	// 2 and 3 commit (failed as well): nonce 0 is ready again.
	p.included(txs[2:], committed)
	want("nonce 0 again, nothing in flight", p.readyTxs(10), 0)
	if p.size() != 1 {
		t.Fatalf("pool holds %d, want 1", p.size())
	}
	// The resubmission commits, successful: the account is at nonce 1.
	acct.Nonce = 1
	p.included([]*pending{again}, committed)
	if p.size() != 0 || p.readyCount() != 0 {
		t.Fatalf("pool holds %d (%d ready), want none", p.size(), p.readyCount())
	}
}

// TestPipelineCutsAfterCommit fills a batch with blocks built behind a
// held commit: the batch is closed inside the pending group, and handed to
// the cutter only once that group is committed; the chain replays and a
// restart resumes it.
func TestPipelineCutsAfterCommit(t *testing.T) {
	fs, e, us := newPipeEnv(t, 33, nil)

	first, r0 := e.holdFirst(fs, us[0].next(t, us[1].addr, 10, 1))
	var later []<-chan submitted
	for range testSlots / len(us) {
		for i, u := range us {
			later = append(later, e.submitAsync(u.next(t, us[(i+1)%len(us)].addr, 10, 1)))
		}
		time.Sleep(time.Millisecond) // each account's nonces in order
	}
	closed := uint64(0) // the batch a pending block closes
	e.eventually("a batch closed by a pending block", func() bool {
		e.seq.pipe.mu.Lock()
		defer e.seq.pipe.mu.Unlock()
		if g := e.seq.pipe.pending; g != nil {
			for _, b := range g.blocks {
				if b.mb.CutAfter {
					closed = b.mb.Header.Batch
					return true
				}
			}
		}
		return false
	})
	queued := func() bool {
		q := e.seq.cutQ
		q.mu.Lock()
		defer q.mu.Unlock()
		for _, c := range q.mu.items {
			if c.number == closed {
				return true
			}
		}
		return false
	}
	if in, _ := inFlight(e.seq); len(in) != 1 || in[0] != first {
		t.Fatalf("in flight: %v, want just %v", in, first)
	}
	if queued() {
		t.Fatalf("batch %d queued for the cutter before the commit of the block that closes it", closed)
	}
	fs.release()
	if r := <-r0; r.err != nil {
		t.Fatal(r.err)
	}
	for _, c := range later {
		if r := <-c; r.err != nil {
			t.Fatal(r.err)
		}
	}
	// Announced first, then queued for the cutter.
	e.eventually("the closed batch queued for the cutter", queued)
	e.restartReplays()
}
