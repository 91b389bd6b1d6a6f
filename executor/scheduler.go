package executor

import (
	"sync"
	"sync/atomic"
)

// The collaborative scheduler of Block-STM (the paper's Algorithm 4):
// shared execution and validation indices hand out the lowest pending
// task; decreaseCnt and active detect completion without a barrier.
// Idle workers sleep on a condition variable instead of spinning.
//
// Unlike the paper, which counts a task active from its claim to its end,
// a worker counts itself active (holds one unit of active) from the moment
// it starts looking for a task until it finds none and goes idle: handing
// a task on, or claiming the next, then costs no update of the shared
// counter. A count held longer only delays the detection of completion.

type status uint8

const (
	readyToExecute status = iota
	executing
	executed
	aborting
)

type taskKind uint8

const (
	noTask taskKind = iota
	executionTask
	validationTask
)

type task struct {
	kind taskKind
	tx   uint32
	inc  uint32
}

// txState is the scheduler's and the memory's record of one transaction.
type txState struct {
	// state is the transaction's current incarnation and status,
	// inc<<8 | status. Each transition is one atomic operation: a
	// compare-and-swap where workers may race for it (claiming an
	// execution, aborting a validated incarnation), a store where only
	// one worker may make it.
	state atomic.Uint64
	// hasDeps is set, under mu, once a transaction was suspended on this
	// one; finishExecution takes mu only then.
	hasDeps atomic.Bool
	mu      struct {
		sync.Mutex
		// deps are the transactions waiting for this one to finish
		// executing (they read one of its ESTIMATE markers).
		deps []uint32
	}
	// last is the read and write set of the last recorded incarnation,
	// replaced (never mutated) by the next one, so validators may read it
	// concurrently.
	last atomic.Pointer[incarnation]
	// prep and prepDone are only accessed by the worker executing the
	// transaction; executions of one transaction are ordered by state.
	// After a fallback, ahead orders the accesses to prep instead.
	prep     prepared
	prepDone bool
	ahead    atomic.Uint32
	// Neighbouring transactions are often run by different workers at
	// once: padded to two whole cache lines, they share none.
	_ [32]byte
}

func makeState(inc uint32, st status) uint64 { return uint64(inc)<<8 | uint64(st) }

func stateStatus(x uint64) status { return status(x) }

func stateInc(x uint64) uint32 { return uint32(x >> 8) }

// status returns the transaction's status and incarnation.
func (ts *txState) status() (status, uint32) {
	x := ts.state.Load()
	return stateStatus(x), stateInc(x)
}

type paddedUint64 struct {
	atomic.Uint64
	_ [56]byte
}

type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
}

type scheduler struct {
	n uint64
	// window bounds how far execution may run ahead of a transaction
	// still executing at the validation index: beyond it, speculation
	// (say while that transaction's worker is descheduled) would mostly
	// be wasted.
	window      uint64
	txs         []txState
	execIdx     paddedUint64
	valIdx      paddedUint64
	decreaseCnt paddedUint64
	// active counts the workers running or looking for a task.
	active paddedInt64
	done   atomic.Bool
	halt   atomic.Bool // cancellation, fallback or failure: workers stop

	// epoch changes whenever a task may have become available; sleepers
	// wait on cond for it to change.
	epoch    paddedUint64
	sleepers atomic.Int32
	mu       sync.Mutex
	cond     sync.Cond
}

func newScheduler(txs []txState, workers int) *scheduler {
	s := &scheduler{n: uint64(len(txs)), txs: txs, window: uint64(max(256, 64*workers))}
	s.cond.L = &s.mu
	return s
}

