package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"reflect"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
)

// sampleOps returns one executed operation of each type, with every field
// set (including those pubdata does not carry).
func sampleOps(t testing.TB) []Op {
	t.Helper()
	f := newFixture(t)
	a := common.HexToAddress("0x00112233445566778899aabbccddeeff00112233")
	tr := l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(12345), u256(7), 0)
	cpk := cpkTx(t, f.alice.eth, 1, 9, f.bob.keyHash(t))
	return []Op{
		{Type: OpNoop},
		{Type: OpDeposit, Account: 0x01020304, Address: a, Amount: sub(pow2(128), 1), PriorityID: 77},
		{Type: OpTransfer, Account: 1, To: 2, Amount: u256s(t, "1230000000000000000"), Fee: u256(20470), Nonce: 5, PubKey: tr.PubKey, Signature: tr.Signature},
		{Type: OpTransferToNew, Account: 1, To: 0xfffffffe, Address: a, Amount: u256(1), Fee: u256(2047), Nonce: 6, PubKey: tr.PubKey, Signature: tr.Signature},
		{Type: OpWithdraw, Account: 3, Address: a, Amount: u256s(t, "123456789012345678901"), Fee: u256(0), Nonce: 8, PubKey: tr.PubKey, Signature: tr.Signature},
		{Type: OpChangePubKey, Account: 1, Address: f.alice.addr, Nonce: 9, NewPubKeyHash: cpk.NewPubKeyHash, EthSignature: cpk.EthSignature},
	}
}

// carried keeps the fields of op that pubdata carries.
func carried(op Op) Op {
	c := Op{Type: op.Type, Account: op.Account}
	switch op.Type {
	case OpNoop:
		c.Account = 0
	case OpDeposit:
		c.Address, c.Amount = op.Address, op.Amount
	case OpTransfer:
		c.To, c.Amount, c.Fee = op.To, op.Amount, op.Fee
	case OpTransferToNew:
		c.To, c.Address, c.Amount, c.Fee = op.To, op.Address, op.Amount, op.Fee
	case OpWithdraw:
		c.Address, c.Amount, c.Fee = op.Address, op.Amount, op.Fee
	case OpChangePubKey:
		c.Address, c.Nonce, c.NewPubKeyHash, c.EthSignature = op.Address, op.Nonce, op.NewPubKeyHash, op.EthSignature
	}
	return c
}

func TestOpPubdataSizes(t *testing.T) {
	chunks := map[OpType]int{OpNoop: 1, OpDeposit: 3, OpTransfer: 1, OpTransferToNew: 3, OpWithdraw: 3, OpChangePubKey: 8}
	used := map[OpType]int{OpNoop: 1, OpDeposit: 41, OpTransfer: 16, OpTransferToNew: 36, OpWithdraw: 43, OpChangePubKey: 126}
	for _, op := range sampleOps(t) {
		if op.Type.Chunks() != chunks[op.Type] {
			t.Fatalf("%v: %d chunks, want %d", op.Type, op.Type.Chunks(), chunks[op.Type])
		}
		prefix := []byte{0xaa, 0xbb}
		b, err := op.Pubdata(bytes.Clone(prefix))
		if err != nil {
			t.Fatalf("%v: %v", op.Type, err)
		}
		if !bytes.Equal(b[:2], prefix) {
			t.Fatal("Pubdata clobbered the prefix")
		}
		b = b[2:]
		if len(b) != op.Type.Chunks()*ChunkSize {
			t.Fatalf("%v pubdata is %d bytes, want %d", op.Type, len(b), op.Type.Chunks()*ChunkSize)
		}
		if b[0] != byte(op.Type) {
			t.Fatalf("%v: type byte %x", op.Type, b[0])
		}
		// Everything after the used bytes is zero padding, and the last
		// used byte is where the spec says.
		for i := used[op.Type]; i < len(b); i++ {
			if b[i] != 0 {
				t.Fatalf("%v: byte %d of padding is %x", op.Type, i, b[i])
			}
		}
	}
	if OpType(0x06).Chunks() != 0 || OpType(0xff).Chunks() != 0 {
		t.Fatal("unknown types must have 0 chunks")
	}
}

