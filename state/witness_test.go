package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/veloxlabs/velox/ledger"
)

var feeOwner = common.Address{0xfe, 0xe0}

// opGen generates valid executed operations by replaying them on a model.
type opGen struct {
	rng    *rand.Rand
	model  *ledger.MemState
	params ledger.Params
	seen   map[common.Address]bool
}

func newOpGen(seed uint64, depth int) *opGen {
	m := ledger.NewMemState()
	m.Create(ledger.FeeAccount, feeOwner)
	return &opGen{
		rng:    rand.New(rand.NewPCG(seed, 7)),
		model:  m,
		params: ledger.Params{ChainID: 1, Depth: depth},
		seen:   map[common.Address]bool{feeOwner: true},
	}
}

func (g *opGen) freshAddr() common.Address {
	for {
		a := randAddr(g.rng)
		if !g.seen[a] {
			g.seen[a] = true
			return a
		}
	}
}

// existing returns a random non-fee account with a positive balance.
func (g *opGen) existing() (uint32, bool) {
	if g.model.Next <= 1 {
		return 0, false
	}
	idx := 1 + uint32(g.rng.Uint64N(uint64(g.model.Next-1)))
	a := g.model.Account(idx)
	return idx, !a.Balance.IsZero()
}

func (g *opGen) small(limit uint64) uint256.Int {
	var v uint256.Int
	if limit > 0 {
		v.SetUint64(g.rng.Uint64N(limit))
	}
	return v
}

// candidate proposes an operation that is valid on the model.
func (g *opGen) candidate() (ledger.Op, bool) {
	switch k := g.rng.IntN(10); {
	case k < 3 || g.model.Next <= 2: // deposit
		op := ledger.Op{Type: ledger.OpDeposit, PriorityID: g.rng.Uint64(), Amount: g.small(1 << 30)}
		if g.model.Next > 1 && g.rng.IntN(2) == 0 {
			idx, _ := g.existing()
			op.Account, op.Address = idx, g.model.Account(idx).Address
		} else {
			op.Account, op.Address = g.model.Next, g.freshAddr()
		}
		return op, true
	case k < 8: // transfer
		from, ok := g.existing()
		if !ok {
			return ledger.Op{}, false
		}
		a := g.model.Account(from)
		fee := g.small(min(a.Balance.Uint64(), 100))
		var rest uint256.Int
		rest.Sub(&a.Balance, &fee)
		op := ledger.Op{Type: ledger.OpTransfer, Account: from, Nonce: a.Nonce, Fee: fee, Amount: g.small(rest.Uint64() + 1)}
		switch g.rng.IntN(4) {
		case 0:
			op.To = from
		case 1:
			op.Type, op.To, op.Address = ledger.OpTransferToNew, g.model.Next, g.freshAddr()
		default:
			op.To, _ = g.existing()
		}
		return op, true
	case k < 9: // withdraw
		from, ok := g.existing()
		if !ok {
			return ledger.Op{}, false
		}
		a := g.model.Account(from)
		fee := g.small(min(a.Balance.Uint64(), 50))
		var rest uint256.Int
		rest.Sub(&a.Balance, &fee)
		return ledger.Op{Type: ledger.OpWithdraw, Account: from, Nonce: a.Nonce, Fee: fee, Amount: g.small(rest.Uint64() + 1), Address: randAddr(g.rng)}, true
	default: // change pubkey
		idx, _ := g.existing()
		a := g.model.Account(idx)
		op := ledger.Op{Type: ledger.OpChangePubKey, Account: idx, Address: a.Address, Nonce: a.Nonce}
		op.NewPubKeyHash.SetUint64(g.rng.Uint64())
		return op, idx != 0
	}
}

// batch returns operations filling at most slots chunks, applied to the
// model (fees included), sometimes followed by explicit noops.
func (g *opGen) batch(t *testing.T, slots int) []ledger.Op {
	var ops []ledger.Op
	used := 0
	var fees uint256.Int
	for tries := 0; tries < 4*slots && used < slots; tries++ {
		op, ok := g.candidate()
		if !ok || used+op.Type.Chunks() > slots {
			continue
		}
		if err := ledger.Replay(g.model, &op, g.params); err != nil {
			continue
		}
		ops = append(ops, op)
		used += op.Type.Chunks()
		fees.Add(&fees, &op.Fee)
		if used < slots && g.rng.IntN(6) == 0 {
			ops = append(ops, ledger.Op{Type: ledger.OpNoop})
			used++
		}
	}
	if err := ledger.CreditFees(g.model, fees); err != nil {
		t.Fatal(err)
	}
	return ops
}

