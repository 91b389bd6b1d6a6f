package sequencer

import (
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// The commit pipeline. The mini-block loop executes, builds and signs
// mini-blocks and queues them as a group; one committer goroutine writes
// each group with one synced Pebble commit and then announces its blocks.
// While a group's commit waits for the disk, the loop goes on building the
// next group on top of it, and every block it builds meanwhile joins that
// group: when the sync returns, the next one starts at once with all of
// them. Without the pipeline, what arrived during a sync waited for it,
// then for its own block's execution, then for its own sync.
//
// What the pipeline keeps:
//   - Durability before announcement: a group's preconfirmations, events,
//     head and pool updates are released only after its commit returns.
//   - Order: groups are committed one at a time in the order they were
//     built, so the write-ahead log holds them in that order, and a crash
//     leaves a prefix of the chain (recovery starts from the last
//     committed head).
//   - Consistency: a block is executed on the state its predecessors
//     leave. Reads go through the layers of the blocks not yet committed
//     (the pending group, then the group in flight) to the store. A
//     group's layer is never written once the committer has taken it.
//   - Pool accounting: the transactions of built blocks are in flight
//     (mempool.readyTxs), so they are neither handed out again nor counted
//     ready, and stay queued (duplicates, nonces in use, spends) until
//     their commit.
//
// Anything that reads or writes the committed state outside the pipeline
// (closing a batch on a timeout, stopping) waits for it to empty first
// (drain).

// group is a run of built mini-blocks committed with one synced write:
// l holds their writes over the group before it.
type group struct {
	l      *layer
	blocks []*built
}

// pipe is the hand-off between the mini-block loop and the committer.
type pipe struct {
	mu   sync.Mutex
	cond *sync.Cond
	// pending is the group being extended by the loop; inflight the one
	// being committed. err is the first commit failure: after it nothing
	// is committed. closed asks the committer to return once empty.
	pending, inflight *group
	err               error
	closed            bool
	done              chan struct{}
}

func newPipe() *pipe {
	p := &pipe{done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// top returns the layer new blocks build on: the pending group's, else
// the one in flight, else nil (the store).
func (p *pipe) top() *layer {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.pending != nil:
		return p.pending.l
	case p.inflight != nil:
		return p.inflight.l
	}
	return nil
}

// push queues blocks built on layer top() into l's writes: they join the
// pending group if the committer has not taken it meanwhile (l's writes
// are then merged into it), else l and they become the pending group.
func (p *pipe) push(l *layer, blocks []*built) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	// Only the loop makes a pending group, so one that is still pending
	// is the one top returned.
	if g := p.pending; g != nil {
		if l.base.Load() != g.l {
			return fmt.Errorf("%w: blocks built past the pending group", ErrChain)
		}
		g.l.merge(l)
		g.blocks = append(g.blocks, blocks...)
	} else {
		p.pending = &group{l: l, blocks: blocks}
	}
	p.cond.Broadcast()
	return nil
}

// drain waits until every queued group is committed and announced, or a
// commit failed (its error).
func (p *pipe) drain() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for (p.pending != nil || p.inflight != nil) && p.err == nil {
		p.cond.Wait()
	}
	return p.err
}

// failure returns the commit failure, if any.
func (p *pipe) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// close makes the committer return once the queued groups are committed,
// and waits for it.
func (p *pipe) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	<-p.done
}

// take waits for a pending group and moves it in flight; nil once closed
// and empty, or after a failure.
func (p *pipe) take() *group {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.pending == nil && !p.closed && p.err == nil {
		p.cond.Wait()
	}
	g := p.pending
	if g == nil || p.err != nil {
		return nil
	}
	p.pending, p.inflight = nil, g
	// Whatever g was built on is committed now (the committer finished
	// it before taking g): read the store instead.
	g.l.base.Store(nil)
	return g
}

// finished records the end of the group in flight.
func (p *pipe) finished(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight = nil
	if err != nil && p.err == nil {
		p.err = err
	}
	p.cond.Broadcast()
}

// commitLoop commits and announces the queued groups in order, until the
// pipe is closed and empty or a commit fails. A failure stops the
// mini-block loop (woken through the pool's ready signal), which then
// fails every transaction still queued, the uncommitted ones included.
func (s *Sequencer) commitLoop() {
	defer close(s.pipe.done)
	for {
		g := s.pipe.take()
		if g == nil {
			return
		}
		err := s.commitGroup(g)
		s.pipe.finished(err)
		if err != nil {
			s.pool.signal()
			return
		}
	}
}

// commitGroup writes g with one synced commit, then announces its blocks:
// preconfirmations and events, the published head, closed batches for the
// cutter, and the pool's update.
func (s *Sequencer) commitGroup(g *group) error {
	start := time.Now()
	if err := s.knobs.failCommit.Load(); err != nil {
		return *err
	}
	if err := s.commit(g.l, g.blocks); err != nil {
		return err
	}
	commit := time.Since(start)

	// Failed transactions join the failed set before they leave the pool,
	// so that admission finds them in one or the other.
	var included []*pending
	var failed []common.Hash
	for _, b := range g.blocks {
		for i := b.deps; i < len(b.mb.Receipts); i++ {
			if b.mb.Receipts[i].Err != nil {
				failed = append(failed, b.mb.Receipts[i].TxHash)
			}
		}
	}
	s.failed.add(failed)
	for _, b := range g.blocks {
		s.announce(b)
		included = append(included, b.txs...)
		s.m.MiniBlock(len(b.mb.Entries), b.exec, commit)
		s.log.Debug("sealed mini-block", "number", b.head.Number, "entries", len(b.mb.Entries), "batch", b.mb.Header.Batch, "cut", b.mb.CutAfter)
		if b.closed != nil {
			// After the preconfirmed events, so that no proven event of
			// these transactions can precede them.
			s.cutQ.push(b.closed)
		}
	}
	s.headMu.Lock()
	s.headMu.head = g.blocks[len(g.blocks)-1].head
	s.headMu.Unlock()
	s.deliverDropped(s.pool.included(included, s.committed))
	// Metrics last: they need not delay the release.
	for _, p := range included {
		s.m.Stages(p.pooled.Sub(p.arrived), p.taken.Sub(p.pooled), p.built.Sub(p.taken), start.Sub(p.built), commit)
	}
	return nil
}
