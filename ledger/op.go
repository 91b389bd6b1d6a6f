package ledger

import (
	"encoding/binary"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// OpType identifies an executed operation in pubdata.
type OpType uint8

// Operation types (docs/PROTOCOL.md §8).
const (
	OpNoop          OpType = 0x00
	OpDeposit       OpType = 0x01
	OpTransfer      OpType = 0x02
	OpTransferToNew OpType = 0x03
	OpWithdraw      OpType = 0x04
	OpChangePubKey  OpType = 0x05
)

// ChunkSize is the pubdata unit: every operation occupies a fixed number of
// 16-byte chunks, and a batch of N slots carries exactly N chunks.
const ChunkSize = 16

// Chunks returns the number of chunks (batch slots) an operation type
// occupies, or 0 for an unknown type.
func (t OpType) Chunks() int {
	switch t {
	case OpNoop, OpTransfer:
		return 1
	case OpDeposit, OpTransferToNew, OpWithdraw:
		return 3
	case OpChangePubKey:
		return 8
	}
	return 0
}

// IsPriority reports whether the operation comes from the L1 priority queue.
func (t OpType) IsPriority() bool { return t == OpDeposit }

func (t OpType) String() string {
	switch t {
	case OpNoop:
		return "noop"
	case OpDeposit:
		return "deposit"
	case OpTransfer:
		return "transfer"
	case OpTransferToNew:
		return "transferToNew"
	case OpWithdraw:
		return "withdraw"
	case OpChangePubKey:
		return "changePubKey"
	}
	return fmt.Sprintf("op(0x%02x)", uint8(t))
}

// Deposit is an L1 priority operation crediting an address.
type Deposit struct {
	// ID is the position of the operation in the L1 priority queue.
	ID      uint64
	Address common.Address
	Amount  uint256.Int
}

// Op is an operation as executed: the transaction (or deposit) with its
// account indices resolved. It is what pubdata records and what the circuit
// proves, one per batch slot group.
type Op struct {
	Type OpType
	// Account is the sender (Transfer, Withdraw), the credited account
	// (Deposit) or the account whose key changes (ChangePubKey).
	Account uint32
	// To is the recipient index of a Transfer or TransferToNew.
	To uint32
	// Address is the deposit owner, the new recipient of a
	// TransferToNew, the L1 recipient of a Withdraw, or the owner of the
	// account in a ChangePubKey.
	Address common.Address
	Amount  uint256.Int
	Fee     uint256.Int
	// Nonce is the account nonce the transaction consumed.
	Nonce uint32
	// L2 authorization of Transfer/Withdraw (kept for the circuit witness).
	PubKey    PubKey
	Signature Signature
	// ChangePubKey fields.
	NewPubKeyHash fr.Element
	EthSignature  [EthSigSize]byte
	// PriorityID is the L1 queue position of a Deposit.
	PriorityID uint64
}

// Pubdata appends the operation's pubdata (Chunks()·16 bytes) to b.
func (op *Op) Pubdata(b []byte) ([]byte, error) {
	n := op.Type.Chunks()
	if n == 0 {
		return b, fmt.Errorf("%w: operation type 0x%02x", ErrUnknownType, uint8(op.Type))
	}
	start := len(b)
	b = append(b, byte(op.Type))
	switch op.Type {
	case OpNoop:
	case OpDeposit:
		if !fitsU128(&op.Amount) {
			return b[:start], ErrAmountRange
		}
		b = binary.BigEndian.AppendUint32(b, op.Account)
		b = append(b, op.Address[:]...)
		b = appendU128(b, &op.Amount)
	case OpTransfer, OpTransferToNew:
		b = binary.BigEndian.AppendUint32(b, op.Account)
		b = binary.BigEndian.AppendUint32(b, op.To)
		if op.Type == OpTransferToNew {
			b = append(b, op.Address[:]...)
		}
		a, err := PackAmount(&op.Amount)
		if err != nil {
			return b[:start], err
		}
		f, err := PackFee(&op.Fee)
		if err != nil {
			return b[:start], err
		}
		b = append(b, a[:]...)
		b = append(b, f[:]...)
	case OpWithdraw:
		if !fitsU128(&op.Amount) {
			return b[:start], ErrAmountRange
		}
		b = binary.BigEndian.AppendUint32(b, op.Account)
		b = append(b, op.Address[:]...)
		b = appendU128(b, &op.Amount)
		f, err := PackFee(&op.Fee)
		if err != nil {
			return b[:start], err
		}
		b = append(b, f[:]...)
	case OpChangePubKey:
		b = binary.BigEndian.AppendUint32(b, op.Account)
		b = append(b, op.Address[:]...)
		h := op.NewPubKeyHash.Bytes()
		b = append(b, h[:]...)
		b = binary.BigEndian.AppendUint32(b, op.Nonce)
		b = append(b, op.EthSignature[:]...)
	}
	for len(b) < start+n*ChunkSize {
		b = append(b, 0)
	}
	return b, nil
}

// DecodePubdata parses a batch's pubdata into its operations (Noop padding
// included). Fields that pubdata does not carry (signatures of L2
// transactions, nonces of transfers, priority IDs) are left zero. It
// returns an error for a truncated operation, an unknown type, non-zero
// padding or a non-canonical field: a pubKeyHash not below r, or a packed
// amount or fee that does not use the smallest exponent (PackAmount and
// PackFee's choice), so that DecodePubdata accepts exactly the bytes
// Pubdata produces.
func DecodePubdata(p []byte) ([]Op, error) {
	if len(p)%ChunkSize != 0 {
		return nil, fmt.Errorf("%w: pubdata length %d is not a multiple of %d", ErrMalformed, len(p), ChunkSize)
	}
	var ops []Op
	for off := 0; off < len(p); {
		t := OpType(p[off])
		n := t.Chunks()
		if n == 0 {
			return nil, fmt.Errorf("%w: operation type 0x%02x at offset %d", ErrUnknownType, p[off], off)
		}
		if off+n*ChunkSize > len(p) {
			return nil, fmt.Errorf("%w: %v at offset %d is truncated", ErrMalformed, t, off)
		}
		op, used, err := decodeOp(t, p[off+1:off+n*ChunkSize])
		if err != nil {
			return nil, fmt.Errorf("%v at offset %d: %w", t, off, err)
		}
		for _, c := range p[off+1+used : off+n*ChunkSize] {
			if c != 0 {
				return nil, fmt.Errorf("%w: %v at offset %d has non-zero padding", ErrMalformed, t, off)
			}
		}
		ops = append(ops, op)
		off += n * ChunkSize
	}
	return ops, nil
}

// decodeOp decodes the body (after the type byte) and reports the bytes used.
func decodeOp(t OpType, r []byte) (Op, int, error) {
	op := Op{Type: t}
	used := 0
	take := func(n int) []byte { s := r[used : used+n]; used += n; return s }
	switch t {
	case OpNoop:
	case OpDeposit:
		op.Account = binary.BigEndian.Uint32(take(4))
		copy(op.Address[:], take(20))
		op.Amount.SetBytes(take(16))
	case OpTransfer, OpTransferToNew:
		op.Account = binary.BigEndian.Uint32(take(4))
		op.To = binary.BigEndian.Uint32(take(4))
		if t == OpTransferToNew {
			copy(op.Address[:], take(20))
		}
		var a [PackedAmountSize]byte
		var f [PackedFeeSize]byte
		copy(a[:], take(PackedAmountSize))
		copy(f[:], take(PackedFeeSize))
		if !canonicalPacking(a[:], amountMantissaLimit) || !canonicalPacking(f[:], feeMantissaLimit) {
			return op, used, fmt.Errorf("%w: packed amount or fee does not use the smallest exponent", ErrNonCanonical)
		}
		var err error
		if op.Amount, err = UnpackAmount(a); err != nil {
			return op, used, err
		}
		op.Fee = UnpackFee(f)
	case OpWithdraw:
		op.Account = binary.BigEndian.Uint32(take(4))
		copy(op.Address[:], take(20))
		op.Amount.SetBytes(take(16))
		var f [PackedFeeSize]byte
		copy(f[:], take(PackedFeeSize))
		if !canonicalPacking(f[:], feeMantissaLimit) {
			return op, used, fmt.Errorf("%w: packed fee does not use the smallest exponent", ErrNonCanonical)
		}
		op.Fee = UnpackFee(f)
	case OpChangePubKey:
		op.Account = binary.BigEndian.Uint32(take(4))
		copy(op.Address[:], take(20))
		if err := op.NewPubKeyHash.SetBytesCanonical(take(32)); err != nil {
			return op, used, fmt.Errorf("%w: pubKeyHash", ErrNonCanonical)
		}
		op.Nonce = binary.BigEndian.Uint32(take(4))
		copy(op.EthSignature[:], take(EthSigSize))
	}
	return op, used, nil
}

// Pubdata encodes ops and pads with Noop chunks up to slots chunks. It fails
// if the operations need more than slots chunks.
func Pubdata(ops []Op, slots int) ([]byte, error) {
	if slots < 0 {
		return nil, fmt.Errorf("ledger: negative slot count %d", slots)
	}
	b := make([]byte, 0, slots*ChunkSize)
	var err error
	for i := range ops {
		if b, err = ops[i].Pubdata(b); err != nil {
			return nil, err
		}
	}
	if len(b) > slots*ChunkSize {
		return nil, fmt.Errorf("ledger: operations need %d chunks, batch has %d", len(b)/ChunkSize, slots)
	}
	return append(b, make([]byte, slots*ChunkSize-len(b))...), nil
}
