package sequencer

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// Key layout, all under the state store's record namespaces (see doc.go).
var keyHead = []byte("sequencer/head")

func blockKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func batchKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'r'}, n)
}

func closeKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'c'}, n)
}

func witnessKey(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'w'}, n)
}

// ruleErrors maps receipt error codes (index+1) to ledger sentinels; code
// 0 is success and codeOther an error outside the table. Codes are stored:
// append only.
var ruleErrors = []error{
	ledger.ErrBadSignature, ledger.ErrWrongKey, ledger.ErrNoPubKey, ledger.ErrNonce,
	ledger.ErrNonceOverflow, ledger.ErrInsufficientBalance, ledger.ErrBalanceOverflow,
	ledger.ErrUnknownAccount, ledger.ErrZeroAddress, ledger.ErrAmountNotPackable,
	ledger.ErrFeeNotPackable, ledger.ErrAmountRange, ledger.ErrTreeFull,
	ledger.ErrMalformed, ledger.ErrUnknownType, ledger.ErrNonCanonical,
}

const codeOther = 0xff

func errorCode(err error) byte {
	if err == nil {
		return 0
	}
	for i, e := range ruleErrors {
		if errors.Is(err, e) {
			return byte(i + 1)
		}
	}
	return codeOther
}

// ruleError is a decoded receipt error: the stored message, matching its
// ledger sentinel with errors.Is.
type ruleError struct {
	rule error
	msg  string
}

func (e *ruleError) Error() string { return e.msg }
func (e *ruleError) Unwrap() error { return e.rule }

func decodeError(code byte, msg string) error {
	if int(code) >= 1 && int(code) <= len(ruleErrors) {
		return &ruleError{rule: ruleErrors[code-1], msg: msg}
	}
	return errors.New(msg)
}

// opSize is the length of encodeOp.
const opSize = 1 + 4 + 4 + 20 + 32 + 32 + 4 + ledger.PubKeySize + ledger.SignatureSize + 32 + ledger.EthSigSize + 8

func appendOp(b []byte, op *ledger.Op) []byte {
	b = append(b, byte(op.Type))
	b = binary.BigEndian.AppendUint32(b, op.Account)
	b = binary.BigEndian.AppendUint32(b, op.To)
	b = append(b, op.Address[:]...)
	a, f := op.Amount.Bytes32(), op.Fee.Bytes32()
	b = append(b, a[:]...)
	b = append(b, f[:]...)
	b = binary.BigEndian.AppendUint32(b, op.Nonce)
	b = append(b, op.PubKey[:]...)
	b = append(b, op.Signature[:]...)
	h := op.NewPubKeyHash.Bytes()
	b = append(b, h[:]...)
	b = append(b, op.EthSignature[:]...)
	return binary.BigEndian.AppendUint64(b, op.PriorityID)
}

func decodeOp(b []byte) (ledger.Op, error) {
	var op ledger.Op
	if len(b) != opSize {
		return op, fmt.Errorf("%w: operation of %d bytes", ErrCorrupt, len(b))
	}
	op.Type = ledger.OpType(b[0])
	op.Account = binary.BigEndian.Uint32(b[1:])
	op.To = binary.BigEndian.Uint32(b[5:])
	r := b[9:]
	copy(op.Address[:], r[:20])
	op.Amount.SetBytes32(r[20:52])
	op.Fee.SetBytes32(r[52:84])
	op.Nonce = binary.BigEndian.Uint32(r[84:])
	r = r[88:]
	copy(op.PubKey[:], r)
	r = r[ledger.PubKeySize:]
	copy(op.Signature[:], r)
	r = r[ledger.SignatureSize:]
	if err := op.NewPubKeyHash.SetBytesCanonical(r[:32]); err != nil {
		return op, fmt.Errorf("%w: operation pubKeyHash", ErrCorrupt)
	}
	copy(op.EthSignature[:], r[32:])
	op.PriorityID = binary.BigEndian.Uint64(r[32+ledger.EthSigSize:])
	return op, nil
}

