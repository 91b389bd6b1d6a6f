package state

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/veloxlabs/velox/ledger"
)

// Namespace partitions the records other packages keep in the state
// database (receipts, mini-blocks, batch records…), so that they can be
// written in the same atomic Batch as the state they describe. A record
// (ns, key) is stored under the key 0x20 ns key, apart from the state's own
// keys. The constants below are reserved for the packages named; other
// packages pick an unused value and document it here.
type Namespace byte

const (
	// NamespaceMiniBlock: sequencer mini-blocks by number.
	NamespaceMiniBlock Namespace = 0x01
	// NamespaceReceipt: sequencer receipts by transaction hash.
	NamespaceReceipt Namespace = 0x02
	// NamespaceTx: transaction status and position by hash.
	NamespaceTx Namespace = 0x03
	// NamespaceBatch: proving batch records by number.
	NamespaceBatch Namespace = 0x04
	// NamespaceMeta: singleton records (heads, cursors) of any package.
	NamespaceMeta Namespace = 0x05
	// NamespaceSettlement: settlement submitter and L1 watcher progress.
	NamespaceSettlement Namespace = 0x06
	// NamespaceFailedTx: hashes of the sequencer's transactions that failed
	// at execution (their nonce stays unused), kept for duplicate checks.
	NamespaceFailedTx Namespace = 0x07
)

// Batch is one atomic write to the store: flat accounts, the next index,
// optionally one tree update, and other packages' records. Nothing is
// visible to readers until Commit, and then all of it is (never part).
// A Batch is not safe for concurrent use; it is used once and then
// discarded by Commit or Close.
type Batch struct {
	s        *Store
	b        *pebble.Batch
	accounts map[uint32]ledger.Account
	index    map[common.Address]lookupEntry
	next     uint32
	nextSet  bool
	tree     *TreeUpdate
	done     bool
}

// NewBatch starts an empty batch.
func (s *Store) NewBatch() *Batch {
	return &Batch{
		s:        s,
		b:        s.db.NewBatch(),
		accounts: map[uint32]ledger.Account{},
		index:    map[common.Address]lookupEntry{},
	}
}

// account returns the flat account at idx as this batch leaves it.
func (b *Batch) account(idx uint32) (ledger.Account, error) {
	if a, ok := b.accounts[idx]; ok {
		return a, nil
	}
	return b.s.Account(idx)
}

// PutAccount writes the flat account at idx, and the address → index entry
// when the account's owner is new. Putting the zero Account deletes it.
// It fails with ErrIndexRange if idx does not fit the tree depth, ErrClosed
// after Commit or Close, or on a read error.
func (b *Batch) PutAccount(idx uint32, a ledger.Account) error {
	if b.done {
		return ErrClosed
	}
	if uint64(idx) >= uint64(1)<<b.s.depth {
		return fmt.Errorf("%w: %d at depth %d", ErrIndexRange, idx, b.s.depth)
	}
	prev, err := b.account(idx)
	if err != nil {
		return err
	}
	if prev.Address != a.Address {
		if !prev.IsEmpty() {
			if err := b.b.Delete(addrKey(prefixFlatIndex, prev.Address), nil); err != nil {
				return fmt.Errorf("state: batch: %w", err)
			}
			b.index[prev.Address] = lookupEntry{}
		}
		if !a.IsEmpty() {
			if err := b.b.Set(addrKey(prefixFlatIndex, a.Address), encodeU32(idx), nil); err != nil {
				return fmt.Errorf("state: batch: %w", err)
			}
			b.index[a.Address] = lookupEntry{idx: idx, ok: true}
		}
	}
	if a == (ledger.Account{}) {
		err = b.b.Delete(idxKey(prefixFlatAccount, idx), nil)
	} else {
		err = b.b.Set(idxKey(prefixFlatAccount, idx), encodeAccount(&a), nil)
	}
	if err != nil {
		return fmt.Errorf("state: batch: %w", err)
	}
	b.accounts[idx] = a
	return nil
}

// SetNextIndex sets the flat next free index.
func (b *Batch) SetNextIndex(n uint32) error {
	if b.done {
		return ErrClosed
	}
	if err := b.b.Set(keyFlatNext, encodeU32(n), nil); err != nil {
		return fmt.Errorf("state: batch: %w", err)
	}
	b.next, b.nextSet = n, true
	return nil
}

// Set writes the record (ns, key) = value. key and value may be reused by
// the caller after Set returns.
func (b *Batch) Set(ns Namespace, key, value []byte) error {
	if b.done {
		return ErrClosed
	}
	if err := b.b.Set(recordKey(ns, key), value, nil); err != nil {
		return fmt.Errorf("state: batch: %w", err)
	}
	return nil
}

// Delete removes the record (ns, key); deleting a missing record is not an
// error.
func (b *Batch) Delete(ns Namespace, key []byte) error {
	if b.done {
		return ErrClosed
	}
	if err := b.b.Delete(recordKey(ns, key), nil); err != nil {
		return fmt.Errorf("state: batch: %w", err)
	}
	return nil
}

// PutTree adds a tree update (from BuildWitness or Tree.Update) to the
// batch; the tree moves to the update's root when the batch commits. A
// batch carries at most one tree update. It fails with ErrStale if u is
// not based on the tree's current root, was already committed, is nil, or
// belongs to another store.
func (b *Batch) PutTree(u *TreeUpdate) error {
	if b.done {
		return ErrClosed
	}
	if b.tree != nil {
		return fmt.Errorf("%w: batch already carries a tree update", ErrStale)
	}
	if u == nil || u.tree != b.s.tree {
		return fmt.Errorf("%w: update of another store", ErrStale)
	}
	if err := u.tree.checkBase(u); err != nil {
		return err
	}
	if err := u.write(b.b); err != nil {
		return err
	}
	b.tree = u
	return nil
}

// Commit applies the batch atomically and, if sync, durably (fsync) before
// returning. After a crash a synced batch is fully present; an unsynced
// one is fully present or fully absent. The batch cannot be used
// afterwards, whatever the outcome. It fails with ErrStale if the batch
// carries a tree update and the tree moved since it was built (nothing is
// written then), or with Pebble's error.
func (b *Batch) Commit(sync bool) error {
	if b.done {
		return ErrClosed
	}
	b.done = true
	defer b.b.Close()
	s := b.s
	if s.closed.Load() {
		return ErrClosed
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if b.tree != nil {
		if err := s.tree.checkBase(b.tree); err != nil {
			return err
		}
	}
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	if err := b.b.Commit(opts); err != nil {
		return fmt.Errorf("state: commit: %w", err)
	}
	if b.nextSet {
		s.next.Store(b.next)
	}
	s.mu.Lock()
	s.mu.gen++
	if len(s.mu.accounts)+len(b.accounts) > s.cacheLimit {
		clear(s.mu.accounts)
	}
	if len(s.mu.index)+len(b.index) > s.cacheLimit {
		clear(s.mu.index)
	}
	for idx, a := range b.accounts {
		s.mu.accounts[idx] = a
	}
	for addr, e := range b.index {
		s.mu.index[addr] = e
	}
	s.mu.Unlock()
	if b.tree != nil {
		s.tree.applied(b.tree)
	}
	return nil
}

// Close discards an uncommitted batch; it is a no-op after Commit.
func (b *Batch) Close() {
	if !b.done {
		b.done = true
		_ = b.b.Close()
	}
}
