package executor

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
)

// The multi-version memory. Every key is one field of one account
// (address, pubKeyHash, nonce, balance), one address→index entry, or the
// next-index counter, so that two transactions touching different fields
// of an account do not conflict. Each key has a versions list: the values
// written by the transactions of the block, by transaction index. A reader
// at transaction j sees the entry of the highest transaction below j, or
// the base state if there is none.
//
// Keys live in two insert-only, lock-free open-addressing tables (account
// index → *accountSlot, address → *addressSlot) sized for the block, so a
// key is found without a lock and without hashing into a Go map; each
// versions list has its own mutex.

// value is a field's value: an address, a field element, a nonce or a
// balance, all of which fit in 256 bits.
type value [4]uint64

// estimate marks an entry whose writer was aborted: a reader must wait
// for the writer's next incarnation.
const estimate = uint32(1) << 31

// baseVersion is the transaction of a read served by the base state.
const baseVersion = ^uint32(0)

type entry struct {
	tx  uint32
	inc uint32 // incarnation, | estimate
	val value
}

// versions holds the entries of one key, sorted by transaction.
type versions struct {
	mu sync.Mutex
	es []entry
	// first backs es until a second entry arrives: most keys of a block
	// are written by one transaction.
	first [1]entry
	// base caches the key's value in the base state once read.
	base   value
	baseOK bool
}

