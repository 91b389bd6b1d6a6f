package ledger

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// MaxDepth is the largest supported account tree depth; account indices are
// 32-bit.
const MaxDepth = 32

// FeeAccount is the index of the sequencer's fee account. It is created at
// genesis and credited once per batch with the batch's fees.
const FeeAccount uint32 = 0

// Account is the state of one leaf of the account tree. The zero Account is
// the empty leaf.
type Account struct {
	// Address is the L1 address that owns the account; zero means empty.
	Address common.Address
	// PubKeyHash is Hash(A.X, A.Y) of the account's L2 EdDSA key, zero
	// until the owner sets one with ChangePubKey.
	PubKeyHash fr.Element
	// Nonce is the number of L2 transactions the account has sent.
	Nonce uint32
	// Balance in wei; always below 2^128.
	Balance uint256.Int
}

// IsEmpty reports whether a is the empty leaf.
func (a *Account) IsEmpty() bool { return a.Address == (common.Address{}) }

// Hash returns the leaf hash: Hash(address, pubKeyHash, nonce, balance), or
// zero for the empty leaf.
func (a *Account) Hash() fr.Element {
	if a.IsEmpty() {
		return fr.Element{}
	}
	return Hash(AddressElement(a.Address), a.PubKeyHash, U32Element(a.Nonce), AmountElement(&a.Balance))
}

// AddressElement maps an address to the field element of its big-endian value.
func AddressElement(a common.Address) fr.Element {
	var e fr.Element
	e.SetBytes(a[:])
	return e
}

// U32Element maps a 32-bit integer to a field element.
func U32Element(v uint32) fr.Element {
	var e fr.Element
	e.SetUint64(uint64(v))
	return e
}

// AmountElement maps a (below 2^128) amount to a field element.
func AmountElement(v *uint256.Int) fr.Element {
	var e fr.Element
	b := v.Bytes32()
	e.SetBytes(b[:])
	return e
}

// maxU128 is 2^128-1.
var maxU128 = func() uint256.Int {
	var m uint256.Int
	m.SetAllOne()
	m.Rsh(&m, 128)
	return m
}()

// MaxAmount returns 2^128-1, the largest balance, amount or fee.
func MaxAmount() uint256.Int { return maxU128 }

// fitsU128 reports whether v < 2^128.
func fitsU128(v *uint256.Int) bool { return v[2] == 0 && v[3] == 0 }
