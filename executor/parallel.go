package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"golang.org/x/sync/errgroup"

	"github.com/veloxlabs/velox/ledger"
)

// errInternal reports a broken invariant of the executor itself.
var errInternal = errors.New("executor: internal error")

// Bounds of the read and write sets of an incarnation: ledger.Apply reads
// at most 7 keys and writes at most 6. An incarnation exceeding them makes
// the block fall back to sequential execution.
const (
	maxReads  = 8
	maxWrites = 8
)

type readEntry struct {
	key uint32
	tx  uint32 // baseVersion for a read served by the base state
	inc uint32
	// node is the entry read (0 for the base state), seq the key's seq
	// before the read.
	node, seq uint32
}

// incarnation is the read set and the keys of the write set of one
// execution of a transaction (the values written are in the multi-version
// memory). Once recorded it is immutable. It holds no pointer, so the
// slabs holding incarnations are never scanned by the garbage collector.
type incarnation struct {
	nr, nw int32
	reads  [maxReads]readEntry
	writes [maxWrites]uint32
}

func (r *incarnation) wrote(k uint32) bool {
	for _, w := range r.writes[:r.nw] {
		if w == k {
			return true
		}
	}
	return false
}

// worker is one worker's private state: its counters, summed at the end,
// its allocators and its view.
type worker struct {
	executions, aborts, suspensions, validations, checks int

	arena *arena
	slab  []incarnation
	al    alloc
	view  view
}

func (w *worker) newIncarnation() *incarnation {
	if len(w.slab) == 0 {
		w.slab = w.arena.incarnations.next(slabSize)
	}
	r := &w.slab[0]
	w.slab = w.slab[1:]
	r.nr, r.nw = 0, 0
	return r
}

// arena holds the large per-block structures of Parallel, recycled across
// blocks to spare the allocator and the garbage collector.
type arena struct {
	txs          []txState
	mem          memory
	incarnations slabs[incarnation]
	writes       [][]accountWrite // writeBufs
}

// writeBufs returns n buffers for the parts of the write set, emptied.
func (a *arena) writeBufs(n int) [][]accountWrite {
	for len(a.writes) < n {
		a.writes = append(a.writes, nil)
	}
	for i := range a.writes {
		a.writes[i] = a.writes[i][:0]
	}
	return a.writes[:n]
}

// arenas keeps a few arenas between blocks. It is not a sync.Pool, which
// would drop them at every garbage collection, i.e. several times a block.
var arenas struct {
	sync.Mutex
	free []*arena
}

const maxFreeArenas = 2

// getArena returns an arena for a block of n transactions on workers
// workers over a base whose next index is baseNext, cleared.
func getArena(n, workers int, baseNext uint32) *arena {
	a := new(arena)
	arenas.Lock()
	if k := len(arenas.free); k > 0 {
		a = arenas.free[k-1]
		arenas.free = arenas.free[:k-1]
	}
	arenas.Unlock()
	if cap(a.txs) < n || cap(a.txs) > 4*n+64 {
		a.txs = make([]txState, n)
	} else {
		a.txs = a.txs[:n] // cleared by release
	}
	a.mem.reset(n, workers, baseNext)
	return a
}

// release returns a to the pool once nothing refers to it any more.
func (a *arena) release() {
	a.incarnations.reset()
	clear(a.txs) // drop the references to transactions
	arenas.Lock()
	if len(arenas.free) < maxFreeArenas {
		arenas.free = append(arenas.free, a)
	}
	arenas.Unlock()
}

type parallelExec struct {
	ctx      context.Context
	base     Base
	baseNext uint32
	txs      []Tx
	receipts []Receipt // receipts[i] is written by the executor of tx i
	p        ledger.Params
	s        *scheduler
	arena    *arena
	m        *memory
	reexecs  atomic.Int64
	maxReex  int64
	adaptive bool // the default cap: also fall back on a high re-execution rate
	fellBack atomic.Bool
	errOnce  sync.Once
	err      error // first fatal error (base failure, broken invariant)
}