// checkChain verifies that the witness's updates chain OldRoot → NewRoot.
func checkChain(t *testing.T, w *BatchWitness) {
	t.Helper()
	cur := w.OldRoot
	step := func(where string, u *LeafUpdate) {
		if len(u.Siblings) != w.Depth {
			t.Fatalf("%s: %d siblings at depth %d", where, len(u.Siblings), w.Depth)
		}
		if RootFromPath(u.Index, u.Before.Hash(), u.Siblings) != cur {
			t.Fatalf("%s: Before does not verify against the current root", where)
		}
		cur = RootFromPath(u.Index, u.After.Hash(), u.Siblings)
	}
	for i := range w.Slots {
		for j := range w.Slots[i].Updates {
			step(fmt.Sprintf("slot %d update %d", i, j), &w.Slots[i].Updates[j])
		}
	}
	step("fee", &w.Fee)
	if cur != w.NewRoot {
		t.Fatal("update chain does not end at NewRoot")
	}
}

// checkLayout verifies the slot layout and the update indices per type.
func checkLayout(t *testing.T, w *BatchWitness, ops []ledger.Op, slots int) {
	t.Helper()
	if len(w.Slots) != slots {
		t.Fatalf("%d slots, want %d", len(w.Slots), slots)
	}
	noop := func(u LeafUpdate) bool { return u.Index == ledger.FeeAccount && u.Before == u.After }
	s := 0
	var fees uint256.Int
	for _, op := range ops {
		fees.Add(&fees, &op.Fee)
		first := w.Slots[s]
		if first.Op != op || first.Chunk != 0 {
			t.Fatalf("slot %d: op or chunk mismatch", s)
		}
		u := first.Updates
		switch op.Type {
		case ledger.OpNoop:
			if !noop(u[0]) || !noop(u[1]) {
				t.Fatalf("slot %d: noop op has real updates", s)
			}
		case ledger.OpTransfer, ledger.OpTransferToNew:
			if u[0].Index != op.Account || u[1].Index != op.To {
				t.Fatalf("slot %d: transfer updates %d,%d", s, u[0].Index, u[1].Index)
			}
			if u[0].After.Nonce != op.Nonce+1 {
				t.Fatalf("slot %d: sender nonce not incremented", s)
			}
			var want uint256.Int
			want.Add(&u[1].Before.Balance, &op.Amount)
			if u[1].After.Balance != want {
				t.Fatalf("slot %d: recipient not credited", s)
			}
			if op.To == op.Account && u[1].Before != u[0].After {
				t.Fatalf("slot %d: self-transfer credit does not start from the debit", s)
			}
		default:
			if u[0].Index != op.Account || !noop(u[1]) {
				t.Fatalf("slot %d: %v updates %d,%d", s, op.Type, u[0].Index, u[1].Index)
			}
		}
		for c := 1; c < op.Type.Chunks(); c++ {
			sl := w.Slots[s+c]
			if sl.Op != op || sl.Chunk != c || !noop(sl.Updates[0]) || !noop(sl.Updates[1]) {
				t.Fatalf("slot %d: bad continuation chunk", s+c)
			}
		}
		s += op.Type.Chunks()
	}
	for ; s < slots; s++ {
		sl := w.Slots[s]
		if sl.Op.Type != ledger.OpNoop || sl.Chunk != 0 || !noop(sl.Updates[0]) || !noop(sl.Updates[1]) {
			t.Fatalf("padding slot %d is not a noop", s)
		}
	}
	if w.FeeTotal != fees {
		t.Fatalf("FeeTotal %v, want %v", &w.FeeTotal, &fees)
	}
	if w.Fee.Index != ledger.FeeAccount {
		t.Fatal("fee update is not on the fee account")
	}
	pd, err := ledger.Pubdata(ops, slots)
	if err != nil || !bytes.Equal(pd, w.Pubdata) {
		t.Fatalf("pubdata mismatch (%v)", err)
	}
}

