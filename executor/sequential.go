package executor

import (
	"context"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// Sequential executes txs one after another against base: the reference
// Parallel is tested against. It returns ctx.Err() if ctx is cancelled,
// and an error wrapping ErrBase if base fails; rule violations are not
// errors but receipts.
func Sequential(ctx context.Context, base Base, txs []Tx, p ledger.Params) (*Result, error) {
	res := &Result{Receipts: make([]Receipt, len(txs)), Stats: Stats{Workers: 1, SequentialFrom: len(txs)}}
	s := newSeqState(base, len(txs))
	checks, err := runSequential(ctx, s, txs, p, res.Receipts, func(i int) *prepared { return nil })
	if err != nil {
		return nil, err
	}
	res.Stats.Executions = len(txs)
	res.Stats.Checks = checks
	if res.Writes, err = s.writes(); err != nil {
		return nil, err
	}
	if res.NextIndex, err = s.NextIndex(); err != nil {
		return nil, err
	}
	sumFees(&res.Fees, res.Receipts)
	return res, nil
}

// runSequential applies txs in order to s and fills receipts. cached(i)
// returns the already prepared txs[i], or nil to prepare it here. It
// returns the number of ledger.Check calls made.
func runSequential(ctx context.Context, s *seqState, txs []Tx, p ledger.Params, receipts []Receipt, cached func(i int) *prepared) (int, error) {
	checks := 0
	for i := range txs {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return checks, err
			}
		}
		pr := cached(i)
		if pr == nil {
			x, checked := prepare(&txs[i], p)
			if checked {
				checks++
			}
			pr = &x
		}
		op, err := pr.apply(s, p)
		if s.err != nil {
			return checks, s.err
		}
		receipts[i] = Receipt{Op: op, Err: err}
	}
	return checks, nil
}

func sumFees(total *uint256.Int, receipts []Receipt) {
	for i := range receipts {
		if receipts[i].Err == nil {
			total.Add(total, &receipts[i].Op.Fee)
		}
	}
}

// Field bits of seqAccount.loaded.
const (
	fieldAddress = iota
	fieldPubKeyHash
	fieldNonce
	fieldBalance
	numFields
)

type seqAccount struct {
	a       ledger.Account
	loaded  uint8 // bit per field read from base or written
	written bool
}

// seqState is a ledger.State that buffers the block's writes over base and
// reads each base field at most once.
type seqState struct {
	base     Base
	accounts map[uint32]*seqAccount
	last     *seqAccount
	lastIdx  uint32
	created  map[common.Address]uint32
	next     uint32
	nextOK   bool
	// err is the first base error; it fails the block.
	err error
}

var _ ledger.State = (*seqState)(nil)

func newSeqState(base Base, n int) *seqState {
	return &seqState{base: base, accounts: make(map[uint32]*seqAccount, 2*n), created: map[common.Address]uint32{}}
}

func (s *seqState) fail(err error) error {
	err = fmt.Errorf("%w: %w", ErrBase, err)
	if s.err == nil {
		s.err = err
	}
	return err
}

func (s *seqState) account(idx uint32) *seqAccount {
	if s.last != nil && s.lastIdx == idx {
		return s.last
	}
	a := s.accounts[idx]
	if a == nil {
		a = &seqAccount{}
		s.accounts[idx] = a
	}
	s.last, s.lastIdx = a, idx
	return a
}

// load makes field f of a (at idx) present.
func (s *seqState) load(idx uint32, a *seqAccount, f int) error {
	if a.loaded&(1<<f) != 0 {
		return nil
	}
	var err error
	switch f {
	case fieldAddress:
		a.a.Address, err = s.base.Address(idx)
	case fieldPubKeyHash:
		a.a.PubKeyHash, err = s.base.PubKeyHash(idx)
	case fieldNonce:
		a.a.Nonce, err = s.base.Nonce(idx)
	case fieldBalance:
		a.a.Balance, err = s.base.Balance(idx)
	}
	if err != nil {
		return s.fail(err)
	}
	a.loaded |= 1 << f
	return nil
}

func (s *seqState) Address(idx uint32) (common.Address, error) {
	a := s.account(idx)
	err := s.load(idx, a, fieldAddress)
	return a.a.Address, err
}

func (s *seqState) PubKeyHash(idx uint32) (fr.Element, error) {
	a := s.account(idx)
	err := s.load(idx, a, fieldPubKeyHash)
	return a.a.PubKeyHash, err
}

func (s *seqState) Nonce(idx uint32) (uint32, error) {
	a := s.account(idx)
	err := s.load(idx, a, fieldNonce)
	return a.a.Nonce, err
}

func (s *seqState) Balance(idx uint32) (uint256.Int, error) {
	a := s.account(idx)
	err := s.load(idx, a, fieldBalance)
	return a.a.Balance, err
}

func (s *seqState) Lookup(addr common.Address) (uint32, bool, error) {
	if idx, ok := s.created[addr]; ok {
		return idx, true, nil
	}
	idx, ok, err := s.base.Lookup(addr)
	if err != nil {
		return 0, false, s.fail(err)
	}
	return idx, ok, nil
}

func (s *seqState) NextIndex() (uint32, error) {
	if !s.nextOK {
		n, err := s.base.NextIndex()
		if err != nil {
			return 0, s.fail(err)
		}
		s.next, s.nextOK = n, true
	}
	return s.next, nil
}

func (s *seqState) SetPubKeyHash(idx uint32, h fr.Element) {
	a := s.account(idx)
	a.a.PubKeyHash, a.loaded, a.written = h, a.loaded|1<<fieldPubKeyHash, true
}

func (s *seqState) SetNonce(idx uint32, n uint32) {
	a := s.account(idx)
	a.a.Nonce, a.loaded, a.written = n, a.loaded|1<<fieldNonce, true
}

func (s *seqState) SetBalance(idx uint32, v uint256.Int) {
	a := s.account(idx)
	a.a.Balance, a.loaded, a.written = v, a.loaded|1<<fieldBalance, true
}

func (s *seqState) Create(idx uint32, addr common.Address) {
	a := s.account(idx)
	a.a.Address, a.loaded, a.written = addr, a.loaded|1<<fieldAddress, true
	s.created[addr] = idx
	s.next, s.nextOK = idx+1, true
}

// writes returns every written account with all its fields.
func (s *seqState) writes() (map[uint32]ledger.Account, error) {
	w := make(map[uint32]ledger.Account, len(s.accounts))
	for idx, a := range s.accounts {
		if !a.written {
			continue
		}
		for f := range numFields {
			if err := s.load(idx, a, f); err != nil {
				return nil, err
			}
		}
		w[idx] = a.a
	}
	return w, nil
}
