package ledger

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

// TxType identifies an L2 transaction kind on the wire. The values are shared
// with OpType where the meaning is the same.
type TxType uint8

// L2 transaction types (docs/PROTOCOL.md §5).
const (
	TxTransfer     TxType = 0x02
	TxWithdraw     TxType = 0x04
	TxChangePubKey TxType = 0x05
)

func (t TxType) String() string {
	switch t {
	case TxTransfer:
		return "transfer"
	case TxWithdraw:
		return "withdraw"
	case TxChangePubKey:
		return "changePubKey"
	}
	return fmt.Sprintf("tx(0x%02x)", uint8(t))
}

// Encoded sizes of each transaction type, type byte included.
const (
	TransferSize     = 1 + 4 + 20 + 16 + 16 + 4 + PubKeySize + SignatureSize // 157
	WithdrawSize     = TransferSize
	ChangePubKeySize = 1 + 4 + 32 + 4 + EthSigSize // 106
	// MaxTxSize bounds any encoded transaction.
	MaxTxSize = TransferSize
)

// Tx is a signed L2 transaction.
//
// Transfer and Withdraw are signed with the account's L2 EdDSA key over
// Hash(); ChangePubKey is authorized by the account owner's Ethereum key over
// ChangePubKeyDigest.
type Tx struct {
	Type TxType
	// Account is the index of the sending (or key-changing) account.
	Account uint32
	// To is the recipient: an L2 address for Transfer (the account is
	// created if new), the L1 address paid on settlement for Withdraw.
	To common.Address
	// Amount and Fee in wei, below 2^128.
	Amount uint256.Int
	Fee    uint256.Int
	// Nonce must equal the account nonce.
	Nonce uint32
	// PubKey is the signer's L2 key; it must hash to the account's
	// pubKeyHash. Signature is its EdDSA signature over Hash().
	PubKey    PubKey
	Signature Signature
	// NewPubKeyHash and EthSignature are the ChangePubKey fields.
	NewPubKeyHash fr.Element
	EthSignature  [EthSigSize]byte
}

// Hash returns the message an L2 key signs for a Transfer or Withdraw:
// Hash(m0, m1) over the fields packed into two elements (docs/PROTOCOL.md
// §6),
//
//	m0 = type + nonce·2^8 + account·2^40 + to·2^72          (232 bits)
//	m1 = packedFee + amount·2^16 + chainID·2^144            (208 bits)
//
// where packedFee is the fee's 16-bit packing (mantissa·2^5 + exponent).
// Each field has its own bits, so two transactions with different fields
// never share a message. Two compressions instead of one per field: the
// signature check is most of admission's work, and the circuit pays the
// same per slot. A fee that does not pack (Check rejects it before any
// signature check) is hashed as packedFee 1, an exponent without a
// mantissa that no canonical packing has.
func (tx *Tx) Hash(chainID uint64) fr.Element {
	in := tx.hashInput(chainID)
	return Hash(in[:]...)
}

// Bit offsets of the fields in the signed message's two elements (see
// Hash); the circuit packs the same way.
const (
	MsgNonceShift   = 8
	MsgAccountShift = MsgNonceShift + 32
	MsgToShift      = MsgAccountShift + 32
	MsgAmountShift  = PackedFeeSize * 8
	MsgChainShift   = MsgAmountShift + 128
)

// unpackableFee stands for a fee with no packing in the signed message.
const unpackableFee = 1

// hashInput returns the elements Hash hashes: the fields packed into two
// big-endian 32-byte strings, each below the field modulus.
func (tx *Tx) hashInput(chainID uint64) [2]fr.Element {
	var b0, b1 [32]byte
	// m0: to (bytes 3..22), account (23..26), nonce (27..30), type (31).
	copy(b0[32-MsgToShift/8-20:], tx.To[:])
	binary.BigEndian.PutUint32(b0[32-MsgAccountShift/8-4:], tx.Account)
	binary.BigEndian.PutUint32(b0[32-MsgNonceShift/8-4:], tx.Nonce)
	b0[31] = byte(tx.Type)
	// m1: chainID (bytes 6..13), amount (14..29), packed fee (30..31).
	binary.BigEndian.PutUint64(b1[32-MsgChainShift/8-8:], chainID)
	amount := tx.Amount.Bytes32() // below 2^128 once checked
	copy(b1[32-MsgAmountShift/8-16:32-MsgAmountShift/8], amount[16:])
	if fee, err := PackFee(&tx.Fee); err == nil {
		copy(b1[32-PackedFeeSize:], fee[:])
	} else {
		b1[31] = unpackableFee
	}
	var m [2]fr.Element
	// Both are below 2^232 < r, so SetBytes reduces nothing.
	m[0].SetBytes(b0[:])
	m[1].SetBytes(b1[:])
	return m
}

// changePubKeyPrefix starts the message an Ethereum key signs to authorize
// a ChangePubKey.
const changePubKeyPrefix = "Velox ChangePubKey"

// ChangePubKeyMessage is the 66-byte message the account owner signs
// (EIP-191 personal message) to set its L2 key:
// "Velox ChangePubKey" || chainID (8) || account (4) || nonce (4) || pubKeyHash (32).
func ChangePubKeyMessage(chainID uint64, account, nonce uint32, pubKeyHash fr.Element) []byte {
	m := make([]byte, 0, len(changePubKeyPrefix)+8+4+4+32)
	m = append(m, changePubKeyPrefix...)
	m = binary.BigEndian.AppendUint64(m, chainID)
	m = binary.BigEndian.AppendUint32(m, account)
	m = binary.BigEndian.AppendUint32(m, nonce)
	h := pubKeyHash.Bytes()
	return append(m, h[:]...)
}