func commitTree(t *testing.T, s *Store, u *TreeUpdate) {
	t.Helper()
	b := s.NewBatch()
	if err := b.PutTree(u); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(NamespaceBatch, []byte{byte(u.Number())}, []byte("batch")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
}

func TestWitnessRandom(t *testing.T) {
	for _, depth := range []int{4, 6, 8} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("d%d/s%d", depth, seed), func(t *testing.T) {
				s := openMem(t, vfs.NewMem(), depth)
				if err := s.Genesis(context.Background(), feeOwner); err != nil {
					t.Fatal(err)
				}
				tr := s.Tree()
				g := newOpGen(seed*31+uint64(depth), depth)
				const slots = 48
				seen := map[string]int{}
				defer func() {
					for _, k := range []string{"noop", "deposit", "transfer", "transferToNew", "withdraw", "changePubKey", "self"} {
						if seen[k] == 0 && !t.Failed() {
							t.Errorf("no %s operation generated: %v", k, seen)
						}
					}
				}()
				for n := uint64(1); n <= 4; n++ {
					ops := g.batch(t, slots)
					for _, op := range ops {
						seen[op.Type.String()]++
						if op.Type == ledger.OpTransfer && op.To == op.Account {
							seen["self"]++
						}
					}
					before := tr.Root()
					w, u, err := tr.BuildWitness(n, ops, slots, g.params)
					if err != nil {
						t.Fatalf("batch %d: %v", n, err)
					}
					if w.OldRoot != before || u.OldRoot() != before || w.NewRoot != u.NewRoot() {
						t.Fatal("roots of witness and update disagree")
					}
					if tr.Root() != before {
						t.Fatal("BuildWitness moved the tree")
					}
					checkChain(t, w)
					checkLayout(t, w, ops, slots)
					commitTree(t, s, u)
					if tr.Root() != w.NewRoot || tr.Number() != n {
						t.Fatalf("after commit: root or number (%d) wrong", tr.Number())
					}
					if r, err := tr.RootAt(n); err != nil || r != w.NewRoot {
						t.Fatalf("RootAt(%d): %v", n, err)
					}
					if r, err := tr.RootAt(n - 1); err != nil || r != before {
						t.Fatalf("RootAt(%d): %v", n-1, err)
					}
					if _, err := tr.RootAt(n + 1); !errors.Is(err, ErrNotFound) {
						t.Fatalf("RootAt(%d) of a future batch: %v", n+1, err)
					}
					if want := naiveRoot(depth, memLeaves(g.model)); want != w.NewRoot {
						t.Fatalf("batch %d: NewRoot differs from the naive root of ledger.Replay", n)
					}
					for idx, a := range g.model.Accounts {
						got, err := tr.Account(idx)
						if err != nil || got != *a {
							t.Fatalf("leaf %d differs from the model (%v)", idx, err)
						}
						if !a.IsEmpty() {
							if i, ok, _ := tr.Lookup(a.Address); !ok || i != idx {
								t.Fatalf("tree Lookup(%v) = %d %v", a.Address, i, ok)
							}
						}
					}
					if next, _ := tr.NextIndex(); next != g.model.Next {
						t.Fatalf("tree NextIndex %d, model %d", next, g.model.Next)
					}
				}
			})
		}
	}
}