func TestOpPubdataLayout(t *testing.T) {
	ops := sampleOps(t)
	// Transfer: type | from (4) | to (4) | amount (5) | fee (2)
	b, _ := ops[2].Pubdata(nil)
	amt, _ := PackAmount(&ops[2].Amount)
	fee, _ := PackFee(&ops[2].Fee)
	if b[0] != 2 || binary.BigEndian.Uint32(b[1:5]) != 1 || binary.BigEndian.Uint32(b[5:9]) != 2 ||
		!bytes.Equal(b[9:14], amt[:]) || !bytes.Equal(b[14:16], fee[:]) {
		t.Fatalf("transfer pubdata %x", b)
	}
	// Deposit: type | account (4) | address (20) | amount (16)
	b, _ = ops[1].Pubdata(nil)
	if b[0] != 1 || !bytes.Equal(b[1:5], []byte{1, 2, 3, 4}) || common.BytesToAddress(b[5:25]) != ops[1].Address ||
		!bytes.Equal(b[25:41], bytes.Repeat([]byte{0xff}, 16)) {
		t.Fatalf("deposit pubdata %x", b)
	}
	// TransferToNew: type | from | to | address | amount | fee
	b, _ = ops[3].Pubdata(nil)
	if b[0] != 3 || binary.BigEndian.Uint32(b[5:9]) != 0xfffffffe || common.BytesToAddress(b[9:29]) != ops[3].Address ||
		!bytes.Equal(b[29:34], []byte{0, 0, 0, 0, 1 << 5}) || !bytes.Equal(b[34:36], []byte{0xff, 0xe0}) {
		t.Fatalf("transferToNew pubdata %x", b)
	}
	// Withdraw: type | account | address | amount (16) | fee (2)
	b, _ = ops[4].Pubdata(nil)
	w := ops[4].Amount.Bytes32()
	if b[0] != 4 || binary.BigEndian.Uint32(b[1:5]) != 3 || !bytes.Equal(b[25:41], w[16:]) || !bytes.Equal(b[41:43], []byte{0, 0}) {
		t.Fatalf("withdraw pubdata %x", b)
	}
	// ChangePubKey: type | account | address | pubKeyHash (32) | nonce (4) | ethSig (65)
	b, _ = ops[5].Pubdata(nil)
	h := ops[5].NewPubKeyHash.Bytes()
	if b[0] != 5 || common.BytesToAddress(b[5:25]) != ops[5].Address || !bytes.Equal(b[25:57], h[:]) ||
		binary.BigEndian.Uint32(b[57:61]) != 9 || !bytes.Equal(b[61:126], ops[5].EthSignature[:]) {
		t.Fatalf("changePubKey pubdata %x", b)
	}
}

func TestPubdataRoundTrip(t *testing.T) {
	ops := sampleOps(t)
	n := 0
	for i := range ops {
		n += ops[i].Type.Chunks()
	}
	for _, slots := range []int{n, n + 1, n + 7} {
		pd, err := Pubdata(ops, slots)
		if err != nil {
			t.Fatal(err)
		}
		if len(pd) != slots*ChunkSize {
			t.Fatalf("pubdata of %d slots is %d bytes", slots, len(pd))
		}
		got, err := DecodePubdata(pd)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ops)+slots-n {
			t.Fatalf("decoded %d ops, want %d", len(got), len(ops)+slots-n)
		}
		for i := range ops {
			if want := carried(ops[i]); !reflect.DeepEqual(got[i], want) {
				t.Fatalf("op %d (%v): got %+v, want %+v", i, ops[i].Type, got[i], want)
			}
		}
		for _, op := range got[len(ops):] {
			if !reflect.DeepEqual(op, Op{Type: OpNoop}) {
				t.Fatalf("padding decoded as %+v", op)
			}
		}
		again, err := Pubdata(got, slots)
		if err != nil || !bytes.Equal(again, pd) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	}
	if _, err := Pubdata(ops, n-1); err == nil {
		t.Fatal("Pubdata accepted too few slots")
	}
	if _, err := Pubdata(nil, -1); err == nil {
		t.Fatal("Pubdata accepted a negative slot count")
	}
	if pd, err := Pubdata(nil, 0); err != nil || len(pd) != 0 {
		t.Fatalf("empty batch: %x, %v", pd, err)
	}
	if ops, err := DecodePubdata(nil); err != nil || len(ops) != 0 {
		t.Fatalf("empty pubdata: %v, %v", ops, err)
	}
}

