package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"golang.org/x/sync/errgroup"

	"github.com/veloxlabs/velox/ledger"
)

// Tree is the sparse Merkle tree of accounts, as of the last committed
// proving batch (it lags the flat state).
//
// Shape: a leaf is Account.Hash() (0 for the empty leaf); an inner node is
// ledger.Compress(left, right). Levels count from the leaves: level 0 holds
// the leaves, level Depth the root. Bit i of a leaf index selects the left
// (0) or right (1) child at level i, i.e. on the way up from the leaf the
// node at level i is the left child of its parent iff bit i of the index is
// 0. The node at level l on the path of index idx has position idx>>l. A
// Merkle path lists the siblings bottom-up: siblings[i] is the sibling at
// level i. The circuit must use the same convention.
//
// The read methods serve committed data and are safe for concurrent use.
// The tree changes only when a Batch carrying a TreeUpdate commits.
type Tree struct {
	s     *Store
	depth int
	empty []fr.Element

	mu struct {
		sync.RWMutex
		// root, number and next describe the committed tree; version
		// counts committed updates, so that stale updates are refused.
		root    fr.Element
		number  uint64
		next    uint32
		version uint64
	}
}

var _ Reader = (*Tree)(nil)

// emptyHashes[l] is the root of an empty subtree of height l.
var emptyHashes = func() []fr.Element {
	e := make([]fr.Element, ledger.MaxDepth+1)
	for l := 1; l <= ledger.MaxDepth; l++ {
		e[l] = ledger.Compress(&e[l-1], &e[l-1])
	}
	return e
}()

// EmptyHashes returns the roots of empty subtrees of heights 0..depth
// (element 0 is the empty leaf, 0). depth must be in [0, ledger.MaxDepth].
func EmptyHashes(depth int) []fr.Element {
	return slices.Clone(emptyHashes[:depth+1])
}

// LeafWrite is one leaf assignment of Tree.Update.
type LeafWrite struct {
	Index   uint32
	Account ledger.Account
}

type nodeEntry struct {
	level int
	pos   uint32
	hash  fr.Element
}

type indexEntry struct {
	addr common.Address
	idx  uint32
	ok   bool // false: delete the entry
}

// TreeUpdate is a computed, not yet committed, change of the tree: new
// nodes, leaves, address map, next index, root and batch number. Write it
// with Batch.PutTree; it applies only if the tree has not moved since it
// was computed.
type TreeUpdate struct {
	tree        *Tree
	baseVersion uint64
	oldRoot     fr.Element
	newRoot     fr.Element
	number      uint64
	next        uint32
	nodes       []nodeEntry
	leaves      []LeafWrite
	index       []indexEntry
}

// OldRoot returns the root the update starts from.
func (u *TreeUpdate) OldRoot() fr.Element { return u.oldRoot }

// NewRoot returns the root after the update.
func (u *TreeUpdate) NewRoot() fr.Element { return u.newRoot }

// Number returns the batch number the tree records after the update.
func (u *TreeUpdate) Number() uint64 { return u.number }

func loadTree(s *Store) (*Tree, error) {
	t := &Tree{s: s, depth: s.depth, empty: emptyHashes[:s.depth+1]}
	v, err := s.get(keyTreeMeta)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, err
	case len(v) != 12:
		return nil, fmt.Errorf("%w: tree meta of %d bytes", ErrCorrupt, len(v))
	default:
		t.mu.number = binary.BigEndian.Uint64(v[:8])
		t.mu.next = binary.BigEndian.Uint32(v[8:])
	}
	if t.mu.root, err = t.node(s.db, t.depth, 0); err != nil {
		return nil, err
	}
	return t, nil
}

// Depth returns the tree depth.
func (t *Tree) Depth() int { return t.depth }

// Root returns the committed root.
func (t *Tree) Root() fr.Element {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.mu.root
}

// Number returns the number of the last committed batch (0 before any).
func (t *Tree) Number() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.mu.number
}

// NextIndex returns the index the next new account receives in the tree.
func (t *Tree) NextIndex() (uint32, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.mu.next, nil
}

func (t *Tree) checkIndex(idx uint32) error {
	if uint64(idx) >= uint64(1)<<t.depth {
		return fmt.Errorf("%w: %d at depth %d", ErrIndexRange, idx, t.depth)
	}
	return nil
}

