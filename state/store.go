package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"github.com/veloxlabs/velox/ledger"
)

// Reader is the read half of ledger.State. Store (latest flat state), Tree
// (state as of the last proven batch) and Overlay implement it.
type Reader interface {
	Address(idx uint32) (common.Address, error)
	PubKeyHash(idx uint32) (fr.Element, error)
	Nonce(idx uint32) (uint32, error)
	Balance(idx uint32) (uint256.Int, error)
	Lookup(addr common.Address) (idx uint32, ok bool, err error)
	NextIndex() (uint32, error)
}

// accountReader is implemented by readers that can return a whole account
// in one read; readAccount falls back to the field getters otherwise.
type accountReader interface {
	Account(idx uint32) (ledger.Account, error)
}

func readAccount(r Reader, idx uint32) (ledger.Account, error) {
	if ar, ok := r.(accountReader); ok {
		return ar.Account(idx)
	}
	var a ledger.Account
	var err error
	if a.Address, err = r.Address(idx); err != nil {
		return a, err
	}
	if a.PubKeyHash, err = r.PubKeyHash(idx); err != nil {
		return a, err
	}
	if a.Nonce, err = r.Nonce(idx); err != nil {
		return a, err
	}
	a.Balance, err = r.Balance(idx)
	return a, err
}

// Options configure Open.
type Options struct {
	// Depth of the account tree, in [1, ledger.MaxDepth]; 0 means
	// ledger.MaxDepth. An existing database must be reopened with the
	// depth it was created with.
	Depth int
	// FS is the file system; nil means the OS file system.
	FS vfs.FS
	// CacheAccounts bounds the in-memory flat account cache (entries);
	// 0 means 1<<20. When full the cache is emptied and refilled on demand.
	CacheAccounts int
	// BlockCacheBytes is the size of Pebble's block cache; 0 means
	// DefaultBlockCache. Pebble's own default (8 MiB) is thrashed by the
	// sequencer's write stream, and then every lookup of an absent
	// transaction hash reads index blocks from disk.
	BlockCacheBytes int64
	// MemTableBytes is the size of Pebble's memtable; 0 means
	// DefaultMemTable. Each memtable switch starts a new WAL file and a
	// flush, and the synced commits queued behind it wait: with Pebble's
	// 4 MiB default the sequencer switched about once a second at 5,000
	// tx/s, and its preconfirmation p99 doubled.
	MemTableBytes uint64
}

// Defaults of Options.
const (
	DefaultBlockCache = 256 << 20
	DefaultMemTable   = 64 << 20
)

// Store is the Pebble-backed L2 state: the flat state (the sequencer's
// latest state, see Batch) and the account tree (see Tree) in one database.
//
// The read methods (the Reader interface) serve committed flat state and
// are safe to call from many goroutines, concurrently with one Batch being
// committed. A read concurrent with a Commit may see that commit for some
// accounts and not yet for others; reads made after Commit returns see all
// of it. Writers must not commit batches concurrently with each other
// (Commit serializes them, but their contents must not be based on stale
// reads).
type Store struct {
	db         *pebble.DB
	depth      int
	cacheLimit int
	tree       *Tree
	closed     atomic.Bool
	// commitMu serializes Batch.Commit, so post-commit cache and tree
	// updates happen in commit order.
	commitMu sync.Mutex
	// next is the flat next free index.
	next atomic.Uint32

	mu struct {
		sync.RWMutex
		// gen counts commits; a reader fills the cache from Pebble only if
		// no commit finished since it started its read.
		gen uint64
		// accounts and index cache flat state; guarded by mu.
		accounts map[uint32]ledger.Account
		index    map[common.Address]lookupEntry
	}
}

type lookupEntry struct {
	idx uint32
	ok  bool
}

var _ Reader = (*Store)(nil)

// quietLogger drops Pebble's informational messages.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)           {}
func (quietLogger) Errorf(string, ...any)          {}
func (quietLogger) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// Open opens (creating if needed) the state database in dir. It fails with
// ErrDepth if opts.Depth is invalid or differs from the database's depth,
// with ErrCorrupt if stored metadata cannot be decoded, or with Pebble's
// error.
func Open(dir string, opts Options) (*Store, error) {
	depth := opts.Depth
	if depth == 0 {
		depth = ledger.MaxDepth
	}
	if depth < 1 || depth > ledger.MaxDepth {
		return nil, fmt.Errorf("%w: %d", ErrDepth, depth)
	}
	cacheBytes := opts.BlockCacheBytes
	if cacheBytes <= 0 {
		cacheBytes = DefaultBlockCache
	}
	cache := pebble.NewCache(cacheBytes)
	// The database holds its own reference.
	defer cache.Unref()
	memTable := opts.MemTableBytes
	if memTable == 0 {
		memTable = DefaultMemTable
	}
	po := &pebble.Options{FS: opts.FS, Logger: quietLogger{}, Cache: cache, MemTableSize: memTable}
	// Bloom filters make lookups of absent keys (a new address, a
	// transaction hash not seen yet) skip the tables that cannot hold them.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", dir, err)
	}
	s := &Store{db: db, depth: depth, cacheLimit: opts.CacheAccounts}
	if s.cacheLimit <= 0 {
		s.cacheLimit = 1 << 20
	}
	s.mu.accounts = map[uint32]ledger.Account{}
	s.mu.index = map[common.Address]lookupEntry{}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) load() error {
	v, err := s.get(keyDepth)
	switch {
	case errors.Is(err, ErrNotFound):
		if err := s.db.Set(keyDepth, []byte{byte(s.depth)}, pebble.Sync); err != nil {
			return fmt.Errorf("state: write depth: %w", err)
		}
	case err != nil:
		return err
	case len(v) != 1:
		return fmt.Errorf("%w: depth record", ErrCorrupt)
	case int(v[0]) != s.depth:
		return fmt.Errorf("%w: database has depth %d, opened with %d", ErrDepth, v[0], s.depth)
	}
	v, err = s.get(keyFlatNext)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		n, err := decodeU32(v)
		if err != nil {
			return err
		}
		s.next.Store(n)
	}
	s.tree, err = loadTree(s)
	return err
}

