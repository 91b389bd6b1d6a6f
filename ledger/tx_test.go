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
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

// sampleTxs returns one valid signed transaction of each type.
func sampleTxs(t testing.TB) []*Tx {
	t.Helper()
	f := newFixture(t)
	newKey := newUser(t, "new key").keyHash(t)
	return []*Tx{
		l2Tx(t, TxTransfer, f.alice.l2, 1, f.bob.addr, u256(12345), u256(7), 0),
		l2Tx(t, TxWithdraw, f.alice.l2, 1, f.alice.addr, u256s(t, "123456789012345678901"), u256(2040), 3),
		cpkTx(t, f.carol.eth, 3, 0, newKey),
	}
}

func TestTxEncodingRoundTrip(t *testing.T) {
	sizes := map[TxType]int{TxTransfer: 157, TxWithdraw: 157, TxChangePubKey: 106}
	for _, tx := range sampleTxs(t) {
		b := tx.Encode()
		if len(b) != sizes[tx.Type] {
			t.Fatalf("%v encodes to %d bytes, want %d", tx.Type, len(b), sizes[tx.Type])
		}
		got, err := DecodeTx(b)
		if err != nil {
			t.Fatalf("%v: %v", tx.Type, err)
		}
		if !reflect.DeepEqual(got, tx) {
			t.Fatalf("%v round trip: got %+v, want %+v", tx.Type, got, tx)
		}
		if !bytes.Equal(got.Encode(), b) {
			t.Fatalf("%v: re-encoding differs", tx.Type)
		}
	}
	// Field offsets of a Transfer (docs/PROTOCOL.md).
	tx := sampleTxs(t)[0]
	b := tx.Encode()
	if b[0] != 0x02 || binary.BigEndian.Uint32(b[1:5]) != 1 || common.BytesToAddress(b[5:25]) != tx.To ||
		binary.BigEndian.Uint64(b[33:41]) != 12345 || binary.BigEndian.Uint64(b[49:57]) != 7 ||
		binary.BigEndian.Uint32(b[57:61]) != 0 || !bytes.Equal(b[61:93], tx.PubKey[:]) || !bytes.Equal(b[93:157], tx.Signature[:]) {
		t.Fatalf("transfer layout differs from the spec: %x", b)
	}
	if (&Tx{Type: 0x09}).Encode() != nil {
		t.Fatal("unknown type must encode to nil")
	}
}

func TestDecodeTxErrors(t *testing.T) {
	if _, err := DecodeTx(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty: %v", err)
	}
	for _, tx := range sampleTxs(t) {
		b := tx.Encode()
		for n := 1; n <= MaxTxSize+1; n++ {
			if n == len(b) {
				continue
			}
			in := make([]byte, n)
			copy(in, b)
			if _, err := DecodeTx(in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%v of %d bytes: %v, want ErrMalformed", tx.Type, n, err)
			}
		}
	}
	for typ := 0; typ < 256; typ++ {
		switch TxType(typ) {
		case TxTransfer, TxWithdraw, TxChangePubKey:
			continue
		}
		for _, n := range []int{1, ChangePubKeySize, TransferSize} {
			in := make([]byte, n)
			in[0] = byte(typ)
			if _, err := DecodeTx(in); !errors.Is(err, ErrUnknownType) {
				t.Fatalf("type 0x%02x: %v, want ErrUnknownType", typ, err)
			}
		}
	}
	// A pubKeyHash that is not a reduced field element.
	cpk := sampleTxs(t)[2].Encode()
	mod := fr.Modulus()
	for _, h := range []*big.Int{mod, new(big.Int).Add(mod, big.NewInt(1)), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))} {
		in := bytes.Clone(cpk)
		h.FillBytes(in[5:37])
		if _, err := DecodeTx(in); !errors.Is(err, ErrNonCanonical) {
			t.Fatalf("pubKeyHash %v: %v, want ErrNonCanonical", h, err)
		}
	}
	in := bytes.Clone(cpk)
	new(big.Int).Sub(mod, big.NewInt(1)).FillBytes(in[5:37])
	if _, err := DecodeTx(in); err != nil {
		t.Fatalf("pubKeyHash r-1 rejected: %v", err)
	}
}

