package sequencer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sync/semaphore"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// Sequencer admits transactions, orders them into signed mini-blocks that
// it commits durably to the state store, and cuts the executed operations
// into proving batches that it hands to a Prover and then a Settler. See
// the package documentation for the data layout and recovery.
//
// Its methods are safe for concurrent use.
type Sequencer struct {
	cfg    Config
	st     *state.Store
	params ledger.Params
	addr   common.Address
	log    *slog.Logger
	m      Metrics

	sem    *semaphore.Weighted
	checks checkQueue
	timing *timing
	failed failedSet
	// checking counts the transactions between decoding and their entry
	// in the pool or refusal (holding or waiting for sem, checked), for
	// MaxCheckQueue and awaitChecks.
	checking atomic.Int64
	pool     *mempool
	pipe     *pipe
	blocks   *hub[*MiniBlock]
	statuses *hub[[]TxStatus]

	started  atomic.Bool
	running  atomic.Bool
	stopOnce sync.Once
	// stop is closed by Stop: stop producing mini-blocks.
	stop chan struct{}
	// abort cancels in-flight prover and settler calls.
	abort    context.CancelFunc
	loopDone chan struct{}
	wg       sync.WaitGroup
	fatal    atomic.Pointer[error]

	// Owned by the mini-block loop (and Start before it runs): the head
	// and open batch after the blocks it built, committed or not.
	head  head
	batch openBatch

	headMu struct {
		sync.RWMutex
		// head is the last committed mini-block, for readers; guarded.
		head head
	}

	// recMu serializes read-modify-writes of batch records after their
	// cut (Proven, settlement, Finalized).
	recMu           sync.Mutex
	proveQ, settleQ *workQueue
	cutQ            *cutQueue

	// knobs are for tests and benchmarks.
	knobs struct {
		// holdCuts keeps closed batches from being cut (HoldCuts).
		holdCuts atomic.Bool
		// lingerUntil, if set, replaces Sequencer.lingerUntil.
		lingerUntil atomic.Pointer[func() time.Time]
		// blockLinger, if set, replaces Sequencer.blockLingerFor.
		blockLinger atomic.Pointer[func() time.Duration]
		// failCommit, if set, is returned by the next group commit
		// instead of writing it. Pebble treats a failed WAL write or sync
		// as fatal (it panics), so tests of the loop's own failure path
		// inject the error here.
		failCommit atomic.Pointer[error]
	}
}

// openBatch is the proving batch being filled.
type openBatch struct {
	number     uint64
	ops        []ledger.Op
	hashes     []common.Hash
	used       int
	firstBlock uint64
	firstAt    time.Time
	// claimed is how far ops and hashes' backing arrays have been
	// extended by appends from any copy of this batch. A mini-block
	// appends in place only when it extends the longest copy (claimed
	// equals its length); otherwise it copies first, so a batch value
	// that another mini-block was built on never sees its elements
	// change. Nil (a batch rebuilt at recovery) always copies once.
	claimed *int
}

// newOpenBatch returns the empty batch number, whose first mini-block will
// be firstBlock, with room for as many operations as it has slots.
func (s *Sequencer) newOpenBatch(number, firstBlock uint64) openBatch {
	return openBatch{number: number, firstBlock: firstBlock, claimed: new(int),
		ops: make([]ledger.Op, 0, s.cfg.Slots), hashes: make([]common.Hash, 0, s.cfg.Slots)}
}

// own makes ob's backing arrays safe to append to: it copies them (with
// room for slots operations) unless ob is the longest extension of them.
// Call claim after appending.
func (ob *openBatch) own(slots int) {
	if ob.claimed != nil && *ob.claimed == len(ob.ops) && len(ob.hashes) == len(ob.ops) {
		return
	}
	n := max(slots, len(ob.ops))
	ob.ops = append(make([]ledger.Op, 0, n), ob.ops...)
	ob.hashes = append(make([]common.Hash, 0, n), ob.hashes...)
	ob.claimed = new(int)
}

// claim records ob's appends (after own).
func (ob *openBatch) claim() { *ob.claimed = len(ob.ops) }

