package executor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

const testChainID = 31337

var testParams = ledger.Params{ChainID: testChainID, Depth: 10}

// Accounts of the fixture base: 0 is the fee account, 1..numKeyed have L2
// keys, noKey has none, nearMax holds 2^128-1000 and has a key.
const (
	numKeyed = 6
	noKey    = numKeyed + 1
	nearMax  = numKeyed + 2
	numUsers = nearMax
)

type fixture struct {
	keys  [numUsers + 1]*ledger.PrivateKey
	pkh   [numUsers + 1]fr.Element
	addrs [numUsers + 1]common.Address
	fresh [4]common.Address // addresses with no account
	base  *ledger.MemState
}

func testAddr(label string) common.Address {
	h := sha256.Sum256([]byte(label))
	return common.BytesToAddress(h[:20])
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

// getFixture returns the shared fixture (keys are slow to make).
func getFixture(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		f := &fixture{base: ledger.NewMemState()}
		f.base.Create(ledger.FeeAccount, testAddr("fee"))
		for i := 1; i <= numUsers; i++ {
			seed := sha256.Sum256(fmt.Appendf(nil, "executor test key %d", i))
			k, err := ledger.GenerateKey(bytes.NewReader(seed[:]))
			if err != nil {
				panic(err)
			}
			pub := k.Public()
			h, err := pub.Hash()
			if err != nil {
				panic(err)
			}
			f.keys[i], f.pkh[i], f.addrs[i] = k, h, testAddr(fmt.Sprint("user ", i))
			f.base.Create(uint32(i), f.addrs[i])
			if i != noKey {
				f.base.SetPubKeyHash(uint32(i), h)
			}
			f.base.SetBalance(uint32(i), *uint256.NewInt(uint64(500 * i)))
		}
		m := ledger.MaxAmount()
		m.Sub(&m, uint256.NewInt(1000))
		f.base.SetBalance(nearMax, m)
		f.base.SetNonce(3, 2)
		for i := range f.fresh {
			f.fresh[i] = testAddr(fmt.Sprint("fresh ", i))
		}
		theFixture = f
	})
	return theFixture
}

// transfer builds a transfer from account from, signed by key signer.
func (f *fixture) transfer(t testing.TB, from, signer int, to common.Address, amount, fee uint64, nonce uint32) *ledger.Tx {
	t.Helper()
	tx := &ledger.Tx{Type: ledger.TxTransfer, Account: uint32(from), To: to, Nonce: nonce}
	tx.Amount.SetUint64(amount)
	tx.Fee.SetUint64(fee)
	if err := tx.SignL2(f.keys[signer], testChainID); err != nil {
		t.Fatal(err)
	}
	return tx
}

// poolTx is a signed transaction with its stateless check done once.
type poolTx struct {
	tx      *ledger.Tx
	checked *ledger.Checked
}

type pool struct {
	f *fixture
	// bySender[s][nonce] are candidate txs of sender s with that nonce.
	bySender [numUsers + 2][][]poolTx
}

var (
	poolOnce  sync.Once
	thePool   *pool
	poolError error
)

// getPool signs (once per test binary) a pool of transfers: every sender
// with nonces 0..5 to existing, own and fresh addresses, some with bad
// signatures or signed by the wrong key, plus a sender with no account.
func getPool(t testing.TB) *pool {
	t.Helper()
	f := getFixture(t)
	poolOnce.Do(func() {
		p := &pool{f: f}
		amounts := []uint64{1, 7, 100, 450, 2600, 1_000_000}
		var mu sync.Mutex
		var wg sync.WaitGroup
		type job struct{ sender, nonce, k int }
		jobs := make(chan job)
		results := map[[2]int][]poolTx{}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					r := rand.New(rand.NewPCG(uint64(j.sender), uint64(j.nonce*4+j.k)))
					var to common.Address
					switch x := r.IntN(10); {
					case x < 6:
						to = f.addrs[1+r.IntN(numUsers)]
					case x < 7:
						to = f.addrs[min(j.sender, numUsers)]
					default:
						to = f.fresh[r.IntN(len(f.fresh))]
					}
					signer := min(j.sender, numUsers)
					if signer == noKey || r.IntN(20) == 0 {
						signer = 1 + r.IntN(numKeyed)
					}
					tx := &ledger.Tx{Type: ledger.TxTransfer, Account: uint32(j.sender), To: to, Nonce: uint32(j.nonce)}
					tx.Amount.SetUint64(amounts[r.IntN(len(amounts))])
					tx.Fee.SetUint64(uint64(r.IntN(4)))
					if err := tx.SignL2(f.keys[signer], testChainID); err != nil {
						mu.Lock()
						poolError = err
						mu.Unlock()
						continue
					}
					if r.IntN(12) == 0 {
						tx.Signature[40] ^= 1
					}
					pt := poolTx{tx: tx, checked: ledger.Check(tx, testParams)}
					mu.Lock()
					results[[2]int{j.sender, j.nonce}] = append(results[[2]int{j.sender, j.nonce}], pt)
					mu.Unlock()
				}
			}()
		}
		for s := 1; s <= numUsers+1; s++ { // numUsers+1 has no account
			for n := range 6 {
				for k := range 3 {
					jobs <- job{s, n, k}
				}
			}
		}
		close(jobs)
		wg.Wait()
		for s := 1; s <= numUsers+1; s++ {
			p.bySender[s] = make([][]poolTx, 6)
			for n := range 6 {
				p.bySender[s][n] = results[[2]int{s, n}]
			}
		}
		thePool = p
	})
	if poolError != nil {
		t.Fatal(poolError)
	}
	return thePool
}