func TestChangePubKeySignature(t *testing.T) {
	f := newFixture(t)
	h := newUser(t, "cpk key").keyHash(t)
	tx := cpkTx(t, f.alice.eth, 1, 4, h)
	signer, err := tx.ChangePubKeySigner(testChainID)
	if err != nil {
		t.Fatal(err)
	}
	if signer != f.alice.addr {
		t.Fatalf("recovered %v, want %v", signer, f.alice.addr)
	}
	if v := tx.EthSignature[64]; v != 27 && v != 28 {
		t.Fatalf("v = %d", v)
	}
	// The signed message is the documented 66 bytes.
	msg := ChangePubKeyMessage(testChainID, 1, 4, h)
	hb := h.Bytes()
	want := append([]byte("Velox ChangePubKey"), 0, 0, 0, 0, 0, 0, 0x7a, 0x69, 0, 0, 0, 1, 0, 0, 0, 4)
	want = append(want, hb[:]...)
	if len(msg) != 66 || !bytes.Equal(msg, want) {
		t.Fatalf("ChangePubKeyMessage = %x", msg)
	}
	pub, err := crypto.SigToPub(crypto.Keccak256([]byte("\x19Ethereum Signed Message:\n66"), msg), append(tx.EthSignature[:64:64], tx.EthSignature[64]-27))
	if err != nil || crypto.PubkeyToAddress(*pub) != f.alice.addr {
		t.Fatalf("signature is not an EIP-191 signature of the message: %v", err)
	}

	// Wrong recovery ids.
	for _, v := range []byte{0, 1, 26, 29, 255} {
		bad := *tx
		bad.EthSignature[64] = v
		if _, err := bad.ChangePubKeySigner(testChainID); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("v = %d: %v", v, err)
		}
	}
	// The other recovery id recovers some other address.
	flipped := *tx
	flipped.EthSignature[64] ^= 27 ^ 28
	if a, err := flipped.ChangePubKeySigner(testChainID); err == nil && a == f.alice.addr {
		t.Fatal("flipped v recovers the owner")
	}
	// High-s twin of a valid signature is rejected (EIP-2).
	n := crypto.S256().Params().N
	s := new(big.Int).SetBytes(tx.EthSignature[32:64])
	high := *tx
	new(big.Int).Sub(n, s).FillBytes(high.EthSignature[32:64])
	high.EthSignature[64] ^= 27 ^ 28
	if _, err := high.ChangePubKeySigner(testChainID); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("high-s signature: %v", err)
	}
	// r = 0 and s = 0 are rejected.
	zero := *tx
	clear(zero.EthSignature[:32])
	if _, err := zero.ChangePubKeySigner(testChainID); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("r = 0: %v", err)
	}

	// Tampered fields: the signature no longer names the owner, so the
	// transaction fails with ErrBadSignature through Check+Apply.
	var one fr.Element
	one.SetOne()
	tampers := map[string]func(*Tx){
		"account": func(tx *Tx) { tx.Account = 2 },
		"nonce":   func(tx *Tx) { tx.Nonce++ },
		"key":     func(tx *Tx) { tx.NewPubKeyHash.Add(&tx.NewPubKeyHash, &one) },
		"r":       func(tx *Tx) { tx.EthSignature[10] ^= 1 },
		"s":       func(tx *Tx) { tx.EthSignature[40] ^= 1 },
	}
	for name, tamper := range tampers {
		bad := *tx
		tamper(&bad)
		if a, err := bad.ChangePubKeySigner(testChainID); err == nil && a == f.alice.addr {
			t.Fatalf("tampered %s still recovers the owner", name)
		}
	}
	// A different chain id recovers a different address.
	if a, _ := tx.ChangePubKeySigner(testChainID + 1); a == f.alice.addr {
		t.Fatal("signature valid across chain ids")
	}
}