// Close closes the database. The store (and its Tree) must not be used
// afterwards; uncommitted batches are lost.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return ErrClosed
	}
	return s.db.Close()
}

// Depth returns the account tree depth.
func (s *Store) Depth() int { return s.depth }

// Tree returns the account tree stored in the same database.
func (s *Store) Tree() *Tree { return s.tree }

// get returns a copy of the value of key in r, or ErrNotFound.
func getFrom(r pebble.Reader, key []byte) ([]byte, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("state: read: %w", err)
	}
	out := bytes.Clone(v)
	return out, closeQuiet(c)
}

func closeQuiet(c io.Closer) error {
	if err := c.Close(); err != nil {
		return fmt.Errorf("state: read: %w", err)
	}
	return nil
}

func (s *Store) get(key []byte) ([]byte, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return getFrom(s.db, key)
}

// Get returns the value stored by another package under (ns, key), or
// ErrNotFound.
func (s *Store) Get(ns Namespace, key []byte) ([]byte, error) {
	return s.get(recordKey(ns, key))
}

// Has reports whether a record is stored under (ns, key). Unlike Get it
// consults the bloom filters of the last level too (Pebble skips them for
// Get, where keys are usually present), so a miss — the common answer for
// a new transaction hash — rarely reads a data block.
func (s *Store) Has(ns Namespace, key []byte) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	k := recordKey(ns, key)
	it, err := s.db.NewIter(&pebble.IterOptions{UseL6Filters: true})
	if err != nil {
		return false, err
	}
	// The default comparer's prefix of a key is the whole key: SeekPrefixGE
	// is an exact lookup that can be answered by the filters.
	found := it.SeekPrefixGE(k) && bytes.Equal(it.Key(), k)
	if err := it.Close(); err != nil {
		return false, err
	}
	return found, nil
}

// Scan calls fn for each record of namespace ns whose key starts with
// prefix, in key order, with the key without namespace. fn must not keep
// key or value after it returns. Scan stops at and returns fn's first error.
func (s *Store) Scan(ns Namespace, prefix []byte, fn func(key, value []byte) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	lower := recordKey(ns, prefix)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return fmt.Errorf("state: scan: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Key()[2:], it.Value()); err != nil {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("state: scan: %w", err)
	}
	return nil
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil if there is none.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Account returns the committed flat account at idx (the zero Account if
// the index is empty). It fails only on I/O or corruption.
func (s *Store) Account(idx uint32) (ledger.Account, error) {
	s.mu.RLock()
	a, ok := s.mu.accounts[idx]
	gen := s.mu.gen
	s.mu.RUnlock()
	if ok {
		return a, nil
	}
	v, err := s.get(idxKey(prefixFlatAccount, idx))
	switch {
	case errors.Is(err, ErrNotFound):
		a = ledger.Account{}
	case err != nil:
		return a, err
	default:
		if a, err = decodeAccount(v); err != nil {
			return a, fmt.Errorf("flat account %d: %w", idx, err)
		}
	}
	s.mu.Lock()
	if s.mu.gen == gen {
		if len(s.mu.accounts) >= s.cacheLimit {
			clear(s.mu.accounts)
		}
		s.mu.accounts[idx] = a
	}
	s.mu.Unlock()
	return a, nil
}

// Address implements Reader.
func (s *Store) Address(idx uint32) (common.Address, error) {
	a, err := s.Account(idx)
	return a.Address, err
}

// PubKeyHash implements Reader.
func (s *Store) PubKeyHash(idx uint32) (fr.Element, error) {
	a, err := s.Account(idx)
	return a.PubKeyHash, err
}

// Nonce implements Reader.
func (s *Store) Nonce(idx uint32) (uint32, error) {
	a, err := s.Account(idx)
	return a.Nonce, err
}

// Balance implements Reader.
func (s *Store) Balance(idx uint32) (uint256.Int, error) {
	a, err := s.Account(idx)
	return a.Balance, err
}

// Lookup returns the flat index of the account owned by addr.
func (s *Store) Lookup(addr common.Address) (uint32, bool, error) {
	s.mu.RLock()
	e, ok := s.mu.index[addr]
	gen := s.mu.gen
	s.mu.RUnlock()
	if ok {
		return e.idx, e.ok, nil
	}
	v, err := s.get(addrKey(prefixFlatIndex, addr))
	switch {
	case errors.Is(err, ErrNotFound):
		e = lookupEntry{}
	case err != nil:
		return 0, false, err
	default:
		i, err := decodeU32(v)
		if err != nil {
			return 0, false, err
		}
		e = lookupEntry{idx: i, ok: true}
	}
	s.mu.Lock()
	if s.mu.gen == gen {
		if len(s.mu.index) >= s.cacheLimit {
			clear(s.mu.index)
		}
		s.mu.index[addr] = e
	}
	s.mu.Unlock()
	return e.idx, e.ok, nil
}

// NextIndex returns the index the next new flat account receives.
func (s *Store) NextIndex() (uint32, error) { return s.next.Load(), nil }
