package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/veloxlabs/velox/ledger"
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	Rollup common.Address
	// FromBlock is the first L1 block to read (the rollup's deployment
	// block) when no cursor exists yet.
	FromBlock uint64
	// Confirmations: an event is delivered once its block has this many
	// blocks on top of it, itself included. Default 1.
	Confirmations uint64
	// CursorPath is the file that keeps the cursor across restarts.
	CursorPath string
	// PollInterval of Run. Default 1s.
	PollInterval time.Duration
	// MaxRange bounds the blocks of one log query. Default 2000.
	MaxRange uint64
	// OnDeposit receives each deposit once, in queue order. When it
	// returns an error, Poll stops and the deposit is offered again.
	OnDeposit func(ctx context.Context, d ledger.Deposit, l1Block uint64) error
	// OnBatchVerified receives each settled batch once, in order: the
	// batch is final on L1 (finalized status of DESIGN.md §1).
	OnBatchVerified func(ctx context.Context, number uint64, root [32]byte, l1Block uint64) error
	// OnExodus is told once that the rollup entered exodus mode: no batch
	// settles after batch number (root is its state root, the one users
	// exit against).
	OnExodus func(ctx context.Context, number uint64, root [32]byte, l1Block uint64) error
	Log      *slog.Logger
}

// Cursor is the watcher's position, persisted after every delivery.
type Cursor struct {
	// NextBlock is the first L1 block not fully delivered.
	NextBlock uint64 `json:"next_block"`
	// NextDeposit is the id of the next deposit to deliver.
	NextDeposit uint64 `json:"next_deposit"`
	// NextBatch is the number of the next BatchVerified to deliver.
	NextBatch uint64 `json:"next_batch"`
	// Exodus is set once ExodusActivated was delivered.
	Exodus bool `json:"exodus,omitempty"`
}

// Watcher follows the rollup's Deposit, BatchVerified and ExodusActivated
// events.
// Each event is delivered exactly once across restarts: the cursor (next
// deposit id, next batch number, next block) is written to CursorPath after
// each delivery, and an event below the cursor is skipped. The callback and
// the cursor are not one atomic write: after a crash between them the event
// comes again, so a consumer that must not apply it twice checks its id
// (deposit ids and batch numbers are consecutive).
type Watcher struct {
	l1  L1
	r   *Rollup
	cfg WatcherConfig
	log *slog.Logger

	// mu serializes Poll and guards cur.
	mu  sync.Mutex
	cur Cursor

	// qmu guards the deposits read by Deposits: queue by id, and qnext,
	// the first L1 block not read yet.
	qmu   sync.Mutex
	queue map[uint64]QueuedDeposit
	qnext uint64
}

// NewWatcher loads the cursor (or starts at cfg.FromBlock, deposit 0,
// batch 1).
func NewWatcher(l1 L1, cfg WatcherConfig) (*Watcher, error) {
	if cfg.CursorPath == "" {
		return nil, errors.New("settlement: watcher needs a cursor file")
	}
	if cfg.Confirmations == 0 {
		cfg.Confirmations = 1
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxRange == 0 {
		cfg.MaxRange = 2000
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{l1: l1, r: NewRollup(l1, cfg.Rollup), cfg: cfg, log: cfg.Log,
		cur: Cursor{NextBlock: cfg.FromBlock, NextBatch: 1}}
	raw, err := os.ReadFile(cfg.CursorPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrCursor, err)
	default:
		if err := json.Unmarshal(raw, &w.cur); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCursor, cfg.CursorPath, err)
		}
	}
	return w, nil
}

