package prover

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/crypto/sha3"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover/circuit"
)

// testCfg is the smallest useful batch: a transfer and a withdrawal.
var testCfg = circuit.Config{Slots: 4, Depth: 4, ChainID: 9}

var testKeys = struct {
	once sync.Once
	dir  string
	k    *Keys
	err  error
}{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "velox-prover-keys-")
	if err != nil {
		panic(err)
	}
	testKeys.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// keysForTest runs the development setup once per test binary, in a
// directory shared by the tests.
func keysForTest(t *testing.T) *Keys {
	t.Helper()
	testKeys.once.Do(func() {
		testKeys.k, testKeys.err = LoadOrSetup(context.Background(), testKeys.dir, testCfg, KeyOptions{Setup: true})
	})
	if testKeys.err != nil {
		t.Fatal(testKeys.err)
	}
	return testKeys.k
}

// batches returns n consecutive batch witnesses of real transactions.
func batches(t *testing.T, n int) []*ledger.BatchWitness {
	c := testchain.New(t, testCfg.Params(), 3, 1_000_000, 1)
	var ws []*ledger.BatchWitness
	for i := 0; i < n; i++ {
		a, b := c.Users[i%3], c.Users[(i+1)%3]
		ops := c.Execute(
			c.Transfer(a, b.Addr, 1000, 10, c.Nonce(a)),
		)
		ops = append(ops, c.Execute(c.Withdraw(b, common.Address{0xee}, 500, 5, c.Nonce(b)))...)
		if len(ops) != 2 {
			t.Fatalf("batch %d: %d ops executed", i, len(ops))
		}
		ws = append(ws, c.Commit(ops, testCfg.Slots))
	}
	return ws
}

func TestProveBatchBothBackends(t *testing.T) {
	k := keysForTest(t)
	w := batches(t, 1)[0]
	for _, b := range []Backend{Velox, Gnark} {
		p, err := k.ProveBatch(context.Background(), w, b)
		if err != nil {
			t.Fatalf("%v: %v", b, err)
		}
		want := ledger.PublicInput(w.Number, w.OldRoot, w.NewRoot, w.PriorityOps(), w.Pubdata)
		if p.PublicInput != want {
			t.Fatalf("%v: public input %v, want %v", b, p.PublicInput.String(), want.String())
		}
		// The same proof with another public input must not verify.
		var wrong fr.Element
		wrong.SetUint64(1)
		wrong.Add(&wrong, &want)
		pub, err := publicWitness(wrong)
		if err != nil {
			t.Fatal(err)
		}
		if err := groth16.Verify(p.Proof, k.VK, pub, backend.WithVerifierHashToFieldFunction(sha3.NewLegacyKeccak256())); err == nil {
			t.Fatalf("%v: proof verified with a wrong public input", b)
		}
		t.Logf("%v: prove %v, verify %v", b, p.Timings.Prove, p.Timings.Verify)
	}
}

func publicWitness(pi fr.Element) (witness.Witness, error) {
	w, err := witness.New(fr.Modulus())
	if err != nil {
		return nil, err
	}
	ch := make(chan any, 1)
	ch <- pi
	close(ch)
	if err := w.Fill(1, 0, ch); err != nil {
		return nil, err
	}
	return w, nil
}

func TestProveRejectsInvalidWitness(t *testing.T) {
	k := keysForTest(t)
	w := batches(t, 1)[0]
	bad := *w
	bad.Pubdata = append([]byte(nil), w.Pubdata...)
	bad.Pubdata[3] ^= 0x40 // the published sender index no longer matches
	for _, b := range []Backend{Velox, Gnark} {
		if _, err := k.ProveBatch(context.Background(), &bad, b); err == nil {
			t.Fatalf("%v: proved a batch whose pubdata does not match its operations", b)
		}
	}
}

func TestServiceDeliversInOrder(t *testing.T) {
	k := keysForTest(t)
	ws := batches(t, 3)
	s := NewService(k, ServiceOptions{InFlight: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		for _, w := range ws {
			if err := s.Submit(ctx, w); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range ws {
		r := <-s.Results()
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if r.Number != ws[i].Number {
			t.Fatalf("result %d is batch %d, want %d", i, r.Number, ws[i].Number)
		}
	}
	if st := s.Status(); st.Proven != 3 || st.InFlight != 0 {
		t.Fatalf("status %+v", st)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(ctx, ws[0]); err == nil {
		t.Fatal("submit after stop accepted")
	}
}

func TestKeysCachedAndMismatchRefused(t *testing.T) {
	k := keysForTest(t)
	start := time.Now()
	again, err := LoadOrSetup(context.Background(), testKeys.dir, testCfg, KeyOptions{})
	if err != nil {
		t.Fatalf("cached keys not found: %v", err)
	}
	if again.CircuitHash != k.CircuitHash || !again.Dev {
		t.Fatal("reloaded keys differ")
	}
	t.Logf("reload took %v", time.Since(start))
	// Keys of one circuit offered for another are refused.
	other := testCfg
	other.ChainID++
	ccs, hash, err := Compile(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(KeyDir(testKeys.dir, testCfg, k.CircuitHash), other, ccs, hash, nil); err == nil {
		t.Fatal("keys of another circuit accepted")
	}
	if _, err := LoadOrSetup(context.Background(), t.TempDir(), testCfg, KeyOptions{}); err == nil {
		t.Fatal("missing keys without setup accepted")
	}
}

func TestServiceSubmitBeforeStart(t *testing.T) {
	s := NewService(&Keys{Config: testCfg}, ServiceOptions{})
	if err := s.Submit(context.Background(), &ledger.BatchWitness{}); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("submit before start: %v, want ErrNotStarted", err)
	}
}
