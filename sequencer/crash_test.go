package sequencer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ethereum/go-ethereum/common"
)

// TestCrash crashes the store's file system while transactions are being
// submitted: every preconfirmed transaction survives, the chain is
// consistent (replay), and a restarted sequencer continues it.
func TestCrash(t *testing.T) {
	for _, pct := range []int{0, 100} {
		t.Run(fmt.Sprintf("unsynced%d%%", pct), func(t *testing.T) {
			fs := vfs.NewCrashableMem()
			e := newEnv(t, fs, nil)
			us := e.fund(4, 1_000_000, 12+uint64(pct))

			var mu sync.Mutex
			confirmed := map[common.Hash]Receipt{}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for i, u := range us {
				to := us[(i+1)%len(us)].addr
				raws := make([][]byte, 40)
				for k := range raws {
					raws[k] = u.next(t, to, 10, uint64(k%3))
				}
				wg.Go(func() {
					for _, raw := range raws {
						select {
						case <-stop:
							return
						default:
						}
						pre, err := e.submit(raw)
						if err != nil {
							if !errors.Is(err, ErrShuttingDown) {
								t.Error(err)
							}
							return
						}
						mu.Lock()
						confirmed[pre.Receipt.TxHash] = pre.Receipt
						mu.Unlock()
					}
				})
			}
			e.eventually("some preconfirmations", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(confirmed) >= 30
			})
			mu.Lock()
			saw := make(map[common.Hash]Receipt, len(confirmed))
			for h, r := range confirmed {
				saw[h] = r
			}
			mu.Unlock()
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(uint64(pct), 1))})
			close(stop)
			wg.Wait()
			e.close()

			e2 := newEnv(t, crashed, nil)
			for h, want := range saw {
				got, err := e2.seq.Receipt(h)
				if err != nil {
					t.Fatalf("preconfirmed %v lost: %v", h, err)
				}
				if got.Block != want.Block || got.Position != want.Position || (got.Err == nil) != (want.Err == nil) {
					t.Fatalf("preconfirmed %v changed: %+v, was %+v", h, got, want)
				}
			}
			replay(t, e2.seq, e2.st)
			// The chain continues: next number, parent = old head.
			headN, headHash := e2.seq.Head()
			u := us[0]
			acc, err := e2.seq.Account(u.index)
			if err != nil {
				t.Fatal(err)
			}
			pre := e2.mustSubmit(u.transfer(t, us[1].addr, 1, 1, acc.Nonce))
			if pre.Receipt.Err != nil || pre.Header.Number != headN+1 || pre.Header.Parent != headHash {
				t.Fatalf("after restart: block %d parent %v, head was %d %v (%v)", pre.Header.Number, pre.Header.Parent, headN, headHash, pre.Receipt.Err)
			}
			// The open batch was rebuilt: the next cut chains and credits fees.
			for range e2.cfg.Slots {
				acc.Nonce++
				e2.mustSubmit(u.transfer(t, us[1].addr, 1, 1, acc.Nonce))
			}
			e2.eventually("cut", func() bool { return len(e2.prover.witnesses()) > 0 })
			time.Sleep(10 * time.Millisecond)
			replay(t, e2.seq, e2.st)
			checkBatchChain(t, e2)
		})
	}
}

// checkBatchChain checks that all batch records chain root to root.
func checkBatchChain(t *testing.T, e *env) {
	t.Helper()
	var prev *BatchRecord
	for n := uint64(1); ; n++ {
		rec, err := e.seq.Batch(n)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil && (rec.OldRoot != prev.NewRoot || rec.FirstBlock != prev.LastBlock+1) {
			t.Fatalf("batch %d does not continue batch %d", n, n-1)
		}
		prev = rec
	}
}

// TestRecoverClosedBatches stops the sequencer with batches closed in the
// flat state (fees credited) but not cut: by a full block, by a timeout
// followed by a later block, and by a timeout at the end. A restarted
// sequencer cuts them all, with the right operations.
func TestRecoverClosedBatches(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.BatchTimeout = 100 * time.Millisecond })
	us := e.fund(2, 1_000_000, 13)
	// Let the funding's last batch time out and be cut.
	time.Sleep(3 * e.cfg.BatchTimeout)
	e.eventually("funding cut", func() bool { return e.seq.cutQ.len() == 0 })
	e.seq.knobs.holdCuts.Store(true)
	cutBefore := e.st.Tree().Number()
	a, b := us[0], us[1]
	// Fill the open batch until a block closes it.
	for e.seq.cutQ.len() == 0 {
		e.mustSubmit(a.next(t, b.addr, 5, 2))
	}
	// A timeout close, then a later block.
	e.mustSubmit(a.next(t, b.addr, 5, 3))
	e.eventually("timeout close", func() bool { return e.seq.cutQ.len() == 2 })
	e.mustSubmit(a.next(t, b.addr, 5, 4))
	// A timeout close with no later block.
	e.eventually("timeout close", func() bool { return e.seq.cutQ.len() == 3 })
	if e.st.Tree().Number() != cutBefore {
		t.Fatal("a batch was cut while held")
	}
	e.close()
	e.open()
	e.eventually("cuts", func() bool { return e.st.Tree().Number() == cutBefore+3 })
	replay(t, e.seq, e.st)
	checkBatchChain(t, e)
	for n := cutBefore + 1; n <= cutBefore+3; n++ {
		rec, err := e.seq.Batch(n)
		if err != nil || len(rec.Ops) == 0 || rec.FeeTotal.IsZero() {
			t.Fatalf("batch %d: %+v %v", n, rec, err)
		}
	}
	// And the chain goes on.
	if pre := e.mustSubmit(a.next(t, b.addr, 5, 1)); pre.Receipt.Err != nil || pre.Receipt.Batch != cutBefore+4 {
		t.Fatalf("after recovery: %+v", pre.Receipt)
	}
}