// Cursor returns the current position.
func (w *Watcher) Cursor() Cursor {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

// Poll delivers the confirmed events after the cursor, in L1 order.
func (w *Watcher) Poll(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	head, err := w.l1.BlockNumber(ctx)
	if err != nil {
		return fmt.Errorf("settlement: L1 head: %w", err)
	}
	if head+1 < w.cfg.Confirmations {
		return nil
	}
	safe := head + 1 - w.cfg.Confirmations // newest block with enough confirmations
	depositID := rollupABI.Events["Deposit"].ID
	verifiedID := rollupABI.Events["BatchVerified"].ID
	exodusID := rollupABI.Events["ExodusActivated"].ID
	for w.cur.NextBlock <= safe {
		to := min(safe, w.cur.NextBlock+w.cfg.MaxRange-1)
		logs, err := w.l1.FilterLogs(ctx, ethereum.FilterQuery{
			FromBlock: new(big.Int).SetUint64(w.cur.NextBlock), ToBlock: new(big.Int).SetUint64(to),
			Addresses: []common.Address{w.cfg.Rollup},
			Topics:    [][]common.Hash{{depositID, verifiedID, exodusID}},
		})
		if err != nil {
			return fmt.Errorf("settlement: rollup logs %d..%d: %w", w.cur.NextBlock, to, err)
		}
		for i := range logs {
			if logs[i].Removed {
				continue
			}
			if err := w.deliver(ctx, &logs[i]); err != nil {
				return err
			}
		}
		w.cur.NextBlock = to + 1
		if err := w.save(); err != nil {
			return err
		}
	}
	return nil
}

func (w *Watcher) deliver(ctx context.Context, l *types.Log) error {
	switch l.Topics[0] {
	case rollupABI.Events["Deposit"].ID:
		ev, err := w.r.b.UnpackDepositEvent(l)
		if err != nil {
			return fmt.Errorf("settlement: Deposit event: %w", err)
		}
		if ev.Id < w.cur.NextDeposit {
			return nil // delivered before a restart
		}
		if ev.Id > w.cur.NextDeposit {
			return fmt.Errorf("%w: deposit %d follows %d", ErrCursor, ev.Id, w.cur.NextDeposit-1)
		}
		d := ledger.Deposit{ID: ev.Id, Address: ev.To}
		if ev.Amount == nil || ev.Amount.Sign() < 0 || d.Amount.SetFromBig(ev.Amount) {
			return fmt.Errorf("settlement: deposit %d amount out of range", ev.Id)
		}
		if w.cfg.OnDeposit != nil {
			if err := w.cfg.OnDeposit(ctx, d, l.BlockNumber); err != nil {
				return fmt.Errorf("settlement: deposit %d: %w", ev.Id, err)
			}
		}
		w.cur.NextDeposit++
		w.log.Info("L1 deposit", "id", ev.Id, "to", ev.To, "amount", &d.Amount, "l1_block", l.BlockNumber)
	case rollupABI.Events["BatchVerified"].ID:
		ev, err := w.r.b.UnpackBatchVerifiedEvent(l)
		if err != nil {
			return fmt.Errorf("settlement: BatchVerified event: %w", err)
		}
		if ev.Number < w.cur.NextBatch {
			return nil
		}
		if ev.Number > w.cur.NextBatch {
			return fmt.Errorf("%w: batch %d follows %d", ErrCursor, ev.Number, w.cur.NextBatch-1)
		}
		if w.cfg.OnBatchVerified != nil {
			if err := w.cfg.OnBatchVerified(ctx, ev.Number, ev.NewRoot, l.BlockNumber); err != nil {
				return fmt.Errorf("settlement: batch %d: %w", ev.Number, err)
			}
		}
		w.cur.NextBatch++
		w.log.Info("batch final on L1", "batch", ev.Number, "l1_block", l.BlockNumber)
	case rollupABI.Events["ExodusActivated"].ID:
		ev, err := w.r.b.UnpackExodusActivatedEvent(l)
		if err != nil {
			return fmt.Errorf("settlement: ExodusActivated event: %w", err)
		}
		if w.cur.Exodus {
			return nil
		}
		if w.cfg.OnExodus != nil {
			if err := w.cfg.OnExodus(ctx, ev.BatchNumber, ev.StateRoot, l.BlockNumber); err != nil {
				return fmt.Errorf("settlement: exodus: %w", err)
			}
		}
		w.cur.Exodus = true
		w.log.Error("the rollup contract is in EXODUS mode: no more batches settle; users exit with Merkle proofs against the last verified root",
			"last_batch", ev.BatchNumber, "l1_block", l.BlockNumber)
	default:
		return nil
	}
	return w.save()
}

func (w *Watcher) save() error {
	raw, err := json.Marshal(w.cur)
	if err != nil {
		return err
	}
	return writeFileAtomic(w.cfg.CursorPath, raw)
}

// Run polls until ctx ends, logging errors (they are retried at the next
// poll). It returns ctx's error.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := w.Poll(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("L1 watcher", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// QueuedDeposit is a confirmed deposit of the rollup's priority queue.
type QueuedDeposit struct {
	Deposit ledger.Deposit
	// Deadline is the L1 block by which a batch must consume it (see
	// Rollup.sol).
	Deadline uint64
	L1Block  uint64
}

// Deposits returns up to max confirmed deposits with ids from, from+1, …
// in queue order (fewer, or none, if not confirmed yet). It reads the L1
// blocks it has not read before and keeps the deposits not yet asked past,
// so a sequencer that keeps its own cursor can poll it cheaply; it does not
// move the Poll cursor.
func (w *Watcher) Deposits(ctx context.Context, from uint64, max int) ([]QueuedDeposit, error) {
	w.qmu.Lock()
	defer w.qmu.Unlock()
	if w.queue == nil {
		w.queue = make(map[uint64]QueuedDeposit)
		w.qnext = w.cfg.FromBlock
	}
	head, err := w.l1.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("settlement: L1 head: %w", err)
	}
	if head+1 >= w.cfg.Confirmations {
		safe := head + 1 - w.cfg.Confirmations
		for w.qnext <= safe {
			to := min(safe, w.qnext+w.cfg.MaxRange-1)
			logs, err := w.l1.FilterLogs(ctx, ethereum.FilterQuery{
				FromBlock: new(big.Int).SetUint64(w.qnext), ToBlock: new(big.Int).SetUint64(to),
				Addresses: []common.Address{w.cfg.Rollup},
				Topics:    [][]common.Hash{{rollupABI.Events["Deposit"].ID}},
			})
			if err != nil {
				return nil, fmt.Errorf("settlement: deposit logs %d..%d: %w", w.qnext, to, err)
			}
			for i := range logs {
				if logs[i].Removed {
					continue
				}
				ev, err := w.r.b.UnpackDepositEvent(&logs[i])
				if err != nil {
					return nil, fmt.Errorf("settlement: Deposit event: %w", err)
				}
				d := ledger.Deposit{ID: ev.Id, Address: ev.To}
				if ev.Amount == nil || ev.Amount.Sign() < 0 || d.Amount.SetFromBig(ev.Amount) {
					return nil, fmt.Errorf("settlement: deposit %d amount out of range", ev.Id)
				}
				w.queue[ev.Id] = QueuedDeposit{Deposit: d, Deadline: ev.Deadline, L1Block: logs[i].BlockNumber}
			}
			w.qnext = to + 1
		}
	}
	for id := range w.queue {
		if id < from {
			delete(w.queue, id)
		}
	}
	var res []QueuedDeposit
	for id := from; len(res) < max; id++ {
		q, ok := w.queue[id]
		if !ok {
			break
		}
		res = append(res, q)
	}
	return res, nil
}