// node reads the node at (level, pos) from r; absent nodes are empty.
func (t *Tree) node(r pebble.Reader, level int, pos uint32) (fr.Element, error) {
	v, err := getFrom(r, nodeKey(level, pos))
	if errors.Is(err, ErrNotFound) {
		return t.empty[level], nil
	}
	if err != nil {
		return fr.Element{}, err
	}
	return decodeElement(v)
}

func (t *Tree) leaf(r pebble.Reader, idx uint32) (ledger.Account, error) {
	if err := t.checkIndex(idx); err != nil {
		return ledger.Account{}, err
	}
	v, err := getFrom(r, idxKey(prefixTreeLeaf, idx))
	if errors.Is(err, ErrNotFound) {
		return ledger.Account{}, nil
	}
	if err != nil {
		return ledger.Account{}, err
	}
	a, err := decodeAccount(v)
	if err != nil {
		return a, fmt.Errorf("tree leaf %d: %w", idx, err)
	}
	return a, nil
}

func (t *Tree) lookup(r pebble.Reader, addr common.Address) (uint32, bool, error) {
	v, err := getFrom(r, addrKey(prefixTreeIndex, addr))
	if errors.Is(err, ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	i, err := decodeU32(v)
	return i, err == nil, err
}

// Account returns the committed leaf account at idx. It fails with
// ErrIndexRange for an index beyond the tree, or on I/O.
func (t *Tree) Account(idx uint32) (ledger.Account, error) { return t.leaf(t.s.db, idx) }

// Address implements Reader.
func (t *Tree) Address(idx uint32) (common.Address, error) {
	a, err := t.Account(idx)
	return a.Address, err
}

// PubKeyHash implements Reader.
func (t *Tree) PubKeyHash(idx uint32) (fr.Element, error) {
	a, err := t.Account(idx)
	return a.PubKeyHash, err
}

// Nonce implements Reader.
func (t *Tree) Nonce(idx uint32) (uint32, error) {
	a, err := t.Account(idx)
	return a.Nonce, err
}

// Balance implements Reader.
func (t *Tree) Balance(idx uint32) (uint256.Int, error) {
	a, err := t.Account(idx)
	return a.Balance, err
}

// Lookup returns the tree index of the account owned by addr.
func (t *Tree) Lookup(addr common.Address) (uint32, bool, error) { return t.lookup(t.s.db, addr) }

// Proof returns the committed account at idx and its Merkle path
// (len Depth, bottom-up) against Root. It fails with ErrIndexRange or on I/O.
func (t *Tree) Proof(idx uint32) (ledger.Account, []fr.Element, error) {
	a, sib, _, err := t.ProofWithRoot(idx)
	return a, sib, err
}

// ProofWithRoot is Proof that also returns the root the path leads to,
// read from the same consistent snapshot (Root may move concurrently).
func (t *Tree) ProofWithRoot(idx uint32) (ledger.Account, []fr.Element, fr.Element, error) {
	var root fr.Element
	if err := t.checkIndex(idx); err != nil {
		return ledger.Account{}, nil, root, err
	}
	if t.s.closed.Load() {
		return ledger.Account{}, nil, root, ErrClosed
	}
	snap := t.s.db.NewSnapshot()
	defer snap.Close()
	a, err := t.leaf(snap, idx)
	if err != nil {
		return a, nil, root, err
	}
	sib := make([]fr.Element, t.depth)
	for l := range t.depth {
		if sib[l], err = t.node(snap, l, (idx>>l)^1); err != nil {
			return a, nil, root, err
		}
	}
	root, err = t.node(snap, t.depth, 0)
	return a, sib, root, err
}

// RootFromPath returns the root reached from leaf hash leaf at index idx
// with the bottom-up siblings (bits of idx beyond len(siblings) are
// ignored).
func RootFromPath(idx uint32, leaf fr.Element, siblings []fr.Element) fr.Element {
	h := leaf
	for l := range siblings {
		if idx>>l&1 == 0 {
			h = ledger.Compress(&h, &siblings[l])
		} else {
			h = ledger.Compress(&siblings[l], &h)
		}
	}
	return h
}

// VerifyProof checks that account a sits at index idx of the tree with
// the given root, using the bottom-up siblings (their number is the
// depth). It returns ErrProof if it does not, or ErrIndexRange if idx does
// not fit the depth.
func VerifyProof(root fr.Element, idx uint32, a ledger.Account, siblings []fr.Element) error {
	d := len(siblings)
	if d < 1 || d > ledger.MaxDepth {
		return fmt.Errorf("%w: path of length %d", ErrProof, d)
	}
	if uint64(idx) >= uint64(1)<<d {
		return fmt.Errorf("%w: %d at depth %d", ErrIndexRange, idx, d)
	}
	if RootFromPath(idx, a.Hash(), siblings) != root {
		return ErrProof
	}
	return nil
}

// snapshot returns a snapshot and the tree version and state it shows (or
// a newer snapshot, which makes a later commit fail with ErrStale).
func (t *Tree) snapshot() (*pebble.Snapshot, uint64, fr.Element, uint64, uint32, error) {
	if t.s.closed.Load() {
		return nil, 0, fr.Element{}, 0, 0, ErrClosed
	}
	t.mu.RLock()
	v, root, number, next := t.mu.version, t.mu.root, t.mu.number, t.mu.next
	t.mu.RUnlock()
	return t.s.db.NewSnapshot(), v, root, number, next, nil
}

func (t *Tree) checkBase(u *TreeUpdate) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if u.baseVersion != t.mu.version {
		return ErrStale
	}
	return nil
}

