package ledger

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// MemState is an in-memory State, for tests and tools. The zero value is
// not usable; call NewMemState.
type MemState struct {
	Accounts map[uint32]*Account
	Index    map[common.Address]uint32
	Next     uint32
}

var _ State = (*MemState)(nil)

// NewMemState returns an empty state whose first new account gets index 0.
func NewMemState() *MemState {
	return &MemState{Accounts: map[uint32]*Account{}, Index: map[common.Address]uint32{}}
}

// Clone returns a deep copy.
func (m *MemState) Clone() *MemState {
	c := &MemState{Accounts: make(map[uint32]*Account, len(m.Accounts)), Index: make(map[common.Address]uint32, len(m.Index)), Next: m.Next}
	for k, v := range m.Accounts {
		a := *v
		c.Accounts[k] = &a
	}
	for k, v := range m.Index {
		c.Index[k] = v
	}
	return c
}

// Account returns the account at idx (the zero Account if empty).
func (m *MemState) Account(idx uint32) Account {
	if a := m.Accounts[idx]; a != nil {
		return *a
	}
	return Account{}
}

func (m *MemState) acc(idx uint32) *Account {
	a := m.Accounts[idx]
	if a == nil {
		a = &Account{}
		m.Accounts[idx] = a
	}
	return a
}

func (m *MemState) Address(idx uint32) (common.Address, error) { return m.Account(idx).Address, nil }
func (m *MemState) PubKeyHash(idx uint32) (fr.Element, error)  { return m.Account(idx).PubKeyHash, nil }
func (m *MemState) Nonce(idx uint32) (uint32, error)           { return m.Account(idx).Nonce, nil }
func (m *MemState) Balance(idx uint32) (uint256.Int, error)    { return m.Account(idx).Balance, nil }
func (m *MemState) Lookup(addr common.Address) (uint32, bool, error) {
	i, ok := m.Index[addr]
	return i, ok, nil
}
func (m *MemState) NextIndex() (uint32, error)             { return m.Next, nil }
func (m *MemState) SetPubKeyHash(idx uint32, h fr.Element) { m.acc(idx).PubKeyHash = h }
func (m *MemState) SetNonce(idx uint32, n uint32)          { m.acc(idx).Nonce = n }
func (m *MemState) SetBalance(idx uint32, v uint256.Int)   { m.acc(idx).Balance = v }
func (m *MemState) Create(idx uint32, addr common.Address) {
	m.acc(idx).Address = addr
	m.Index[addr] = idx
	if idx >= m.Next {
		m.Next = idx + 1
	}
}
