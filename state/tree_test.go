package state

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/veloxlabs/velox/ledger"
)

func TestEmptyHashes(t *testing.T) {
	e := EmptyHashes(3)
	if len(e) != 4 || !e[0].IsZero() {
		t.Fatalf("EmptyHashes(3) = %v", e)
	}
	if got := naiveRoot(3, nil); got != e[3] {
		t.Fatalf("empty root %v, naive %v", e[3], got)
	}
	s := openMem(t, vfs.NewMem(), 3)
	if s.Tree().Root() != e[3] {
		t.Fatal("new tree root is not the empty root")
	}
}

func TestTreeUpdateMatchesNaive(t *testing.T) {
	ctx := context.Background()
	for _, depth := range []int{1, 2, 4, 7, 10} {
		for _, workers := range []int{1, 3, 8} {
			t.Run(fmt.Sprintf("d%d/w%d", depth, workers), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(depth), uint64(workers)))
				s := openMem(t, vfs.NewMem(), depth)
				tr := s.Tree()
				model := map[uint32]ledger.Account{}
				for round := range 4 {
					var writes []LeafWrite
					n := 1 + rng.IntN(1<<depth)
					for range n {
						idx := uint32(rng.Uint64N(1 << depth))
						a := randAccount(rng)
						if rng.IntN(8) == 0 {
							a = ledger.Account{} // deleting a leaf
						}
						writes = append(writes, LeafWrite{Index: idx, Account: a})
						model[idx] = a // later writes win
					}
					u, err := tr.Update(ctx, writes, workers)
					if err != nil {
						t.Fatalf("Update: %v", err)
					}
					levels := naiveTree(depth, model)
					if u.NewRoot() != levels[depth][0] {
						t.Fatalf("round %d: update root differs from naive", round)
					}
					b := s.NewBatch()
					if err := b.PutTree(u); err != nil {
						t.Fatal(err)
					}
					if err := b.Commit(false); err != nil {
						t.Fatal(err)
					}
					if tr.Root() != levels[depth][0] {
						t.Fatalf("round %d: committed root differs from naive", round)
					}
					for range 8 {
						idx := uint32(rng.Uint64N(1 << depth))
						a, sib, root, err := tr.ProofWithRoot(idx)
						if err != nil {
							t.Fatal(err)
						}
						if a != model[idx] || root != tr.Root() {
							t.Fatalf("proof of %d: account or root mismatch", idx)
						}
						want := naiveSiblings(levels, idx)
						for l := range want {
							if sib[l] != want[l] {
								t.Fatalf("proof of %d: sibling %d differs from naive", idx, l)
							}
						}
						if err := VerifyProof(root, idx, a, sib); err != nil {
							t.Fatalf("VerifyProof: %v", err)
						}
						bad := a
						bad.Address[0] ^= 1
						if err := VerifyProof(root, idx, bad, sib); !errors.Is(err, ErrProof) {
							t.Fatalf("tampered account verifies: %v", err)
						}
						if depth > 1 {
							if err := VerifyProof(root, idx^1, a, sib); a.Hash() != sib[0] && !errors.Is(err, ErrProof) {
								t.Fatalf("wrong index verifies: %v", err)
							}
						}
					}
					// The address map and next index follow the leaves.
					next := uint32(0)
					for idx, a := range model {
						if a.IsEmpty() {
							continue
						}
						next = max(next, idx+1)
						got, ok, err := tr.Lookup(a.Address)
						if err != nil || !ok || got != idx {
							t.Fatalf("Lookup(%v) = %d %v %v, want %d", a.Address, got, ok, err, idx)
						}
					}
					if n, _ := tr.NextIndex(); n < next {
						t.Fatalf("NextIndex %d < %d", n, next)
					}
				}
			})
		}
	}
}

