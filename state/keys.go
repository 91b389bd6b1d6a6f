package state

import (
	"encoding/binary"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/veloxlabs/velox/ledger"
)

// Key layout. Every key starts with one prefix byte; the flat state, the
// account tree and other packages' records never share a prefix.
//
//	0x00 'd'                      → tree depth (1 byte), written at creation
//	0x01 idx(4, BE)               → flat account (accountSize bytes)
//	0x02 address(20)              → flat index of the address (4, BE)
//	0x03                          → flat next free index (4, BE)
//	0x10 level(1) pos(4, BE)      → tree node hash (32, canonical BE); level 0
//	                                 = leaf hash, level Depth = root. Only
//	                                 nodes that differ from the empty subtree
//	                                 hash of their level are stored.
//	0x11 idx(4, BE)               → tree leaf account (as of the last batch)
//	0x12 address(20)              → tree index of the address (4, BE)
//	0x13                          → tree meta: batch number (8) next index (4)
//	0x14 number(8, BE)            → tree root (32) after batch number
//	0x20 ns(1) key…               → records of other packages (Namespace ns)
const (
	prefixMeta        byte = 0x00
	prefixFlatAccount byte = 0x01
	prefixFlatIndex   byte = 0x02
	prefixFlatNext    byte = 0x03
	prefixTreeNode    byte = 0x10
	prefixTreeLeaf    byte = 0x11
	prefixTreeIndex   byte = 0x12
	prefixTreeMeta    byte = 0x13
	prefixTreeRoot    byte = 0x14
	prefixRecord      byte = 0x20
)

var (
	keyDepth    = []byte{prefixMeta, 'd'}
	keyFlatNext = []byte{prefixFlatNext}
	keyTreeMeta = []byte{prefixTreeMeta}
)

func idxKey(prefix byte, idx uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefix}, idx)
}

func addrKey(prefix byte, a common.Address) []byte {
	return append([]byte{prefix}, a[:]...)
}

func rootKey(number uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixTreeRoot}, number)
}

func nodeKey(level int, pos uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixTreeNode, byte(level)}, pos)
}

func recordKey(ns Namespace, key []byte) []byte {
	k := make([]byte, 0, 2+len(key))
	return append(append(k, prefixRecord, byte(ns)), key...)
}

// accountSize is the encoded size of an account: address(20) pubKeyHash(32)
// nonce(4) balance(32), all big-endian.
const accountSize = 20 + 32 + 4 + 32

func encodeAccount(a *ledger.Account) []byte {
	b := make([]byte, 0, accountSize)
	b = append(b, a.Address[:]...)
	h := a.PubKeyHash.Bytes()
	b = append(b, h[:]...)
	b = binary.BigEndian.AppendUint32(b, a.Nonce)
	v := a.Balance.Bytes32()
	return append(b, v[:]...)
}

func decodeAccount(b []byte) (ledger.Account, error) {
	var a ledger.Account
	if len(b) != accountSize {
		return a, fmt.Errorf("%w: account of %d bytes", ErrCorrupt, len(b))
	}
	copy(a.Address[:], b[:20])
	if err := a.PubKeyHash.SetBytesCanonical(b[20:52]); err != nil {
		return a, fmt.Errorf("%w: account pubKeyHash: %v", ErrCorrupt, err)
	}
	a.Nonce = binary.BigEndian.Uint32(b[52:56])
	a.Balance.SetBytes32(b[56:88])
	return a, nil
}

func encodeU32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func decodeU32(b []byte) (uint32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: index of %d bytes", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint32(b), nil
}

func encodeElement(e *fr.Element) []byte {
	b := e.Bytes()
	return b[:]
}

func decodeElement(b []byte) (fr.Element, error) {
	var e fr.Element
	if len(b) != fr.Bytes {
		return e, fmt.Errorf("%w: node of %d bytes", ErrCorrupt, len(b))
	}
	if err := e.SetBytesCanonical(b); err != nil {
		return e, fmt.Errorf("%w: node: %v", ErrCorrupt, err)
	}
	return e, nil
}
