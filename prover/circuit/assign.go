package circuit

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/big"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	tedwards "github.com/consensys/gnark-crypto/ecc/twistededwards"
	"github.com/consensys/gnark/frontend"

	"github.com/veloxlabs/velox/ledger"
)

// ErrWitness reports a batch witness that does not fit the circuit.
var ErrWitness = fmt.Errorf("circuit: witness does not fit the circuit")

// Assign builds the full assignment of the circuit from a batch witness
// produced by the state package. It checks the witness's shape, not its
// validity: an invalid witness yields an assignment the circuit rejects.
func Assign(cfg Config, w *ledger.BatchWitness) (*Batch, error) {
	b, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if len(w.Slots) != cfg.Slots {
		return nil, fmt.Errorf("%w: %d slots, circuit has %d", ErrWitness, len(w.Slots), cfg.Slots)
	}
	if w.Depth != cfg.Depth {
		return nil, fmt.Errorf("%w: depth %d, circuit has %d", ErrWitness, w.Depth, cfg.Depth)
	}
	b.PublicInput = ledger.PublicInput(w.Number, w.OldRoot, w.NewRoot, w.PriorityOps(), w.Pubdata)
	b.Number = w.Number
	b.OldRoot = w.OldRoot
	for i := range w.Slots {
		if err := assignSlot(&b.Slots[i], &w.Slots[i], cfg.Depth); err != nil {
			return nil, fmt.Errorf("slot %d: %w", i, err)
		}
	}
	if err := assignUpdate(&b.Fee, &w.Fee, cfg.Depth); err != nil {
		return nil, fmt.Errorf("fee update: %w", err)
	}
	return b, nil
}

func assignSlot(s *Slot, w *ledger.SlotWitness, depth int) error {
	op := &w.Op
	for i := range s.Flags {
		s.Flags[i] = 0
	}
	s.Address, s.Amount, s.AmountMantissa, s.AmountExponent, s.FeeMantissa, s.FeeExponent, s.NewPubKeyHash = 0, 0, 0, 0, 0, 0, 0
	for i := range s.EthSignature {
		s.EthSignature[i] = 0
	}
	for j := range s.Updates {
		if err := assignUpdate(&s.Updates[j], &w.Updates[j], depth); err != nil {
			return err
		}
	}
	signed := false
	if w.Chunk > 0 {
		s.Flags[flagContinuation] = 1
	} else {
		switch op.Type {
		case ledger.OpNoop:
			s.Flags[flagNoop] = 1
		case ledger.OpDeposit:
			s.Flags[flagDeposit] = 1
			s.Address, s.Amount = addressInt(op.Address), op.Amount.ToBig()
		case ledger.OpTransfer, ledger.OpTransferToNew:
			if op.Type == ledger.OpTransfer {
				s.Flags[flagTransfer] = 1
				s.Address = addressInt(w.Updates[1].Before.Address)
			} else {
				s.Flags[flagTransferToNew] = 1
				s.Address = addressInt(op.Address)
			}
			packed, err := ledger.PackAmount(&op.Amount)
			if err != nil {
				return err
			}
			m, e := splitPacked(packed[:])
			s.Amount, s.AmountMantissa, s.AmountExponent = op.Amount.ToBig(), m, e
			signed = true
		case ledger.OpWithdraw:
			s.Flags[flagWithdraw] = 1
			s.Address, s.Amount = addressInt(op.Address), op.Amount.ToBig()
			signed = true
		case ledger.OpChangePubKey:
			s.Flags[flagChangePubKey] = 1
			s.Address = addressInt(op.Address)
			s.NewPubKeyHash = op.NewPubKeyHash
			for i, c := range op.EthSignature {
				s.EthSignature[i] = c
			}
		default:
			return fmt.Errorf("%w: operation type %v", ErrWitness, op.Type)
		}
	}
	if signed {
		packed, err := ledger.PackFee(&op.Fee)
		if err != nil {
			return err
		}
		s.FeeMantissa, s.FeeExponent = splitPacked(packed[:])
		s.PubKey.Assign(tedwards.BN254, op.PubKey[:])
		s.Signature.Assign(tedwards.BN254, op.Signature[:])
		return nil
	}
	pk, sig, err := dummySignature()
	if err != nil {
		return err
	}
	s.PubKey.Assign(tedwards.BN254, pk[:])
	s.Signature.Assign(tedwards.BN254, sig[:])
	return nil
}

func assignUpdate(u *Update, w *ledger.LeafUpdate, depth int) error {
	if len(w.Siblings) != depth {
		return fmt.Errorf("%w: %d siblings, depth %d", ErrWitness, len(w.Siblings), depth)
	}
	u.Index = w.Index
	u.Before = accountAssignment(&w.Before)
	for i := range w.Siblings {
		u.Siblings[i] = w.Siblings[i]
	}
	return nil
}

func accountAssignment(a *ledger.Account) Account {
	return Account{Address: addressInt(a.Address), PubKeyHash: a.PubKeyHash, Nonce: a.Nonce, Balance: a.Balance.ToBig()}
}

func addressInt(a [20]byte) *big.Int { return new(big.Int).SetBytes(a[:]) }

// splitPacked splits a big-endian packed value into mantissa and exponent.
func splitPacked(b []byte) (mantissa, exponent uint64) {
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	return x >> ledger.ExponentBits, x & (1<<ledger.ExponentBits - 1)
}

// dummySignature is a valid signature by a fixed, publicly known key over
// the zero message. Slots that need no signature carry it so that the
// signature gadget's internal checks hold; the circuit ignores its result
// there.
var dummy struct {
	once sync.Once
	pk   ledger.PubKey
	sig  ledger.Signature
	err  error
}

func dummySignature() (ledger.PubKey, ledger.Signature, error) {
	dummy.once.Do(func() {
		seed := sha256.Sum256([]byte("velox circuit dummy key"))
		k, err := ledger.GenerateKey(bytes.NewReader(seed[:]))
		if err != nil {
			dummy.err = err
			return
		}
		dummy.pk = k.Public()
		dummy.sig, dummy.err = k.Sign(fr.Element{})
	})
	return dummy.pk, dummy.sig, dummy.err
}

// compile-time check that Batch is a circuit.
var _ frontend.Circuit = (*Batch)(nil)