// New returns a stopped sequencer over st, which must stay open while it
// runs; Start it. It fails with an error wrapping ErrConfig if cfg is bad
// or its depth is not the store's.
func New(st *state.Store, cfg Config) (*Sequencer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("%w: nil store", ErrConfig)
	}
	if st.Depth() != cfg.Params.Depth {
		return nil, fmt.Errorf("%w: params depth %d, store depth %d", ErrConfig, cfg.Params.Depth, st.Depth())
	}
	s := &Sequencer{
		cfg: cfg, st: st, params: cfg.Params, addr: crypto.PubkeyToAddress(cfg.Key.PublicKey),
		log: cfg.Log.With("component", "sequencer"), m: cfg.Metrics,
		sem: semaphore.NewWeighted(int64(cfg.CheckWorkers)), timing: newTiming(),
		pool: newMempool(&cfg), blocks: newHub[*MiniBlock](), statuses: newHub[[]TxStatus](),
		stop: make(chan struct{}), loopDone: make(chan struct{}), pipe: newPipe(),
		proveQ: newWorkQueue(), settleQ: newWorkQueue(), cutQ: newCutQueue(),
	}
	return s, nil
}

// Address is the sequencer's signing address (VerifyHeader's signer).
func (s *Sequencer) Address() common.Address { return s.addr }

// Start recovers from the store (see the package documentation) and
// starts the mini-block loop, the batch cutter and the prover and settler
// feeders. ctx bounds recovery only; the sequencer runs until Stop. A
// Sequencer is started once; after Stop, make a new one with New. Start
// fails with ErrStarted on a second call, or on a store or recovery error.
func (s *Sequencer) Start(ctx context.Context) error {
	if s.started.Swap(true) {
		return ErrStarted
	}
	if s.cfg.FeeOwner != (common.Address{}) {
		if err := s.st.Genesis(ctx, s.cfg.FeeOwner); err != nil {
			return fmt.Errorf("sequencer: genesis: %w", err)
		}
	}
	fee, err := s.st.Account(ledger.FeeAccount)
	if err != nil {
		return err
	}
	if fee.IsEmpty() {
		return fmt.Errorf("%w: the fee account does not exist (set Config.FeeOwner)", ErrConfig)
	}
	if err := s.recover(); err != nil {
		return err
	}
	s.log.Info("sequencer started", "address", s.addr, "head", s.head.Number, "batch", s.batch.number, "batchOps", len(s.batch.ops), "closedBatches", s.cutQ.len())
	runCtx, cancel := context.WithCancel(context.Background())
	s.abort = cancel
	s.running.Store(true)
	s.wg.Add(5)
	go func() {
		defer s.wg.Done()
		s.cutLoop(runCtx)
	}()
	go func() {
		defer s.wg.Done()
		s.commitLoop()
	}()
	go func() {
		defer s.wg.Done()
		defer close(s.loopDone)
		s.loop(runCtx)
	}()
	go func() {
		defer s.wg.Done()
		s.proveLoop(runCtx)
	}()
	go func() {
		defer s.wg.Done()
		s.settleLoop(runCtx)
	}()
	return nil
}

// Stop stops admitting transactions, finishes the mini-block in progress
// (and includes what is ready at that moment), fails the transactions
// still queued with ErrShuttingDown, aborts in-flight prover and settler
// calls and waits for every goroutine, or for ctx. The store is left open.
func (s *Sequencer) Stop(ctx context.Context) error {
	s.running.Store(false)
	s.stopOnce.Do(func() { close(s.stop) })
	if !s.started.Load() || s.abort == nil {
		return nil
	}
	select {
	case <-s.loopDone:
	case <-ctx.Done():
	}
	s.abort()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.blocks.close()
	s.statuses.close()
	s.log.Info("sequencer stopped", "head", s.head.Number)
	return nil
}

// HoldCuts keeps batches, once closed, from being cut (and so from being
// handed to the Prover) while hold is true; false resumes cutting in
// order. A closed batch is durable in the store (its close record and
// credited fees), so held batches are cut after a restart too. Mini-blocks
// and preconfirmations go on as usual. It is for benchmarks and tests that
// measure the preconfirmation path alone.
func (s *Sequencer) HoldCuts(hold bool) {
	s.knobs.holdCuts.Store(hold)
	if !hold {
		s.cutQ.signal()
	}
}

