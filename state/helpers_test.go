package state

import (
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
)

func openMem(t testing.TB, fs vfs.FS, depth int) *Store {
	t.Helper()
	s, err := Open("db", Options{Depth: depth, FS: fs})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// naiveTree builds every level of the tree from all leaves: levels[l][pos].
func naiveTree(depth int, leaves map[uint32]ledger.Account) [][]fr.Element {
	levels := make([][]fr.Element, depth+1)
	levels[0] = make([]fr.Element, 1<<depth)
	for idx, a := range leaves {
		levels[0][idx] = a.Hash()
	}
	for l := 1; l <= depth; l++ {
		levels[l] = make([]fr.Element, len(levels[l-1])/2)
		for i := range levels[l] {
			levels[l][i] = ledger.Compress(&levels[l-1][2*i], &levels[l-1][2*i+1])
		}
	}
	return levels
}

func naiveRoot(depth int, leaves map[uint32]ledger.Account) fr.Element {
	return naiveTree(depth, leaves)[depth][0]
}

func naiveSiblings(levels [][]fr.Element, idx uint32) []fr.Element {
	sib := make([]fr.Element, len(levels)-1)
	for l := range sib {
		sib[l] = levels[l][(idx>>l)^1]
	}
	return sib
}

func memLeaves(m *ledger.MemState) map[uint32]ledger.Account {
	out := map[uint32]ledger.Account{}
	for idx, a := range m.Accounts {
		out[idx] = *a
	}
	return out
}

func randAddr(rng *rand.Rand) common.Address {
	var a common.Address
	for i := range a {
		a[i] = byte(rng.Uint32())
	}
	return a
}

func randAccount(rng *rand.Rand) ledger.Account {
	a := ledger.Account{Address: randAddr(rng), Nonce: rng.Uint32()}
	a.Balance.SetUint64(rng.Uint64())
	a.PubKeyHash.SetUint64(rng.Uint64())
	return a
}
