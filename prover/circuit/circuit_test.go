package circuit

import (
	"crypto/ecdsa"

	"math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

// testCfg is small enough to solve in about a second and large enough for
// the longest operation (ChangePubKey, 8 chunks).
var testCfg = Config{Slots: 8, Depth: 4, ChainID: 7}

var compiled = struct {
	sync.Mutex
	m map[Config]constraint.ConstraintSystem
}{m: map[Config]constraint.ConstraintSystem{}}

func compileCfg(t testing.TB, cfg Config) constraint.ConstraintSystem {
	t.Helper()
	compiled.Lock()
	defer compiled.Unlock()
	if ccs, ok := compiled.m[cfg]; ok {
		return ccs
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		t.Fatal(err)
	}
	compiled.m[cfg] = ccs
	return ccs
}

// solve reports whether the witness satisfies the compiled circuit.
func solve(t testing.TB, cfg Config, w *ledger.BatchWitness) error {
	t.Helper()
	a, err := Assign(cfg, w)
	if err != nil {
		return err
	}
	return solveAssignment(t, cfg, a)
}

func solveAssignment(t testing.TB, cfg Config, a *Batch) error {
	t.Helper()
	full, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	return compileCfg(t, cfg).IsSolved(full)
}

// user is an account holder with both keys.
type user struct {
	eth  *ecdsa.PrivateKey
	addr common.Address
	l2   *ledger.PrivateKey
	idx  uint32
}

// env is a genesis state: the fee account and users with keys set.
type env struct {
	t     testing.TB
	p     ledger.Params
	state *ledger.MemState
	users []*user
}

func newEnv(t testing.TB, cfg Config, n int, rng *rand.Rand) *env {
	e := &env{t: t, p: cfg.Params(), state: ledger.NewMemState()}
	seq := common.Address{0xfe}
	e.state.Create(ledger.FeeAccount, seq)
	for i := 0; i < n; i++ {
		k, err := ecdsa.GenerateKey(crypto.S256(), randReader{rng})
		if err != nil {
			t.Fatal(err)
		}
		u := &user{eth: k, addr: crypto.PubkeyToAddress(k.PublicKey)}
		if u.l2, err = ledger.DeriveKey(k, cfg.ChainID); err != nil {
			t.Fatal(err)
		}
		u.idx, _ = e.state.NextIndex()
		e.state.Create(u.idx, u.addr)
		h := u.l2.Public()
		pkh, err := h.Hash()
		if err != nil {
			t.Fatal(err)
		}
		e.state.SetPubKeyHash(u.idx, pkh)
		e.state.SetBalance(u.idx, *uint256.NewInt(1_000_000))
		e.users = append(e.users, u)
	}
	return e
}

type randReader struct{ r *rand.Rand }

func (r randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// signed returns a signed L2 transaction.
func (e *env) signed(typ ledger.TxType, from *user, to common.Address, amount, fee uint64, nonce uint32) *ledger.Tx {
	tx := &ledger.Tx{Type: typ, Account: from.idx, To: to, Nonce: nonce}
	tx.Amount.SetUint64(amount)
	tx.Fee.SetUint64(fee)
	if err := tx.SignL2(from.l2, e.p.ChainID); err != nil {
		e.t.Fatal(err)
	}
	return tx
}

func (e *env) nonce(u *user) uint32 { n, _ := e.state.Nonce(u.idx); return n }

// exec applies a transaction to the state and returns its operation; the
// transaction must be valid.
func (e *env) exec(tx *ledger.Tx) ledger.Op {
	e.t.Helper()
	op, err := ledger.Apply(e.state, ledger.Check(tx, e.p), e.p)
	if err != nil {
		e.t.Fatalf("exec %v: %v", tx.Type, err)
	}
	return op
}

func (e *env) deposit(addr common.Address, amount uint64) ledger.Op {
	e.t.Helper()
	op, err := ledger.ApplyDeposit(e.state, ledger.Deposit{Address: addr, Amount: *uint256.NewInt(amount)}, e.p)
	if err != nil {
		e.t.Fatal(err)
	}
	return op
}

func (e *env) changePubKey(u *user, k *ledger.PrivateKey) ledger.Op {
	e.t.Helper()
	pub := k.Public()
	h, err := pub.Hash()
	if err != nil {
		e.t.Fatal(err)
	}
	tx := &ledger.Tx{Type: ledger.TxChangePubKey, Account: u.idx, Nonce: e.nonce(u), NewPubKeyHash: h}
	if err := tx.SignChangePubKey(u.eth, e.p.ChainID); err != nil {
		e.t.Fatal(err)
	}
	return e.exec(tx)
}

// honest builds the batch of ops from pre (the state before them) and checks
// that the model agrees with the ledger's own replay.
func honest(t testing.TB, cfg Config, pre *ledger.MemState, post *ledger.MemState, ops []ledger.Op) *ledger.BatchWitness {
	t.Helper()
	m := newModel(cfg.Depth, pre)
	w := m.batch(1, ops, cfg.Slots)
	// The ledger's state after the ops and the fee credit has the same root.
	want := post.Clone()
	var fees uint256.Int
	for i := range ops {
		fees.Add(&fees, &ops[i].Fee)
	}
	if err := ledger.CreditFees(want, fees); err != nil {
		t.Fatal(err)
	}
	if got := newModel(cfg.Depth, want).root(); got != w.NewRoot {
		t.Fatalf("model root %v, ledger root %v", w.NewRoot.String(), got.String())
	}
	return w
}

func TestHonestBatchSolves(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	e := newEnv(t, testCfg, 3, rng)
	pre := e.state.Clone()
	a, b, c := e.users[0], e.users[1], e.users[2]
	newcomer := common.Address{0xab, 0xcd}
	ops := []ledger.Op{
		e.exec(e.signed(ledger.TxTransfer, a, b.addr, 1000, 10, 0)),
		e.exec(e.signed(ledger.TxTransfer, b, b.addr, 70, 3, 0)), // self-transfer
		e.exec(e.signed(ledger.TxTransfer, c, newcomer, 500, 0, 0)),
		e.exec(e.signed(ledger.TxWithdraw, a, common.Address{0x11}, 2000, 20, 1)),
	}
	if ops[2].Type != ledger.OpTransferToNew {
		t.Fatalf("transfer to a new address executed as %v", ops[2].Type)
	}
	w := honest(t, testCfg, pre, e.state, ops)
	if err := solve(t, testCfg, w); err != nil {
		t.Fatalf("honest batch rejected: %v", err)
	}
}

func TestChangePubKeyAndDepositNewSolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	e := newEnv(t, testCfg, 2, rng)
	pre := e.state.Clone()
	k2, err := ledger.GenerateKey(randReader{rng})
	if err != nil {
		t.Fatal(err)
	}
	ops := []ledger.Op{e.changePubKey(e.users[0], k2)}
	w := honest(t, testCfg, pre, e.state, ops)
	if err := solve(t, testCfg, w); err != nil {
		t.Fatalf("changePubKey batch rejected: %v", err)
	}
	pre = e.state.Clone()
	ops = []ledger.Op{e.deposit(common.Address{0x77}, 99), e.deposit(common.Address{0x77}, 1), e.exec(e.signed(ledger.TxTransfer, e.users[1], common.Address{0x77}, 5, 1, 0))}
	w = honest(t, testCfg, pre, e.state, ops)
	if err := solve(t, testCfg, w); err != nil {
		t.Fatalf("deposit batch rejected: %v", err)
	}
}

// TestPublicInputMatchesLedger checks the in-circuit public input against
// ledger.PublicInput: a batch only solves with the ledger's value.
func TestPublicInputMatchesLedger(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	e := newEnv(t, testCfg, 2, rng)
	pre := e.state.Clone()
	ops := []ledger.Op{e.exec(e.signed(ledger.TxTransfer, e.users[0], e.users[1].addr, 10, 1, 0))}
	w := honest(t, testCfg, pre, e.state, ops)
	a, err := Assign(testCfg, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := solveAssignment(t, testCfg, a); err != nil {
		t.Fatal(err)
	}
	var pi fr.Element
	pi.SetInterface(a.PublicInput)
	pi.Add(&pi, new(fr.Element).SetOne())
	a.PublicInput = pi
	if err := solveAssignment(t, testCfg, a); err == nil {
		t.Fatal("public input + 1 accepted")
	}
}
