package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/veloxlabs/velox/ledger"
)

// crashBatch writes accounts [from, from+n) to both views and n 1 KiB
// records tagged tag; it returns the tree root it leads to.
// walBytes is the size of the write-ahead logs in fs's "db" directory.
func walBytes(t *testing.T, fs vfs.FS) int64 {
	t.Helper()
	names, err := fs.List("db")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, name := range names {
		if strings.HasSuffix(name, ".log") {
			fi, err := fs.Stat(fs.PathJoin("db", name))
			if err != nil {
				t.Fatal(err)
			}
			n += fi.Size()
		}
	}
	return n
}

func crashBatch(t *testing.T, s *Store, tag byte, from uint32, n int, sync, commit bool) fr.Element {
	t.Helper()
	b := s.NewBatch()
	var writes []LeafWrite
	for i := range uint32(n) {
		a := ledger.Account{Nonce: uint32(tag), Address: [20]byte{tag, byte(i), byte(i >> 8)}}
		a.Balance.SetUint64(uint64(i))
		if err := b.PutAccount(from+i, a); err != nil {
			t.Fatal(err)
		}
		writes = append(writes, LeafWrite{Index: from + i, Account: a})
		if err := b.Set(NamespaceReceipt, recKey(tag, i), bytes.Repeat([]byte{tag}, 1024)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetNextIndex(from + uint32(n)); err != nil {
		t.Fatal(err)
	}
	u, err := s.Tree().Update(context.Background(), writes, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PutTree(u); err != nil {
		t.Fatal(err)
	}
	if !commit {
		b.Close()
		return u.NewRoot()
	}
	if err := b.Commit(sync); err != nil {
		t.Fatal(err)
	}
	return u.NewRoot()
}

func recKey(tag byte, i uint32) []byte { return binary.BigEndian.AppendUint32([]byte{tag}, i) }

// presence counts how much of a crashBatch survived: records, flat
// accounts and tree leaves.
func presence(t *testing.T, s *Store, tag byte, from uint32, n int) int {
	t.Helper()
	count := 0
	for i := range uint32(n) {
		if _, err := s.Get(NamespaceReceipt, recKey(tag, i)); err == nil {
			count++
		} else if !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		if a, err := s.Account(from + i); err != nil {
			t.Fatal(err)
		} else if a.Nonce == uint32(tag) && !a.IsEmpty() {
			count++
		}
		if a, err := s.Tree().Account(from + i); err != nil {
			t.Fatal(err)
		} else if a.Nonce == uint32(tag) && !a.IsEmpty() {
			count++
		}
	}
	return count
}

func TestCrashSafety(t *testing.T) {
	const depth, n = 9, 120
	// Both outcomes of the unsynced batch must occur, or the all-or-nothing
	// check proved nothing. (Even with 100% of unsynced file data kept, a
	// NoSync commit may still sit in Pebble's WAL buffer at the crash; on
	// a loaded machine it always did, so the first 100% case waits until
	// Pebble has written it to the file, unsynced.)
	outcomes := map[bool]int{}
	defer func() {
		if !t.Failed() && (outcomes[true] == 0 || outcomes[false] == 0) {
			t.Errorf("unsynced batch outcomes (present: count) = %v; want both", outcomes)
		}
	}()
	for _, pct := range []int{0, 10, 50, 90, 100} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("unsynced%d%%/s%d", pct, seed), func(t *testing.T) {
				fs := vfs.NewCrashableMem()
				s, err := Open("db", Options{Depth: depth, FS: fs})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Genesis(context.Background(), feeOwner); err != nil {
					t.Fatal(err)
				}
				rootA := crashBatch(t, s, 0xa, 1, n, true, true)
				logged := walBytes(t, fs)
				rootB := crashBatch(t, s, 0xb, 1+n, n, false, true)
				if pct == 100 && seed == 0 {
					for deadline := time.Now().Add(10 * time.Second); walBytes(t, fs) == logged; time.Sleep(time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatal("the unsynced batch never reached the WAL file")
						}
					}
				}
				crashBatch(t, s, 0xc, 1+2*n, n, false, false)
				crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(seed, uint64(pct)))})
				_ = s.Close()

				s = openMem(t, crashed, depth)
				if got := presence(t, s, 0xa, 1, n); got != 3*n {
					t.Fatalf("synced batch: %d of %d parts survived", got, 3*n)
				}
				gotB := presence(t, s, 0xb, 1+n, n)
				if gotB != 0 && gotB != 3*n {
					t.Fatalf("unsynced batch half applied: %d of %d parts", gotB, 3*n)
				}
				outcomes[gotB != 0]++
				if pct == 0 && gotB != 0 {
					t.Fatalf("unsynced batch: %d parts with %d%% of unsynced data kept", gotB, pct)
				}
				if got := presence(t, s, 0xc, 1+2*n, n); got != 0 {
					t.Fatalf("uncommitted batch: %d parts present", got)
				}
				wantRoot, wantNext := rootA, uint32(1+n)
				if gotB != 0 {
					wantRoot, wantNext = rootB, 1+2*n
				}
				if s.Tree().Root() != wantRoot {
					t.Fatal("tree root after crash is neither batch's root")
				}
				if next, _ := s.NextIndex(); next != wantNext {
					t.Fatalf("flat NextIndex %d, want %d", next, wantNext)
				}
				leaves := map[uint32]ledger.Account{}
				for i := range uint32(1 << depth) {
					if a, _ := s.Tree().Account(i); !a.IsEmpty() {
						leaves[i] = a
					}
				}
				if naiveRoot(depth, leaves) != wantRoot {
					t.Fatal("tree nodes after crash do not match its leaves")
				}
			})
		}
	}
}