// Parallel executes txs against base with Block-STM on opts.Workers
// goroutines and returns exactly what Sequential returns, apart from
// Stats. It returns ctx.Err() if ctx is cancelled (no goroutine is left
// running), an error wrapping ErrBase if base fails, and
// ErrInvalidOptions for a negative worker count.
func Parallel(ctx context.Context, base Base, txs []Tx, p ledger.Params, opts Options) (*Result, error) {
	if opts.Workers < 0 {
		return nil, fmt.Errorf("%w: %d workers", ErrInvalidOptions, opts.Workers)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := len(txs)
	if uint64(n) >= uint64(estimate) {
		return nil, fmt.Errorf("%w: %d transactions in one block", ErrInvalidOptions, n)
	}
	baseNext, err := base.NextIndex()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBase, err)
	}
	workers := min(opts.workers(), max(n, 1))
	a := getArena(n, workers, baseNext)
	defer a.release()
	e := &parallelExec{
		ctx: ctx, base: base, baseNext: baseNext, txs: txs, p: p,
		s: newScheduler(a.txs, workers), receipts: make([]Receipt, n), arena: a,
		m:       &a.mem,
		maxReex: int64(opts.maxReexecutions(n)), adaptive: opts.MaxReexecutions == 0,
	}
	stats := make([]worker, workers)
	for i := range stats {
		stats[i].arena = a
	}

	var wg sync.WaitGroup
	stopWatch := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			e.s.stop()
		case <-stopWatch:
		}
	}()
	var workersWG sync.WaitGroup
	for w := range workers {
		workersWG.Add(1)
		go func() {
			defer workersWG.Done()
			e.work(&stats[w])
		}()
	}
	workersWG.Wait()
	close(stopWatch)
	wg.Wait()

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, e.err
	}
	res := &Result{Receipts: e.receipts, Stats: Stats{Workers: workers, SequentialFrom: n}}
	for i := range stats {
		res.Stats.Executions += stats[i].executions
		res.Stats.Aborts += stats[i].aborts
		res.Stats.Suspensions += stats[i].suspensions
		res.Stats.Validations += stats[i].validations
		res.Stats.Checks += stats[i].checks
	}
	from := n
	if !e.s.done.Load() {
		if !e.fellBack.Load() {
			return nil, fmt.Errorf("%w: workers stopped before the block was done", errInternal)
		}
		from = e.committedPrefix()
		res.Stats.FellBack, res.Stats.SequentialFrom = true, from
	}
	if res.Writes, res.NextIndex, err = e.writesBelow(uint32(from), workers, &res.Fees); err != nil {
		return nil, err
	}
	if from < n {
		// Run the rest on the sequential executor, over the committed
		// prefix, reusing the stateless work already done; the other
		// workers' goroutines do the stateless work of the rest ahead of
		// it.
		seq := newSeqState(&prefixView{e: e, tx: uint32(from)}, n-from)
		ahead := e.prepareAhead(ctx, from, workers-1)
		checks, err := runSequential(ctx, seq, txs[from:], p, res.Receipts[from:], func(i int) *prepared {
			return ahead.get(from + i)
		})
		checks += ahead.stop()
		if err != nil {
			return nil, err
		}
		res.Stats.Checks += checks
		res.Stats.Executions += n - from
		w, err := seq.writes()
		if err != nil {
			return nil, err
		}
		for idx, a := range w {
			res.Writes[idx] = a
		}
		if res.NextIndex, err = seq.NextIndex(); err != nil {
			return nil, err
		}
		sumFees(&res.Fees, res.Receipts[from:])
	}
	return res, nil
}

// States of txState.ahead.
const (
	aheadNone = iota
	aheadClaimed
	aheadDone
)

// ahead does the stateless work of the transactions that the sequential
// fallback applies, on helper goroutines, ahead of it. Each transaction
// is prepared at most once: by the parallel phase, a helper, or the
// sequential executor itself if no helper claimed it yet.
type ahead struct {
	e       *parallelExec
	next    atomic.Int64 // the next transaction for a helper to claim
	halt    atomic.Bool
	checks  atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	cond    sync.Cond // signalled as helpers finish transactions
	waiting atomic.Int32
}

// prepareAhead starts up to helpers goroutines preparing the transactions
// from on, unless none of them needs a stateless check (which is the
// only costly stateless work). The caller must call stop.
func (e *parallelExec) prepareAhead(ctx context.Context, from, helpers int) *ahead {
	a := &ahead{e: e}
	a.cond.L = &a.mu
	a.next.Store(int64(from))
	if helpers <= 0 || !e.needsCheck(from) {
		return a
	}
	for range helpers {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for !a.halt.Load() && ctx.Err() == nil && a.prepareNext() {
			}
		}()
	}
	return a
}