// encodeReceipt: txHash (32) block (8) position (4) batch (8) code (1),
// then the operation (code 0) or the error message (2-byte length ‖ text).
// ReceiptRoot hashes these bytes.
func encodeReceipt(r *Receipt) []byte {
	b := make([]byte, 0, 53+opSize)
	b = append(b, r.TxHash[:]...)
	b = binary.BigEndian.AppendUint64(b, r.Block)
	b = binary.BigEndian.AppendUint32(b, r.Position)
	b = binary.BigEndian.AppendUint64(b, r.Batch)
	code := errorCode(r.Err)
	b = append(b, code)
	if code == 0 {
		return appendOp(b, &r.Op)
	}
	msg := r.Err.Error()
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	return append(b, msg...)
}

func decodeReceipt(b []byte) (Receipt, error) {
	var r Receipt
	if len(b) < 53 {
		return r, fmt.Errorf("%w: receipt of %d bytes", ErrCorrupt, len(b))
	}
	copy(r.TxHash[:], b)
	r.Block = binary.BigEndian.Uint64(b[32:])
	r.Position = binary.BigEndian.Uint32(b[40:])
	r.Batch = binary.BigEndian.Uint64(b[44:])
	code := b[52]
	rest := b[53:]
	if code == 0 {
		op, err := decodeOp(rest)
		r.Op = op
		return r, err
	}
	if len(rest) < 2 || len(rest) != 2+int(binary.BigEndian.Uint16(rest)) {
		return r, fmt.Errorf("%w: receipt error message", ErrCorrupt)
	}
	r.Err = decodeError(code, string(rest[2:]))
	return r, nil
}

// Transaction record (NamespaceTx): block (8) position (4) kind (1: 0 L2
// transaction, 1 deposit) ‖ encoding.
func encodeTxRecord(block uint64, pos uint32, e *Entry) []byte {
	b := binary.BigEndian.AppendUint64(nil, block)
	b = binary.BigEndian.AppendUint32(b, pos)
	if e.Deposit != nil {
		return append(append(b, 1), encodeDeposit(e.Deposit)...)
	}
	return append(append(b, 0), e.Raw...)
}

func decodeTxRecord(hash common.Hash, b []byte) (Entry, error) {
	e := Entry{Hash: hash}
	if len(b) < 13 {
		return e, fmt.Errorf("%w: transaction record", ErrCorrupt)
	}
	body := bytes.Clone(b[13:])
	if b[12] == 1 {
		d, err := decodeDeposit(body)
		e.Deposit = d
		return e, err
	}
	e.Raw = body
	return e, nil
}

// Mini-block record (NamespaceMiniBlock): header (128) signature (65)
// cutAfter (1) count (4) entry hashes (32 each).
func encodeBlockRecord(mb *MiniBlock) []byte {
	b := make([]byte, 0, HeaderSize+65+5+32*len(mb.Entries))
	b = append(b, mb.Header.Encode()...)
	b = append(b, mb.Signature...)
	if mb.CutAfter {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(mb.Entries)))
	for i := range mb.Entries {
		b = append(b, mb.Entries[i].Hash[:]...)
	}
	return b
}

func decodeBlockRecord(b []byte) (*MiniBlock, []common.Hash, error) {
	const fixed = HeaderSize + 65 + 5
	if len(b) < fixed {
		return nil, nil, fmt.Errorf("%w: mini-block record", ErrCorrupt)
	}
	h, err := decodeHeader(b[:HeaderSize])
	if err != nil {
		return nil, nil, err
	}
	mb := &MiniBlock{Header: h, Hash: h.Hash(), Signature: bytes.Clone(b[HeaderSize : HeaderSize+65]), CutAfter: b[HeaderSize+65] == 1}
	n := int(binary.BigEndian.Uint32(b[HeaderSize+66:]))
	rest := b[fixed:]
	if len(rest) != 32*n {
		return nil, nil, fmt.Errorf("%w: mini-block record of %d entries", ErrCorrupt, n)
	}
	hashes := make([]common.Hash, n)
	for i := range hashes {
		copy(hashes[i][:], rest[32*i:])
	}
	return mb, hashes, nil
}