// Err returns the error that stopped the mini-block loop, if any.
func (s *Sequencer) Err() error {
	if p := s.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

// Submit admits a wire-encoded transaction and waits for its
// preconfirmation: it returns once the transaction's mini-block is
// durably committed, with its receipt (success, or the ledger rule that
// failed at execution) and the signed header.
//
// Admission checks, in order: size (ErrTooLarge), decoding (ErrMalformed),
// queued duplicates (ErrDuplicate), the check backlog (ErrOverloaded: the
// node is already behind on checks), stateless rules with signature
// verification (ErrBadSignature, ErrInvalid), included duplicates
// (ErrDuplicate), the nonce against the committed state and the account's
// queue (ErrNonceTooLow, ErrNonceGap, ErrNonceInUse) and the limits
// (ErrAccountQueueFull, ErrMempoolFull), and what could only fail at
// execution given the committed state and the account's queue: an account
// that does not exist or a key that is not the account's (ErrWrongKey,
// ErrBadSignature for a ChangePubKey), an overdraft (ErrOverdraft). What
// still breaks a rule at execution (a key a queued ChangePubKey replaces,
// a full tree, an overflow) yields a failed receipt. A rejected
// transaction changes nothing.
//
// If ctx ends first Submit returns ctx.Err(), but the transaction stays
// queued and may still be included (query Status). A transaction still
// queued at Stop fails with ErrShuttingDown; one waiting too long for a
// nonce gap to fill with ErrExpired.
func (s *Sequencer) Submit(ctx context.Context, raw []byte) (*Preconfirmation, error) {
	return s.SubmitDecoded(ctx, raw, nil)
}

// SubmitDecoded is Submit for a caller that has already decoded raw: tx is
// ledger.DecodeTx(raw), or nil to have it decoded here. The sequencer
// keeps tx; the caller must not change it.
func (s *Sequencer) SubmitDecoded(ctx context.Context, raw []byte, tx *ledger.Tx) (*Preconfirmation, error) {
	start := time.Now()
	if !s.running.Load() {
		return nil, ErrShuttingDown
	}
	if len(raw) > ledger.MaxTxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), ledger.MaxTxSize)
	}
	if tx == nil {
		var err error
		if tx, err = ledger.DecodeTx(raw); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	hash := TxHash(raw)
	if s.pool.has(hash) {
		return nil, fmt.Errorf("%w: %v is pending", ErrDuplicate, hash)
	}
	// A transaction already included is found by the pool, under its lock,
	// after the signature check: looking it up here too would cost every
	// transaction a store read (a miss, the common case, is the slowest)
	// to spare a duplicate a check that any invalid transaction costs too.
	if n := s.checking.Add(1); n > int64(s.cfg.CheckWorkers+s.cfg.MaxCheckQueue) {
		s.checking.Add(-1)
		return nil, fmt.Errorf("%w: %d transactions in or waiting for %d check workers", ErrOverloaded, n-1, s.cfg.CheckWorkers)
	}
	c, err := s.check(ctx, tx)
	if err != nil {
		s.checking.Add(-1)
		return nil, err
	}
	if c.Err != nil {
		s.checking.Add(-1)
		if errors.Is(c.Err, ledger.ErrBadSignature) {
			return nil, fmt.Errorf("%w: %w", ErrBadSignature, c.Err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalid, c.Err)
	}
	p := &pending{hash: hash, raw: bytes.Clone(raw), checked: c, account: tx.Account, nonce: tx.Nonce,
		arrived: start, pooled: time.Now(), done: make(chan outcome, 1)}
	err = s.pool.add(p, s.committed, s.known, s.knownFailed)
	// Counted until it is in the pool, so that a mini-block waiting for
	// checks (awaitChecks) does not leave before it is.
	s.checking.Add(-1)
	if err != nil {
		return nil, err
	}
	select {
	case o := <-p.done:
		if o.err == nil {
			s.m.Preconfirmed(time.Since(start))
		}
		return o.pre, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// committed returns account idx in the committed state.
func (s *Sequencer) committed(idx uint32) (ledger.Account, error) { return s.st.Account(idx) }

// known reports whether hash was already included in a mini-block.
func (s *Sequencer) known(hash common.Hash) (bool, error) {
	return s.st.Has(state.NamespaceReceipt, hash[:])
}

// knownFailed reports whether hash was included in a mini-block and
// failed at execution.
func (s *Sequencer) knownFailed(hash common.Hash) (bool, error) {
	return s.failed.has(hash, func(h common.Hash) (bool, error) {
		return s.st.Has(state.NamespaceFailedTx, h[:])
	})
}

// SubscribeBlocks delivers every committed mini-block (header, signature,
// entries, receipts) after its commit. buffer bounds the channel; a
// subscriber that falls behind is dropped.
func (s *Sequencer) SubscribeBlocks(buffer int) *Subscription[*MiniBlock] {
	return s.blocks.subscribe(buffer)
}

// SubscribeStatus delivers transaction status changes, one slice per event
// (a mini-block's transactions, or a batch proven or finalized). buffer
// bounds the channel in slices; a subscriber that falls behind is dropped.
func (s *Sequencer) SubscribeStatus(buffer int) *Subscription[[]TxStatus] {
	return s.statuses.subscribe(buffer)
}

// Head returns the number and hash of the last committed mini-block (0
// and the zero hash before the first).
func (s *Sequencer) Head() (uint64, common.Hash) {
	s.headMu.RLock()
	defer s.headMu.RUnlock()
	return s.headMu.head.Number, s.headMu.head.Hash
}

// Pending returns the number of queued transactions.
func (s *Sequencer) Pending() int { return s.pool.size() }

// MiniBlock returns committed mini-block n with its entries and receipts,
// or ErrNotFound.
func (s *Sequencer) MiniBlock(n uint64) (*MiniBlock, error) {
	v, err := getRecord(s.st, state.NamespaceMiniBlock, blockKey(n))
	if err != nil {
		return nil, err
	}
	mb, hashes, err := decodeBlockRecord(v)
	if err != nil {
		return nil, err
	}
	mb.Entries = make([]Entry, len(hashes))
	mb.Receipts = make([]Receipt, len(hashes))
	for i, h := range hashes {
		tv, err := getRecord(s.st, state.NamespaceTx, h[:])
		if err != nil {
			return nil, fmt.Errorf("mini-block %d entry %d: %w", n, i, err)
		}
		if mb.Entries[i], err = decodeTxRecord(h, tv); err != nil {
			return nil, err
		}
		if mb.Receipts[i], err = s.receipt(h); err != nil {
			return nil, fmt.Errorf("mini-block %d receipt %d: %w", n, i, err)
		}
	}
	return mb, nil
}

func (s *Sequencer) receipt(h common.Hash) (Receipt, error) {
	v, err := getRecord(s.st, state.NamespaceReceipt, h[:])
	if err != nil {
		return Receipt{}, err
	}
	return decodeReceipt(v)
}

// Receipt returns the receipt of an included transaction or deposit, or
// ErrNotFound.
func (s *Sequencer) Receipt(hash common.Hash) (Receipt, error) { return s.receipt(hash) }

// Batch returns the record of cut batch n, or ErrNotFound (also for the
// batch being filled).
func (s *Sequencer) Batch(n uint64) (*BatchRecord, error) {
	v, err := getRecord(s.st, state.NamespaceBatch, batchKey(n))
	if err != nil {
		return nil, err
	}
	return decodeBatch(v)
}

// Status returns a transaction's (or deposit's) status, or ErrNotFound if
// it is neither queued nor included.
func (s *Sequencer) Status(hash common.Hash) (TxStatus, error) {
	if s.pool.has(hash) {
		return TxStatus{Hash: hash, Status: StatusQueued}, nil
	}
	r, err := s.receipt(hash)
	if err != nil {
		return TxStatus{Hash: hash}, err
	}
	ts := TxStatus{Hash: hash, Block: r.Block, Position: r.Position, Batch: r.Batch, Err: r.Err}
	if r.Err != nil {
		ts.Status = StatusFailed
		return ts, nil
	}
	ts.Status = StatusPreconfirmed
	b, err := s.Batch(r.Batch)
	switch {
	case errors.Is(err, ErrNotFound):
		return ts, nil
	case err != nil:
		return ts, err
	}
	ts.Status = batchTxStatus(b.Status)
	return ts, nil
}

func batchTxStatus(b BatchStatus) Status {
	switch b {
	case BatchProven, BatchSubmitted:
		return StatusProven
	case BatchFinalized:
		return StatusFinalized
	}
	return StatusPreconfirmed
}

// Account returns the latest (preconfirmed) state of account idx, or
// ErrNotFound if the index holds no account.
func (s *Sequencer) Account(idx uint32) (ledger.Account, error) {
	a, err := s.st.Account(idx)
	if err != nil {
		return a, err
	}
	if a.IsEmpty() {
		return a, fmt.Errorf("%w: account %d", ErrNotFound, idx)
	}
	return a, nil
}

// AccountByAddress returns the index and latest state of the account
// owned by addr, or ErrNotFound.
func (s *Sequencer) AccountByAddress(addr common.Address) (uint32, ledger.Account, error) {
	idx, ok, err := s.st.Lookup(addr)
	if err != nil {
		return 0, ledger.Account{}, err
	}
	if !ok {
		return 0, ledger.Account{}, fmt.Errorf("%w: address %v", ErrNotFound, addr)
	}
	a, err := s.Account(idx)
	return idx, a, err
}
