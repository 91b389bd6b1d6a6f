package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/holiman/uint256"
)

// LeafUpdate is one leaf write as the circuit consumes it: Before is checked
// against the current root with Siblings, then After (with the same
// Siblings) gives the next root.
type LeafUpdate struct {
	Index         uint32
	Before, After Account
	// Siblings are the Depth sibling hashes from the leaf level upwards.
	Siblings []fr.Element
}

// SlotWitness is one batch slot, i.e. one 16-byte pubdata chunk. An
// operation of k chunks occupies k consecutive slots: the first (Chunk 0)
// carries the operation and its updates, the others (Chunk 1..k-1) carry
// the same Op with two no-op updates.
type SlotWitness struct {
	Op      Op
	Chunk   int
	Updates [2]LeafUpdate
}

// BatchWitness is everything the circuit needs to prove one batch.
type BatchWitness struct {
	Number uint64
	Depth  int
	// OldRoot is the account tree root before the batch, NewRoot after the
	// fee credit.
	OldRoot, NewRoot fr.Element
	// Slots has one entry per batch slot; padding slots are OpNoop.
	Slots []SlotWitness
	// FeeTotal is the sum of the fees of the batch's operations, credited
	// to FeeAccount by Fee after all slots.
	FeeTotal uint256.Int
	Fee      LeafUpdate
	// Pubdata is Pubdata(ops, len(Slots)).
	Pubdata []byte
}

// PriorityOps returns the number of priority (L1) operations the batch
// consumes.
func (w *BatchWitness) PriorityOps() uint32 {
	var n uint32
	for i := range w.Slots {
		if w.Slots[i].Chunk == 0 && w.Slots[i].Op.Type.IsPriority() {
			n++
		}
	}
	return n
}

// PublicInput returns the batch's single public input:
// sha256(number (8 bytes) || oldRoot (32) || newRoot (32) || priorityOps (4)
// || pubdata) read as a big-endian integer and reduced modulo the BN254
// scalar field order. The L1 contract recomputes it from calldata.
func PublicInput(number uint64, oldRoot, newRoot fr.Element, priorityOps uint32, pubdata []byte) fr.Element {
	d := PublicInputDigest(number, oldRoot, newRoot, priorityOps, pubdata)
	var e fr.Element
	e.SetBigInt(new(big.Int).SetBytes(d[:]))
	return e
}

// PublicInputDigest is the SHA-256 digest behind PublicInput.
func PublicInputDigest(number uint64, oldRoot, newRoot fr.Element, priorityOps uint32, pubdata []byte) [32]byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], number)
	h.Write(b[:])
	o, n := oldRoot.Bytes(), newRoot.Bytes()
	h.Write(o[:])
	h.Write(n[:])
	binary.BigEndian.PutUint32(b[:4], priorityOps)
	h.Write(b[:4])
	h.Write(pubdata)
	var d [32]byte
	h.Sum(d[:0])
	return d
}