// needsCheck reports whether a transaction from on, not yet prepared,
// needs ledger.Check.
func (e *parallelExec) needsCheck(from int) bool {
	for i := from; i < len(e.txs); i++ {
		tx := &e.txs[i]
		if !e.s.txs[i].prepDone && tx.Deposit == nil && tx.Checked == nil && (tx.Decoded != nil || tx.Raw != nil) {
			return true
		}
	}
	return false
}

// get returns the prepared transaction i, waiting for the helper that
// prepares it, or nil for the caller to prepare it.
func (a *ahead) get(i int) *prepared {
	ts := &a.e.s.txs[i]
	if ts.prepDone {
		return &ts.prep // by the parallel phase, before the helpers began
	}
	if ts.ahead.CompareAndSwap(aheadNone, aheadClaimed) {
		return nil
	}
	// A helper is preparing i. Prepare a later transaction meanwhile
	// instead of waiting: helpers and this goroutine claim from the same
	// frontier, so a waiting caller would leave every core but one idle
	// (the fallback ran at the sequential executor's speed).
	for ts.ahead.Load() != aheadDone && a.prepareNext() {
	}
	if ts.ahead.Load() != aheadDone {
		a.waiting.Add(1)
		a.mu.Lock()
		for ts.ahead.Load() != aheadDone {
			a.cond.Wait()
		}
		a.mu.Unlock()
		a.waiting.Add(-1)
	}
	return &ts.prep
}

// prepareNext prepares the next transaction no one has claimed, as a
// helper does, and reports whether there was one.
func (a *ahead) prepareNext() bool {
	e := a.e
	for {
		i := a.next.Add(1) - 1
		if i >= int64(len(e.txs)) {
			return false
		}
		ts := &e.s.txs[i]
		if ts.prepDone || !ts.ahead.CompareAndSwap(aheadNone, aheadClaimed) {
			continue
		}
		var checked bool
		ts.prep, checked = prepare(&e.txs[i], e.p)
		if checked {
			a.checks.Add(1)
		}
		ts.ahead.Store(aheadDone)
		if a.waiting.Load() > 0 {
			a.mu.Lock()
			a.cond.Broadcast()
			a.mu.Unlock()
		}
		return true
	}
}

// stop stops the helpers, waits for them, and returns the number of
// ledger.Check calls they made.
func (a *ahead) stop() int {
	a.halt.Store(true)
	a.wg.Wait()
	return int(a.checks.Load())
}

func (e *parallelExec) fail(err error) {
	e.errOnce.Do(func() { e.err = err })
	e.s.stop()
}

// work is one worker's loop (the paper's Algorithm 1 run()).
func (e *parallelExec) work(st *worker) {
	s := e.s
	// A worker that stops on halt stays counted as active, so that no
	// other worker declares the block done with its task unfinished.
	s.enter()
	var t task
	for !s.done.Load() && !s.halt.Load() {
		switch t.kind {
		case executionTask:
			t = e.tryExecute(t, st)
		case validationTask:
			t = e.validate(t, st)
		}
		if t.kind == noTask {
			ep := s.epoch.Load()
			if t = s.nextTask(); t.kind == noTask {
				s.leave()
				s.idle(ep)
				s.enter()
			}
		}
	}
}

func (e *parallelExec) tryExecute(t task, st *worker) task {
	if t.inc > 0 {
		r := e.reexecs.Add(1)
		// With the default cap, a block that re-executes more than one
		// transaction in eight so far falls back early: such contention
		// makes Block-STM slower than sequential execution.
		if r > e.maxReex || e.adaptive && r >= 16 && 8*r > int64(e.s.execIdx.Load()) {
			e.fellBack.Store(true)
			e.s.stop()
			return task{}
		}
	}
	ts := &e.s.txs[t.tx]
	if !ts.prepDone {
		var checked bool
		ts.prep, checked = prepare(&e.txs[t.tx], e.p)
		ts.prepDone = true
		if checked {
			st.checks++
		}
	}
	for {
		st.executions++
		rec := st.newIncarnation()
		v := &st.view
		v.reset(e, &st.al, t.tx, rec)
		// The receipt is written in place: one of an incarnation that
		// does not finish is overwritten by a later one, or by the
		// sequential fallback, before Parallel returns it.
		rc := &e.receipts[t.tx]
		rc.Op, rc.Err = ts.prep.apply(v, e.p)
		err := rc.Err
		if v.err != nil {
			e.fail(v.err)
			return task{}
		}
		if v.full {
			e.fallBack()
			return task{}
		}
		if v.blocked >= 0 {
			st.suspensions++
			if e.s.addDependency(t.tx, uint32(v.blocked)) {
				return task{}
			}
			continue // the blocking transaction finished meanwhile
		}
		if err != nil {
			rec.nw = 0 // a failed transaction writes nothing
		}
		wroteNew, ok := e.record(t.tx, t.inc, rec, &v.vals, &st.al)
		if !ok {
			e.fallBack()
			return task{}
		}
		return e.s.finishExecution(t.tx, t.inc, wroteNew)
	}
}

