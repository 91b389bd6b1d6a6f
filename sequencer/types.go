package sequencer

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// HeaderSize is the length of Header.Encode.
const HeaderSize = 8 + 8 + 32 + 8 + 8 + 32 + 32

// Header is a mini-block header. The sequencer signs Hash() with its
// secp256k1 key; anyone knowing the sequencer address checks it with
// VerifyHeader.
type Header struct {
	ChainID uint64
	// Number counts mini-blocks from 1.
	Number uint64
	// Parent is the previous header's hash (zero for block 1).
	Parent common.Hash
	// Time is the production time in microseconds since the Unix epoch.
	Time uint64
	// Batch is the proving batch this block's operations belong to (a
	// mini-block never spans two batches).
	Batch uint64
	// TxRoot is MerkleRoot of the entries' hashes, ReceiptRoot of the
	// hashes (keccak256) of the receipts' encodings, in block order.
	TxRoot, ReceiptRoot common.Hash
}

// Encode returns the 128-byte encoding: chainID (8) number (8) parent (32)
// time (8) batch (8) txRoot (32) receiptRoot (32), integers big-endian.
func (h *Header) Encode() []byte {
	b := make([]byte, 0, HeaderSize)
	b = binary.BigEndian.AppendUint64(b, h.ChainID)
	b = binary.BigEndian.AppendUint64(b, h.Number)
	b = append(b, h.Parent[:]...)
	b = binary.BigEndian.AppendUint64(b, h.Time)
	b = binary.BigEndian.AppendUint64(b, h.Batch)
	b = append(b, h.TxRoot[:]...)
	return append(b, h.ReceiptRoot[:]...)
}

func decodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) != HeaderSize {
		return h, fmt.Errorf("%w: header of %d bytes", ErrCorrupt, len(b))
	}
	h.ChainID = binary.BigEndian.Uint64(b)
	h.Number = binary.BigEndian.Uint64(b[8:])
	copy(h.Parent[:], b[16:48])
	h.Time = binary.BigEndian.Uint64(b[48:])
	h.Batch = binary.BigEndian.Uint64(b[56:])
	copy(h.TxRoot[:], b[64:96])
	copy(h.ReceiptRoot[:], b[96:128])
	return h, nil
}

// Hash is keccak256(Encode()), the digest the sequencer signs.
func (h *Header) Hash() common.Hash { return crypto.Keccak256Hash(h.Encode()) }

// VerifyHeader checks that sig (65 bytes r ‖ s ‖ v, v ∈ {0, 1}, as
// go-ethereum's crypto.Sign makes) is signer's signature of h.Hash(). It
// returns ErrBadHeaderSignature otherwise.
func VerifyHeader(h *Header, sig []byte, signer common.Address) error {
	if len(sig) != crypto.SignatureLength {
		return fmt.Errorf("%w: %d bytes", ErrBadHeaderSignature, len(sig))
	}
	hash := h.Hash()
	pub, err := crypto.SigToPub(hash[:], sig)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadHeaderSignature, err)
	}
	if got := crypto.PubkeyToAddress(*pub); got != signer {
		return fmt.Errorf("%w: signed by %v, want %v", ErrBadHeaderSignature, got, signer)
	}
	return nil
}

// MerkleRoot is the root of a binary keccak256 Merkle tree over leaves:
// each level hashes pairs keccak256(left ‖ right), an odd last node moves
// up unchanged; one leaf is its own root, no leaves give the zero hash.
func MerkleRoot(leaves []common.Hash) common.Hash {
	if len(leaves) == 0 {
		return common.Hash{}
	}
	level := append([]common.Hash(nil), leaves...)
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			next = append(next, crypto.Keccak256Hash(level[i][:], level[i+1][:]))
		}
		level = next
	}
	return level[0]
}

// TxHash is the hash of an L2 transaction: keccak256 of its encoding.
func TxHash(raw []byte) common.Hash { return crypto.Keccak256Hash(raw) }

// depositSize is the length of encodeDeposit.
const depositSize = 1 + 8 + 20 + 16

// encodeDeposit is 0x01 ‖ id (8) ‖ address (20) ‖ amount (16).
func encodeDeposit(d *ledger.Deposit) []byte {
	b := make([]byte, 0, depositSize)
	b = append(b, byte(ledger.OpDeposit))
	b = binary.BigEndian.AppendUint64(b, d.ID)
	b = append(b, d.Address[:]...)
	a := d.Amount.Bytes32()
	return append(b, a[16:]...)
}

func decodeDeposit(b []byte) (*ledger.Deposit, error) {
	if len(b) != depositSize || b[0] != byte(ledger.OpDeposit) {
		return nil, fmt.Errorf("%w: deposit of %d bytes", ErrCorrupt, len(b))
	}
	d := &ledger.Deposit{ID: binary.BigEndian.Uint64(b[1:])}
	copy(d.Address[:], b[9:29])
	d.Amount.SetBytes(b[29:45])
	return d, nil
}

