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

	"github.com/veloxlabs/velox/ledger"
)

// errInternal reports a broken invariant of the executor itself.
var errInternal = errors.New("executor: internal error")

type readEntry struct {
	v   *versions
	tx  uint32 // baseVersion for a read served by the base state
	inc uint32
}

type writeEntry struct {
	v   *versions
	val value
}

// incarnation is the read and write set of one execution of a
// transaction. Once recorded it is immutable.
type incarnation struct {
	reads    []readEntry
	writes   []writeEntry
	readBuf  [8]readEntry
	writeBuf [6]writeEntry
}

func (r *incarnation) wrote(v *versions) bool {
	for i := range r.writes {
		if r.writes[i].v == v {
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
	al    allocator
	view  view
}

func (w *worker) newIncarnation() *incarnation {
	if len(w.slab) == 0 {
		w.slab = w.arena.incarnations.next(slabSize)
	}
	r := &w.slab[0]
	w.slab = w.slab[1:]
	r.reads, r.writes = r.readBuf[:0], r.writeBuf[:0]
	return r
}

// arena holds the large per-block structures of Parallel, recycled across
// blocks to spare the allocator and the garbage collector.
type arena struct {
	txs          []txState
	accounts     accountTable
	addrs        addressTable
	incarnations slabs[incarnation]
	accountSlots slabs[accountSlot]
	addrSlots    slabs[addressSlot]
}

// arenas keeps a few arenas between blocks. It is not a sync.Pool, which
// would drop them at every garbage collection, i.e. several times a block.
var arenas struct {
	sync.Mutex
	free []*arena
}

const maxFreeArenas = 2

// getArena returns an arena for a block of n transactions, cleared.
func getArena(n int) *arena {
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
		a.txs = a.txs[:n]
		clear(a.txs)
	}
	a.accounts.reset(3*n + 2) // see the sizing argument in Parallel
	a.addrs.reset(n + 1)
	return a
}

// release returns a to the pool once nothing refers to it any more.
func (a *arena) release() {
	a.incarnations.reset()
	a.accountSlots.reset()
	a.addrSlots.reset()
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
	accounts *accountTable
	addrs    *addressTable
	next     versions // the next-index counter
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
	// A block touches at most its senders, the existing recipients of its
	// addresses and the indices it creates: 3n+2 account indices; and at
	// most n addresses.
	a := getArena(n)
	defer a.release()
	workers := min(opts.workers(), max(n, 1))
	e := &parallelExec{
		ctx: ctx, base: base, baseNext: baseNext, txs: txs, p: p,
		s: newScheduler(a.txs, workers), receipts: make([]Receipt, n), arena: a,
		accounts: &a.accounts, addrs: &a.addrs,
		maxReex: int64(opts.maxReexecutions(n)), adaptive: opts.MaxReexecutions == 0,
	}
	stats := make([]worker, workers)
	for i := range stats {
		stats[i].arena = a
		stats[i].al = allocator{accounts: &a.accountSlots, addrs: &a.addrSlots}
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
	if res.Writes, res.NextIndex, err = e.writesBelow(uint32(from)); err != nil {
		return nil, err
	}
	if from < n {
		// Run the rest on the sequential executor, over the committed
		// prefix, reusing the stateless work already done.
		seq := newSeqState(&prefixView{e: e, tx: uint32(from)}, n-from)
		checks, err := runSequential(ctx, seq, txs[from:], p, res.Receipts[from:], func(i int) *prepared {
			if ts := &e.s.txs[from+i]; ts.prepDone {
				return &ts.prep
			}
			return nil
		})
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
	}
	sumFees(&res.Fees, res.Receipts)
	return res, nil
}

func (e *parallelExec) fail(err error) {
	e.errOnce.Do(func() { e.err = err })
	e.s.stop()
}

// work is one worker's loop (the paper's Algorithm 1 run()).
func (e *parallelExec) work(st *worker) {
	s := e.s
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
				s.idle(ep)
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
		*v = view{e: e, al: &st.al, tx: t.tx, rec: rec, blocked: -1}
		op, err := ts.prep.apply(v, e.p)
		if v.err != nil {
			e.fail(v.err)
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
			rec.writes = rec.writes[:0] // a failed transaction writes nothing
		}
		e.receipts[t.tx] = Receipt{Op: op, Err: err}
		return e.s.finishExecution(t.tx, t.inc, e.record(t.tx, t.inc, rec))
	}
}

// record publishes an incarnation's writes, removes those of the previous
// incarnation it did not repeat, and reports whether it wrote a key the
// previous one did not.
func (e *parallelExec) record(tx, inc uint32, rec *incarnation) bool {
	ts := &e.s.txs[tx]
	prev := ts.last.Load()
	wroteNew := false
	for i := range rec.writes {
		w := &rec.writes[i]
		w.v.write(tx, inc, w.val)
		if prev == nil || !prev.wrote(w.v) {
			wroteNew = true
		}
	}
	if prev != nil {
		for i := range prev.writes {
			if !rec.wrote(prev.writes[i].v) {
				prev.writes[i].v.remove(tx)
			}
		}
	}
	ts.last.Store(rec)
	return wroteNew
}

// validReads re-reads the last recorded read set of tx and reports whether
// every read still sees the same version.
func (e *parallelExec) validReads(tx uint32) bool {
	rec := e.s.txs[tx].last.Load()
	if rec == nil {
		return false
	}
	for i := range rec.reads {
		r := &rec.reads[i]
		wtx, inc := r.v.readVersion(tx)
		if wtx != r.tx || inc != r.inc {
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
		for i := range rec.writes {
			rec.writes[i].v.markEstimate(t.tx)
		}
	}
	return e.s.finishValidation(t.tx, aborted)
}

// committedPrefix returns k such that transactions [0, k) are executed and
// valid, once no worker runs: their results are those of sequential
// execution.
func (e *parallelExec) committedPrefix() int {
	for k := range e.s.txs {
		if e.s.txs[k].mu.status != executed || !e.validReads(uint32(k)) {
			return k
		}
	}
	return len(e.s.txs)
}

// writesBelow assembles the accounts written by transactions below tx and
// the next index after them, once no worker runs.
func (e *parallelExec) writesBelow(tx uint32) (map[uint32]ledger.Account, uint32, error) {
	type write struct {
		idx uint32
		a   ledger.Account
	}
	var ws []write
	for i := range e.accounts.slots {
		sl := e.accounts.slots[i].Load()
		if sl == nil {
			continue
		}
		var vals [numFields]value
		var need [numFields]bool // to be read from the base state
		written := false
		for f := range numFields {
			vs := &sl.f[f]
			en, ok := vs.lastBelow(tx)
			switch {
			case ok && en.inc&estimate != 0:
				return nil, 0, fmt.Errorf("%w: estimate below the committed prefix", errInternal)
			case ok:
				vals[f], written = en.val, true
			case vs.baseOK:
				vals[f] = vs.base
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
			a.Address, err = e.base.Address(sl.idx)
		}
		if err == nil && need[fieldPubKeyHash] {
			a.PubKeyHash, err = e.base.PubKeyHash(sl.idx)
		}
		if err == nil && need[fieldNonce] {
			a.Nonce, err = e.base.Nonce(sl.idx)
		}
		if err == nil && need[fieldBalance] {
			a.Balance, err = e.base.Balance(sl.idx)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %w", ErrBase, err)
		}
		ws = append(ws, write{sl.idx, a})
	}
	w := make(map[uint32]ledger.Account, len(ws))
	for i := range ws {
		w[ws[i].idx] = ws[i].a
	}
	next := e.baseNext
	if en, ok := e.next.lastBelow(tx); ok {
		next = uint32(en.val[0])
	}
	return w, next, nil
}

// view is the ledger.State of one incarnation of transaction tx: reads see
// the incarnation's own writes, then the multi-version memory (the highest
// transaction below tx), then the base state; writes are buffered in rec.
type view struct {
	e       *parallelExec
	al      *allocator
	tx      uint32
	rec     *incarnation
	blocked int64 // the transaction whose ESTIMATE a read hit, or -1
	err     error // fatal: base failure or full table
	// last and prev cache the two slots used last (a sender and a
	// recipient).
	last, prev *accountSlot
}

var _ ledger.State = (*view)(nil)

func (v *view) slot(idx uint32) (*accountSlot, error) {
	if v.last != nil && v.last.idx == idx {
		return v.last, nil
	}
	if v.prev != nil && v.prev.idx == idx {
		v.last, v.prev = v.prev, v.last
		return v.last, nil
	}
	sl := v.e.accounts.get(idx, v.al)
	if sl == nil {
		return nil, v.fatal(fmt.Errorf("%w: account table full", errInternal))
	}
	v.last, v.prev = sl, v.last
	return sl, nil
}

func (v *view) fatal(err error) error {
	if v.err == nil {
		v.err = err
	}
	return err
}

func (v *view) baseErr(err error) error { return v.fatal(fmt.Errorf("%w: %w", ErrBase, err)) }

// read returns the value of key vs for this incarnation; fromBase means
// the caller must read the base state (and cache it with vs.setBase).
func (v *view) read(vs *versions) (val value, fromBase bool, err error) {
	for i := range v.rec.writes {
		if v.rec.writes[i].v == vs {
			return v.rec.writes[i].val, false, nil
		}
	}
	en, found, cached := vs.read(v.tx)
	if !found {
		v.rec.reads = append(v.rec.reads, readEntry{v: vs, tx: baseVersion})
		return en.val, !cached, nil
	}
	if en.inc&estimate != 0 {
		v.blocked = int64(en.tx)
		return val, false, errEstimate
	}
	v.rec.reads = append(v.rec.reads, readEntry{v: vs, tx: en.tx, inc: en.inc})
	return en.val, false, nil
}

func (v *view) write(vs *versions, val value) {
	for i := range v.rec.writes {
		if v.rec.writes[i].v == vs {
			v.rec.writes[i].val = val
			return
		}
	}
	v.rec.writes = append(v.rec.writes, writeEntry{v: vs, val: val})
}

func (v *view) field(idx uint32, f int) (value, *versions, error) {
	sl, err := v.slot(idx)
	if err != nil {
		return value{}, nil, err
	}
	vs := &sl.f[f]
	val, fromBase, err := v.read(vs)
	if fromBase {
		return val, vs, err
	}
	return val, nil, err
}

func (v *view) Address(idx uint32) (common.Address, error) {
	val, vs, err := v.field(idx, fieldAddress)
	if err != nil || vs == nil {
		return valueAddress(val), err
	}
	a, err := v.e.base.Address(idx)
	if err != nil {
		return a, v.baseErr(err)
	}
	vs.setBase(addressValue(a))
	return a, nil
}

func (v *view) PubKeyHash(idx uint32) (fr.Element, error) {
	val, vs, err := v.field(idx, fieldPubKeyHash)
	if err != nil || vs == nil {
		return fr.Element(val), err
	}
	h, err := v.e.base.PubKeyHash(idx)
	if err != nil {
		return h, v.baseErr(err)
	}
	vs.setBase(value(h))
	return h, nil
}

func (v *view) Nonce(idx uint32) (uint32, error) {
	val, vs, err := v.field(idx, fieldNonce)
	if err != nil || vs == nil {
		return uint32(val[0]), err
	}
	n, err := v.e.base.Nonce(idx)
	if err != nil {
		return n, v.baseErr(err)
	}
	vs.setBase(value{uint64(n)})
	return n, nil
}

func (v *view) Balance(idx uint32) (uint256.Int, error) {
	val, vs, err := v.field(idx, fieldBalance)
	if err != nil || vs == nil {
		return uint256.Int(val), err
	}
	b, err := v.e.base.Balance(idx)
	if err != nil {
		return b, v.baseErr(err)
	}
	vs.setBase(value(b))
	return b, nil
}

func (v *view) Lookup(addr common.Address) (uint32, bool, error) {
	sl := v.e.addrs.get(addr, v.al)
	if sl == nil {
		return 0, false, v.fatal(fmt.Errorf("%w: address table full", errInternal))
	}
	val, fromBase, err := v.read(&sl.v)
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
	sl.v.setBase(val)
	return idx, ok, nil
}

func (v *view) NextIndex() (uint32, error) {
	val, fromBase, err := v.read(&v.e.next)
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
		v.write(&sl.f[fieldPubKeyHash], value(h))
	}
}

func (v *view) SetNonce(idx uint32, n uint32) {
	if sl, err := v.slot(idx); err == nil {
		v.write(&sl.f[fieldNonce], value{uint64(n)})
	}
}

func (v *view) SetBalance(idx uint32, b uint256.Int) {
	if sl, err := v.slot(idx); err == nil {
		v.write(&sl.f[fieldBalance], value(b))
	}
}

func (v *view) Create(idx uint32, addr common.Address) {
	sl, err := v.slot(idx)
	if err != nil {
		return
	}
	as := v.e.addrs.get(addr, v.al)
	if as == nil {
		v.fatal(fmt.Errorf("%w: address table full", errInternal))
		return
	}
	v.write(&sl.f[fieldAddress], addressValue(addr))
	v.write(&as.v, value{uint64(idx), 1})
	v.write(&v.e.next, value{uint64(idx) + 1})
}

// prefixView is the Base of the sequential fallback: the state after the
// committed prefix [0, tx), read once no worker runs.
type prefixView struct {
	e  *parallelExec
	tx uint32
}

func (b *prefixView) entry(vs *versions) (value, bool, error) {
	en, ok := vs.lastBelow(b.tx)
	if ok && en.inc&estimate != 0 {
		return value{}, false, fmt.Errorf("%w: estimate below the committed prefix", errInternal)
	}
	return en.val, ok, nil
}

func (b *prefixView) Address(idx uint32) (common.Address, error) {
	if sl := b.e.accounts.get(idx, nil); sl != nil {
		if val, ok, err := b.entry(&sl.f[fieldAddress]); ok || err != nil {
			return valueAddress(val), err
		}
	}
	return b.e.base.Address(idx)
}

func (b *prefixView) PubKeyHash(idx uint32) (fr.Element, error) {
	if sl := b.e.accounts.get(idx, nil); sl != nil {
		if val, ok, err := b.entry(&sl.f[fieldPubKeyHash]); ok || err != nil {
			return fr.Element(val), err
		}
	}
	return b.e.base.PubKeyHash(idx)
}

func (b *prefixView) Nonce(idx uint32) (uint32, error) {
	if sl := b.e.accounts.get(idx, nil); sl != nil {
		if val, ok, err := b.entry(&sl.f[fieldNonce]); ok || err != nil {
			return uint32(val[0]), err
		}
	}
	return b.e.base.Nonce(idx)
}

func (b *prefixView) Balance(idx uint32) (uint256.Int, error) {
	if sl := b.e.accounts.get(idx, nil); sl != nil {
		if val, ok, err := b.entry(&sl.f[fieldBalance]); ok || err != nil {
			return uint256.Int(val), err
		}
	}
	return b.e.base.Balance(idx)
}

func (b *prefixView) Lookup(addr common.Address) (uint32, bool, error) {
	if sl := b.e.addrs.get(addr, nil); sl != nil {
		if val, ok, err := b.entry(&sl.v); ok || err != nil {
			return uint32(val[0]), ok, err
		}
	}
	return b.e.base.Lookup(addr)
}

func (b *prefixView) NextIndex() (uint32, error) {
	val, ok, err := b.entry(&b.e.next)
	if ok || err != nil {
		return uint32(val[0]), err
	}
	return b.e.baseNext, nil
}