// TestTxHashPacking pins the signed message's layout (docs/PROTOCOL.md §6)
// against its definition in integers, and checks that every field is
// bound: changing any one of them, or the chain id, changes the message.
func TestTxHashPacking(t *testing.T) {
	tx := &Tx{Type: TxWithdraw, Account: 0xfedcba98, Nonce: 0x89abcdef,
		To: common.HexToAddress("0xffeeddccbbaa99887766554433221100f0e1d2c3")}
	amount, _ := new(big.Int).SetString("fedcba9876543210fedcba9876543210", 16) // 2^128 - small
	tx.Amount.SetFromBig(amount)
	tx.Fee.SetUint64(2047 * 1e9) // mantissa 2047, exponent 9
	const chainID = 0xf0e1d2c3b4a59687

	sh := func(v *big.Int, n uint) *big.Int { return new(big.Int).Lsh(v, n) }
	m0 := new(big.Int).SetUint64(uint64(tx.Type))
	m0.Add(m0, sh(big.NewInt(int64(tx.Nonce)), 8))
	m0.Add(m0, sh(big.NewInt(int64(tx.Account)), 40))
	m0.Add(m0, sh(new(big.Int).SetBytes(tx.To[:]), 72))
	m1 := big.NewInt(2047<<5 | 9)
	m1.Add(m1, sh(amount, 16))
	m1.Add(m1, sh(new(big.Int).SetUint64(chainID), 144))
	if m0.BitLen() > 232 || m1.BitLen() > 208 {
		t.Fatalf("test values overflow the layout: %d, %d bits", m0.BitLen(), m1.BitLen())
	}
	var e0, e1 fr.Element
	e0.SetBigInt(m0)
	e1.SetBigInt(m1)
	if got, want := tx.Hash(chainID), Hash(e0, e1); got != want {
		t.Fatalf("Hash = %v, want Hash(m0, m1) = %v", got.String(), want.String())
	}

	base := tx.Hash(chainID)
	changes := map[string]func(*Tx){
		"type":           func(x *Tx) { x.Type = TxTransfer },
		"account":        func(x *Tx) { x.Account ^= 1 << 31 },
		"nonce":          func(x *Tx) { x.Nonce ^= 1 },
		"to":             func(x *Tx) { x.To[0] ^= 0x80 },
		"amount":         func(x *Tx) { x.Amount.AddUint64(&x.Amount, 1) },
		"fee":            func(x *Tx) { x.Fee.SetUint64(2046 * 1e9) },
		"fee exponent":   func(x *Tx) { x.Fee.SetUint64(2047 * 1e8) },
		"unpackable fee": func(x *Tx) { x.Fee.SetUint64(2047*1e9 + 1) },
	}
	for name, change := range changes {
		x := *tx
		change(&x)
		if x.Hash(chainID) == base {
			t.Errorf("changing the %s leaves the message unchanged", name)
		}
	}
	if tx.Hash(chainID^1) == base {
		t.Error("changing the chain id leaves the message unchanged")
	}
	// An unpackable fee hashes as packed fee 1 (mantissa 0, exponent 1),
	// which no canonical packing produces.
	x := *tx
	x.Fee.SetUint64(2047*1e9 + 1)
	e1.SetBigInt(new(big.Int).Add(big.NewInt(unpackableFee), sh(amount, 16)))
	e1.Add(&e1, new(fr.Element).SetBigInt(sh(new(big.Int).SetUint64(chainID), 144)))
	if got, want := x.Hash(chainID), Hash(e0, e1); got != want {
		t.Fatal("an unpackable fee is not hashed as packed fee 1")
	}
	for m := range uint64(2048) {
		for e := range uint64(32) {
			var v uint256.Int
			v.SetUint64(m)
			for range e {
				if _, of := v.MulOverflow(&v, uint256.NewInt(10)); of {
					break
				}
			}
			if p, err := PackFee(&v); err == nil && binary.BigEndian.Uint16(p[:]) == unpackableFee {
				t.Fatalf("fee %v packs to the unpackable marker", &v)
			}
		}
	}
}
