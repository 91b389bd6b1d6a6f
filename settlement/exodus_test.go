package settlement

import (
	"context"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
	"github.com/veloxlabs/velox/state"
)

// exodusEnv is a rollup on an embedded L1 whose settled root is a Go
// state.Tree, with a verifier that accepts every proof (the exodus rules
// do not depend on proofs) and 1000 ether of L2-backing funds.
type exodusEnv struct {
	dev    *DevChain
	l1     L1
	admin  Account // deployer and sequencer
	rollup *Rollup
	tree   *state.Tree
}

// backing is the rollup's balance at genesis: the ether behind the L2
// balances of the tree.
var backing = ether(1000)

func newExodusEnv(t *testing.T, ctx context.Context, depth int, accounts map[uint32]ledger.Account) *exodusEnv {
	t.Helper()
	tree := treeOf(t, depth, accounts)
	admin := NewAccount(DevKey(0))
	// The rollup is admin's first contract; fund its address in genesis.
	raddr := crypto.CreateAddress(admin.Address, 0)
	dev, err := StartDevChain(DevConfig{BlockTime: 100 * time.Millisecond, Accounts: 6,
		Alloc: types.GenesisAlloc{raddr: {Balance: backing}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	l1 := dev.Client()
	vaddr, err := Deploy(ctx, l1, NewAccount(DevKey(5)), acceptAllVerifier(t, ctx).Bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DeployRollup(ctx, l1, admin, RollupConfig{Verifier: vaddr, Sequencer: admin.Address, ChainID: 9,
		GenesisRoot: tree.Root(), Depth: depth})
	if err != nil {
		t.Fatal(err)
	}
	if got != raddr {
		t.Fatalf("rollup deployed at %v, funded %v", got, raddr)
	}
	return &exodusEnv{dev: dev, l1: l1, admin: admin, rollup: NewRollup(l1, got), tree: tree}
}

// acceptAllVerifier compiles gas.go's GasProbeVerifier.
func acceptAllVerifier(t *testing.T, ctx context.Context) *Artifact {
	t.Helper()
	f := filepath.Join(t.TempDir(), "GasProbeVerifier.sol")
	if err := os.WriteFile(f, []byte(gasProbeSource), 0o644); err != nil {
		t.Fatal(err)
	}
	arts, err := Compile(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	return arts["GasProbeVerifier"]
}

// treeOf commits accounts into a new state tree of the given depth.
func treeOf(t *testing.T, depth int, accounts map[uint32]ledger.Account) *state.Tree {
	t.Helper()
	st, err := state.Open(t.TempDir(), state.Options{Depth: depth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var w []state.LeafWrite
	for i, a := range accounts {
		w = append(w, state.LeafWrite{Index: i, Account: a})
	}
	u, err := st.Tree().Update(context.Background(), w, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := st.NewBatch()
	if err := b.PutTree(u); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	return st.Tree()
}

func proofOf(t *testing.T, tree *state.Tree, idx uint32) *ExitProof {
	t.Helper()
	a, sib, err := tree.Proof(idx)
	if err != nil {
		t.Fatal(err)
	}
	return &ExitProof{Index: idx, Account: a, Siblings: sib}
}

func cloneProof(e *ExitProof) *ExitProof {
	c := *e
	c.Siblings = append([]fr.Element(nil), e.Siblings...)
	return &c
}

func randomAccount(rng *rand.Rand, owner common.Address) ledger.Account {
	a := ledger.Account{Address: owner, Nonce: rng.Uint32()}
	if owner == (common.Address{}) {
		for i := range a.Address {
			a.Address[i] = byte(rng.Uint32())
		}
	}
	if rng.IntN(3) > 0 {
		var b [32]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		a.PubKeyHash.SetBytes(b[:]) // reduced mod r
	}
	a.Balance.SetUint64(rng.Uint64())
	a.Balance.Lsh(&a.Balance, uint(rng.IntN(32))) // up to 2^96
	return a
}

// claimed claims from's pending withdrawals and returns what its L1
// balance gained (gas included).
func claimed(t *testing.T, ctx context.Context, r *Rollup, l1 L1, from Account) *big.Int {
	t.Helper()
	before, err := l1.BalanceAt(ctx, from.Address, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := r.ClaimWithdrawal(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	after, err := l1.BalanceAt(ctx, from.Address, rc.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	got := new(big.Int).Sub(after, before)
	return got.Add(got, new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), rc.EffectiveGasPrice))
}

// depositPubdata is a 4-slot batch: one Deposit (account 0) and a Noop.
func depositPubdata(to common.Address, amount *big.Int) []byte {
	p := make([]byte, 4*ledger.ChunkSize)
	p[0] = byte(ledger.OpDeposit)
	copy(p[5:25], to.Bytes())
	amount.FillBytes(p[25:41])
	return p
}

// TestExodus runs the exodus mode on a depth-32 tree of random accounts:
// the contract's Merkle root of every account equals the Go tree's, exits
// and refunds are paid once, and nothing else is accepted.
func TestExodus(t *testing.T) {
	ctx := testCtx(t)
	rng := rand.New(rand.NewPCG(1, 2))
	owner, other := NewAccount(DevKey(1)), NewAccount(DevKey(2))
	depositor, depositor2 := NewAccount(DevKey(3)), NewAccount(DevKey(4))
	accounts := map[uint32]ledger.Account{}
	for range 12 {
		accounts[rng.Uint32()] = randomAccount(rng, common.Address{})
	}
	const ownerIdx, zeroIdx, neighbourIdx = 1<<31 + 12345, 7, 1<<31 + 12344
	ownerAcc := randomAccount(rng, owner.Address)
	ownerAcc.Balance.SetFromBig(ether(7))
	accounts[ownerIdx] = ownerAcc
	accounts[neighbourIdx] = randomAccount(rng, other.Address) // ownerIdx's sibling leaf
	accounts[zeroIdx] = ledger.Account{Address: common.Address{0x2e}, Nonce: 3}
	e := newExodusEnv(t, ctx, ledger.MaxDepth, accounts)
	r := e.rollup
	treeRoot := e.tree.Root()
	root := treeRoot.Bytes()

	// The contract's root of every account is the Go tree's root.
	for idx := range accounts {
		p := proofOf(t, e.tree, idx)
		got, err := r.AccountRoot(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got != root {
			t.Fatalf("account %d: contract root %x, Go tree root %x", idx, got, root)
		}
	}

	good := proofOf(t, e.tree, ownerIdx)
	if err := r.CallExit(ctx, owner.Address, good); !isRevert(err, "NotExodus") {
		t.Fatalf("exit before exodus: %v", err)
	}
	if _, err := r.RefundDeposit(ctx, depositor, 0); !isRevert(err, "NotExodus") {
		t.Fatalf("refund before exodus: %v", err)
	}
	if _, err := r.ActivateExodus(ctx, other); !isRevert(err, "NoExpiredPriorityOp") {
		t.Fatalf("exodus with an empty queue: %v", err)
	}

	// Deposit 0 is consumed by batch 1; deposit 1 expires (deadline 0).
	if _, err := r.Deposit(ctx, depositor, common.Address{0xd0}, ether(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Deposit(ctx, depositor2, common.Address{0xd1}, ether(2)); err != nil {
		t.Fatal(err)
	}
	b1 := &Batch{Number: 1, NewRoot: root, Pubdata: depositPubdata(common.Address{0xd0}, ether(3)), Proof: make([]byte, 384)}
	if _, err := r.transact(ctx, e.admin, nil, r.SubmitBatchData(b1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { x, _ := r.ExpiredPriorityOp(ctx); return x })
	if _, err := r.ActivateExodus(ctx, other); err != nil {
		t.Fatal(err)
	}
	if on, err := r.Exodus(ctx); err != nil || !on {
		t.Fatalf("exodus flag %v, %v", on, err)
	}
	if _, err := r.ActivateExodus(ctx, other); !isRevert(err, "ExodusActive") {
		t.Fatalf("second activation: %v", err)
	}
	// The watcher reports the exodus once, with the last verified batch
	// and root, also across a restart from its cursor.
	var exoduses []uint64
	wcfg := WatcherConfig{Rollup: r.Address(), Confirmations: 1, CursorPath: filepath.Join(t.TempDir(), "watcher.json"),
		OnExodus: func(_ context.Context, n uint64, got [32]byte, _ uint64) error {
			if got != root {
				t.Errorf("exodus root %x, want %x", got, root)
			}
			exoduses = append(exoduses, n)
			return nil
		}}
	for range 2 {
		w, err := NewWatcher(e.l1, wcfg)
		if err != nil {
			t.Fatal(err)
		}
		e.dev.Mine()
		if err := w.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if !w.Cursor().Exodus {
			t.Fatal("cursor does not record the exodus")
		}
	}
	if len(exoduses) != 1 || exoduses[0] != 1 {
		t.Fatalf("exodus reported %v, want once after batch 1", exoduses)
	}
	// Frozen: no batch (even a deposit-only one, which passed before), no deposit.
	b2 := &Batch{Number: 2, NewRoot: root, Pubdata: depositPubdata(common.Address{0xd1}, ether(2)), Proof: make([]byte, 384)}
	if err := r.CallSubmitBatch(ctx, e.admin.Address, b2); !isRevert(err, "ExodusActive") {
		t.Fatalf("batch in exodus: %v", err)
	}
	if _, err := r.Deposit(ctx, depositor, depositor.Address, ether(1)); !isRevert(err, "ExodusActive") {
		t.Fatalf("deposit in exodus: %v", err)
	}

	t.Run("refund", func(t *testing.T) {
		if _, err := r.RefundDeposit(ctx, other, 0); !isRevert(err, "NoDeposit") {
			t.Fatalf("refund of a consumed deposit: %v", err)
		}
		if _, err := r.RefundDeposit(ctx, other, 2); !isRevert(err, "NoDeposit") {
			t.Fatalf("refund of a deposit never made: %v", err)
		}
		if _, err := r.RefundDeposit(ctx, other, 1); err != nil { // anyone may trigger it
			t.Fatal(err)
		}
		if _, err := r.RefundDeposit(ctx, other, 1); !isRevert(err, "NoDeposit") {
			t.Fatalf("second refund: %v", err)
		}
		if owed, err := r.PendingWithdrawal(ctx, depositor2.Address); err != nil || owed.Cmp(ether(2)) != 0 {
			t.Fatalf("refund owed %v, %v", owed, err)
		}
		if got := claimed(t, ctx, r, e.l1, depositor2); got.Cmp(ether(2)) != 0 {
			t.Fatalf("refund paid %v", got)
		}
	})

	t.Run("exit", func(t *testing.T) {
		bad := map[string]func(p *ExitProof){
			"balance":   func(p *ExitProof) { p.Account.Balance.AddUint64(&p.Account.Balance, 1) },
			"nonce":     func(p *ExitProof) { p.Account.Nonce++ },
			"pubKey":    func(p *ExitProof) { p.Account.PubKeyHash.SetUint64(1) },
			"owner":     func(p *ExitProof) { p.Account.Address = other.Address },
			"index":     func(p *ExitProof) { p.Index ^= 1 << 20 },
			"swapped":   func(p *ExitProof) { p.Index ^= 1 }, // the neighbour's position
			"sibling":   func(p *ExitProof) { p.Siblings[17].SetUint64(5) },
			"short":     func(p *ExitProof) { p.Siblings = p.Siblings[:31] },
			"long":      func(p *ExitProof) { p.Siblings = append(p.Siblings, fr.Element{}) },
			"neighbour": func(p *ExitProof) { *p = *proofOf(t, e.tree, neighbourIdx); p.Account.Address = owner.Address },
		}
		for name, f := range bad {
			p := cloneProof(good)
			f(p)
			if err := r.CallExit(ctx, owner.Address, p); !isRevert(err, "BadMerkleProof") {
				t.Errorf("exit with a wrong %s: %v", name, err)
			}
		}
		// A non-canonical field element (pubKeyHash + r) is refused, not reduced.
		owner0, pkh, nonce, bal, sib := good.args()
		pkh.Add(pkh, fr.Modulus())
		data := r.b.PackExit(good.Index, owner0, pkh, nonce, bal, sib)
		if _, err := e.l1.CallContract(ctx, ethereum.CallMsg{From: owner.Address, To: &r.addr, Data: data}, nil); !isRevert(r.decodeRevert(err), "NotInField") {
			t.Fatalf("exit with pubKeyHash >= r: %v", err)
		}
		if err := r.CallExit(ctx, owner.Address, proofOf(t, e.tree, zeroIdx)); !isRevert(err, "ZeroAmount") {
			t.Fatalf("exit of an empty balance: %v", err)
		}

		// Sent by someone else, paid to the owner.
		rc, err := r.Exit(ctx, other, good)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("exit gas at depth %d: %d", len(good.Siblings), rc.GasUsed)
		if _, err := r.Exit(ctx, owner, good); !isRevert(err, "AlreadyExited") {
			t.Fatalf("second exit: %v", err)
		}
		for idx, want := range map[uint32]bool{ownerIdx: true, neighbourIdx: false, ownerIdx ^ 1<<8: false} {
			if got, err := r.Exited(ctx, idx); err != nil || got != want {
				t.Fatalf("exited(%d) = %v, %v; want %v", idx, got, err, want)
			}
		}
		if owed, err := r.PendingWithdrawal(ctx, other.Address); err != nil || owed.Sign() != 0 {
			t.Fatalf("the sender of the exit is owed %v, %v", owed, err)
		}
		bal0, _ := e.l1.BalanceAt(ctx, r.Address(), nil)
		if got := claimed(t, ctx, r, e.l1, owner); got.Cmp(ether(7)) != 0 {
			t.Fatalf("exit paid %v", got)
		}
		bal1, _ := e.l1.BalanceAt(ctx, r.Address(), nil)
		if new(big.Int).Sub(bal0, bal1).Cmp(ether(7)) != 0 {
			t.Fatalf("rollup balance %v -> %v", bal0, bal1)
		}
		if _, err := r.ClaimWithdrawal(ctx, owner); !isRevert(err, "NothingToClaim") {
			t.Fatalf("second claim: %v", err)
		}
		// Every other account exits once, to its own address.
		for idx, a := range accounts {
			if idx == ownerIdx || idx == zeroIdx {
				continue
			}
			if _, err := r.Exit(ctx, other, proofOf(t, e.tree, idx)); err != nil {
				t.Fatalf("exit of %d: %v", idx, err)
			}
			owed, err := r.PendingWithdrawal(ctx, a.Address)
			if err != nil || owed.Cmp(a.Balance.ToBig()) != 0 {
				t.Fatalf("account %d: owner owed %v (%v), balance %v", idx, owed, err, &a.Balance)
			}
		}
		if _, err := r.Exit(ctx, other, proofOf(t, e.tree, neighbourIdx)); !isRevert(err, "AlreadyExited") {
			t.Fatalf("second exit of the neighbour: %v", err)
		}
	})
}

// TestAccountRootDifferential compares the contract's Poseidon2 Merkle
// root with state.RootFromPath over random and extreme inputs (field
// elements near r, maximal integers), beyond what a real tree holds.
func TestAccountRootDifferential(t *testing.T) {
	ctx := testCtx(t)
	e := newExodusEnv(t, ctx, 4, map[uint32]ledger.Account{0: {Address: common.Address{9}}})
	rng := rand.New(rand.NewPCG(3, 4))
	var rMinus1, rMinus2 fr.Element
	rMinus1.SetOne()
	rMinus1.Neg(&rMinus1)
	rMinus2.Sub(&rMinus1, new(fr.Element).SetOne())
	edges := []fr.Element{{}, *new(fr.Element).SetOne(), rMinus1, rMinus2}
	for n := range 24 {
		a := randomAccount(rng, common.Address{})
		sib := make([]fr.Element, ledger.MaxDepth)
		for i := range sib {
			if rng.IntN(2) == 0 {
				sib[i] = edges[rng.IntN(len(edges))]
			} else {
				var b [32]byte
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				sib[i].SetBytes(b[:])
			}
		}
		if n%2 == 0 {
			a.PubKeyHash = rMinus1
			a.Nonce = ^uint32(0)
			a.Balance = ledger.MaxAmount()
			for i := range a.Address {
				a.Address[i] = 0xff
			}
		}
		p := &ExitProof{Index: rng.Uint32(), Account: a, Siblings: sib}
		got, err := e.rollup.AccountRoot(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want := state.RootFromPath(p.Index, a.Hash(), sib)
		if got != want.Bytes() {
			t.Fatalf("case %d: contract root %x, Go %x", n, got, want.Bytes())
		}
	}
}

// TestExitIndexRange checks that a depth-4 rollup refuses an index beyond
// 2^4 whose low bits point to a real account (the Merkle path alone would
// accept it).
func TestExitIndexRange(t *testing.T) {
	ctx := testCtx(t)
	owner := NewAccount(DevKey(1))
	acc := ledger.Account{Address: owner.Address, Nonce: 2, Balance: *uint256.NewInt(1e18)}
	e := newExodusEnv(t, ctx, 4, map[uint32]ledger.Account{5: acc, 0: {Address: common.Address{9}}})
	r := e.rollup
	if _, err := r.Deposit(ctx, NewAccount(DevKey(2)), common.Address{1}, big.NewInt(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { x, _ := r.ExpiredPriorityOp(ctx); return x })
	if _, err := r.ActivateExodus(ctx, owner); err != nil {
		t.Fatal(err)
	}
	p := proofOf(t, e.tree, 5)
	p.Index += 16
	want := e.tree.Root()
	if root, err := r.AccountRoot(ctx, p); err != nil || root != want.Bytes() {
		t.Fatalf("accountRoot of index 21 at depth 4: %x, %v", root, err)
	}
	if err := r.CallExit(ctx, owner.Address, p); !isRevert(err, "BadMerkleProof") {
		t.Fatalf("exit of index 21 at depth 4: %v", err)
	}
	if _, err := r.Exit(ctx, owner, proofOf(t, e.tree, 5)); err != nil {
		t.Fatal(err)
	}
}

// TestClaimReentrancy pays a contract whose receive() re-enters
// claimWithdrawal: it gets its withdrawal exactly once.
func TestClaimReentrancy(t *testing.T) {
	ctx := testCtx(t)
	arts, err := Compile(ctx, filepath.Join(ContractsDir(), "test", "ReentrantClaimer.sol"))
	if err != nil {
		t.Fatal(err)
	}
	art := arts["ReentrantClaimer"]
	e := newExodusEnv(t, ctx, 4, map[uint32]ledger.Account{0: {Address: common.Address{9}}})
	r := e.rollup
	user := NewAccount(DevKey(1))
	input, err := art.ABI.Pack("", r.Address())
	if err != nil {
		t.Fatal(err)
	}
	addr, err := Deploy(ctx, e.l1, user, art.Bin, input)
	if err != nil {
		t.Fatal(err)
	}
	attacker := bind.NewBoundContract(addr, art.ABI, e.l1, e.l1, e.l1)
	send := func(method string, value *big.Int, args ...any) error {
		data, err := art.ABI.Pack(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		opts, err := user.Transactor(ctx, e.l1)
		if err != nil {
			t.Fatal(err)
		}
		opts.Value = value
		tx, err := bind.Transact(attacker, opts, data)
		if err != nil {
			return r.decodeRevert(err)
		}
		rc, err := WaitMined(ctx, e.l1, tx.Hash())
		if err != nil {
			t.Fatal(err)
		}
		if rc.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("%s reverted", method)
		}
		return nil
	}
	read := func(method string) uint64 {
		out, err := bind.Call(attacker, &bind.CallOpts{Context: ctx}, mustPack(t, art.ABI, method), func(b []byte) (*big.Int, error) {
			v, err := art.ABI.Unpack(method, b)
			if err != nil {
				return nil, err
			}
			return abi.ConvertType(v[0], new(big.Int)).(*big.Int), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Uint64()
	}

	// The attacker's deposit, refunded in exodus, is owed to it; the
	// rollup also holds everyone else's funds.
	owed := ether(3)
	if err := send("deposit", owed, common.Address{0xa}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { x, _ := r.ExpiredPriorityOp(ctx); return x })
	if _, err := r.ActivateExodus(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RefundDeposit(ctx, user, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := r.PendingWithdrawal(ctx, addr); err != nil || got.Cmp(owed) != 0 {
		t.Fatalf("attacker owed %v, %v", got, err)
	}
	before, _ := e.l1.BalanceAt(ctx, r.Address(), nil)
	if err := send("attack", nil); err != nil {
		t.Fatal(err)
	}
	after, _ := e.l1.BalanceAt(ctx, r.Address(), nil)
	got, _ := e.l1.BalanceAt(ctx, addr, nil)
	if got.Cmp(owed) != 0 || new(big.Int).Sub(before, after).Cmp(owed) != 0 {
		t.Fatalf("attacker holds %v, rollup %v -> %v; want exactly %v moved", got, before, after, owed)
	}
	if n, re, pays := read("reentries"), read("reentered"), read("payments"); n != 1 || re != 0 || pays != 1 {
		t.Fatalf("%d re-entrant claims, %d succeeded, %d payments; want 1, 0, 1", n, re, pays)
	}
	if err := send("attack", nil); !isRevert(err, "NothingToClaim") {
		t.Fatalf("second claim: %v", err)
	}
	if now, _ := e.l1.BalanceAt(ctx, r.Address(), nil); now.Cmp(after) != 0 {
		t.Fatalf("rollup balance moved to %v after the refused claim", now)
	}
}

func mustPack(t *testing.T, a abi.ABI, method string, args ...any) []byte {
	t.Helper()
	b, err := a.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
