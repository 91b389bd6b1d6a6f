package state

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/veloxlabs/velox/ledger"
)

// BenchUpdates measures the bulk tree update (Tree.Update) for the bench
// suite (`state`, case smt-update-N). It creates a store of the given
// depth in a temporary directory (removed afterwards), commits n random
// accounts at random indices, then times recomputing the root for n more
// leaf writes (half rewrite existing leaves, half create new ones) with
// the given number of workers (<= 0: GOMAXPROCS), and returns the updates
// per second of that recomputation; the Pebble commit is not timed. The
// inputs are deterministic, so runs with different worker counts compare
// equal work. It fails for a depth outside [1, ledger.MaxDepth], n < 1,
// n > 2^(depth-1), ctx's error, or on I/O.
func BenchUpdates(ctx context.Context, depth, n, workers int) (updatesPerSec float64, err error) {
	if depth < 1 || depth > ledger.MaxDepth {
		return 0, fmt.Errorf("%w: %d", ErrDepth, depth)
	}
	if n < 1 || uint64(n) > uint64(1)<<(depth-1) {
		return 0, fmt.Errorf("state: bench: %d updates do not fit depth %d", n, depth)
	}
	dir, err := os.MkdirTemp("", "velox-state-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	s, err := Open(dir, Options{Depth: depth})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	first, second := benchWrites(depth, n)
	u, err := s.Tree().Update(ctx, first, workers)
	if err != nil {
		return 0, err
	}
	b := s.NewBatch()
	defer b.Close()
	if err := b.PutTree(u); err != nil {
		return 0, err
	}
	if err := b.Commit(false); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := s.Tree().Update(ctx, second, workers); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// benchWrites returns n writes at distinct random indices, and n more of
// which half rewrite indices of the first set.
func benchWrites(depth, n int) (first, second []LeafWrite) {
	rng := rand.New(rand.NewPCG(uint64(depth), uint64(n)))
	used := map[uint32]bool{}
	pick := func() uint32 {
		for {
			var i uint32
			if depth == 32 {
				i = rng.Uint32()
			} else {
				i = uint32(rng.Uint64N(uint64(1) << depth))
			}
			if !used[i] {
				used[i] = true
				return i
			}
		}
	}
	acc := func() ledger.Account {
		var a ledger.Account
		for j := range a.Address {
			a.Address[j] = byte(rng.Uint32())
		}
		a.Nonce = rng.Uint32()
		a.Balance.SetUint64(rng.Uint64())
		a.PubKeyHash.SetUint64(rng.Uint64())
		return a
	}
	first = make([]LeafWrite, n)
	for i := range first {
		first[i] = LeafWrite{Index: pick(), Account: acc()}
	}
	second = make([]LeafWrite, n)
	for i := range second {
		if i%2 == 0 {
			second[i] = LeafWrite{Index: first[i].Index, Account: first[i].Account}
			second[i].Account.Nonce++
		} else {
			second[i] = LeafWrite{Index: pick(), Account: acc()}
		}
	}
	return first, second
}