// fallBack stops the workers; Parallel then runs the transactions after
// the committed prefix sequentially.
func (e *parallelExec) fallBack() {
	e.fellBack.Store(true)
	e.s.stop()
}

// record publishes an incarnation's writes, removes those of the previous
// incarnation it did not repeat, and reports whether it wrote a key the
// previous one did not. It returns ok false if the memory is exhausted.
func (e *parallelExec) record(tx, inc uint32, rec *incarnation, vals *[maxWrites]value, al *alloc) (wroteNew, ok bool) {
	ts := &e.s.txs[tx]
	prev := ts.last.Load()
	for i, k := range rec.writes[:rec.nw] {
		before, after, ok := e.m.write(k, tx, inc, &vals[i], al)
		if !ok {
			return false, false
		}
		// A key read and then written by this incarnation: if nothing
		// else changed it since the read, this write (invisible to the
		// read, which is below tx) leaves the read valid.
		for j := range rec.reads[:rec.nr] {
			if r := &rec.reads[j]; r.key == k && r.seq == before {
				r.seq = after
			}
		}
		if prev == nil || !prev.wrote(k) {
			wroteNew = true
		}
	}
	if prev != nil {
		for _, k := range prev.writes[:prev.nw] {
			if !rec.wrote(k) {
				e.m.remove(k, tx)
			}
		}
	}
	ts.last.Store(rec)
	return wroteNew, true
}

// validReads re-reads the last recorded read set of tx and reports whether
// every read still sees the same version.
func (e *parallelExec) validReads(tx uint32) bool {
	rec := e.s.txs[tx].last.Load()
	if rec == nil {
		return false
	}
	for i := range rec.reads[:rec.nr] {
		r := &rec.reads[i]
		if !e.m.valid(r.key, tx, r) {
			return false // includes an ESTIMATE, whose inc carries the mark
		}
	}
	return true
}

func (e *parallelExec) validate(t task, st *worker) task {
	st.validations++
	aborted := !e.validReads(t.tx) && e.s.tryValidationAbort(t.tx, t.inc)
	if aborted {
		st.aborts++
		rec := e.s.txs[t.tx].last.Load()
		for _, k := range rec.writes[:rec.nw] {
			e.m.markEstimate(k, t.tx)
		}
	}
	return e.s.finishValidation(t.tx, aborted)
}

// committedPrefix returns k such that transactions [0, k) are executed and
// valid, once no worker runs: their results are those of sequential
// execution.
func (e *parallelExec) committedPrefix() int {
	for k := range e.s.txs {
		if st, _ := e.s.txs[k].status(); st != executed || !e.validReads(uint32(k)) {
			return k
		}
	}
	return len(e.s.txs)
}

// below returns the value of key k after the transactions below tx, once
// no worker runs; ok is false if none of them wrote k.
func (e *parallelExec) below(k, tx uint32) (r readResult, ok bool, err error) {
	r = e.m.read(k, tx)
	if r.tx == baseVersion {
		return r, false, nil
	}
	if r.inc&estimate != 0 {
		return r, false, fmt.Errorf("%w: estimate below the committed prefix", errInternal)
	}
	return r, true, nil
}

// accountWrite is one account of a block's write set.
type accountWrite struct {
	idx uint32
	a   ledger.Account
}

// minScanPart is the fewest keys writesBelow gives a goroutine. A test
// lowers it to have small blocks assembled in parts.
var minScanPart uint64 = 8192

