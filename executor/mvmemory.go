package executor

import (
	"encoding/binary"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// The multi-version memory. Every key is one field of one account
// (address, pubKeyHash, nonce, balance), one address→index entry, or the
// next-index counter, so that two transactions touching different fields
// of an account do not conflict. Each key has a list of entries: the
// values written by the transactions of the block, by transaction index.
// A reader at transaction j sees the entry of the highest transaction
// below j, or the base state if there is none.
//
// Everything is pointer-free, preallocated for the block and recycled
// across blocks, so the garbage collector neither scans nor frees it:
// keys and entries are integer handles into two arrays. The four keys of
// an account are consecutive, 16 bytes each and from an index that is a
// multiple of four, so that they share one cache line (large arrays are
// page-aligned); the base values they cache lie in a parallel array,
// read-only once written. Account indices below a bound find their
// keys in a dense array, others (and addresses) in insert-only
// open-addressing tables.
//
// The entries of a key form a list sorted by transaction, linked both
// ways. Writers of a key exclude each other with a spinlock on the key's
// seq, which is odd while one modifies the key and counts the
// modifications; a writer holds it for a few dozen instructions, and one
// that finds it held retries, then yields, then sleeps. The seq and
// the head of the list share one word: a reader loads both at once, and a
// writer publishes a new head as it releases the key.
// Readers take no lock: they follow the links down from the highest
// transaction with atomic loads. An entry is filled in before it is
// linked, and never unlinked (a removed entry is flagged and skipped), so
// a reader always sees a consistent list; an entry rewritten by a later
// incarnation of its transaction is marked busy meanwhile, and a reader
// that saw it busy or changed waits for the writer to release the key and
// reads again. A validator that finds a key's seq even and unchanged since
// the read knows the read still holds; else it checks that the entry read
// is unchanged and that no visible entry was inserted above it, below the
// validated transaction, walking up from it.

// value is a field's value: an address, a field element, a nonce or a
// balance, all of which fit in 256 bits.
type value [4]uint64

// estimate marks an entry whose writer was aborted: a reader must wait
// for the writer's next incarnation.
const estimate = uint32(1) << 31

// baseVersion is the transaction of a read served by the base state.
const baseVersion = ^uint32(0)

const (
	// removedBit flags, in node.txinc, an entry that its transaction's
	// last incarnation did not write.
	removedBit = uint64(1) << 63
	// busy is node.txinc while the entry is being rewritten.
	busy = ^uint64(0)
)

// nextKey is the key of the next-index counter; no other key is 0.
const nextKey = 0

// node is one entry of a key: the value written by transaction tx. Its
// fields are accessed with atomic operations once it is linked, and with
// plain ones before (so a new entry costs no atomic store but its link).
type node struct {
	// txinc is tx<<32 | incarnation (with the estimate bit), | removedBit.
	txinc uint64
	// next is the entry of the next lower transaction, up that of the
	// next higher one; 0 for none.
	next, up uint32
	val      value
}

// Key kinds, recorded once a key is published (for the final scan).
const (
	kindNone = iota
	kindAccount
	kindAddress
)

// States of key.baseOK.
const (
	baseNone = iota
	baseWriting
	baseDone
)

// key is one versioned location.
type key struct {
	// word is seq<<32 | head. seq counts the modifications of the key,
	// twice each: it is odd while one is under way, and taking it odd
	// locks the key. head is the entry of the highest transaction, 0 for
	// none.
	word atomic.Uint64
	// baseOK moves from baseNone to baseDone once memory.bases caches
	// the key's value in the base state; that is written once, before.
	baseOK atomic.Uint32
	_      uint32
}

func wordSeq(w uint64) uint32  { return uint32(w >> 32) }
func wordHead(w uint64) uint32 { return uint32(w) }

// keyMeta describes a key; it is kept apart from the keys, which readers
// of the block's hot path touch.
type keyMeta struct {
	// kind, idx and pos are written by the key's creator once it won the
	// publication, and read only once no worker runs: idx is the account
	// of an account's first key, pos the table position of an account in
	// the hash table or of an address.
	kind, idx, pos uint32
	// addr is the address of an address key, written before publication.
	addr common.Address
}

// backoff is the wait of the i-th retry for a held key: none at first,
// then yielding the processor, then sleeping, so that a worker whose key
// holder was descheduled by the operating system does not burn the CPU.
func backoff(i int) {
	switch {
	case i < 64:
	case i < 1024:
		runtime.Gosched()
	default:
		time.Sleep(time.Microsecond)
	}
}

// lock takes the key for a modification and returns its word before.
func (k *key) lock() uint64 {
	for i := 0; ; i++ {
		if w := k.word.Load(); wordSeq(w)&1 == 0 && k.word.CompareAndSwap(w, w+1<<32) {
			return w
		}
		backoff(i)
	}
}

// unlock ends the modification that lock, which returned w, began, and
// publishes head.
func (k *key) unlock(w uint64, head uint32) { k.word.Store(uint64(wordSeq(w)+2)<<32 | uint64(head)) }

// wait waits for the writer that holds the key, if any.
func (k *key) wait() {
	for i := 0; wordSeq(k.word.Load())&1 != 0; i++ {
		backoff(i)
	}
}

// readResult is what a reader at some transaction sees of a key.
type readResult struct {
	tx, inc uint32 // the entry's writer; tx is baseVersion if none
	node    uint32 // the entry, 0 if none
	seq     uint32 // the key's seq before the read
	cached  bool   // no entry, but val is the cached base value
	val     value  // the entry's value, or the cached base value
}

// memory is the multi-version memory of one block.
type memory struct {
	keys  []key
	bases []value   // of keys, see key.baseOK
	meta  []keyMeta // of keys
	nodes []node
	// nkeys and nnodes count the handles claimed (in chunks) by workers.
	nkeys, nnodes atomic.Uint64
	// dense[idx] is the first key of account idx, for idx < len(dense).
	dense []atomic.Uint32
	// accounts maps other account indices: idx<<32 | first key.
	accounts  []atomic.Uint64
	accShift  uint
	hashUsed  atomic.Bool
	addrs     []atomic.Uint32 // address → key
	addrShift uint
}

const (
	keyChunk  = 256
	nodeChunk = 64
	// maxDense bounds the dense account array (4 bytes an entry).
	maxDense = 1 << 21
)

// reset prepares m for a block of n transactions over a base state whose
// next index is baseNext, run by workers workers, after the previous
// block (if any) has ended.
func (m *memory) reset(n, workers int, baseNext uint32) {
	// Clear what the previous block published.
	used := min(m.nkeys.Load(), uint64(len(m.keys)))
	for i := uint64(keyChunk); i < used; i++ {
		k := &m.meta[i]
		switch k.kind {
		case kindAccount:
			if uint64(k.idx) < uint64(len(m.dense)) {
				m.dense[k.idx].Store(0)
			}
		case kindAddress:
			m.addrs[k.pos].Store(0)
		}
	}
	if m.hashUsed.Load() {
		clear(m.accounts)
		m.hashUsed.Store(false)
	}
	// A block touches at most its senders, the existing recipients of its
	// addresses and the indices it creates: 3n+2 accounts, 4 keys each;
	// and at most n addresses. Workers claim keys in chunks, one for
	// accounts and one for addresses at a time. Handles are 32-bit.
	nk := 4*(3*n+2) + n
	nk = (nk+nk/64+keyChunk-1)/keyChunk*keyChunk + keyChunk*(2*workers+1)
	nk = min(nk, math.MaxUint32&^(keyChunk-1))
	if cap(m.keys) < nk || cap(m.keys) > 4*nk+1<<16 {
		m.keys = make([]key, nk)
		m.bases = make([]value, nk)
		m.meta = make([]keyMeta, nk)
	} else {
		m.keys = m.keys[:nk]
		m.bases = m.bases[:nk]
		m.meta = m.meta[:nk]
	}
	// Keys [0, keyChunk) are reserved, so that a claimed chunk lies
	// wholly inside keys or wholly outside.
	m.keys[nextKey] = key{}
	m.nkeys.Store(keyChunk)
	// A transaction writes at most 6 keys; re-executions mostly rewrite
	// the same ones. Running out makes the block fall back.
	nn := min(8*n+64+nodeChunk*(workers+1), math.MaxUint32)
	if cap(m.nodes) < nn || cap(m.nodes) > 4*nn+1<<16 {
		m.nodes = make([]node, nn)
	} else {
		m.nodes = m.nodes[:nn]
	}
	m.nnodes.Store(1)
	nd := min(uint64(baseNext)+uint64(n)+1, maxDense)
	if uint64(cap(m.dense)) < nd || uint64(cap(m.dense)) > 4*nd+1<<16 {
		m.dense = make([]atomic.Uint32, nd) // zero
	} else {
		m.dense = m.dense[:nd] // cleared above, or never used
	}
	b := tableBits(3*n + 2)
	if len(m.accounts) != 1<<b {
		m.accounts = make([]atomic.Uint64, 1<<b)
	}
	m.accShift = 64 - b
	b = tableBits(n + 1)
	if len(m.addrs) != 1<<b {
		m.addrs = make([]atomic.Uint32, 1<<b)
	}
	m.addrShift = 64 - b
}

// alloc is a worker's private source of keys and nodes, claimed from the
// memory in chunks. A handle it hands out stays its own until published.
// Accounts and addresses take keys from separate chunks, so that the
// four keys of an account, taken from chunk-aligned groups of four, stay
// in one cache line.
type alloc struct {
	acc, addr keyCursor
	n, nEnd   uint64
}

// keyCursor is the rest [k, end) of a claimed chunk of keys.
type keyCursor struct{ k, end uint64 }

// newKeys returns the first of c consecutive fresh keys from cur, zeroed,
// which the caller consumes (advancing cur.k) once it published them; ok
// is false if the memory is exhausted. c divides keyChunk.
func (m *memory) newKeys(cur *keyCursor, c uint64) (uint32, bool) {
	if cur.k+c > cur.end {
		end := m.nkeys.Add(keyChunk)
		if end > uint64(len(m.keys)) {
			return 0, false
		}
		cur.k, cur.end = end-keyChunk, end
		clear(m.keys[cur.k:cur.end])
		clear(m.meta[cur.k:cur.end])
	}
	return uint32(cur.k), true
}

func (m *memory) newNode(al *alloc) (uint32, bool) {
	if al.n == al.nEnd {
		end := m.nnodes.Add(nodeChunk)
		if end > uint64(len(m.nodes)) {
			return 0, false
		}
		al.n, al.nEnd = end-nodeChunk, end
	}
	al.n++
	return uint32(al.n - 1), true
}

func mix(x uint64) uint64 { return x * 0x9e3779b97f4a7c15 }

// tableBits returns log2 of a power-of-two table size with load at most
// one half for n keys.
func tableBits(n int) uint {
	b := uint(bits.Len(uint(2*n + 1)))
	if b < 4 {
		b = 4
	}
	return b
}

// account returns the first of the four keys of account idx, creating
// them with al unless al is nil. It returns false if they do not exist
// and al is nil, or if the memory is exhausted.
func (m *memory) account(idx uint32, al *alloc) (uint32, bool) {
	if uint64(idx) < uint64(len(m.dense)) {
		d := &m.dense[idx]
		if k := d.Load(); k != 0 || al == nil {
			return k, k != 0
		}
		k, ok := m.newKeys(&al.acc, numFields)
		if !ok {
			return 0, false
		}
		if d.CompareAndSwap(0, k) {
			al.acc.k += numFields
			m.meta[k].kind, m.meta[k].idx = kindAccount, idx
			return k, true
		}
		return d.Load(), true
	}
	return m.hashedAccount(idx, al)
}

func (m *memory) hashedAccount(idx uint32, al *alloc) (uint32, bool) {
	mask := uint64(len(m.accounts) - 1)
	h := mix(uint64(idx)+1) >> m.accShift
	for range len(m.accounts) {
		e := m.accounts[h].Load()
		if e == 0 {
			if al == nil {
				return 0, false
			}
			k, ok := m.newKeys(&al.acc, numFields)
			if !ok {
				return 0, false
			}
			if m.accounts[h].CompareAndSwap(0, uint64(idx)<<32|uint64(k)) {
				al.acc.k += numFields
				m.hashUsed.Store(true)
				m.meta[k].kind, m.meta[k].idx, m.meta[k].pos = kindAccount, idx, uint32(h)
				return k, true
			}
			e = m.accounts[h].Load()
		}
		if uint32(e>>32) == idx {
			return uint32(e), true
		}
		h = (h + 1) & mask
	}
	return 0, false
}

// address returns the key of address a, creating it with al unless al
// is nil; false as for account.
func (m *memory) address(a common.Address, al *alloc) (uint32, bool) {
	mask := uint64(len(m.addrs) - 1)
	x := binary.LittleEndian.Uint64(a[0:]) ^ mix(binary.LittleEndian.Uint64(a[8:])) ^ mix(uint64(binary.LittleEndian.Uint32(a[16:]))+1)
	h := mix(x) >> m.addrShift
	for range len(m.addrs) {
		k := m.addrs[h].Load()
		if k == 0 {
			if al == nil {
				return 0, false
			}
			var ok bool
			if k, ok = m.newKeys(&al.addr, 1); !ok {
				return 0, false
			}
			m.meta[k].addr = a
			if m.addrs[h].CompareAndSwap(0, k) {
				al.addr.k++
				m.meta[k].kind, m.meta[k].pos = kindAddress, uint32(h)
				return k, true
			}
			k = m.addrs[h].Load()
		}
		if sameAddress(&m.meta[k].addr, &a) {
			return k, true
		}
		h = (h + 1) & mask
	}
	return 0, false
}

// read returns what transaction tx sees of key k: the entry of the
// highest transaction below tx, else the cached base value if any.
func (m *memory) read(k, tx uint32) (r readResult) {
	m.readInto(k, tx, &r)
	return r
}

// readInto is read, into r.
func (m *memory) readInto(k, tx uint32, r *readResult) {
	ky := &m.keys[k]
	for {
		w := ky.word.Load()
		r.seq = wordSeq(w)
		n := wordHead(w)
		for n != 0 {
			nd := &m.nodes[n]
			ti := atomic.LoadUint64(&nd.txinc)
			if ti&removedBit == 0 && uint32(ti>>32) < tx {
				r.tx, r.inc, r.node = uint32(ti>>32), uint32(ti), n
				r.val[0] = atomic.LoadUint64(&nd.val[0])
				r.val[1] = atomic.LoadUint64(&nd.val[1])
				r.val[2] = atomic.LoadUint64(&nd.val[2])
				r.val[3] = atomic.LoadUint64(&nd.val[3])
				if atomic.LoadUint64(&nd.txinc) == ti {
					return
				}
				break // rewritten meanwhile: read again
			}
			if ti == busy {
				break
			}
			n = atomic.LoadUint32(&nd.next)
		}
		if n == 0 {
			r.tx, r.inc, r.node = baseVersion, 0, 0
			if r.cached = ky.baseOK.Load() == baseDone; r.cached {
				r.val = m.bases[k]
			}
			return
		}
		ky.wait()
	}
}

// valid reports whether the read r of key k by transaction tx would
// still see the same version.
func (m *memory) valid(k, tx uint32, r *readEntry) bool {
	ky := &m.keys[k]
	w := ky.word.Load()
	if s := wordSeq(w); s == r.seq && s&1 == 0 {
		return true // not modified since
	}
	n := r.node
	if n == 0 { // read from the base state: no entry below tx
		for n = wordHead(w); n != 0; n = atomic.LoadUint32(&m.nodes[n].next) {
			ti := atomic.LoadUint64(&m.nodes[n].txinc)
			if ti == busy {
				return false
			}
			if ti&removedBit == 0 && uint32(ti>>32) < tx {
				return false
			}
		}
		return true
	}
	if atomic.LoadUint64(&m.nodes[n].txinc) != uint64(r.tx)<<32|uint64(r.inc) {
		return false // removed, an ESTIMATE, or rewritten
	}
	// Entries inserted above since: visible ones are below tx. Inserts
	// link an entry upward before downward, so readers that see it
	// downward see it here too.
	for u := atomic.LoadUint32(&m.nodes[n].up); u != 0; u = atomic.LoadUint32(&m.nodes[u].up) {
		ti := atomic.LoadUint64(&m.nodes[u].txinc)
		if ti == busy {
			return false
		}
		if uint32(ti>>32)&^estimate >= tx { // without removedBit
			return true
		}
		if ti&removedBit == 0 {
			return false
		}
	}
	return true
}

// setBase caches the key's value in the base state.
func (m *memory) setBase(k uint32, val value) {
	ky := &m.keys[k]
	if ky.baseOK.CompareAndSwap(baseNone, baseWriting) {
		m.bases[k] = val
		ky.baseOK.Store(baseDone)
	}
}

// find returns the entry of tx in the list from head and the entry above
// it (0 for the head), or 0 and the entry after which tx's entry belongs.
// The caller holds the key.
func (m *memory) find(head, tx uint32) (n, above uint32) {
	n = head
	for n != 0 {
		nd := &m.nodes[n]
		t := uint32(nd.txinc>>32) &^ estimate // without removedBit
		if t == tx {
			return n, above
		}
		if t < tx {
			return 0, above
		}
		above, n = n, nd.next
	}
	return 0, above
}

// write records val as the value written by incarnation inc of tx. It
// returns ok false if the memory is exhausted; else the key's seq before
// and after the write.
func (m *memory) write(k, tx, inc uint32, val *value, al *alloc) (before, after uint32, ok bool) {
	ky := &m.keys[k]
	w := ky.lock()
	head := wordHead(w)
	s := wordSeq(w)
	n, above := m.find(head, tx)
	ti := uint64(tx)<<32 | uint64(inc)
	if n != 0 { // rewritten by a later incarnation
		nd := &m.nodes[n]
		atomic.StoreUint64(&nd.txinc, busy)
		for i := range val {
			atomic.StoreUint64(&nd.val[i], val[i])
		}
		atomic.StoreUint64(&nd.txinc, ti)
		ky.unlock(w, head)
		return s, s + 2, true
	}
	if n, ok = m.newNode(al); !ok {
		ky.unlock(w, head)
		return s, s + 2, false
	}
	nd := &m.nodes[n]
	nd.txinc, nd.val, nd.up = ti, *val, above
	if above == 0 {
		nd.next = head
	} else {
		nd.next = m.nodes[above].next
	}
	if nd.next != 0 {
		atomic.StoreUint32(&m.nodes[nd.next].up, n)
	}
	if above == 0 {
		head = n // published by unlock
	} else {
		atomic.StoreUint32(&m.nodes[above].next, n)
	}
	ky.unlock(w, head)
	return s, s + 2, true
}

// update sets bits in the txinc of tx's entry of key k, if any.
func (m *memory) update(k, tx uint32, bits uint64) {
	ky := &m.keys[k]
	w := ky.lock()
	if n, _ := m.find(wordHead(w), tx); n != 0 {
		nd := &m.nodes[n]
		atomic.StoreUint64(&nd.txinc, nd.txinc|bits)
	}
	ky.unlock(w, wordHead(w))
}

// remove deletes tx's entry of key k.
func (m *memory) remove(k, tx uint32) { m.update(k, tx, removedBit) }

// markEstimate turns tx's entry of key k into an ESTIMATE.
func (m *memory) markEstimate(k, tx uint32) { m.update(k, tx, uint64(estimate)) }

// sameAddress is a == b in three loads each, without the call to the
// runtime's memequal that comparing 20-byte arrays costs.
func sameAddress(a, b *common.Address) bool {
	return binary.LittleEndian.Uint64(a[0:]) == binary.LittleEndian.Uint64(b[0:]) &&
		binary.LittleEndian.Uint64(a[8:]) == binary.LittleEndian.Uint64(b[8:]) &&
		binary.LittleEndian.Uint32(a[16:]) == binary.LittleEndian.Uint32(b[16:])
}

func addressValue(a common.Address) value {
	return value{binary.LittleEndian.Uint64(a[0:]), binary.LittleEndian.Uint64(a[8:]), uint64(binary.LittleEndian.Uint32(a[16:]))}
}

func valueAddress(v value) (a common.Address) {
	binary.LittleEndian.PutUint64(a[0:], v[0])
	binary.LittleEndian.PutUint64(a[8:], v[1])
	binary.LittleEndian.PutUint32(a[16:], uint32(v[2]))
	return a
}

// slabs hands out chunks of T, recycled across blocks.
type slabs[T any] struct {
	mu     sync.Mutex
	chunks [][]T
	used   int // chunks handed out since reset
}

func (s *slabs[T]) next(size int) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, size))
	}
	s.used++
	return s.chunks[s.used-1]
}

// reset takes back every chunk; it keeps at most twice what the last
// block used.
func (s *slabs[T]) reset() {
	if 2*s.used < len(s.chunks) {
		clear(s.chunks[2*s.used:])
		s.chunks = s.chunks[:2*s.used]
	}
	s.used = 0
}

const slabSize = 256
