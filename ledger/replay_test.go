package ledger

import (
	"crypto/ecdsa"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// world drives random successful operations against a MemState.
type world struct {
	t     *testing.T
	r     *rand.Rand
	st    *MemState
	p     Params
	l2    map[uint32]*PrivateKey       // current L2 key of each account
	eth   map[uint32]*ecdsa.PrivateKey // Ethereum owner key of each account
	users int
}

func newWorld(t *testing.T, seed uint64) *world {
	f := newFixture(t)
	w := &world{t: t, r: rand.New(rand.NewPCG(seed, seed^0x5eed)), st: f.st, p: Params{ChainID: testChainID, Depth: 6},
		l2: map[uint32]*PrivateKey{}, eth: map[uint32]*ecdsa.PrivateKey{}}
	for i, u := range []*user{f.seq, f.alice, f.bob, f.carol} {
		w.eth[uint32(i)] = u.eth
		if u != f.carol {
			w.l2[uint32(i)] = u.l2
		}
	}
	return w
}

// freshUser returns a new owner whose Ethereum key is known.
func (w *world) freshUser() *user {
	w.users++
	return newUser(w.t, fmt.Sprintf("world %d", w.users))
}

func (w *world) existing() uint32 { return uint32(w.r.IntN(int(w.st.Next))) }

func (w *world) amount(max uint64) uint256.Int {
	v := w.r.Uint64N(max)
	if w.r.IntN(3) == 0 {
		v = v / 100 * 100
	}
	return u256(v)
}

// step attempts one random action. It returns the op and true if it
// succeeded; a failure must leave the state unchanged.
func (w *world) step() (Op, bool) {
	t := w.t
	before := w.st.Clone()
	var op Op
	var err error
	switch k := w.r.IntN(10); {
	case k < 2: // deposit, new or existing
		var addr common.Address
		if w.r.IntN(2) == 0 {
			u := w.freshUser()
			addr = u.addr
			defer func() {
				if err == nil {
					w.eth[op.Account] = u.eth
				}
			}()
		} else {
			addr = w.st.Account(w.existing()).Address
		}
		op, err = ApplyDeposit(w.st, Deposit{ID: w.r.Uint64(), Address: addr, Amount: w.amount(1 << 40)}, w.p)
	case k < 3: // change pubkey
		idx := w.existing()
		nk, kerr := GenerateKey(seededReader{w.r})
		if kerr != nil {
			t.Fatal(kerr)
		}
		pk := nk.Public()
		h, _ := pk.Hash()
		tx := cpkTx(t, w.eth[idx], idx, w.st.Account(idx).Nonce, h)
		op, err = Apply(w.st, Check(tx, w.p), w.p)
		if err == nil {
			w.l2[idx] = nk
		}
	default: // transfer (existing, new, self) or withdraw
		from := w.existing()
		key := w.l2[from]
		if key == nil {
			return Op{}, false
		}
		typ := TxTransfer
		var to common.Address
		switch w.r.IntN(4) {
		case 0:
			typ, to = TxWithdraw, randAddress(w.r)
		case 1:
			u := w.freshUser()
			to = u.addr
			defer func() {
				if err == nil && op.Type == OpTransferToNew {
					w.eth[op.To] = u.eth
				}
			}()
		case 2:
			to = w.st.Account(from).Address
		default:
			to = w.st.Account(w.existing()).Address
		}
		nonce := w.st.Account(from).Nonce
		tx := l2Tx(t, typ, key, from, to, w.amount(1<<20), w.amount(2000), nonce)
		op, err = Apply(w.st, Check(tx, w.p), w.p)
	}
	if err != nil {
		if !reflect.DeepEqual(w.st, before) {
			t.Fatalf("failed op (%v) changed the state", err)
		}
		return Op{}, false
	}
	return op, true
}

func TestReplayMatchesApply(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		w := newWorld(t, seed)
		pre := w.st.Clone()
		var ops []Op
		types := map[OpType]int{}
		for len(ops) < 60 {
			if op, ok := w.step(); ok {
				ops = append(ops, op)
				types[op.Type]++
			}
		}
		for _, typ := range []OpType{OpDeposit, OpTransfer, OpTransferToNew, OpWithdraw, OpChangePubKey} {
			if types[typ] == 0 {
				t.Fatalf("seed %d: no %v generated", seed, typ)
			}
		}

		// Replay of the executed operations.
		re := pre.Clone()
		for i := range ops {
			if err := Replay(re, &ops[i], w.p); err != nil {
				t.Fatalf("seed %d: replay of op %d (%v): %v", seed, i, ops[i].Type, err)
			}
		}
		if !reflect.DeepEqual(re, w.st) {
			t.Fatalf("seed %d: replay state differs from execution", seed)
		}

		// Rebuild from pubdata alone: nonces of transfers and withdrawals
		// are not in pubdata; they are the account nonces.
		chunks := 0
		for i := range ops {
			chunks += ops[i].Type.Chunks()
		}
		pd, err := Pubdata(ops, chunks+5)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := DecodePubdata(pd)
		if err != nil {
			t.Fatal(err)
		}
		rb := pre.Clone()
		for i := range decoded {
			op := &decoded[i]
			switch op.Type {
			case OpTransfer, OpTransferToNew, OpWithdraw:
				op.Nonce = rb.Account(op.Account).Nonce
			}
			if err := Replay(rb, op, w.p); err != nil {
				t.Fatalf("seed %d: replay of decoded op %d (%v): %v", seed, i, op.Type, err)
			}
		}
		if !reflect.DeepEqual(rb, w.st) {
			t.Fatalf("seed %d: state rebuilt from pubdata differs", seed)
		}
		if len(decoded) != len(ops)+5 {
			t.Fatalf("decoded %d ops, want %d + 5 noops", len(decoded), len(ops))
		}
	}
}

