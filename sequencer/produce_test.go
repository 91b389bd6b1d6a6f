package sequencer

import (
	"sync"
	"testing"
	"time"
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
	e.close()
	e.open()
	if h, _ := e.seq.Head(); h != head {
		t.Fatalf("head %d after restart, want %d", h, head)
	}
	replay(t, e.seq, e.st)
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