func (t *Tree) applied(u *TreeUpdate) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mu.root, t.mu.number, t.mu.next = u.newRoot, u.number, u.next
	t.mu.version++
}

// write puts the update into a Pebble batch.
func (u *TreeUpdate) write(b *pebble.Batch) error {
	t := u.tree
	for i := range u.nodes {
		n := &u.nodes[i]
		k := nodeKey(n.level, n.pos)
		var err error
		if n.hash == t.empty[n.level] {
			err = b.Delete(k, nil)
		} else {
			err = b.Set(k, encodeElement(&n.hash), nil)
		}
		if err != nil {
			return fmt.Errorf("state: batch: %w", err)
		}
	}
	for i := range u.leaves {
		w := &u.leaves[i]
		k := idxKey(prefixTreeLeaf, w.Index)
		var err error
		if w.Account == (ledger.Account{}) {
			err = b.Delete(k, nil)
		} else {
			err = b.Set(k, encodeAccount(&w.Account), nil)
		}
		if err != nil {
			return fmt.Errorf("state: batch: %w", err)
		}
	}
	// Deletions first, so an address that moved keeps its new entry.
	for _, set := range []bool{false, true} {
		for _, e := range u.index {
			if e.ok != set {
				continue
			}
			k := addrKey(prefixTreeIndex, e.addr)
			var err error
			if e.ok {
				err = b.Set(k, encodeU32(e.idx), nil)
			} else {
				err = b.Delete(k, nil)
			}
			if err != nil {
				return fmt.Errorf("state: batch: %w", err)
			}
		}
	}
	meta := binary.BigEndian.AppendUint64(nil, u.number)
	meta = binary.BigEndian.AppendUint32(meta, u.next)
	if err := b.Set(keyTreeMeta, meta, nil); err != nil {
		return fmt.Errorf("state: batch: %w", err)
	}
	if err := b.Set(rootKey(u.number), encodeElement(&u.newRoot), nil); err != nil {
		return fmt.Errorf("state: batch: %w", err)
	}
	return nil
}

// RootAt returns the tree root committed with batch number (number 0 is
// the genesis tree, as last written by Tree.Update before any batch). It
// returns ErrNotFound if no such batch was committed.
func (t *Tree) RootAt(number uint64) (fr.Element, error) {
	v, err := t.s.get(rootKey(number))
	if err != nil {
		return fr.Element{}, err
	}
	return decodeElement(v)
}

