package settlement

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"

	"github.com/veloxlabs/velox/internal/testchain"
	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/prover"
	"github.com/veloxlabs/velox/prover/circuit"
	"github.com/veloxlabs/velox/state"
)

// testCfg has room for a ChangePubKey (8 chunks).
var testCfg = circuit.Config{Slots: 8, Depth: 4, ChainID: 9}

var shared = struct {
	dir string

	keysOnce sync.Once
	keys     *prover.Keys
	keysErr  error

	verOnce sync.Once
	ver     *Artifact
	verErr  error
}{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "velox-settlement-")
	if err != nil {
		panic(err)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// keysForTest runs the development setup once per test binary.
func keysForTest(t testing.TB) *prover.Keys {
	t.Helper()
	shared.keysOnce.Do(func() {
		start := time.Now()
		shared.keys, shared.keysErr = prover.LoadOrSetup(context.Background(), filepath.Join(shared.dir, "keys"), testCfg, prover.KeyOptions{Setup: true})
		t.Logf("keys for %v: %v", testCfg, time.Since(start))
	})
	if shared.keysErr != nil {
		t.Fatal(shared.keysErr)
	}
	return shared.keys
}

// verifierForTest compiles the test keys' verifier once.
func verifierForTest(t testing.TB) *Artifact {
	t.Helper()
	k := keysForTest(t)
	shared.verOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		shared.ver, shared.verErr = CompileVerifier(ctx, k)
		t.Logf("verifier compiled in %v", time.Since(start))
	})
	if shared.verErr != nil {
		t.Fatal(shared.verErr)
	}
	return shared.ver
}

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startDev starts an embedded L1 in dir (a temp dir if empty).
func startDev(t *testing.T, dir string) *DevChain {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	d, err := StartDevChain(DevConfig{DataDir: dir, BlockTime: 100 * time.Millisecond, Accounts: 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// deployment is a verifier and a rollup on an L1.
type deployment struct {
	l1       L1
	admin    Account // deploys, and is the sequencer
	verifier common.Address
	rollup   *Rollup
}

func deploy(t *testing.T, ctx context.Context, l1 L1, genesis fr.Element, deadline uint64) *deployment {
	t.Helper()
	v := verifierForTest(t)
	admin := NewAccount(DevKey(0))
	vaddr, err := Deploy(ctx, l1, admin, v.Bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	raddr, err := DeployRollup(ctx, l1, admin, RollupConfig{Verifier: vaddr, Sequencer: admin.Address, ChainID: testCfg.ChainID,
		GenesisRoot: genesis, PriorityDeadline: deadline})
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{l1: l1, admin: admin, verifier: vaddr, rollup: NewRollup(l1, raddr)}
}

// newL2 is an L2 state store at genesis, driven with testchain's helpers.
func newL2(t *testing.T) *testchain.Chain {
	t.Helper()
	p := testCfg.Params()
	st, err := state.Open(t.TempDir(), state.Options{Depth: p.Depth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &testchain.Chain{T: t, Params: p, Store: st, Sequencer: common.Address{0x5e, 0x0}}
	if err := st.Genesis(context.Background(), c.Sequencer); err != nil {
		t.Fatal(err)
	}
	return c
}

// l2User is dev account i as an L2 user (no account until a deposit).
func l2User(t *testing.T, i int) *testchain.User {
	t.Helper()
	k := DevKey(i)
	u := &testchain.User{Eth: k, Addr: NewAccount(k).Address}
	var err error
	if u.L2, err = ledger.DeriveKey(k, testCfg.ChainID); err != nil {
		t.Fatal(err)
	}
	return u
}

// batchFor proves w for L1.
func batchFor(t *testing.T, w *ledger.BatchWitness) *Batch {
	t.Helper()
	start := time.Now()
	proof, err := Prove(keysForTest(t), w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("batch %d proven in %v", w.Number, time.Since(start))
	return &Batch{Number: w.Number, NewRoot: w.NewRoot.Bytes(), Pubdata: w.Pubdata, Proof: proof}
}

// expectRevert checks that submitting b reverts with the named error.
func expectRevert(t *testing.T, ctx context.Context, d *deployment, b *Batch, name string) {
	t.Helper()
	err := d.rollup.CallSubmitBatch(ctx, d.admin.Address, b)
	re, ok := err.(*RevertError)
	if !ok || re.Name != name {
		t.Fatalf("batch %d: got %v, want revert %s", b.Number, err, name)
	}
}