func TestWitnessErrorsChangeNothing(t *testing.T) {
	const depth, slots = 5, 32
	s := openMem(t, vfs.NewMem(), depth)
	if err := s.Genesis(context.Background(), feeOwner); err != nil {
		t.Fatal(err)
	}
	tr := s.Tree()
	g := newOpGen(99, depth)
	alice, bob := common.Address{0xa1}, common.Address{0xb0}
	ops := []ledger.Op{
		{Type: ledger.OpDeposit, Account: 1, Address: alice, Amount: *uint256.NewInt(1000)},
		{Type: ledger.OpDeposit, Account: 2, Address: bob, Amount: *uint256.NewInt(10)},
	}
	w, u, err := tr.BuildWitness(1, ops, slots, g.params)
	if err != nil {
		t.Fatal(err)
	}
	checkChain(t, w)
	commitTree(t, s, u)
	root, leaf1, leaf2 := tr.Root(), must(tr.Account(1)), must(tr.Account(2))

	transfer := ledger.Op{Type: ledger.OpTransfer, Account: 1, To: 2, Amount: *uint256.NewInt(100), Fee: *uint256.NewInt(1)}
	overdraft := transfer
	overdraft.Nonce, overdraft.Amount = 1, *uint256.NewInt(950)
	wrongNonce := transfer
	wrongNonce.Nonce = 5
	badDepositIdx := ledger.Op{Type: ledger.OpDeposit, Account: 7, Address: common.Address{0xcc}, Amount: *uint256.NewInt(1)}
	feeOnDeposit := ops[1]
	feeOnDeposit.Fee = *uint256.NewInt(1)
	toEmpty := transfer
	toEmpty.To = 20
	tooBig := ledger.Op{Type: ledger.OpTransfer, Account: 1, To: 1 << depth}
	cases := []struct {
		name   string
		number uint64
		ops    []ledger.Op
		slots  int
		params ledger.Params
		want   error
	}{
		{"overdraft", 2, []ledger.Op{transfer, overdraft}, slots, g.params, ledger.ErrInsufficientBalance},
		{"wrong nonce", 2, []ledger.Op{transfer, wrongNonce}, slots, g.params, ledger.ErrNonce},
		{"deposit index", 2, []ledger.Op{transfer, badDepositIdx}, slots, g.params, ledger.ErrReplay},
		{"transfer to empty", 2, []ledger.Op{toEmpty}, slots, g.params, ledger.ErrReplay},
		{"index beyond tree", 2, []ledger.Op{tooBig}, slots, g.params, ErrIndexRange},
		{"fee on deposit", 2, []ledger.Op{feeOnDeposit}, slots, g.params, ErrBadOp},
		{"unknown type", 2, []ledger.Op{{Type: 0x77}}, slots, g.params, ErrBadOp},
		{"too many chunks", 2, []ledger.Op{transfer, ops[0]}, 3, g.params, ErrTooManyChunks},
		{"depth", 2, []ledger.Op{transfer}, slots, ledger.Params{Depth: depth + 1}, ErrDepth},
		{"number", 3, []ledger.Op{transfer}, slots, g.params, ErrBatchNumber},
		{"replayed number", 1, []ledger.Op{transfer}, slots, g.params, ErrBatchNumber},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, u, err := tr.BuildWitness(c.number, c.ops, c.slots, c.params)
			if !errors.Is(err, c.want) || w != nil || u != nil {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if tr.Root() != root || tr.Number() != 1 || must(tr.Account(1)) != leaf1 || must(tr.Account(2)) != leaf2 {
				t.Fatal("a failed BuildWitness changed the tree")
			}
		})
	}
	// The valid prefix still builds and commits afterwards.
	w, u, err = tr.BuildWitness(2, []ledger.Op{transfer}, slots, g.params)
	if err != nil {
		t.Fatal(err)
	}
	checkChain(t, w)
	commitTree(t, s, u)
	if a := must(tr.Account(2)); a.Balance.Uint64() != 110 {
		t.Fatalf("bob has %v", &a.Balance)
	}
	if a := must(tr.Account(ledger.FeeAccount)); a.Balance.Uint64() != 1 {
		t.Fatalf("fee account has %v", &a.Balance)
	}
}

func TestWitnessNoFeeAccount(t *testing.T) {
	s := openMem(t, vfs.NewMem(), 4)
	tr := s.Tree()
	p := ledger.Params{Depth: 4}
	// Without genesis the first deposit creates index 0.
	a, b := common.Address{1}, common.Address{2}
	ops := []ledger.Op{
		{Type: ledger.OpDeposit, Account: 0, Address: a, Amount: *uint256.NewInt(5)},
		{Type: ledger.OpDeposit, Account: 1, Address: b, Amount: *uint256.NewInt(5)},
	}
	w, u, err := tr.BuildWitness(1, ops, 6, p)
	if err != nil {
		t.Fatal(err)
	}
	checkChain(t, w)
	commitTree(t, s, u)
	// Fees with an empty fee account are refused.
	s2 := openMem(t, vfs.NewMem(), 4)
	u2, err := s2.Tree().Update(context.Background(), []LeafWrite{{Index: 1, Account: ledger.Account{Address: b, Balance: *uint256.NewInt(5)}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	commitTree(t, s2, u2)
	op := ledger.Op{Type: ledger.OpWithdraw, Account: 1, Address: b, Amount: *uint256.NewInt(1), Fee: *uint256.NewInt(1)}
	if _, _, err := s2.Tree().BuildWitness(1, []ledger.Op{op}, 3, p); !errors.Is(err, ErrNoFeeAccount) {
		t.Fatalf("fees without fee account: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