// writesBelow assembles the accounts written by transactions below tx and
// the next index after them, and adds the fees of their receipts to fees,
// once no worker runs. The keys and receipts are scanned by up to workers
// goroutines; only filling the map is serial.
func (e *parallelExec) writesBelow(tx uint32, workers int, fees *uint256.Int) (map[uint32]ledger.Account, uint32, error) {
	m := e.m
	used := min(m.nkeys.Load(), uint64(len(m.keys)))
	span := used - keyChunk
	parts := int(min(uint64(max(workers, 1)), max(span/minScanPart, 1)))
	bufs := e.arena.writeBufs(parts)
	if parts == 1 {
		var err error
		if bufs[0], err = e.scanWrites(keyChunk, used, tx, bufs[0]); err != nil {
			return nil, 0, err
		}
		sumFees(fees, e.receipts[:tx])
	} else {
		// A part takes the accounts whose first key lies in it (their
		// other keys may lie past its end), and a range of receipts.
		// Fees add up modulo 2^256 in any order.
		sums := make([]uint256.Int, parts)
		var g errgroup.Group
		for i := range parts {
			lo := keyChunk + span*uint64(i)/uint64(parts)
			hi := keyChunk + span*uint64(i+1)/uint64(parts)
			g.Go(func() error {
				sumFees(&sums[i], e.receipts[uint64(tx)*uint64(i)/uint64(parts):uint64(tx)*uint64(i+1)/uint64(parts)])
				var err error
				bufs[i], err = e.scanWrites(lo, hi, tx, bufs[i])
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, 0, err
		}
		for i := range sums {
			fees.Add(fees, &sums[i])
		}
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	w := make(map[uint32]ledger.Account, total)
	for _, b := range bufs {
		for i := range b {
			w[b[i].idx] = b[i].a
		}
	}
	next := e.baseNext
	r, ok, err := e.below(nextKey, tx)
	if err != nil {
		return nil, 0, err
	}
	if ok {
		next = uint32(r.val[0])
	}
	return w, next, nil
}

// scanWrites appends to ws the accounts whose first key lies in [lo, hi)
// and that transactions below tx wrote, with all their fields.
func (e *parallelExec) scanWrites(lo, hi uint64, tx uint32, ws []accountWrite) ([]accountWrite, error) {
	m := e.m
	ws = ws[:0]
	for k := uint32(lo); uint64(k) < hi; k++ {
		if m.meta[k].kind != kindAccount {
			continue
		}
		idx := m.meta[k].idx
		var vals [numFields]value
		var need [numFields]bool // to be read from the base state
		written := false
		for f := range uint32(numFields) {
			r, ok, err := e.below(k+f, tx)
			switch {
			case err != nil:
				return ws, err
			case ok:
				vals[f], written = r.val, true
			case r.cached:
				vals[f] = r.val
			default:
				need[f] = true
			}
		}
		if !written {
			continue
		}
		// Values read from the base state during execution are cached;
		// the others are read now.
		a := ledger.Account{
			Address: valueAddress(vals[fieldAddress]), PubKeyHash: fr.Element(vals[fieldPubKeyHash]),
			Nonce: uint32(vals[fieldNonce][0]), Balance: uint256.Int(vals[fieldBalance]),
		}
		var err error
		if need[fieldAddress] {
			a.Address, err = e.base.Address(idx)
		}
		if err == nil && need[fieldPubKeyHash] {
			a.PubKeyHash, err = e.base.PubKeyHash(idx)
		}
		if err == nil && need[fieldNonce] {
			a.Nonce, err = e.base.Nonce(idx)
		}
		if err == nil && need[fieldBalance] {
			a.Balance, err = e.base.Balance(idx)
		}
		if err != nil {
			return ws, fmt.Errorf("%w: %w", ErrBase, err)
		}
		ws = append(ws, accountWrite{idx, a})
	}
	return ws, nil
}

// view is the ledger.State of one incarnation of transaction tx: reads see
// the incarnation's own writes, then the multi-version memory (the highest
// transaction below tx), then the base state; writes are buffered in rec.
type view struct {
	e       *parallelExec
	m       *memory
	al      *alloc
	tx      uint32
	rec     *incarnation
	vals    [maxWrites]value // the values of rec.writes
	r       readResult       // scratch
	blocked int64            // the transaction whose ESTIMATE a read hit, or -1
	err     error            // fatal: base failure
	full    bool             // the read or write set or the memory is full
	// The first keys of the two accounts used last (a sender and a
	// recipient), 0 for none.
	lastIdx, prevIdx uint32
	lastKey, prevKey uint32
}

var _ ledger.State = (*view)(nil)

// reset prepares v for an incarnation of tx recording into rec.
func (v *view) reset(e *parallelExec, al *alloc, tx uint32, rec *incarnation) {
	v.e, v.m, v.al, v.tx, v.rec = e, e.m, al, tx, rec
	v.blocked, v.err, v.full = -1, nil, false
	v.lastKey, v.prevKey = 0, 0
}

// slot returns the first key of account idx.
func (v *view) slot(idx uint32) (uint32, error) {
	if v.lastKey != 0 && v.lastIdx == idx {
		return v.lastKey, nil
	}
	if v.prevKey != 0 && v.prevIdx == idx {
		v.lastIdx, v.prevIdx = v.prevIdx, v.lastIdx
		v.lastKey, v.prevKey = v.prevKey, v.lastKey
		return v.lastKey, nil
	}
	k, ok := v.m.account(idx, v.al)
	if !ok {
		return 0, v.setFull()
	}
	v.prevIdx, v.prevKey = v.lastIdx, v.lastKey
	v.lastIdx, v.lastKey = idx, k
	return k, nil
}

func (v *view) setFull() error {
	v.full = true
	return errFull
}

func (v *view) fatal(err error) error {
	if v.err == nil {
		v.err = err
	}
	return err
}

func (v *view) baseErr(err error) error { return v.fatal(fmt.Errorf("%w: %w", ErrBase, err)) }

// read sets *val to the value of key k for this incarnation; fromBase
// means the caller must read the base state (and cache it with setBase).
func (v *view) read(k uint32, val *value) (fromBase bool, err error) {
	rec := v.rec
	for i, w := range rec.writes[:rec.nw] {
		if w == k {
			*val = v.vals[i]
			return false, nil
		}
	}
	if rec.nr == maxReads {
		return false, v.setFull()
	}
	r := &v.r
	v.m.readInto(k, v.tx, r)
	if r.tx != baseVersion && r.inc&estimate != 0 {
		v.blocked = int64(r.tx)
		return false, errEstimate
	}
	rec.reads[rec.nr] = readEntry{key: k, tx: r.tx, inc: r.inc, node: r.node, seq: r.seq}
	rec.nr++
	*val = r.val
	return r.tx == baseVersion && !r.cached, nil
}

func (v *view) write(k uint32, val value) {
	rec := v.rec
	for i, w := range rec.writes[:rec.nw] {
		if w == k {
			v.vals[i] = val
			return
		}
	}
	if rec.nw == maxWrites {
		v.full = true
		return
	}
	rec.writes[rec.nw] = k
	v.vals[rec.nw] = val
	rec.nw++
}

// field sets *val to the value of field f of account idx; k is not 0 if
// it must be read from the base state and cached in key k.
func (v *view) field(idx uint32, f uint32, val *value) (k uint32, err error) {
	sl, err := v.slot(idx)
	if err != nil {
		return 0, err
	}
	fromBase, err := v.read(sl+f, val)
	if fromBase {
		return sl + f, err
	}
	return 0, err
}

func (v *view) Address(idx uint32) (common.Address, error) {
	var val value
	k, err := v.field(idx, fieldAddress, &val)
	if err != nil || k == 0 {
		return valueAddress(val), err
	}
	a, err := v.e.base.Address(idx)
	if err != nil {
		return a, v.baseErr(err)
	}
	v.m.setBase(k, addressValue(a))
	return a, nil
}

func (v *view) PubKeyHash(idx uint32) (h fr.Element, err error) {
	k, err := v.field(idx, fieldPubKeyHash, (*value)(&h))
	if err != nil || k == 0 {
		return h, err
	}
	if h, err = v.e.base.PubKeyHash(idx); err != nil {
		return h, v.baseErr(err)
	}
	v.m.setBase(k, value(h))
	return h, nil
}

func (v *view) Nonce(idx uint32) (uint32, error) {
	var val value
	k, err := v.field(idx, fieldNonce, &val)
	if err != nil || k == 0 {
		return uint32(val[0]), err
	}
	n, err := v.e.base.Nonce(idx)
	if err != nil {
		return n, v.baseErr(err)
	}
	v.m.setBase(k, value{uint64(n)})
	return n, nil
}

func (v *view) Balance(idx uint32) (b uint256.Int, err error) {
	k, err := v.field(idx, fieldBalance, (*value)(&b))
	if err != nil || k == 0 {
		return b, err
	}
	if b, err = v.e.base.Balance(idx); err != nil {
		return b, v.baseErr(err)
	}
	v.m.setBase(k, value(b))
	return b, nil
}

func (v *view) Lookup(addr common.Address) (uint32, bool, error) {
	k, ok := v.m.address(addr, v.al)
	if !ok {
		return 0, false, v.setFull()
	}
	var val value
	fromBase, err := v.read(k, &val)
	if err != nil {
		return 0, false, err
	}
	if !fromBase {
		return uint32(val[0]), val[1] == 1, nil
	}
	idx, ok, err := v.e.base.Lookup(addr)
	if err != nil {
		return 0, false, v.baseErr(err)
	}
	val = value{uint64(idx)}
	if ok {
		val[1] = 1
	}
	v.m.setBase(k, val)
	return idx, ok, nil
}

func (v *view) NextIndex() (uint32, error) {
	var val value
	fromBase, err := v.read(nextKey, &val)
	if err != nil {
		return 0, err
	}
	if fromBase {
		return v.e.baseNext, nil
	}
	return uint32(val[0]), nil
}

func (v *view) SetPubKeyHash(idx uint32, h fr.Element) {
	if sl, err := v.slot(idx); err == nil {
		v.write(sl+fieldPubKeyHash, value(h))
	}
}

func (v *view) SetNonce(idx uint32, n uint32) {
	if sl, err := v.slot(idx); err == nil {
		v.write(sl+fieldNonce, value{uint64(n)})
	}
}

func (v *view) SetBalance(idx uint32, b uint256.Int) {
	if sl, err := v.slot(idx); err == nil {
		v.write(sl+fieldBalance, value(b))
	}
}

func (v *view) Create(idx uint32, addr common.Address) {
	sl, err := v.slot(idx)
	if err != nil {
		return
	}
	k, ok := v.m.address(addr, v.al)
	if !ok {
		v.full = true
		return
	}
	v.write(sl+fieldAddress, addressValue(addr))
	v.write(k, value{uint64(idx), 1})
	v.write(nextKey, value{uint64(idx) + 1})
}

// prefixView is the Base of the sequential fallback: the state after the
// committed prefix [0, tx), read once no worker runs.
type prefixView struct {
	e  *parallelExec
	tx uint32
}

// field returns the value of field f of account idx after the prefix;
// ok is false if the prefix did not write it and its base value is not
// cached either.
func (b *prefixView) field(idx, f uint32) (value, bool, error) {
	k, ok := b.e.m.account(idx, nil)
	if !ok {
		return value{}, false, nil
	}
	return b.key(k + f)
}

// key returns the value of key k after the prefix, as field.
func (b *prefixView) key(k uint32) (value, bool, error) {
	r, ok, err := b.e.below(k, b.tx)
	return r.val, ok || r.cached, err
}

func (b *prefixView) Address(idx uint32) (common.Address, error) {
	if val, ok, err := b.field(idx, fieldAddress); ok || err != nil {
		return valueAddress(val), err
	}
	return b.e.base.Address(idx)
}

func (b *prefixView) PubKeyHash(idx uint32) (fr.Element, error) {
	if val, ok, err := b.field(idx, fieldPubKeyHash); ok || err != nil {
		return fr.Element(val), err
	}
	return b.e.base.PubKeyHash(idx)
}

func (b *prefixView) Nonce(idx uint32) (uint32, error) {
	if val, ok, err := b.field(idx, fieldNonce); ok || err != nil {
		return uint32(val[0]), err
	}
	return b.e.base.Nonce(idx)
}

func (b *prefixView) Balance(idx uint32) (uint256.Int, error) {
	if val, ok, err := b.field(idx, fieldBalance); ok || err != nil {
		return uint256.Int(val), err
	}
	return b.e.base.Balance(idx)
}

func (b *prefixView) Lookup(addr common.Address) (uint32, bool, error) {
	if k, ok := b.e.m.address(addr, nil); ok {
		if val, ok, err := b.key(k); ok || err != nil {
			return uint32(val[0]), val[1] == 1, err
		}
	}
	return b.e.base.Lookup(addr)
}

func (b *prefixView) NextIndex() (uint32, error) {
	r, ok, err := b.e.below(nextKey, b.tx)
	if ok || err != nil {
		return uint32(r.val[0]), err
	}
	return b.e.baseNext, nil
}
