package ledger

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// ErrReplay reports an executed operation that is inconsistent with the
// state it is replayed on (wrong index, nonce, balance or owner).
var ErrReplay = fmt.Errorf("ledger: operation does not replay on this state")

// Replay applies an already executed operation to s: the state transition
// the circuit proves, without signature checks (those belong to execution
// and to the circuit). It is used to build witnesses from a lagging copy
// of the state and to rebuild state from pubdata. On error nothing is
// written. Fees are not credited (see CreditFees).
func Replay(s State, op *Op, p Params) error {
	switch op.Type {
	case OpNoop:
		return nil
	case OpDeposit:
		// Resolve the index first: ApplyDeposit writes on success, and a
		// mismatch must leave s unchanged.
		idx, exists, err := s.Lookup(op.Address)
		if err != nil {
			return err
		}
		if !exists {
			if idx, err = s.NextIndex(); err != nil {
				return err
			}
		}
		if op.Address != (common.Address{}) && idx != op.Account {
			return fmt.Errorf("%w: deposit credits index %d, operation says %d", ErrReplay, idx, op.Account)
		}
		_, err = ApplyDeposit(s, Deposit{ID: op.PriorityID, Address: op.Address, Amount: op.Amount}, p)
		return err
	case OpChangePubKey:
		addr, err := s.Address(op.Account)
		if err != nil {
			return err
		}
		if addr == (common.Address{}) || addr != op.Address {
			return fmt.Errorf("%w: changePubKey owner %v, account owned by %v", ErrReplay, op.Address, addr)
		}
		if err := replayNonce(s, op); err != nil {
			return err
		}
		s.SetPubKeyHash(op.Account, op.NewPubKeyHash)
		s.SetNonce(op.Account, op.Nonce+1)
		return nil
	case OpTransfer, OpTransferToNew, OpWithdraw:
	default:
		return fmt.Errorf("%w: operation type 0x%02x", ErrUnknownType, uint8(op.Type))
	}

	addr, err := s.Address(op.Account)
	if err != nil {
		return err
	}
	if addr == (common.Address{}) {
		return ErrUnknownAccount
	}
	if err := replayNonce(s, op); err != nil {
		return err
	}
	if !fitsU128(&op.Amount) || !fitsU128(&op.Fee) {
		return ErrAmountRange
	}
	// The stateless rules Check enforces that the state transition and the
	// pubdata depend on (signatures excepted).
	if op.Type == OpWithdraw && op.Address == (common.Address{}) {
		return ErrZeroAddress
	}
	if op.Type != OpWithdraw {
		if _, err := PackAmount(&op.Amount); err != nil {
			return err
		}
	}
	if _, err := PackFee(&op.Fee); err != nil {
		return err
	}
	bal, err := s.Balance(op.Account)
	if err != nil {
		return err
	}
	var need uint256.Int
	need.Add(&op.Amount, &op.Fee)
	if bal.Lt(&need) {
		return ErrInsufficientBalance
	}
	bal.Sub(&bal, &need)
	if op.Type == OpWithdraw {
		s.SetNonce(op.Account, op.Nonce+1)
		s.SetBalance(op.Account, bal)
		return nil
	}

	toAddr, err := s.Address(op.To)
	if err != nil {
		return err
	}
	var toBal uint256.Int
	switch op.Type {
	case OpTransferToNew:
		next, err := s.NextIndex()
		if err != nil {
			return err
		}
		if toAddr != (common.Address{}) || op.To != next || op.Address == (common.Address{}) {
			return fmt.Errorf("%w: transferToNew must create index %d, got %d", ErrReplay, next, op.To)
		}
		if uint64(op.To) >= p.capacity() {
			return ErrTreeFull
		}
		if _, exists, err := s.Lookup(op.Address); err != nil {
			return err
		} else if exists {
			return fmt.Errorf("%w: transferToNew recipient %v already has an account", ErrReplay, op.Address)
		}
	case OpTransfer:
		if toAddr == (common.Address{}) {
			return fmt.Errorf("%w: transfer to empty index %d", ErrReplay, op.To)
		}
		if op.To == op.Account {
			toBal = bal
		} else if toBal, err = s.Balance(op.To); err != nil {
			return err
		}
	}
	toBal.Add(&toBal, &op.Amount)
	if !fitsU128(&toBal) {
		return ErrBalanceOverflow
	}
	s.SetNonce(op.Account, op.Nonce+1)
	s.SetBalance(op.Account, bal)
	if op.Type == OpTransferToNew {
		s.Create(op.To, op.Address)
	}
	s.SetBalance(op.To, toBal)
	return nil
}

func replayNonce(s State, op *Op) error {
	n, err := s.Nonce(op.Account)
	if err != nil {
		return err
	}
	if n != op.Nonce {
		return fmt.Errorf("%w: operation nonce %d, account nonce %d", ErrNonce, op.Nonce, n)
	}
	if n == ^uint32(0) {
		return ErrNonceOverflow
	}
	return nil
}
