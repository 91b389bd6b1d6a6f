package sequencer

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

const (
	testDepth   = 8
	testChainID = 7
	testSlots   = 16
)

var testParams = ledger.Params{ChainID: testChainID, Depth: testDepth}

var feeOwner = common.Address{0xfe, 0xe0}

// queue is a PriorityOps backed by a slice: the L1 queue of a test.
type queue struct {
	mu  sync.Mutex
	ops []PriorityOp
}

func (q *queue) add(addr common.Address, amount uint64) ledger.Deposit {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := ledger.Deposit{ID: uint64(len(q.ops)), Address: addr, Amount: *uint256.NewInt(amount)}
	q.ops = append(q.ops, PriorityOp{Deposit: d, Deadline: time.Now().Add(time.Hour)})
	return d
}

func (q *queue) Pending(_ context.Context, from uint64, max int) ([]PriorityOp, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if from >= uint64(len(q.ops)) {
		return nil, nil
	}
	out := q.ops[from:]
	if len(out) > max {
		out = out[:max]
	}
	return append([]PriorityOp(nil), out...), nil
}

// recProver records the witnesses it gets and, if seq is set, delivers a
// fake proof at once through Sequencer.Proven.
type recProver struct {
	mu   sync.Mutex
	ws   []*ledger.BatchWitness
	seq  *Sequencer
	fail bool
}

func (p *recProver) Submit(ctx context.Context, w *ledger.BatchWitness) error {
	p.mu.Lock()
	if p.fail {
		p.mu.Unlock()
		return errors.New("prover down")
	}
	p.ws = append(p.ws, w)
	seq := p.seq
	p.mu.Unlock()
	if seq != nil {
		return seq.Proven(ctx, w.Number, []byte{byte(w.Number), 0xaa})
	}
	return nil
}

func (p *recProver) setFail(fail bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = fail
}

func (p *recProver) witnesses() []*ledger.BatchWitness {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*ledger.BatchWitness(nil), p.ws...)
}

// recSettler records the batches it settles.
type recSettler struct {
	mu      sync.Mutex
	numbers []uint64
}

func (s *recSettler) Settle(_ context.Context, n uint64, proof []byte, w *ledger.BatchWitness) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.Number != n || len(proof) != 2 || proof[0] != byte(n) {
		return errors.New("settler: inconsistent batch")
	}
	s.numbers = append(s.numbers, n)
	return nil
}

func (s *recSettler) settled() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.numbers...)
}

type user struct {
	eth   *ecdsa.PrivateKey
	addr  common.Address
	l2    *ledger.PrivateKey
	index uint32
	nonce uint32
}

type rngReader struct{ r *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

func newUser(t testing.TB, rng *rand.Rand) *user {
	k, err := ecdsa.GenerateKey(crypto.S256(), rngReader{rng})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := ledger.DeriveKey(k, testChainID)
	if err != nil {
		t.Fatal(err)
	}
	return &user{eth: k, addr: crypto.PubkeyToAddress(k.PublicKey), l2: l2}
}

func (u *user) transfer(t testing.TB, to common.Address, amount, fee uint64, nonce uint32) []byte {
	return u.sign(t, ledger.TxTransfer, to, amount, fee, nonce)
}

func (u *user) sign(t testing.TB, typ ledger.TxType, to common.Address, amount, fee uint64, nonce uint32) []byte {
	tx := &ledger.Tx{Type: typ, Account: u.index, To: to, Nonce: nonce}
	tx.Amount.SetUint64(amount)
	tx.Fee.SetUint64(fee)
	if err := tx.SignL2(u.l2, testChainID); err != nil {
		t.Fatal(err)
	}
	return tx.Encode()
}

// next returns a transfer with the user's next local nonce.
func (u *user) next(t testing.TB, to common.Address, amount, fee uint64) []byte {
	b := u.transfer(t, to, amount, fee, u.nonce)
	u.nonce++
	return b
}

// env is a sequencer on a real store with a test L1 queue, prover and
// settler.
type env struct {
	t       testing.TB
	dir     string
	fs      vfs.FS
	st      *state.Store
	seq     *Sequencer
	cfg     Config
	q       *queue
	prover  *recProver
	settler *recSettler
	users   []*user
	key     *ecdsa.PrivateKey
}

func testConfig(key *ecdsa.PrivateKey) Config {
	return Config{
		Params: testParams, Key: key, FeeOwner: feeOwner,
		BlockTime: 2 * time.Millisecond, Slots: testSlots, BatchTimeout: time.Hour,
		RetryDelay: 10 * time.Millisecond, QueueTTL: time.Minute,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// newEnv opens a store (on fs if non-nil) and starts a sequencer with
// cfg adjusted by tweak.
func newEnv(t testing.TB, fs vfs.FS, tweak func(*Config)) *env {
	t.Helper()
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("sequencer key")))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, fs: fs, q: &queue{}, prover: &recProver{}, settler: &recSettler{}, key: key}
	e.dir = t.TempDir()
	if fs != nil {
		e.dir = "db"
	}
	e.cfg = testConfig(key)
	e.cfg.PriorityOps, e.cfg.Prover, e.cfg.Settler = e.q, e.prover, e.settler
	if tweak != nil {
		tweak(&e.cfg)
	}
	e.open()
	return e
}