// wake bumps the epoch and wakes sleeping workers.
func (s *scheduler) wake() {
	s.epoch.Add(1)
	if s.sleepers.Load() > 0 {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// stop makes every worker return.
func (s *scheduler) stop() {
	s.halt.Store(true)
	s.wake()
}

// windowFull reports that the transaction at the validation index is
// executing and execution is a full window ahead of it.
func (s *scheduler) windowFull(v, x uint64) bool {
	return v < x && x < s.n && x >= v+s.window && stateStatus(s.txs[v].state.Load()) == executing
}

// blocked reports that no task can be claimed now.
func (s *scheduler) blocked() bool {
	v, x := s.valIdx.Load(), s.execIdx.Load()
	return v >= s.n && x >= s.n || s.windowFull(v, x)
}

// idle sleeps while no task can be claimed, until the epoch moves past ep
// or the block is done. The caller must not count as active (leave).
func (s *scheduler) idle(ep uint64) {
	if !s.blocked() {
		return
	}
	// The caller may have been the last active worker: someone must
	// detect completion before everyone sleeps.
	s.checkDone()
	s.mu.Lock()
	s.sleepers.Add(1)
	// blocked is checked after counting ourselves as a sleeper:
	// finishExecution leaves executing before it looks for sleepers.
	for s.epoch.Load() == ep && !s.done.Load() && !s.halt.Load() && s.blocked() {
		s.cond.Wait()
	}
	s.sleepers.Add(-1)
	s.mu.Unlock()
}

func (s *scheduler) checkDone() {
	observed := s.decreaseCnt.Load()
	// A halted block is never done: a stopped worker may have left a
	// claimed task unfinished (it also stays counted active).
	if s.execIdx.Load() >= s.n && s.valIdx.Load() >= s.n && s.active.Load() == 0 && observed == s.decreaseCnt.Load() && !s.halt.Load() {
		if !s.done.Swap(true) {
			s.wake()
		}
	}
}

func decreaseTo(a *atomic.Uint64, target uint64) {
	for {
		cur := a.Load()
		if cur <= target || a.CompareAndSwap(cur, target) {
			return
		}
	}
}

func (s *scheduler) decreaseExecIdx(target uint64) {
	decreaseTo(&s.execIdx.Uint64, target)
	s.decreaseCnt.Add(1)
	s.wake()
}

func (s *scheduler) decreaseValIdx(target uint64) {
	decreaseTo(&s.valIdx.Uint64, target)
	s.decreaseCnt.Add(1)
	s.wake()
}

// enter counts the calling worker active. A worker calls it before it
// looks for a task.
func (s *scheduler) enter() { s.active.Add(1) }

// leave undoes enter. The caller must hold no task, and may look for one
// again only after calling enter.
func (s *scheduler) leave() { s.active.Add(-1) }

// tryIncarnate claims the execution of tx if it is ready.
func (s *scheduler) tryIncarnate(tx uint64) (task, bool) {
	if tx < s.n {
		ts := &s.txs[tx]
		x := ts.state.Load()
		if stateStatus(x) == readyToExecute && ts.state.CompareAndSwap(x, makeState(stateInc(x), executing)) {
			return task{kind: executionTask, tx: uint32(tx), inc: stateInc(x)}, true
		}
	}
	return task{}, false
}

func (s *scheduler) nextVersionToExecute() task {
	if s.execIdx.Load() >= s.n {
		return task{}
	}
	t, _ := s.tryIncarnate(s.execIdx.Add(1) - 1)
	return t
}

func (s *scheduler) nextVersionToValidate() task {
	if s.valIdx.Load() >= s.n {
		return task{}
	}
	idx := s.valIdx.Add(1) - 1
	if idx < s.n {
		if st, inc := s.txs[idx].status(); st == executed {
			return task{kind: validationTask, tx: uint32(idx), inc: inc}
		}
	}
	return task{}
}

func (s *scheduler) nextTask() task {
	v, x := s.valIdx.Load(), s.execIdx.Load()
	if v < x {
		// Claiming the validation of a transaction that is still executing
		// would skip it, and its successors would be validated again when
		// it finishes; execute ahead instead, within the window.
		if v >= s.n || x >= s.n || stateStatus(s.txs[v].state.Load()) != executing {
			return s.nextVersionToValidate()
		}
		if s.windowFull(v, x) {
			return task{}
		}
	}
	return s.nextVersionToExecute()
}

// addDependency suspends tx until blocking finishes executing. It reports
// false if blocking already has, in which case tx must re-run at once.
func (s *scheduler) addDependency(tx, blocking uint32) bool {
	b := &s.txs[blocking]
	b.mu.Lock()
	// hasDeps is set before the status is read, and finishExecution sets
	// the status before it reads hasDeps: one of them sees the other.
	b.hasDeps.Store(true)
	if st, _ := b.status(); st == executed {
		b.mu.Unlock()
		return false
	}
	t := &s.txs[tx] // executing, by the caller only
	t.state.Store(makeState(stateInc(t.state.Load()), aborting))
	b.mu.deps = append(b.mu.deps, tx)
	b.mu.Unlock()
	return true
}

// setReady moves an aborting transaction, which only the caller may
// change, to its next incarnation.
func (s *scheduler) setReady(tx uint32) {
	ts := &s.txs[tx]
	ts.state.Store(makeState(stateInc(ts.state.Load())+1, readyToExecute))
}

func (s *scheduler) finishExecution(tx, inc uint32, wroteNewKey bool) task {
	ts := &s.txs[tx]
	ts.state.Store(makeState(inc, executed))
	var deps []uint32
	if ts.hasDeps.Load() {
		ts.mu.Lock()
		deps = ts.mu.deps
		ts.mu.deps = nil
		ts.mu.Unlock()
	}
	if s.sleepers.Load() > 0 {
		s.wake() // a worker may wait for this transaction to validate it
	}
	if len(deps) > 0 {
		lowest := deps[0]
		for _, d := range deps {
			s.setReady(d)
			lowest = min(lowest, d)
		}
		s.decreaseExecIdx(uint64(lowest))
	}
	if s.valIdx.Load() > uint64(tx) {
		if !wroteNewKey {
			return task{kind: validationTask, tx: tx, inc: inc}
		}
		s.decreaseValIdx(uint64(tx))
	}
	return task{}
}

func (s *scheduler) tryValidationAbort(tx, inc uint32) bool {
	return s.txs[tx].state.CompareAndSwap(makeState(inc, executed), makeState(inc, aborting))
}

func (s *scheduler) finishValidation(tx uint32, aborted bool) task {
	if aborted {
		s.setReady(tx)
		s.decreaseValIdx(uint64(tx) + 1)
		if s.execIdx.Load() > uint64(tx) {
			t, _ := s.tryIncarnate(uint64(tx))
			return t
		}
	}
	return task{}
}
