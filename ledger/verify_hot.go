package ledger

import (
	"sync"
	"sync/atomic"

	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
)

// Hot keys: a key that has signed hotThreshold valid signatures gets a comb
// for -A like the static one for B, so its signatures verify with at most
// 64 + 37 additions and no doublings instead of ~126 doublings and ~110
// additions.
//
// Cost and payoff (BenchmarkHotComb, BenchmarkVerify; 2026-11-24): building
// a comb takes about 200 µs (448 additions, 64 doublings, one batched
// inversion) and a hot verification is about 23 µs faster than a cold one
// (41 vs 64 µs), so a comb pays for itself after about 9 signatures. hotThreshold
// follows the ski-rental rule (buy once the rent paid equals the price): a
// key that has signed 8 times is likely to sign as often again, and a key
// that never does has cost at most about twice the optimum. Only valid
// signatures count, so invalid ones cannot make a key hot. The build runs
// in the verification that reaches the threshold, adding ~200 µs to it.

// hotCombW is the window width of hot-key combs: 64 windows of 8 points of
// 96 bytes, 48 KiB per key. w = 5 (51 windows of 16 points, 78 KiB per key,
// 39 MiB for maxHotKeys) saves ~13 additions, ~1 µs of a ~16 µs hot
// check, but nearly doubles the build and would move hotThreshold: not
// worth it.
const hotCombW = 4

// maxHotKeys bounds the keys holding a comb: at most maxHotKeys · 48 KiB =
// 24 MiB, plus combs still read by verifications in flight after their key
// was evicted (the garbage collector frees them once those finish). 512
// covers the busy senders of a node (exchanges, merchants, payment
// processors) while staying small next to the key cache's own ~1.6 KiB per
// key (up to ~100 MiB). A key dropped from the key cache (emptied when
// full) keeps its comb until the hand evicts it, first in line as nothing
// marks it used any more; the bound holds all the same. A variable so
// tests can lower it; it is not changed otherwise.
var maxHotKeys = 512

// hotThreshold is the number of valid signatures after which a key gets
// a comb. A variable so tests can lower it before verifying.
var hotThreshold uint32 = 8

// hotState is the mutable part of a decodedKey; everything else in it is
// immutable once the key is cached.
type hotState struct {
	// valid counts valid cold verifications.
	valid atomic.Uint32
	// building is set while one verification builds the comb.
	building atomic.Bool
	// ref is the CLOCK reference bit: set by verifications, cleared by
	// the eviction hand.
	ref atomic.Bool
	// comb is -A's comb, or nil. Set and cleared only under hotKeys.mu;
	// readers load it once per verification, so clearing it (eviction)
	// never disturbs a verification in progress.
	comb atomic.Pointer[comb]
}

// hotKeys is the set of keys holding a comb, evicted by CLOCK (second
// chance): an approximation of least-recently-used that costs readers only
// a load of ref, and a store when it was clear.
var hotKeys struct {
	mu struct {
		sync.Mutex
		// keys holds the keys whose comb is set; hand is the next
		// eviction candidate once keys is full.
		keys []*decodedKey
		hand int
	}
}

// touch marks a hot key as recently used.
func (h *hotState) touch() {
	if !h.ref.Load() {
		h.ref.Store(true)
	}
}

// countValid counts a valid cold verification of k and builds k's comb
// once the count reaches hotThreshold. One verification at a time builds,
// so concurrent verifications of the same key build once.
func (h *hotState) countValid(k *decodedKey) {
	if h.valid.Add(1) < hotThreshold || !h.building.CompareAndSwap(false, true) {
		return
	}
	defer h.building.Store(false)
	var negA twistededwards.PointAffine
	negA.Neg(&k.pk.A)
	installHot(k, newComb(&negA, hotCombW))
}

// installHot gives k the comb c, evicting another key's comb when
// maxHotKeys keys hold one.
func installHot(k *decodedKey, c *comb) {
	hk := &hotKeys.mu
	hk.Lock()
	defer hk.Unlock()
	if k.hot.comb.Load() != nil {
		return
	}
	if len(hk.keys) < maxHotKeys {
		hk.keys = append(hk.keys, k)
	} else {
		// Verifications set ref concurrently; after two sweeps the hand
		// evicts whatever it points at, so this loop is bounded.
		for sweep := 0; ; sweep++ {
			v := hk.keys[hk.hand]
			if v.hot.ref.Load() && sweep < 2*len(hk.keys) {
				v.hot.ref.Store(false)
				hk.hand = (hk.hand + 1) % len(hk.keys)
				continue
			}
			v.hot.comb.Store(nil)
			// The evicted key must earn its comb again.
			v.hot.valid.Store(0)
			hk.keys[hk.hand] = k
			hk.hand = (hk.hand + 1) % len(hk.keys)
			break
		}
	}
	k.hot.ref.Store(true)
	k.hot.comb.Store(c)
}
