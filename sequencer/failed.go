package sequencer

import (
	"errors"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/state"
)

// Admission must refuse a transaction that is already included. One that
// succeeded used its nonce, so the nonce check catches it. One that failed
// at execution left its nonce unused, and only its hash tells it apart
// from a new transaction. failedSet keeps those hashes in memory (they are
// few: failing needs a state the sender's own checks did not expect), so
// that admitting a new transaction needs no store lookup; the store keeps
// them too (state.NamespaceFailedTx), for restarts.
type failedSet struct {
	mu sync.RWMutex
	m  map[common.Hash]struct{}
	// overflow is set once more than maxFailed hashes were seen: from then
	// on every lookup goes to the store.
	overflow bool
}

// maxFailed bounds failedSet: 2^20 hashes, about 80 MiB with the map's
// overhead. Failing transactions pay no fee, so a sender can make many;
// past the bound admission looks them up in the store instead.
var maxFailed = 1 << 20

var errStopScan = errors.New("stop")

// load fills the set from the store.
func (f *failedSet) load(st *state.Store) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m = map[common.Hash]struct{}{}
	f.overflow = false
	err := st.Scan(state.NamespaceFailedTx, nil, func(key, _ []byte) error {
		if len(f.m) >= maxFailed {
			f.overflow = true
			f.m = nil
			return errStopScan
		}
		f.m[common.BytesToHash(key)] = struct{}{}
		return nil
	})
	if errors.Is(err, errStopScan) {
		return nil
	}
	return err
}

// add records hashes of committed failed transactions.
func (f *failedSet) add(hashes []common.Hash) {
	if len(hashes) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range hashes {
		if len(f.m) >= maxFailed {
			f.overflow = true
			f.m = nil
			return
		}
		if !f.overflow {
			f.m[h] = struct{}{}
		}
	}
}

// has reports whether h is a committed failed transaction; if the set
// overflowed, it asks inStore.
func (f *failedSet) has(h common.Hash, inStore func(common.Hash) (bool, error)) (bool, error) {
	f.mu.RLock()
	overflow := f.overflow
	_, ok := f.m[h]
	f.mu.RUnlock()
	if overflow {
		return inStore(h)
	}
	return ok, nil
}