// Update computes the tree after assigning the given leaves (later writes
// to the same index win), without applying any ledger rule: it is the bulk
// path for genesis, imports and benchmarks. The address map follows the
// leaves' owners and the next index moves past every non-empty leaf; the
// batch number is unchanged. The root is recomputed in parallel: the top
// levels are split into subtrees handed to up to workers goroutines
// (workers <= 0 means GOMAXPROCS), each recomputing its subtree from its
// changed leaves, then the top is recomputed from the subtree roots.
// It fails with ErrIndexRange, ctx's error, or on I/O; the tree is not
// changed until the result is committed with Batch.PutTree.
func (t *Tree) Update(ctx context.Context, writes []LeafWrite, workers int) (*TreeUpdate, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ch := make([]LeafWrite, len(writes))
	copy(ch, writes)
	for i := range ch {
		if err := t.checkIndex(ch[i].Index); err != nil {
			return nil, err
		}
	}
	// Stable sort then keep the last write per index.
	slices.SortStableFunc(ch, func(a, b LeafWrite) int {
		switch {
		case a.Index < b.Index:
			return -1
		case a.Index > b.Index:
			return 1
		}
		return 0
	})
	out := ch[:0]
	for i := range ch {
		if i+1 < len(ch) && ch[i+1].Index == ch[i].Index {
			continue
		}
		out = append(out, ch[i])
	}
	ch = out

	snap, version, root, number, next, err := t.snapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	u := &TreeUpdate{tree: t, baseVersion: version, oldRoot: root, newRoot: root, number: number, next: next, leaves: ch}
	if len(ch) == 0 {
		return u, nil
	}

	top := &subtreeBuilder{t: t, r: snap}
	if workers > 1 {
		// Split at a level with about 4 subtrees per worker for balance.
		s := 0
		for 1<<s < 4*workers && s < t.depth {
			s++
		}
		split := t.depth - s
		type group struct {
			pos uint32
			ch  []LeafWrite
			b   subtreeBuilder
			h   fr.Element
		}
		var groups []*group
		for i := 0; i < len(ch); {
			pos := ch[i].Index >> split
			j := i
			for j < len(ch) && ch[j].Index>>split == pos {
				j++
			}
			groups = append(groups, &group{pos: pos, ch: ch[i:j], b: subtreeBuilder{t: t, r: snap}})
			i = j
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for _, gr := range groups {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				var err error
				gr.h, err = gr.b.build(split, gr.pos, gr.ch)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		top.stop = split
		top.pre = make(map[uint32]fr.Element, len(groups))
		n := 0
		for _, gr := range groups {
			top.pre[gr.pos] = gr.h
			n += len(gr.b.nodes)
		}
		top.nodes = make([]nodeEntry, 0, n+2*len(groups)+t.depth)
		for _, gr := range groups {
			top.nodes = append(top.nodes, gr.b.nodes...)
			top.index = append(top.index, gr.b.index...)
		}
	} else if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u.newRoot, err = top.build(t.depth, 0, ch); err != nil {
		return nil, err
	}
	u.nodes, u.index = top.nodes, top.index
	for i := range ch {
		if !ch[i].Account.IsEmpty() && ch[i].Index >= u.next {
			u.next = ch[i].Index + 1
		}
	}
	return u, nil
}

// subtreeBuilder recomputes a subtree from its changed leaves, reading
// untouched siblings from r and collecting the new nodes.
type subtreeBuilder struct {
	t     *Tree
	r     pebble.Reader
	stop  int                   // with pre: level whose nodes are precomputed
	pre   map[uint32]fr.Element // precomputed nodes at level stop
	nodes []nodeEntry
	index []indexEntry
}

// build returns the new hash of node (level, pos) given its changed leaves
// ch (sorted by index, unique, non-empty, all under the node).
func (b *subtreeBuilder) build(level int, pos uint32, ch []LeafWrite) (fr.Element, error) {
	if b.pre != nil && level == b.stop {
		return b.pre[pos], nil
	}
	var h fr.Element
	if level == 0 {
		w := &ch[0]
		old, err := b.t.leaf(b.r, w.Index)
		if err != nil {
			return h, err
		}
		if old.Address != w.Account.Address {
			if !old.IsEmpty() {
				b.index = append(b.index, indexEntry{addr: old.Address})
			}
			if !w.Account.IsEmpty() {
				b.index = append(b.index, indexEntry{addr: w.Account.Address, idx: w.Index, ok: true})
			}
		}
		h = w.Account.Hash()
	} else {
		bit := level - 1
		mid := sort.Search(len(ch), func(i int) bool { return ch[i].Index>>bit&1 == 1 })
		var l, r fr.Element
		var err error
		if mid > 0 {
			l, err = b.build(level-1, 2*pos, ch[:mid])
		} else {
			l, err = b.t.node(b.r, level-1, 2*pos)
		}
		if err != nil {
			return h, err
		}
		if mid < len(ch) {
			r, err = b.build(level-1, 2*pos+1, ch[mid:])
		} else {
			r, err = b.t.node(b.r, level-1, 2*pos+1)
		}
		if err != nil {
			return h, err
		}
		h = ledger.Compress(&l, &r)
	}
	b.nodes = append(b.nodes, nodeEntry{level: level, pos: pos, hash: h})
	return h, nil
}
