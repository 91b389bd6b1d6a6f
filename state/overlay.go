package state

import (
	"slices"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
	"github.com/veloxlabs/velox/ledger"
)

// Overlay is a ledger.State that reads through to a Reader and buffers
// its writes in memory, field by field, so that writing never fails. The
// sequential executor runs a mini-block on an Overlay of the Store and
// then writes it with WriteTo; BuildWitness uses one per operation.
// An Overlay is not safe for concurrent use.
type Overlay struct {
	base    Reader
	dirty   map[uint32]*dirtyAccount
	index   map[common.Address]uint32
	next    uint32
	nextSet bool
}

type dirtyAccount struct {
	a                                ledger.Account
	addr, pubKeyHash, nonce, balance bool
}

var _ ledger.State = (*Overlay)(nil)

// NewOverlay returns an empty overlay over base.
func NewOverlay(base Reader) *Overlay {
	return &Overlay{base: base, dirty: map[uint32]*dirtyAccount{}, index: map[common.Address]uint32{}}
}

func (o *Overlay) mark(idx uint32) *dirtyAccount {
	d := o.dirty[idx]
	if d == nil {
		d = &dirtyAccount{}
		o.dirty[idx] = d
	}
	return d
}

// Address implements ledger.State.
func (o *Overlay) Address(idx uint32) (common.Address, error) {
	if d := o.dirty[idx]; d != nil && d.addr {
		return d.a.Address, nil
	}
	return o.base.Address(idx)
}

// PubKeyHash implements ledger.State.
func (o *Overlay) PubKeyHash(idx uint32) (fr.Element, error) {
	if d := o.dirty[idx]; d != nil && d.pubKeyHash {
		return d.a.PubKeyHash, nil
	}
	return o.base.PubKeyHash(idx)
}

// Nonce implements ledger.State.
func (o *Overlay) Nonce(idx uint32) (uint32, error) {
	if d := o.dirty[idx]; d != nil && d.nonce {
		return d.a.Nonce, nil
	}
	return o.base.Nonce(idx)
}

// Balance implements ledger.State.
func (o *Overlay) Balance(idx uint32) (uint256.Int, error) {
	if d := o.dirty[idx]; d != nil && d.balance {
		return d.a.Balance, nil
	}
	return o.base.Balance(idx)
}

// Lookup implements ledger.State.
func (o *Overlay) Lookup(addr common.Address) (uint32, bool, error) {
	if i, ok := o.index[addr]; ok {
		return i, true, nil
	}
	return o.base.Lookup(addr)
}

// NextIndex implements ledger.State.
func (o *Overlay) NextIndex() (uint32, error) {
	if o.nextSet {
		return o.next, nil
	}
	return o.base.NextIndex()
}

// SetPubKeyHash implements ledger.State.
func (o *Overlay) SetPubKeyHash(idx uint32, h fr.Element) {
	d := o.mark(idx)
	d.a.PubKeyHash, d.pubKeyHash = h, true
}

// SetNonce implements ledger.State.
func (o *Overlay) SetNonce(idx uint32, n uint32) {
	d := o.mark(idx)
	d.a.Nonce, d.nonce = n, true
}

// SetBalance implements ledger.State.
func (o *Overlay) SetBalance(idx uint32, v uint256.Int) {
	d := o.mark(idx)
	d.a.Balance, d.balance = v, true
}

// Create implements ledger.State: addr owns idx, and the next index moves
// past idx. The caller (the ledger rules) guarantees idx == NextIndex().
func (o *Overlay) Create(idx uint32, addr common.Address) {
	d := o.mark(idx)
	d.a.Address, d.addr = addr, true
	o.index[addr] = idx
	if next, err := o.NextIndex(); err != nil || idx >= next {
		o.next = idx + 1
	}
	o.nextSet = true
}

// Account returns the account at idx with the overlay's writes applied.
// It fails only if the base read fails.
func (o *Overlay) Account(idx uint32) (ledger.Account, error) {
	d := o.dirty[idx]
	if d != nil && d.addr && d.pubKeyHash && d.nonce && d.balance {
		return d.a, nil
	}
	a, err := readAccount(o.base, idx)
	if err != nil || d == nil {
		return a, err
	}
	if d.addr {
		a.Address = d.a.Address
	}
	if d.pubKeyHash {
		a.PubKeyHash = d.a.PubKeyHash
	}
	if d.nonce {
		a.Nonce = d.a.Nonce
	}
	if d.balance {
		a.Balance = d.a.Balance
	}
	return a, nil
}

// Dirty returns the indices written, in increasing order.
func (o *Overlay) Dirty() []uint32 {
	idx := make([]uint32, 0, len(o.dirty))
	for i := range o.dirty {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx
}

// WriteTo writes every written account (merged with its base fields) and,
// if it moved, the next index into b. It fails if a base read or b fails;
// b may then hold part of the overlay and must be closed, not committed.
func (o *Overlay) WriteTo(b *Batch) error {
	for _, idx := range o.Dirty() {
		a, err := o.Account(idx)
		if err != nil {
			return err
		}
		if err := b.PutAccount(idx, a); err != nil {
			return err
		}
	}
	if o.nextSet {
		return b.SetNextIndex(o.next)
	}
	return nil
}