func TestOpPubdataErrors(t *testing.T) {
	bad := []struct {
		name string
		op   Op
		want error
	}{
		{"unknown type", Op{Type: 0x06}, ErrUnknownType},
		{"transfer amount not packable", Op{Type: OpTransfer, Amount: u256(1<<35 + 1)}, ErrAmountNotPackable},
		{"transferToNew fee not packable", Op{Type: OpTransferToNew, Fee: u256(2049)}, ErrFeeNotPackable},
		{"withdraw fee not packable", Op{Type: OpWithdraw, Fee: u256(2049)}, ErrFeeNotPackable},
		{"withdraw amount range", Op{Type: OpWithdraw, Amount: pow2(128)}, ErrAmountRange},
		{"deposit amount range", Op{Type: OpDeposit, Amount: pow2(130)}, ErrAmountRange},
	}
	for _, tc := range bad {
		prefix := []byte{1, 2, 3}
		b, err := tc.op.Pubdata(bytes.Clone(prefix))
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if !bytes.Equal(b, prefix) {
			t.Fatalf("%s: failed Pubdata left %x", tc.name, b)
		}
		if _, err := Pubdata([]Op{tc.op}, 8); !errors.Is(err, tc.want) {
			t.Fatalf("%s: batch Pubdata: %v", tc.name, err)
		}
	}
}

func TestDecodePubdataErrors(t *testing.T) {
	ops := sampleOps(t)
	enc := func(op Op) []byte {
		b, err := op.Pubdata(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withByte := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	deposit, transfer, toNew, withdraw, cpk := enc(ops[1]), enc(ops[2]), enc(ops[3]), enc(ops[4]), enc(ops[5])
	noop := enc(ops[0])

	rmod := fr.Modulus()
	cpkBadHash := bytes.Clone(cpk)
	rmod.FillBytes(cpkBadHash[25:57])
	// 1·10^1 is the non-canonical twin of 10·10^0.
	nonCanonAmount := withByte(transfer, 13, 1<<5|1)
	copy(nonCanonAmount[9:13], []byte{0, 0, 0, 0})
	nonCanonFee := bytes.Clone(transfer)
	copy(nonCanonFee[14:16], []byte{0, 1<<5 | 1}) // 1·10^1
	zeroExp := bytes.Clone(transfer)
	copy(zeroExp[9:14], []byte{0, 0, 0, 0, 3}) // 0·10^3
	overflow := bytes.Clone(transfer)
	copy(overflow[9:14], []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	withdrawNonCanonFee := bytes.Clone(withdraw)
	copy(withdrawNonCanonFee[41:43], []byte{0, 2}) // 0·10^2

	tests := []struct {
		name string
		pd   []byte
		want error
	}{
		{"length not a multiple of 16", append(bytes.Clone(transfer), 0), ErrMalformed},
		{"15 bytes", transfer[:15], ErrMalformed},
		{"deposit truncated to 2 chunks", deposit[:32], ErrMalformed},
		{"changePubKey truncated", append(bytes.Clone(noop), cpk[:112]...), ErrMalformed},
		{"unknown type 0x06", withByte(noop, 0, 6), ErrUnknownType},
		{"unknown type 0xff", append(bytes.Clone(transfer), withByte(noop, 0, 0xff)...), ErrUnknownType},
		{"noop with non-zero byte", withByte(noop, 15, 1), ErrMalformed},
		{"deposit non-zero padding", withByte(deposit, 47, 1), ErrMalformed},
		{"transferToNew non-zero padding", withByte(toNew, 36, 1), ErrMalformed},
		{"withdraw non-zero padding", withByte(withdraw, 43, 1), ErrMalformed},
		{"changePubKey non-zero padding", withByte(cpk, 127, 1), ErrMalformed},
		{"changePubKey hash not reduced", cpkBadHash, ErrNonCanonical},
		{"non-canonical amount", nonCanonAmount, ErrNonCanonical},
		{"non-canonical fee", nonCanonFee, ErrNonCanonical},
		{"zero with exponent", zeroExp, ErrNonCanonical},
		{"withdraw non-canonical fee", withdrawNonCanonFee, ErrNonCanonical},
		{"amount above 2^128", overflow, ErrAmountRange},
	}
	for _, tc := range tests {
		if _, err := DecodePubdata(tc.pd); !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// The canonical twin decodes.
	canon := bytes.Clone(transfer)
	copy(canon[9:14], []byte{0, 0, 0, 1, 10 << 5 & 0xff})
	if ops, err := DecodePubdata(canon); err != nil || ops[0].Amount != u256(10) {
		t.Fatalf("canonical 10: %v", err)
	}
	// A reduced pubKeyHash r-1 decodes.
	ok := bytes.Clone(cpk)
	new(big.Int).Sub(rmod, big.NewInt(1)).FillBytes(ok[25:57])
	if _, err := DecodePubdata(ok); err != nil {
		t.Fatal(err)
	}
}