// DepositHash identifies a deposit like a transaction hash:
// keccak256(0x01 ‖ id (8) ‖ address (20) ‖ amount (16)). It cannot collide
// with an L2 transaction hash in practice (different encoding lengths).
func DepositHash(d *ledger.Deposit) common.Hash { return crypto.Keccak256Hash(encodeDeposit(d)) }

// Entry is one entry of a mini-block: an L2 transaction or a deposit.
type Entry struct {
	Hash common.Hash
	// Raw is the transaction's wire encoding; nil for a deposit.
	Raw []byte
	// Deposit is set for a priority operation.
	Deposit *ledger.Deposit
}

// Receipt is the outcome of one entry, as preconfirmed.
type Receipt struct {
	TxHash   common.Hash
	Block    uint64
	Position uint32
	Batch    uint64
	// Err is nil on success, else the ledger rule that failed at execution
	// (errors.Is matches the ledger sentinel).
	Err error
	// Op is the executed operation; meaningful only when Err is nil.
	Op ledger.Op
}

// OK reports whether the entry executed successfully.
func (r *Receipt) OK() bool { return r.Err == nil }

// MiniBlock is a committed mini-block with its entries and receipts.
type MiniBlock struct {
	Header    Header
	Hash      common.Hash
	Signature []byte
	// CutAfter reports that the proving batch Header.Batch ends with this
	// block.
	CutAfter bool
	Entries  []Entry
	Receipts []Receipt
}

// Preconfirmation is what Submit returns once the transaction's mini-block
// is durably committed: its receipt and the signed header of its block.
type Preconfirmation struct {
	Receipt    Receipt
	Header     Header
	HeaderHash common.Hash
	// Signature is the sequencer's signature of HeaderHash (see
	// VerifyHeader).
	Signature []byte
}

// Status is a transaction's place on the finality ladder (DESIGN.md §1).
type Status uint8

const (
	// StatusQueued: admitted, in the mempool, not yet in a mini-block.
	StatusQueued Status = iota + 1
	// StatusPreconfirmed: executed successfully in a committed mini-block.
	StatusPreconfirmed
	// StatusProven: its batch has a validity proof.
	StatusProven
	// StatusFinalized: L1 accepted its batch and the L1 block is final.
	StatusFinalized
	// StatusFailed: executed in a committed mini-block, a rule failed.
	StatusFailed
)

func (s Status) String() string {
	switch s {
	case StatusQueued:
		return "queued"
	case StatusPreconfirmed:
		return "preconfirmed"
	case StatusProven:
		return "proven"
	case StatusFinalized:
		return "finalized"
	case StatusFailed:
		return "failed"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// TxStatus is a transaction's status and position. Block, Position and
// Batch are zero while queued; Err is the failed rule.
type TxStatus struct {
	Hash     common.Hash
	Status   Status
	Block    uint64
	Position uint32
	Batch    uint64
	Err      error
}

// BatchStatus is the state of a proving batch.
type BatchStatus uint8

const (
	// BatchCut: closed, witness built, tree advanced; waiting for a proof.
	BatchCut BatchStatus = iota + 1
	// BatchProven: the proof is recorded; waiting for settlement.
	BatchProven
	// BatchSubmitted: the Settler accepted it; waiting for L1 finality.
	BatchSubmitted
	// BatchFinalized: final on L1.
	BatchFinalized
)

func (s BatchStatus) String() string {
	switch s {
	case BatchCut:
		return "cut"
	case BatchProven:
		return "proven"
	case BatchSubmitted:
		return "submitted"
	case BatchFinalized:
		return "finalized"
	}
	return fmt.Sprintf("batchStatus(%d)", uint8(s))
}

// BatchRecord describes a cut proving batch.
type BatchRecord struct {
	Number uint64
	Status BatchStatus
	// OldRoot and NewRoot are the account tree roots before and after the
	// batch (after its fee credit).
	OldRoot, NewRoot fr.Element
	// FirstBlock and LastBlock are the mini-blocks whose operations it
	// holds (FirstBlock > LastBlock if it holds none).
	FirstBlock, LastBlock uint64
	// Ops are the hashes of the transactions and deposits of its
	// operations, in order; Used their chunks (the rest is Noop padding).
	Ops         []common.Hash
	Used        int
	PriorityOps uint32
	FeeTotal    uint256.Int
	Pubdata     []byte
	Proof       []byte
	CutAt       time.Time
	ProvenAt    time.Time
}

// StatusEvent is published to status subscribers when a transaction's
// status changes. Events of one transaction are delivered in order.
type StatusEvent = TxStatus