func (e *env) open() {
	e.t.Helper()
	st, err := state.Open(e.dir, state.Options{Depth: testDepth, FS: e.fs})
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.start()
}

func (e *env) start() {
	e.t.Helper()
	seq, err := New(e.st, e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.prover.mu.Lock()
	e.prover.seq = seq
	e.prover.mu.Unlock()
	if err := seq.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.seq = seq
	e.t.Cleanup(func() { e.close() })
}

// close stops the sequencer and closes the store (idempotent).
func (e *env) close() {
	if e.seq != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.seq.Stop(ctx); err != nil {
			e.t.Error(err)
		}
		e.seq = nil
	}
	if e.st != nil {
		_ = e.st.Close()
		e.st = nil
	}
}

// fund creates n users through deposits and sets their keys with
// ChangePubKey transactions submitted to the sequencer.
func (e *env) fund(n int, balance uint64, seed uint64) []*user {
	e.t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var us []*user
	for range n {
		u := newUser(e.t, rng)
		e.q.add(u.addr, balance)
		us = append(us, u)
	}
	for _, u := range us {
		idx := e.waitAccount(u.addr)
		u.index = idx
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, u := range us {
		raw := changeKey(e.t, u, 0, u.l2, u.eth)
		wg.Go(func() {
			pre, err := e.submit(raw)
			if err == nil && pre.Receipt.Err != nil {
				err = pre.Receipt.Err
			}
			errs[i] = err
		})
		u.nonce = 1
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	e.users = append(e.users, us...)
	return us
}

func (e *env) submit(raw []byte) (*Preconfirmation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return e.seq.Submit(ctx, raw)
}

func (e *env) mustSubmit(raw []byte) *Preconfirmation {
	e.t.Helper()
	pre, err := e.submit(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	return pre
}

// restartReplays restarts the sequencer on its store: it must resume at
// the same head, and the chain must replay from its deposits (replay).
func (e *env) restartReplays() {
	e.t.Helper()
	head, _ := e.seq.Head()
	e.close()
	e.open()
	if h, _ := e.seq.Head(); h != head {
		e.t.Fatalf("head %d after restart, want %d", h, head)
	}
	replay(e.t, e.seq, e.st)
}

func (e *env) waitAccount(addr common.Address) uint32 {
	e.t.Helper()
	var idx uint32
	e.eventually("account created", func() bool {
		i, _, err := e.seq.AccountByAddress(addr)
		idx = i
		return err == nil
	})
	return idx
}

func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// snapshot returns every account of the flat state.
func snapshot(t testing.TB, st *state.Store) map[uint32]ledger.Account {
	t.Helper()
	next, _ := st.NextIndex()
	m := map[uint32]ledger.Account{}
	for i := range next {
		a, err := st.Account(i)
		if err != nil {
			t.Fatal(err)
		}
		m[i] = a
	}
	return m
}

// replay re-executes every committed mini-block of seq with the ledger
// rules on a MemState, one transaction after another, crediting each
// batch's fees after its last block, and checks each receipt against the
// reference and the final state against the store.
func replay(t testing.TB, seq *Sequencer, st *state.Store) {
	t.Helper()
	// Closed batches have their fees credited; wait until they are cut
	// and recorded.
	for deadline := time.Now().Add(20 * time.Second); seq.cutQ.len() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("batches not cut")
		}
	}
	ms := ledger.NewMemState()
	ms.Create(ledger.FeeAccount, feeOwner)
	credits := map[uint64]uint256.Int{}
	for n := uint64(1); ; n++ {
		rec, err := seq.Batch(n)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fee := credits[rec.LastBlock]
		fee.Add(&fee, &rec.FeeTotal)
		credits[rec.LastBlock] = fee
	}
	headN, _ := seq.Head()
	var parent common.Hash
	for n := uint64(1); n <= headN; n++ {
		mb, err := seq.MiniBlock(n)
		if err != nil {
			t.Fatal(err)
		}
		if mb.Header.Parent != parent || mb.Header.Number != n {
			t.Fatalf("block %d: parent %v number %d, want %v %d", n, mb.Header.Parent, mb.Header.Number, parent, n)
		}
		if err := VerifyHeader(&mb.Header, mb.Signature, seq.Address()); err != nil {
			t.Fatalf("block %d: %v", n, err)
		}
		parent = mb.Hash
		for i, e := range mb.Entries {
			var op ledger.Op
			var err error
			if e.Deposit != nil {
				op, err = ledger.ApplyDeposit(ms, *e.Deposit, testParams)
			} else {
				tx, derr := ledger.DecodeTx(e.Raw)
				if derr != nil {
					t.Fatal(derr)
				}
				op, err = ledger.Apply(ms, ledger.Check(tx, testParams), testParams)
			}
			r := mb.Receipts[i]
			if (err == nil) != (r.Err == nil) || (err != nil && errorCode(err) != errorCode(r.Err)) {
				t.Fatalf("block %d entry %d: receipt error %v, sequential %v", n, i, r.Err, err)
			}
			if err == nil && r.Op != op {
				t.Fatalf("block %d entry %d: op differs from the sequential run", n, i)
			}
		}
		if fee, ok := credits[n]; ok {
			if err := ledger.CreditFees(ms, fee); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := snapshot(t, st)
	if next, _ := st.NextIndex(); next != ms.Next {
		t.Fatalf("next index %d, sequential %d", next, ms.Next)
	}
	for i := range ms.Next {
		if got[i] != ms.Account(i) {
			t.Fatalf("account %d: store %+v, sequential %+v", i, got[i], ms.Account(i))
		}
	}
}

var rngSeed uint64 = 99

func nil2rng() *rand.Rand {
	rngSeed++
	return rand.New(rand.NewPCG(rngSeed, 7))
}

// submitGapped submits raw, a transaction behind a nonce gap, in the
// background once it is queued, and returns what it ends with: an error,
// or the receipt's (nil on success).
func (e *env) submitGapped(raw []byte) <-chan error {
	e.t.Helper()
	res := make(chan error, 1)
	go func() {
		pre, err := e.submit(raw)
		if err == nil {
			err = pre.Receipt.Err
		}
		res <- err
	}()
	e.eventually("the gapped transaction queued", func() bool {
		st, err := e.seq.Status(TxHash(raw))
		return err == nil && st.Status == StatusQueued
	})
	return res
}

// changeKey returns a ChangePubKey of u's account at nonce, to the L2 key
// of newKey, signed by signer's Ethereum key.
func changeKey(t testing.TB, u *user, nonce uint32, newKey *ledger.PrivateKey, signer *ecdsa.PrivateKey) []byte {
	t.Helper()
	pk := newKey.Public()
	h, err := pk.Hash()
	if err != nil {
		t.Fatal(err)
	}
	tx := &ledger.Tx{Type: ledger.TxChangePubKey, Account: u.index, Nonce: nonce, NewPubKeyHash: h}
	if err := tx.SignChangePubKey(signer, testChainID); err != nil {
		t.Fatal(err)
	}
	return tx.Encode()
}

// failAtExecution makes a transfer from u that passes admission but fails
// at execution (ledger.ErrWrongKey) and returns it: the transfer, signed
// with u's key, waits behind a nonce gap that u's ChangePubKey to a new
// key then fills. Afterwards u signs with the new key, and u.nonce is the
// failed transfer's, still unused.
func (e *env) failAtExecution(u *user, to common.Address) []byte {
	t := e.t
	t.Helper()
	raw := u.transfer(t, to, 1, 0, u.nonce+1)
	res := e.submitGapped(raw)
	k := newUser(t, nil2rng()) // only its L2 key is used
	if pre := e.mustSubmit(changeKey(t, u, u.nonce, k.l2, u.eth)); pre.Receipt.Err != nil {
		t.Fatalf("ChangePubKey: %v", pre.Receipt.Err)
	}
	if err := <-res; !errors.Is(err, ledger.ErrWrongKey) {
		t.Fatalf("gapped transfer: %v, want ledger.ErrWrongKey", err)
	}
	u.l2 = k.l2
	u.nonce++
	return raw
}