// search returns the position of the first entry whose tx is >= tx.
func search(es []entry, tx uint32) int {
	lo, hi := 0, len(es)
	// Executions run roughly in order: most lookups land at the end.
	if hi > 0 && es[hi-1].tx < tx {
		return hi
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if es[m].tx < tx {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// read returns the entry of the highest transaction below tx; if there
// is none, it returns the cached base value, if any, with cached set.
func (v *versions) read(tx uint32) (e entry, found, cached bool) {
	v.mu.Lock()
	i := search(v.es, tx)
	if i == 0 {
		e.val, cached = v.base, v.baseOK
		v.mu.Unlock()
		return e, false, cached
	}
	e = v.es[i-1]
	v.mu.Unlock()
	return e, true, false
}

// setBase caches the key's value in the base state.
func (v *versions) setBase(val value) {
	v.mu.Lock()
	v.base, v.baseOK = val, true
	v.mu.Unlock()
}

// readVersion is read without the value.
func (v *versions) readVersion(tx uint32) (wtx, inc uint32) {
	v.mu.Lock()
	i := search(v.es, tx)
	if i == 0 {
		v.mu.Unlock()
		return baseVersion, 0
	}
	e := &v.es[i-1]
	wtx, inc = e.tx, e.inc
	v.mu.Unlock()
	return wtx, inc
}

func (v *versions) write(tx, inc uint32, val value) {
	v.mu.Lock()
	i := search(v.es, tx)
	if i < len(v.es) && v.es[i].tx == tx {
		v.es[i].inc, v.es[i].val = inc, val
	} else {
		switch {
		case v.es == nil:
			v.es = v.first[:0]
		case len(v.es) == 1 && cap(v.es) == 1:
			v.es = append(make([]entry, 0, 8), v.es[0]) // a hot key
		}
		v.es = append(v.es, entry{})
		copy(v.es[i+1:], v.es[i:])
		v.es[i] = entry{tx: tx, inc: inc, val: val}
	}
	v.mu.Unlock()
}

func (v *versions) remove(tx uint32) {
	v.mu.Lock()
	i := search(v.es, tx)
	if i < len(v.es) && v.es[i].tx == tx {
		v.es = append(v.es[:i], v.es[i+1:]...)
	}
	v.mu.Unlock()
}

func (v *versions) markEstimate(tx uint32) {
	v.mu.Lock()
	i := search(v.es, tx)
	if i < len(v.es) && v.es[i].tx == tx {
		v.es[i].inc |= estimate
	}
	v.mu.Unlock()
}

// last returns the entry of the highest transaction below tx, without
// locking: only for use once no worker runs.
func (v *versions) lastBelow(tx uint32) (entry, bool) {
	i := search(v.es, tx)
	if i == 0 {
		return entry{}, false
	}
	return v.es[i-1], true
}

// accountSlot holds the keys of the fields of one account index.
type accountSlot struct {
	idx uint32
	f   [numFields]versions
}

// addressSlot holds the address→index key of one address; its entries'
// values are indices (an entry means the address was created).
type addressSlot struct {
	addr common.Address
	v    versions
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

type accountTable struct {
	slots []atomic.Pointer[accountSlot]
	shift uint
}

// reset empties t and sizes it for maxKeys keys.
func (t *accountTable) reset(maxKeys int) {
	b := tableBits(maxKeys)
	if len(t.slots) == 1<<b {
		clear(t.slots)
	} else {
		t.slots = make([]atomic.Pointer[accountSlot], 1<<b)
	}
	t.shift = 64 - b
}

// get returns the slot of idx, creating it with al unless al is nil. It
// returns nil if the slot does not exist and al is nil, or if the table
// is full, which the sizing excludes.
func (t *accountTable) get(idx uint32, al *allocator) *accountSlot {
	mask := uint64(len(t.slots) - 1)
	h := mix(uint64(idx)+1) >> t.shift
	for range len(t.slots) {
		p := t.slots[h].Load()
		if p == nil {
			if al == nil {
				return nil
			}
			n := al.account(idx)
			if t.slots[h].CompareAndSwap(nil, n) {
				al.acc = al.acc[1:]
				return n
			}
			p = t.slots[h].Load()
		}
		if p.idx == idx {
			return p
		}
		h = (h + 1) & mask
	}
	return nil
}

type addressTable struct {
	slots []atomic.Pointer[addressSlot]
	shift uint
}

// reset empties t and sizes it for maxKeys keys.
func (t *addressTable) reset(maxKeys int) {
	b := tableBits(maxKeys)
	if len(t.slots) == 1<<b {
		clear(t.slots)
	} else {
		t.slots = make([]atomic.Pointer[addressSlot], 1<<b)
	}
	t.shift = 64 - b
}

func (t *addressTable) get(a common.Address, al *allocator) *addressSlot {
	mask := uint64(len(t.slots) - 1)
	x := binary.LittleEndian.Uint64(a[0:]) ^ mix(binary.LittleEndian.Uint64(a[8:])) ^ mix(uint64(binary.LittleEndian.Uint32(a[16:]))+1)
	h := mix(x) >> t.shift
	for range len(t.slots) {
		p := t.slots[h].Load()
		if p == nil {
			if al == nil {
				return nil
			}
			n := al.address(a)
			if t.slots[h].CompareAndSwap(nil, n) {
				al.adr = al.adr[1:]
				return n
			}
			p = t.slots[h].Load()
		}
		if p.addr == a {
			return p
		}
		h = (h + 1) & mask
	}
	return nil
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

// allocator is a worker's private source of slots, carved from its
// arena's slabs. A slot it hands out stays its own until published.
type allocator struct {
	accounts *slabs[accountSlot]
	addrs    *slabs[addressSlot]
	acc      []accountSlot
	adr      []addressSlot
}

// account returns a zeroed slot for idx, which the caller consumes (by
// advancing acc) once it has published it.
func (al *allocator) account(idx uint32) *accountSlot {
	if len(al.acc) == 0 {
		al.acc = al.accounts.next(slabSize)
	}
	al.acc[0] = accountSlot{idx: idx}
	return &al.acc[0]
}

func (al *allocator) address(a common.Address) *addressSlot {
	if len(al.adr) == 0 {
		al.adr = al.addrs.next(slabSize)
	}
	al.adr[0] = addressSlot{addr: a}
	return &al.adr[0]
}
