package state

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

func TestFlatPutGetPersist(t *testing.T) {
	fs := vfs.NewMem()
	s, err := Open("db", Options{Depth: 6, FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[uint32]ledger.Account{}
	b := s.NewBatch()
	for i := range uint32(10) {
		a := randAccount(rng)
		want[i] = a
		if err := b.PutAccount(i, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetNextIndex(10); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(NamespaceReceipt, []byte("r1"), []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(NamespaceReceipt, []byte("r2"), []byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(NamespaceMiniBlock, []byte("r3"), []byte("other ns")); err != nil {
		t.Fatal(err)
	}
	// Nothing is visible before Commit.
	if a, _ := s.Account(3); !a.IsEmpty() {
		t.Fatal("uncommitted account visible")
	}
	if _, ok, _ := s.Lookup(want[3].Address); ok {
		t.Fatal("uncommitted address visible")
	}
	if _, err := s.Get(NamespaceReceipt, []byte("r1")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("uncommitted record: %v", err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if err := b.PutAccount(11, want[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("PutAccount after Commit: %v", err)
	}
	if err := s.NewBatch().PutAccount(64, want[0]); !errors.Is(err, ErrIndexRange) {
		t.Fatalf("PutAccount beyond depth: %v", err)
	}

	check := func(s *Store) {
		t.Helper()
		for i, a := range want {
			got, err := s.Account(i)
			if err != nil || got != a {
				t.Fatalf("Account(%d) = %v, %v", i, got, err)
			}
			if n, _ := s.Nonce(i); n != a.Nonce {
				t.Fatal("Nonce")
			}
			if v, _ := s.Balance(i); v != a.Balance {
				t.Fatal("Balance")
			}
			if h, _ := s.PubKeyHash(i); h != a.PubKeyHash {
				t.Fatal("PubKeyHash")
			}
			if ad, _ := s.Address(i); ad != a.Address {
				t.Fatal("Address")
			}
			idx, ok, err := s.Lookup(a.Address)
			if err != nil || !ok || idx != i {
				t.Fatalf("Lookup = %d %v %v, want %d", idx, ok, err, i)
			}
		}
		if a, _ := s.Account(40); a != (ledger.Account{}) {
			t.Fatal("empty index not zero")
		}
		if _, ok, _ := s.Lookup(common.Address{0x99}); ok {
			t.Fatal("unknown address found")
		}
		if n, _ := s.NextIndex(); n != 10 {
			t.Fatalf("NextIndex %d", n)
		}
		if v, err := s.Get(NamespaceReceipt, []byte("r2")); err != nil || string(v) != "two" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		var keys []string
		if err := s.Scan(NamespaceReceipt, []byte("r"), func(k, v []byte) error {
			keys = append(keys, string(k)+"="+string(v))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(keys) != "[r1=one r2=two]" {
			t.Fatalf("Scan = %v", keys)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account(77); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if _, err := Open("db", Options{Depth: 7, FS: fs}); !errors.Is(err, ErrDepth) {
		t.Fatalf("reopen with another depth: %v", err)
	}
	s = openMem(t, fs, 6)
	check(s)

	// Deleting records, and a scan error stops the scan.
	b = s.NewBatch()
	if err := b.Delete(NamespaceReceipt, []byte("r1")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(NamespaceReceipt, []byte("r1")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted record: %v", err)
	}
	stop := errors.New("stop")
	if err := s.Scan(NamespaceMiniBlock, nil, func(k, v []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Scan error: %v", err)
	}
	// Changing an owner moves the address map entry.
	b = s.NewBatch()
	moved := want[2]
	moved.Address = common.Address{0x42}
	if err := b.PutAccount(2, moved); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Lookup(want[2].Address); ok {
		t.Fatal("old owner still mapped")
	}
	if i, ok, _ := s.Lookup(moved.Address); !ok || i != 2 {
		t.Fatal("new owner not mapped")
	}
	if _, err := Open("x", Options{Depth: 33, FS: fs}); !errors.Is(err, ErrDepth) {
		t.Fatalf("depth 33: %v", err)
	}
}

func TestOverlay(t *testing.T) {
	s := openMem(t, vfs.NewMem(), 8)
	if err := s.Genesis(context.Background(), feeOwner); err != nil {
		t.Fatal(err)
	}
	if err := s.Genesis(context.Background(), feeOwner); err != nil {
		t.Fatalf("repeated genesis: %v", err)
	}
	if err := s.Genesis(context.Background(), common.Address{7}); !errors.Is(err, ErrGenesis) {
		t.Fatalf("genesis with another owner: %v", err)
	}
	p := ledger.Params{Depth: 8}
	alice := common.Address{0xa1}
	o := NewOverlay(s)
	op, err := ledger.ApplyDeposit(o, ledger.Deposit{Address: alice, Amount: *uint256.NewInt(500)}, p)
	if err != nil || op.Account != 1 {
		t.Fatalf("deposit: %v %v", op, err)
	}
	o.SetNonce(ledger.FeeAccount, 3)
	// The overlay sees its writes merged with the base; the store does not.
	if i, ok, _ := o.Lookup(alice); !ok || i != 1 {
		t.Fatal("overlay Lookup")
	}
	if n, _ := o.NextIndex(); n != 2 {
		t.Fatalf("overlay NextIndex %d", n)
	}
	if a, _ := o.Account(ledger.FeeAccount); a.Address != feeOwner || a.Nonce != 3 {
		t.Fatalf("merged fee account %v", a)
	}
	if _, ok, _ := s.Lookup(alice); ok {
		t.Fatal("overlay write visible in store")
	}
	if n, _ := s.NextIndex(); n != 1 {
		t.Fatal("overlay moved store NextIndex")
	}
	if d := o.Dirty(); fmt.Sprint(d) != "[0 1]" {
		t.Fatalf("Dirty = %v", d)
	}
	b := s.NewBatch()
	if err := o.WriteTo(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if i, ok, _ := s.Lookup(alice); !ok || i != 1 {
		t.Fatal("store Lookup after WriteTo")
	}
	if a, _ := s.Account(1); a.Balance.Uint64() != 500 || a.Address != alice {
		t.Fatalf("store account %v", a)
	}
	if a, _ := s.Account(0); a.Nonce != 3 || a.Address != feeOwner {
		t.Fatalf("fee account %v", a)
	}
	if n, _ := s.NextIndex(); n != 2 {
		t.Fatal("store NextIndex after WriteTo")
	}
	// The tree lags: it has only the genesis account.
	if a, _ := s.Tree().Account(1); !a.IsEmpty() {
		t.Fatal("flat write reached the tree")
	}
}

// TestConcurrentReads checks that readers never see an account go back to
// an older value while one writer commits (cache fill races).
func TestConcurrentReads(t *testing.T) {
	s := openMem(t, vfs.NewMem(), 8)
	s.cacheLimit = 5 // force cache clears
	const accounts, commits, readers = 16, 60, 4
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, readers)
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := make([]uint64, accounts)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				idx := uint32((i + r) % accounts)
				a, err := s.Account(idx)
				if err != nil {
					errs <- err
					return
				}
				if v := a.Balance.Uint64(); v < last[idx] {
					errs <- fmt.Errorf("account %d went back from %d to %d", idx, last[idx], v)
					return
				} else {
					last[idx] = v
				}
			}
		}()
	}
	for k := uint64(1); k <= commits; k++ {
		b := s.NewBatch()
		for i := range uint32(accounts) {
			a := ledger.Account{Address: common.Address{byte(i + 1)}}
			a.Balance.SetUint64(k)
			if err := b.PutAccount(i, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range uint32(accounts) {
		if a, _ := s.Account(i); a.Balance.Uint64() != commits {
			t.Fatalf("account %d final balance %v", i, &a.Balance)
		}
	}
}

// TestHas: Has agrees with Get for present and absent records, in the
// memtable and after a flush and compaction to the last level (where the
// lookup goes through the bloom filters that Get skips).
func TestHas(t *testing.T) {
	s, err := Open(t.TempDir(), Options{Depth: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := func(i int) []byte { return fmt.Appendf(nil, "tx-%06d", i) }
	b := s.NewBatch()
	for i := 0; i < 2000; i += 2 {
		if err := b.Set(NamespaceReceipt, key(i), []byte("r")); err != nil {
			t.Fatal(err)
		}
	}
	// The same key in another namespace must not count.
	if err := b.Set(NamespaceMiniBlock, key(1), []byte("other")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	check := func(where string) {
		t.Helper()
		for i := range 2000 {
			has, err := s.Has(NamespaceReceipt, key(i))
			if err != nil {
				t.Fatal(err)
			}
			_, gerr := s.Get(NamespaceReceipt, key(i))
			if has != (i%2 == 0) || has != (gerr == nil) {
				t.Fatalf("%s: Has(%s) = %v, Get error %v", where, key(i), has, gerr)
			}
		}
	}
	check("memtable")
	if err := s.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	check("compacted")
	s.Close()
	if has, err := s.Has(NamespaceReceipt, key(0)); !errors.Is(err, ErrClosed) || has {
		t.Fatalf("Has after Close: %v %v", has, err)
	}
}

// BenchmarkSyncedCommit measures the latency of one synced commit of a
// small record on the disk under os.TempDir — the floor under a
// preconfirmation, which waits for up to two of them (the write in flight
// and its own). It reports the percentiles, one commit at a time:
//
//	go test ./state -run '^$' -bench SyncedCommit -benchtime 2000x
func BenchmarkSyncedCommit(b *testing.B) {
	s, err := Open(b.TempDir(), Options{Depth: 8})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := make([]byte, 1024)
	var lats []time.Duration
	i := 0
	for b.Loop() {
		wb := s.NewBatch()
		if err := wb.Set(NamespaceMeta, fmt.Appendf(nil, "bench-%d", i), val); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := wb.Commit(true); err != nil {
			b.Fatal(err)
		}
		lats = append(lats, time.Since(start))
		i++
	}
	slices.Sort(lats)
	pct := func(p float64) float64 {
		return float64(lats[min(len(lats)-1, int(p*float64(len(lats))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(pct(0.999), "p99.9_ms")
}
