package executor

import "github.com/veloxlabs/velox/ledger"

// prepared is a Tx after its stateless work: exactly one of checked,
// deposit and err is set.
type prepared struct {
	checked *ledger.Checked
	deposit *ledger.Deposit
	err     error
}

// prepare does the stateless work of tx: decoding and ledger.Check, unless
// admission already did them. It reports whether it ran ledger.Check.
func prepare(tx *Tx, p ledger.Params) (prepared, bool) {
	switch {
	case tx.Deposit != nil:
		return prepared{deposit: tx.Deposit}, false
	case tx.Checked != nil:
		if tx.Checked.Tx == nil {
			return prepared{err: ErrEmptyTx}, false
		}
		return prepared{checked: tx.Checked}, false
	case tx.Decoded != nil:
		return prepared{checked: ledger.Check(tx.Decoded, p)}, true
	case tx.Raw != nil:
		d, err := ledger.DecodeTx(tx.Raw)
		if err != nil {
			return prepared{err: err}, false
		}
		return prepared{checked: ledger.Check(d, p)}, true
	}
	return prepared{err: ErrEmptyTx}, false
}

// apply executes a prepared transaction against s.
func (pr *prepared) apply(s ledger.State, p ledger.Params) (ledger.Op, error) {
	switch {
	case pr.err != nil:
		return ledger.Op{}, pr.err
	case pr.deposit != nil:
		return ledger.ApplyDeposit(s, *pr.deposit, p)
	}
	return ledger.Apply(s, pr.checked, p)
}