// randomBlock draws a block: nonce chains of one sender, single transfers
// with random nonces, hot spots and deposits (some to the zero address or
// overflowing). raw encodes L2 transactions instead of passing Checked.
func (p *pool) randomBlock(r *rand.Rand, n int, raw bool) []Tx {
	f := p.f
	hot := 1 + r.IntN(numKeyed)
	var txs []Tx
	add := func(pt poolTx) {
		if raw {
			txs = append(txs, Tx{Raw: pt.tx.Encode()})
		} else {
			txs = append(txs, Tx{Checked: pt.checked})
		}
	}
	for len(txs) < n {
		switch x := r.IntN(20); {
		case x < 6: // a nonce chain
			s := 1 + r.IntN(numUsers)
			if r.IntN(3) == 0 {
				s = hot
			}
			start := r.IntN(2)
			for nonce := start; nonce < start+1+r.IntN(5) && nonce < 6; nonce++ {
				c := p.bySender[s][nonce]
				add(c[r.IntN(len(c))])
			}
		case x < 16: // any transfer, possibly from the unknown account
			s := 1 + r.IntN(numUsers+1)
			c := p.bySender[s][r.IntN(6)]
			add(c[r.IntN(len(c))])
		default: // a deposit
			d := &ledger.Deposit{ID: uint64(len(txs))}
			switch y := r.IntN(10); {
			case y < 4:
				d.Address = f.addrs[1+r.IntN(numUsers)]
			case y < 8:
				d.Address = f.fresh[r.IntN(len(f.fresh))]
			case y < 9:
				d.Address = f.addrs[hot]
			}
			d.Amount.SetUint64(uint64(r.IntN(3000)))
			if r.IntN(10) == 0 {
				d.Amount = ledger.MaxAmount()
			}
			txs = append(txs, Tx{Deposit: d})
		}
	}
	return txs[:n]
}

// oracle applies txs one by one with the ledger on a copy of base and
// checks that res is exactly that outcome.
func checkAgainstLedger(t testing.TB, base *ledger.MemState, txs []Tx, p ledger.Params, res *Result) {
	t.Helper()
	s := base.Clone()
	var fees uint256.Int
	for i := range txs {
		var op ledger.Op
		var err error
		switch tx := &txs[i]; {
		case tx.Deposit != nil:
			op, err = ledger.ApplyDeposit(s, *tx.Deposit, p)
		case tx.Checked != nil && tx.Checked.Tx != nil:
			op, err = ledger.Apply(s, tx.Checked, p)
		case tx.Checked != nil:
			err = ErrEmptyTx
		case tx.Decoded != nil:
			op, err = ledger.Apply(s, ledger.Check(tx.Decoded, p), p)
		case tx.Raw != nil:
			d, derr := ledger.DecodeTx(tx.Raw)
			if derr != nil {
				err = derr
				break
			}
			op, err = ledger.Apply(s, ledger.Check(d, p), p)
		default:
			err = ErrEmptyTx
		}
		got := res.Receipts[i]
		if (err == nil) != (got.Err == nil) || err != nil && err.Error() != got.Err.Error() {
			t.Fatalf("tx %d: error %v, ledger says %v", i, got.Err, err)
		}
		if err == nil {
			if got.Op != op {
				t.Fatalf("tx %d: op %+v, ledger says %+v", i, got.Op, op)
			}
			fees.Add(&fees, &op.Fee)
		}
	}
	for idx, a := range s.Accounts {
		if *a != base.Account(idx) {
			if w, ok := res.Writes[idx]; !ok || w != *a {
				t.Fatalf("account %d: written %+v (present %v), ledger says %+v", idx, w, ok, *a)
			}
		}
	}
	for idx, w := range res.Writes {
		if w != s.Account(idx) {
			t.Fatalf("account %d: written %+v, ledger says %+v", idx, w, s.Account(idx))
		}
	}
	if res.NextIndex != s.Next {
		t.Fatalf("next index %d, ledger says %d", res.NextIndex, s.Next)
	}
	if res.Fees != fees {
		t.Fatalf("fees %v, ledger says %v", &res.Fees, &fees)
	}
}

// errBase is what failingBase returns.
var errBase = errors.New("disk on fire")

// failingBase fails Balance reads of one index.
type failingBase struct {
	*ledger.MemState
	bad uint32
}

func (b failingBase) Balance(idx uint32) (uint256.Int, error) {
	if idx == b.bad {
		return uint256.Int{}, errBase
	}
	return b.MemState.Balance(idx)
}
