package state

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/veloxlabs/velox/ledger"
)

// Genesis creates the fee account (index ledger.FeeAccount, owned by
// feeOwner, empty otherwise) in the flat state and in the tree of an empty
// store, in one synced batch. On a store whose fee account already belongs
// to feeOwner in both views it does nothing. It fails with
// ledger.ErrZeroAddress for a zero owner, ErrGenesis if the store holds
// other state, or on I/O.
func (s *Store) Genesis(ctx context.Context, feeOwner common.Address) error {
	if feeOwner == (common.Address{}) {
		return ledger.ErrZeroAddress
	}
	flatNext, _ := s.NextIndex()
	treeNext, _ := s.tree.NextIndex()
	if flatNext != 0 || treeNext != 0 {
		fa, err := s.Account(ledger.FeeAccount)
		if err != nil {
			return err
		}
		ta, err := s.tree.Account(ledger.FeeAccount)
		if err != nil {
			return err
		}
		if fa.Address != feeOwner || ta.Address != feeOwner {
			return fmt.Errorf("%w: fee account owned by %v (flat) and %v (tree)", ErrGenesis, fa.Address, ta.Address)
		}
		return nil
	}
	acc := ledger.Account{Address: feeOwner}
	u, err := s.tree.Update(ctx, []LeafWrite{{Index: ledger.FeeAccount, Account: acc}}, 1)
	if err != nil {
		return err
	}
	b := s.NewBatch()
	defer b.Close()
	if err := b.PutAccount(ledger.FeeAccount, acc); err != nil {
		return err
	}
	if err := b.SetNextIndex(ledger.FeeAccount + 1); err != nil {
		return err
	}
	if err := b.PutTree(u); err != nil {
		return err
	}
	return b.Commit(true)
}