func TestTreeErrors(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, vfs.NewMem(), 4)
	tr := s.Tree()
	if _, err := tr.Update(ctx, []LeafWrite{{Index: 16}}, 1); !errors.Is(err, ErrIndexRange) {
		t.Fatalf("Update out of range: %v", err)
	}
	if _, _, err := tr.Proof(16); !errors.Is(err, ErrIndexRange) {
		t.Fatalf("Proof out of range: %v", err)
	}
	if _, err := tr.Account(1 << 20); !errors.Is(err, ErrIndexRange) {
		t.Fatalf("Account out of range: %v", err)
	}
	if err := VerifyProof(fr.Element{}, 0, ledger.Account{}, nil); !errors.Is(err, ErrProof) {
		t.Fatalf("empty path: %v", err)
	}
	if err := VerifyProof(fr.Element{}, 4, ledger.Account{}, make([]fr.Element, 2)); !errors.Is(err, ErrIndexRange) {
		t.Fatalf("index beyond path: %v", err)
	}
	ctxc, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tr.Update(ctxc, []LeafWrite{{Index: 1}}, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Update: %v", err)
	}

	// Two updates from the same base: the second is stale once the first
	// commits, and committing it changes nothing.
	rng := rand.New(rand.NewPCG(1, 2))
	u1, err := tr.Update(ctx, []LeafWrite{{Index: 1, Account: randAccount(rng)}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := tr.Update(ctx, []LeafWrite{{Index: 2, Account: randAccount(rng)}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	b1, b2 := s.NewBatch(), s.NewBatch()
	if err := b1.PutTree(u1); err != nil {
		t.Fatal(err)
	}
	if err := b2.PutTree(u2); err != nil {
		t.Fatal(err)
	}
	if err := b2.Set(NamespaceMeta, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := b1.Commit(true); err != nil {
		t.Fatal(err)
	}
	root := tr.Root()
	if err := b2.Commit(true); !errors.Is(err, ErrStale) {
		t.Fatalf("stale commit: %v", err)
	}
	if tr.Root() != root {
		t.Fatal("stale commit moved the root")
	}
	if _, err := s.Get(NamespaceMeta, []byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stale batch wrote its records: %v", err)
	}
	if a, _ := tr.Account(2); !a.IsEmpty() {
		t.Fatal("stale batch wrote its leaf")
	}
	b3 := s.NewBatch()
	defer b3.Close()
	if err := b3.PutTree(u1); !errors.Is(err, ErrStale) {
		t.Fatalf("re-applying a committed update: %v", err)
	}
	if err := b1.Commit(true); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Commit: %v", err)
	}
}

func TestBenchUpdates(t *testing.T) {
	for _, w := range []int{1, 2} {
		r, err := BenchUpdates(context.Background(), 10, 100, w)
		if err != nil || r <= 0 {
			t.Fatalf("BenchUpdates(workers=%d) = %v, %v", w, r, err)
		}
	}
	if _, err := BenchUpdates(context.Background(), 4, 100, 1); err == nil {
		t.Fatal("BenchUpdates accepted more updates than the tree holds")
	}
	if _, err := BenchUpdates(context.Background(), 33, 1, 1); !errors.Is(err, ErrDepth) {
		t.Fatalf("BenchUpdates depth 33: %v", err)
	}
}

// BenchmarkTreeUpdate measures Tree.Update of n random leaf writes (half
// new, half existing) at depth 32 on one worker and on GOMAXPROCS workers.
func BenchmarkTreeUpdate(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000} {
		s, err := Open(b.TempDir(), Options{Depth: ledger.MaxDepth})
		if err != nil {
			b.Fatal(err)
		}
		first, second := benchWrites(ledger.MaxDepth, n)
		u, err := s.Tree().Update(ctx, first, 0)
		if err != nil {
			b.Fatal(err)
		}
		bt := s.NewBatch()
		if err := bt.PutTree(u); err != nil {
			b.Fatal(err)
		}
		if err := bt.Commit(false); err != nil {
			b.Fatal(err)
		}
		for _, workers := range []int{1, 0} {
			name := fmt.Sprintf("n=%d/workers=%d", n, workers)
			if workers == 0 {
				name = fmt.Sprintf("n=%d/workers=GOMAXPROCS", n)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Tree().Update(ctx, second, workers); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "updates/s")
			})
		}
		_ = s.Close()
	}
}