func TestReplayRejectsInconsistentOps(t *testing.T) {
	f := newFixture(t)
	stranger := newUser(t, "replay stranger")
	transfer := Op{Type: OpTransfer, Account: 1, To: 2, Amount: u256(100), Fee: u256(1)}
	toNew := Op{Type: OpTransferToNew, Account: 1, To: 4, Address: stranger.addr, Amount: u256(100), Fee: u256(1)}
	withdraw := Op{Type: OpWithdraw, Account: 1, Address: stranger.addr, Amount: u256(100), Fee: u256(1)}
	deposit := Op{Type: OpDeposit, Account: 4, Address: stranger.addr, Amount: u256(5)}
	cpk := Op{Type: OpChangePubKey, Account: 1, Address: f.alice.addr, NewPubKeyHash: f.bob.keyHash(t)}
	with := func(op Op, fn func(*Op)) Op { fn(&op); return op }

	// The unmodified ops replay.
	for _, op := range []Op{transfer, toNew, withdraw, deposit, cpk, {Type: OpNoop}} {
		st := f.st.Clone()
		if err := Replay(st, &op, testParams); err != nil {
			t.Fatalf("%v: %v", op.Type, err)
		}
	}
	tests := []struct {
		name   string
		op     Op
		params Params
		want   error
	}{
		{"transfer nonce high", with(transfer, func(o *Op) { o.Nonce = 1 }), testParams, ErrNonce},
		{"withdraw nonce", with(withdraw, func(o *Op) { o.Nonce = 7 }), testParams, ErrNonce},
		{"changePubKey nonce", with(cpk, func(o *Op) { o.Nonce = 2 }), testParams, ErrNonce},
		{"transfer to empty index", with(transfer, func(o *Op) { o.To = 9 }), testParams, ErrReplay},
		{"transferToNew to existing address", with(toNew, func(o *Op) { o.Address = f.bob.addr }), testParams, ErrReplay},
		{"transferToNew to occupied index", with(toNew, func(o *Op) { o.To = 2 }), testParams, ErrReplay},
		{"transferToNew skipping an index", with(toNew, func(o *Op) { o.To = 5 }), testParams, ErrReplay},
		{"transferToNew zero address", with(toNew, func(o *Op) { o.Address = common.Address{} }), testParams, ErrReplay},
		{"transferToNew tree full", toNew, Params{ChainID: testChainID, Depth: 2}, ErrTreeFull},
		{"deposit wrong index for new address", with(deposit, func(o *Op) { o.Account = 5 }), testParams, ErrReplay},
		{"deposit wrong index for existing address", with(deposit, func(o *Op) { o.Address = f.bob.addr }), testParams, ErrReplay},
		{"deposit zero address", with(deposit, func(o *Op) { o.Address = common.Address{} }), testParams, ErrZeroAddress},
		{"deposit overflow", with(deposit, func(o *Op) { o.Account, o.Address, o.Amount = 2, f.bob.addr, MaxAmount() }), testParams, ErrBalanceOverflow},
		{"changePubKey wrong owner", with(cpk, func(o *Op) { o.Address = f.bob.addr }), testParams, ErrReplay},
		{"changePubKey empty account", with(cpk, func(o *Op) { o.Account, o.Address = 8, common.Address{} }), testParams, ErrReplay},
		{"unknown sender", with(transfer, func(o *Op) { o.Account = 8 }), testParams, ErrUnknownAccount},
		{"insufficient balance", with(transfer, func(o *Op) { o.Amount = u256(1_000_000) }), testParams, ErrInsufficientBalance},
		{"amount not packable", with(transfer, func(o *Op) { o.Amount = MaxAmount() }), testParams, ErrAmountNotPackable},
		{"amount range", with(withdraw, func(o *Op) { o.Amount = pow2(128) }), testParams, ErrAmountRange},
		{"fee not packable", with(withdraw, func(o *Op) { o.Fee = u256(2049) }), testParams, ErrFeeNotPackable},
		{"withdraw to zero address", with(withdraw, func(o *Op) { o.Address = common.Address{} }), testParams, ErrZeroAddress},
		{"unknown type", Op{Type: 0x09, Account: 1}, testParams, ErrUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := f.st.Clone()
			mustFailUnchanged(t, st, tc.want, func() error { return Replay(st, &tc.op, tc.params) })
		})
	}
	t.Run("recipient balance overflow", func(t *testing.T) {
		st := f.st.Clone()
		st.SetBalance(2, sub(pow2(128), 50))
		mustFailUnchanged(t, st, ErrBalanceOverflow, func() error { return Replay(st, &transfer, testParams) })
	})
	t.Run("nonce overflow", func(t *testing.T) {
		st := f.st.Clone()
		st.SetNonce(1, math.MaxUint32)
		op := with(transfer, func(o *Op) { o.Nonce = math.MaxUint32 })
		mustFailUnchanged(t, st, ErrNonceOverflow, func() error { return Replay(st, &op, testParams) })
	})
}
