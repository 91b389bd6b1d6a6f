package executor

import (
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func newTestMemory(n, workers int, baseNext uint32) *memory {
	m := new(memory)
	m.reset(n, workers, baseNext)
	return m
}

func val(x uint64) value { return value{x, x + 1, x + 2, x + 3} }

// TestMemoryVersions checks what readers at each transaction see of one
// key through writes out of order, rewrites, ESTIMATE marks, removals and
// the base cache, and when a read is still valid.
func TestMemoryVersions(t *testing.T) {
	m := newTestMemory(10, 1, 5)
	var al alloc
	k0, ok := m.account(3, &al)
	if !ok {
		t.Fatal("no keys")
	}
	k := k0 + fieldBalance
	write := func(tx, inc uint32, v value) {
		t.Helper()
		if _, _, ok := m.write(k, tx, inc, &v, &al); !ok {
			t.Fatal("memory exhausted")
		}
	}
	expect := func(tx, wtx, inc uint32, v value) readResult {
		t.Helper()
		r := m.read(k, tx)
		if r.tx != wtx || r.inc != inc || r.tx != baseVersion && r.val != v {
			t.Fatalf("read at %d: %+v, want tx %d inc %#x val %v", tx, r, wtx, inc, v)
		}
		return r
	}
	if r := expect(0, baseVersion, 0, value{}); r.cached {
		t.Fatal("base cached before setBase")
	}
	m.setBase(k, val(100))
	m.setBase(k, val(200)) // the first value stays
	if r := m.read(k, 0); !r.cached || r.val != val(100) {
		t.Fatalf("cached base: %+v", r)
	}
	write(2, 0, val(2))
	write(5, 1, val(5))
	write(4, 0, val(4))
	expect(2, baseVersion, 0, value{})
	expect(3, 2, 0, val(2))
	expect(5, 4, 0, val(4))
	expect(9, 5, 1, val(5))
	r := expect(5, 4, 0, val(4))
	re := readEntry{key: k, tx: r.tx, inc: r.inc, node: r.node, seq: r.seq}
	if !m.valid(k, 5, &re) {
		t.Fatal("unchanged read invalid")
	}
	write(3, 0, val(3)) // below the entry read: still valid
	write(7, 0, val(7)) // above the reader: still valid
	if !m.valid(k, 5, &re) {
		t.Fatal("read invalidated by writes out of its view")
	}
	r2 := m.read(k, 9) // sees 7
	re2 := readEntry{key: k, tx: r2.tx, inc: r2.inc, node: r2.node, seq: r2.seq}
	write(6, 0, val(6)) // inserted between, but above reader 5
	if !m.valid(k, 5, &re) || !m.valid(k, 9, &re2) {
		t.Fatal("read invalidated by an entry out of its view")
	}
	r3 := m.read(k, 7) // sees 6
	re3 := readEntry{key: k, tx: r3.tx, inc: r3.inc, node: r3.node, seq: r3.seq}
	write(8, 0, val(8)) // between 7 and the reader at 9
	if m.valid(k, 9, &re2) {
		t.Fatal("read valid despite a newer entry below the reader")
	}
	m.remove(k, 8)
	if !m.valid(k, 9, &re2) || !m.valid(k, 7, &re3) {
		t.Fatal("read invalidated by a removed entry")
	}
	m.remove(k, 7)
	m.remove(k, 6)
	write(4, 1, val(44)) // rewritten in place
	if m.valid(k, 5, &re) {
		t.Fatal("read of a rewritten entry valid")
	}
	base := readEntry{key: k, tx: baseVersion}
	if m.valid(k, 3, &base) || !m.valid(k, 2, &base) {
		t.Fatal("base reads")
	}
	expect(5, 4, 1, val(44))
	m.markEstimate(k, 4)
	expect(5, 4, 1|estimate, val(44))
	m.remove(k, 4)
	expect(5, 3, 0, val(3))
	expect(9, 5, 1, val(5))
	write(4, 2, val(444)) // written again after its removal
	expect(5, 4, 2, val(444))
	m.remove(k, 9) // no such entry
	expect(10, 5, 1, val(5))
	if r := m.read(k0+fieldNonce, 9); r.tx != baseVersion || r.cached {
		t.Fatalf("another field: %+v", r)
	}
}

// TestMemoryTables checks the dense and hashed account tables, the address
// table and that reset empties them.
func TestMemoryTables(t *testing.T) {
	m := newTestMemory(8, 2, 4)
	var al alloc
	seen := map[uint32]bool{}
	for _, idx := range []uint32{0, 3, 12, 13, 1 << 30, ^uint32(0)} {
		if _, ok := m.account(idx, nil); ok {
			t.Fatalf("account %d exists before creation", idx)
		}
		k, ok := m.account(idx, &al)
		if !ok || k == nextKey || seen[k] {
			t.Fatalf("account %d: key %d, %v", idx, k, ok)
		}
		for f := uint32(0); f < numFields; f++ {
			seen[k+f] = true
		}
		if k2, ok := m.account(idx, nil); !ok || k2 != k {
			t.Fatalf("account %d: key %d then %d", idx, k, k2)
		}
		if k2, _ := m.account(idx, &al); k2 != k {
			t.Fatalf("account %d created twice", idx)
		}
	}
	addrs := []common.Address{{1}, {2}, {0: 1, 19: 1}}
	for _, a := range addrs {
		k, ok := m.address(a, &al)
		if !ok || seen[k] {
			t.Fatalf("address %v: key %d, %v", a, k, ok)
		}
		seen[k] = true
		if k2, ok := m.address(a, nil); !ok || k2 != k {
			t.Fatalf("address %v: key %d then %d", a, k, k2)
		}
	}
	if _, ok := m.address(common.Address{3}, nil); ok {
		t.Fatal("unknown address found")
	}
	v := val(7)
	if _, _, ok := m.write(nextKey, 1, 0, &v, &al); !ok {
		t.Fatal("memory exhausted")
	}
	m.reset(8, 2, 4)
	al = alloc{}
	for _, idx := range []uint32{0, 3, 12, 1 << 30} {
		if _, ok := m.account(idx, nil); ok {
			t.Fatalf("account %d survived reset", idx)
		}
	}
	for _, a := range addrs {
		if _, ok := m.address(a, nil); ok {
			t.Fatalf("address %v survived reset", a)
		}
	}
	if r := m.read(nextKey, 5); r.tx != baseVersion {
		t.Fatalf("next index survived reset: %+v", r)
	}
}

// TestMemoryExhaustion checks that running out of keys or entries is
// reported, not overrun.
func TestMemoryExhaustion(t *testing.T) {
	m := newTestMemory(1, 1, 0)
	var al alloc
	var idx uint32
	for ; ; idx++ {
		if _, ok := m.account(idx, &al); !ok {
			break
		}
		if idx > uint32(len(m.keys)) {
			t.Fatal("more accounts than keys")
		}
	}
	if idx < 3*1+2 {
		t.Fatalf("only %d accounts fit a block of one transaction", idx)
	}
	v := val(1)
	tx := uint32(0)
	for ; ; tx++ {
		if _, _, ok := m.write(nextKey, tx, 0, &v, &al); !ok {
			break
		}
		if tx > uint32(len(m.nodes)) {
			t.Fatal("more entries than nodes")
		}
	}
	if tx < 6 {
		t.Fatalf("only %d entries fit a block of one transaction", tx)
	}
}

// TestMemoryConcurrent runs writers that insert and rewrite entries of one
// key against readers that check that every value they read is whole and
// belongs to the version they saw.
func TestMemoryConcurrent(t *testing.T) {
	const txs, rounds = 64, 201
	m := newTestMemory(txs, 4, 0)
	var setup alloc
	k, _ := m.account(0, &setup)
	var wg sync.WaitGroup
	var stop sync.WaitGroup
	done := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var al alloc
			for inc := range uint32(rounds) {
				for tx := uint32(w); tx < txs; tx += 2 {
					v := val(uint64(tx)<<32 | uint64(inc))
					if _, _, ok := m.write(k, tx, inc, &v, &al); !ok {
						t.Error("memory exhausted")
						return
					}
					if inc%7 == 3 {
						m.markEstimate(k, tx)
					}
					if inc%11 == 5 {
						m.remove(k, tx)
					}
				}
			}
		}()
	}
	for r := range 2 {
		stop.Add(1)
		go func() {
			defer stop.Done()
			tx := uint32(r)
			for {
				select {
				case <-done:
					return
				default:
				}
				tx = (tx + 7) % (txs + 1)
				got := m.read(k, tx)
				if got.tx == baseVersion {
					continue
				}
				if got.tx >= tx {
					t.Errorf("read at %d saw tx %d", tx, got.tx)
					return
				}
				if want := val(uint64(got.tx)<<32 | uint64(got.inc&^estimate)); got.val != want {
					t.Errorf("read at %d: version %d/%d with value %v", tx, got.tx, got.inc, got.val)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	stop.Wait()
	// Every writer's last incarnation wrote its entry again.
	for tx := uint32(1); tx <= txs; tx++ {
		got := m.read(k, tx)
		if got.tx != tx-1 || got.inc != rounds-1 {
			t.Fatalf("final read at %d: %+v", tx, got)
		}
	}
}