// ChangePubKeySigner recovers the Ethereum address that signed a
// ChangePubKey transaction. The L1 contract performs the same recovery from
// pubdata.
func (tx *Tx) ChangePubKeySigner(chainID uint64) (common.Address, error) {
	digest := personalHash(ChangePubKeyMessage(chainID, tx.Account, tx.Nonce, tx.NewPubKeyHash))
	sig := tx.EthSignature
	if sig[64] != 27 && sig[64] != 28 {
		return common.Address{}, fmt.Errorf("%w: recovery id %d", ErrBadSignature, sig[64])
	}
	sig[64] -= 27
	if !crypto.ValidateSignatureValues(sig[64], new(uint256.Int).SetBytes(sig[:32]).ToBig(), new(uint256.Int).SetBytes(sig[32:64]).ToBig(), true) {
		return common.Address{}, fmt.Errorf("%w: signature values out of range", ErrBadSignature)
	}
	pub, err := crypto.SigToPub(digest, sig[:])
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

func personalHash(msg []byte) []byte {
	return crypto.Keccak256([]byte(fmt.Sprintf("\x19Ethereum Signed Message:\n%d", len(msg))), msg)
}

// SignL2 fills PubKey and Signature of a Transfer or Withdraw.
func (tx *Tx) SignL2(k *PrivateKey, chainID uint64) error {
	tx.PubKey = k.Public()
	sig, err := k.Sign(tx.Hash(chainID))
	if err != nil {
		return err
	}
	tx.Signature = sig
	return nil
}

// SignChangePubKey fills EthSignature of a ChangePubKey with the owner's
// Ethereum key.
func (tx *Tx) SignChangePubKey(ethKey *ecdsa.PrivateKey, chainID uint64) error {
	digest := personalHash(ChangePubKeyMessage(chainID, tx.Account, tx.Nonce, tx.NewPubKeyHash))
	sig, err := crypto.Sign(digest, ethKey)
	if err != nil {
		return fmt.Errorf("ledger: signing ChangePubKey: %w", err)
	}
	copy(tx.EthSignature[:], sig)
	tx.EthSignature[64] += 27
	return nil
}

// Encode returns the canonical wire encoding (docs/PROTOCOL.md §5).
func (tx *Tx) Encode() []byte {
	var b []byte
	switch tx.Type {
	case TxTransfer, TxWithdraw:
		b = make([]byte, 0, TransferSize)
		b = append(b, byte(tx.Type))
		b = binary.BigEndian.AppendUint32(b, tx.Account)
		b = append(b, tx.To[:]...)
		b = appendU128(b, &tx.Amount)
		b = appendU128(b, &tx.Fee)
		b = binary.BigEndian.AppendUint32(b, tx.Nonce)
		b = append(b, tx.PubKey[:]...)
		b = append(b, tx.Signature[:]...)
	case TxChangePubKey:
		b = make([]byte, 0, ChangePubKeySize)
		b = append(b, byte(tx.Type))
		b = binary.BigEndian.AppendUint32(b, tx.Account)
		h := tx.NewPubKeyHash.Bytes()
		b = append(b, h[:]...)
		b = binary.BigEndian.AppendUint32(b, tx.Nonce)
		b = append(b, tx.EthSignature[:]...)
	default:
		return nil
	}
	return b
}

// DecodeTx parses a wire-encoded transaction. It checks the layout and the
// canonical form of every field (amounts below 2^128, field elements
// reduced) but no rule that needs state or signatures.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty transaction", ErrMalformed)
	}
	tx := &Tx{Type: TxType(b[0])}
	var want int
	switch tx.Type {
	case TxTransfer, TxWithdraw:
		want = TransferSize
	case TxChangePubKey:
		want = ChangePubKeySize
	default:
		return nil, fmt.Errorf("%w: transaction type 0x%02x", ErrUnknownType, b[0])
	}
	if len(b) != want {
		return nil, fmt.Errorf("%w: %v transaction is %d bytes, want %d", ErrMalformed, tx.Type, len(b), want)
	}
	r := b[1:]
	tx.Account = binary.BigEndian.Uint32(r)
	r = r[4:]
	if tx.Type == TxChangePubKey {
		if err := tx.NewPubKeyHash.SetBytesCanonical(r[:32]); err != nil {
			return nil, fmt.Errorf("%w: pubKeyHash is not a reduced field element", ErrNonCanonical)
		}
		r = r[32:]
		tx.Nonce = binary.BigEndian.Uint32(r)
		copy(tx.EthSignature[:], r[4:])
		return tx, nil
	}
	copy(tx.To[:], r)
	r = r[20:]
	// 16-byte fields are always below 2^128: nothing to reject here.
	tx.Amount.SetBytes(r[:16])
	tx.Fee.SetBytes(r[16:32])
	r = r[32:]
	tx.Nonce = binary.BigEndian.Uint32(r)
	r = r[4:]
	copy(tx.PubKey[:], r)
	copy(tx.Signature[:], r[PubKeySize:])
	return tx, nil
}

func appendU128(b []byte, v *uint256.Int) []byte {
	x := v.Bytes32()
	return append(b, x[16:]...)
}
