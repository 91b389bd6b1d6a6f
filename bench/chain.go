package bench

import (
	"fmt"
	"os"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
)

// tb lets benchmark suites use testchain outside of tests: Fatal panics
// with a tbFatal that withChain turns into an error.
type tb struct{ cleanups []func() }

type tbFatal struct{ msg string }

func (t *tb) Helper()           {}
func (t *tb) Fatal(args ...any) { panic(tbFatal{fmt.Sprint(args...)}) }
func (t *tb) Cleanup(f func())  { t.cleanups = append(t.cleanups, f) }
func (t *tb) TempDir() string {
	d, err := os.MkdirTemp("", "velox-bench-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// withChain runs f with a fresh chain of users funded users and cleans up.
func withChain(p ledger.Params, users int, f func(c *testchain.Chain) error) (err error) {
	t := &tb{}
	defer func() {
		for i := len(t.cleanups) - 1; i >= 0; i-- {
			t.cleanups[i]()
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			tf, ok := r.(tbFatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("bench: %s", tf.msg)
		}
	}()
	c := testchain.New(t, p, users, 1_000_000_000, 42)
	return f(c)
}

// transferBatches executes n batches of slots transfers between the chain's
// users and returns their witnesses.
func transferBatches(c *testchain.Chain, n, slots int) ([]*ledger.BatchWitness, error) {
	var ws []*ledger.BatchWitness
	for b := 0; b < n; b++ {
		var txs []*ledger.Tx
		for i := 0; i < slots; i++ {
			from, to := c.Users[i%len(c.Users)], c.Users[(i+1)%len(c.Users)]
			nonce := c.Nonce(from)
			for _, tx := range txs {
				if tx.Account == from.Index {
					nonce++
				}
			}
			txs = append(txs, c.Transfer(from, to.Addr, 1000+uint64(i), 1, nonce))
		}
		ops, errs := c.ExecuteAll(txs...)
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		ws = append(ws, c.Commit(ops, slots))
	}
	return ws, nil
}