// head is the sequencer's meta record: the last mini-block and the next
// priority operation ID. Written with every mini-block.
type head struct {
	Number   uint64
	Hash     common.Hash
	NextPrio uint64
}

func (h head) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, h.Number)
	b = append(b, h.Hash[:]...)
	return binary.BigEndian.AppendUint64(b, h.NextPrio)
}

func decodeHead(b []byte) (head, error) {
	var h head
	if len(b) != 48 {
		return h, fmt.Errorf("%w: head record", ErrCorrupt)
	}
	h.Number = binary.BigEndian.Uint64(b)
	copy(h.Hash[:], b[8:40])
	h.NextPrio = binary.BigEndian.Uint64(b[40:])
	return h, nil
}

// Batch records and witnesses are stored with encoding/gob: they are
// written once per batch, never on the preconfirmation path.
type batchGob struct {
	Number                uint64
	Status                BatchStatus
	OldRoot, NewRoot      [32]byte
	FirstBlock, LastBlock uint64
	Ops                   []common.Hash
	Used                  int
	PriorityOps           uint32
	FeeTotal              [32]byte
	Pubdata, Proof        []byte
	CutAt, ProvenAt       int64
}

func encodeBatch(r *BatchRecord) ([]byte, error) {
	g := batchGob{Number: r.Number, Status: r.Status, OldRoot: r.OldRoot.Bytes(), NewRoot: r.NewRoot.Bytes(),
		FirstBlock: r.FirstBlock, LastBlock: r.LastBlock, Ops: r.Ops, Used: r.Used, PriorityOps: r.PriorityOps,
		FeeTotal: r.FeeTotal.Bytes32(), Pubdata: r.Pubdata, Proof: r.Proof, CutAt: r.CutAt.UnixMicro()}
	if !r.ProvenAt.IsZero() {
		g.ProvenAt = r.ProvenAt.UnixMicro()
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&g); err != nil {
		return nil, fmt.Errorf("sequencer: encode batch %d: %w", r.Number, err)
	}
	return buf.Bytes(), nil
}

func decodeBatch(b []byte) (*BatchRecord, error) {
	var g batchGob
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&g); err != nil {
		return nil, fmt.Errorf("%w: batch record: %v", ErrCorrupt, err)
	}
	r := &BatchRecord{Number: g.Number, Status: g.Status, FirstBlock: g.FirstBlock, LastBlock: g.LastBlock,
		Ops: g.Ops, Used: g.Used, PriorityOps: g.PriorityOps, Pubdata: g.Pubdata, Proof: g.Proof,
		CutAt: time.UnixMicro(g.CutAt)}
	if g.ProvenAt != 0 {
		r.ProvenAt = time.UnixMicro(g.ProvenAt)
	}
	if err := r.OldRoot.SetBytesCanonical(g.OldRoot[:]); err != nil {
		return nil, fmt.Errorf("%w: batch old root", ErrCorrupt)
	}
	if err := r.NewRoot.SetBytesCanonical(g.NewRoot[:]); err != nil {
		return nil, fmt.Errorf("%w: batch new root", ErrCorrupt)
	}
	r.FeeTotal.SetBytes32(g.FeeTotal[:])
	return r, nil
}

func encodeWitness(w *ledger.BatchWitness) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(w); err != nil {
		return nil, fmt.Errorf("sequencer: encode witness %d: %w", w.Number, err)
	}
	return buf.Bytes(), nil
}

func decodeWitness(b []byte) (*ledger.BatchWitness, error) {
	w := new(ledger.BatchWitness)
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(w); err != nil {
		return nil, fmt.Errorf("%w: witness: %v", ErrCorrupt, err)
	}
	return w, nil
}

// getRecord reads (ns, key), mapping state.ErrNotFound to ErrNotFound.
func getRecord(st *state.Store, ns state.Namespace, key []byte) ([]byte, error) {
	v, err := st.Get(ns, key)
	if errors.Is(err, state.ErrNotFound) {
		return nil, ErrNotFound
	}
	return v, err
}
