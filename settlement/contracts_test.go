package settlement

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/veloxlabs/velox/settlement/bindings"
	"github.com/veloxlabs/velox/settlement/internal/contractgen"
	"github.com/veloxlabs/velox/settlement/internal/poseidon2gen"
)

// TestContractsCurrent fails when the checked-in artifacts or bindings
// differ from a fresh `make contracts`.
func TestContractsCurrent(t *testing.T) {
	ctx := testCtx(t)
	dir := ContractsDir()
	if err := EnsureSolc(ctx, dir); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "compile.js"), "--out", out, filepath.Join(dir, "Rollup.sol"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compile: %v\n%s", err, msg)
	}
	for _, f := range []string{"Rollup.abi", "Rollup.bin"} {
		fresh, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.ReadFile(filepath.Join(dir, "build", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, in) {
			t.Errorf("contracts/build/%s is stale: run make contracts", f)
		}
	}
	code, err := contractgen.Bindings(out)
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "bindings", "rollup.go"))
	if err != nil {
		t.Fatal(err)
	}
	if code != string(in) {
		t.Error("bindings/rollup.go is stale: run make contracts")
	}
}

// TestPoseidon2Current fails when contracts/Poseidon2.sol differs from a
// fresh `go generate ./settlement` (gnark-crypto's round constants).
func TestPoseidon2Current(t *testing.T) {
	src, err := poseidon2gen.Solidity()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join(ContractsDir(), "Poseidon2.sol"))
	if err != nil {
		t.Fatal(err)
	}
	if src != string(in) {
		t.Error("contracts/Poseidon2.sol is stale: run go generate ./settlement, then make contracts")
	}
}

func TestDevKeysFixed(t *testing.T) {
	// The documented first development account.
	if got := crypto.PubkeyToAddress(DevKey(0).PublicKey); got != devAccount0 {
		t.Fatalf("dev account 0 is %v, want %v", got, devAccount0)
	}
	if crypto.PubkeyToAddress(DevKey(1).PublicKey) == devAccount0 {
		t.Fatal("dev accounts 0 and 1 coincide")
	}
}

// TestDevChainPersists restarts the embedded L1 on its data directory.
func TestDevChainPersists(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	dev := startDev(t, dir)
	l1 := dev.Client()
	r, err := DeployRollup(ctx, l1, NewAccount(DevKey(0)), RollupConfig{Verifier: common.Address{1}, Sequencer: common.Address{2}, ChainID: 9, PriorityDeadline: 10})
	if err != nil {
		t.Fatal(err)
	}
	rollup := NewRollup(l1, r)
	if _, err := rollup.Deposit(ctx, NewAccount(DevKey(1)), common.Address{7}, big.NewInt(1234)); err != nil {
		t.Fatal(err)
	}
	head, err := l1.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	dev = startDev(t, dir)
	l1 = dev.Client()
	again, err := l1.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again < head {
		t.Fatalf("restarted chain at block %d, was %d", again, head)
	}
	rollup = NewRollup(l1, r)
	op, err := bindingsCall(ctx, rollup)
	if err != nil {
		t.Fatal(err)
	}
	if op.To != (common.Address{7}) || op.Amount.Int64() != 1234 {
		t.Fatalf("deposit lost across restart: %+v", op)
	}
	// And it keeps producing blocks.
	waitFor(t, func() bool { n, _ := l1.BlockNumber(ctx); return n > again+1 })
}

// TestDepositRules checks deposit's input checks and the priority
// deadline rule.
func TestDepositRules(t *testing.T) {
	ctx := testCtx(t)
	whale := NewAccount(DevKey(100))
	dev, err := StartDevChain(DevConfig{BlockTime: 100 * time.Millisecond, Accounts: 2,
		Alloc: types.GenesisAlloc{whale.Address: {Balance: new(big.Int).Lsh(big.NewInt(1), 130)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	l1 := dev.Client()
	admin := NewAccount(DevKey(0))
	// Deadline 0: a deposit expires one block after it is queued. The
	// queue rules come before the proof check, so the "verifier" here is
	// a contract without verifyProof: every proof is invalid.
	other, err := DeployRollup(ctx, l1, admin, RollupConfig{Verifier: common.Address{1}, Sequencer: admin.Address, ChainID: 9})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := DeployRollup(ctx, l1, admin, RollupConfig{Verifier: other, Sequencer: admin.Address, ChainID: 9})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRollup(l1, addr)
	user := NewAccount(DevKey(1))
	if _, err := r.Deposit(ctx, user, common.Address{}, big.NewInt(1)); !isRevert(err, "ZeroAddress") {
		t.Fatalf("deposit to zero address: %v", err)
	}
	if _, err := r.Deposit(ctx, user, user.Address, big.NewInt(0)); !isRevert(err, "ZeroAmount") {
		t.Fatalf("zero deposit: %v", err)
	}
	if _, err := r.Deposit(ctx, whale, user.Address, new(big.Int).Lsh(big.NewInt(1), 128)); !isRevert(err, "AmountTooLarge") {
		t.Fatalf("deposit of 2^128 wei: %v", err)
	}
	if _, err := r.Deposit(ctx, user, user.Address, big.NewInt(1000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { e, _ := r.ExpiredPriorityOp(ctx); return e })
	transfer := &Batch{Number: 1, Pubdata: transferPubdata(4), Proof: make([]byte, 384)}
	if err := r.CallSubmitBatch(ctx, admin.Address, transfer); !isRevert(err, "PriorityOpExpired") {
		t.Fatalf("batch ignoring an expired deposit: %v", err)
	}
	// A batch consuming it passes the queue rules (and fails on the proof).
	dep := make([]byte, 64)
	dep[0] = 0x01
	copy(dep[5:25], user.Address.Bytes())
	big.NewInt(1000).FillBytes(dep[25:41])
	if err := r.CallSubmitBatch(ctx, admin.Address, &Batch{Number: 1, Pubdata: dep, Proof: make([]byte, 384)}); !isRevert(err, "InvalidProof") {
		t.Fatalf("batch consuming the expired deposit: %v", err)
	}
	// A deposit the queue does not hold.
	copy(dep[5:25], admin.Address.Bytes())
	if err := r.CallSubmitBatch(ctx, admin.Address, &Batch{Number: 1, Pubdata: dep, Proof: make([]byte, 384)}); !isRevert(err, "PriorityOpMismatch") {
		t.Fatalf("batch with a forged deposit: %v", err)
	}
}

func bindingsCall(ctx context.Context, r *Rollup) (bindings.PriorityOpsOutput, error) {
	return bind.Call(r.c, &bind.CallOpts{Context: ctx}, r.b.PackPriorityOps(0), r.b.UnpackPriorityOps)
}

// devAccount0 is the address documented with DevSeed.
var devAccount0 = common.HexToAddress("0x23FD7be824f9A973955e35E478521686Db9379c4")
