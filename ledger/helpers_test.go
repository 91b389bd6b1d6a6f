package ledger

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

const testChainID = 31337

var testParams = Params{ChainID: testChainID, Depth: 8}

// user is a test actor: an Ethereum key, its address, and its L2 key.
type user struct {
	eth  *ecdsa.PrivateKey
	addr common.Address
	l2   *PrivateKey
}

// newUser derives a deterministic user from a label.
func newUser(t testing.TB, label string) *user {
	t.Helper()
	seed := sha256.Sum256([]byte("velox test user " + label))
	eth, err := crypto.ToECDSA(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	l2, err := DeriveKey(eth, testChainID)
	if err != nil {
		t.Fatal(err)
	}
	return &user{eth: eth, addr: crypto.PubkeyToAddress(eth.PublicKey), l2: l2}
}

func (u *user) keyHash(t testing.TB) fr.Element {
	t.Helper()
	pk := u.l2.Public()
	h, err := pk.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func u256(v uint64) uint256.Int { return *uint256.NewInt(v) }

func u256s(t testing.TB, dec string) uint256.Int {
	t.Helper()
	v, err := uint256.FromDecimal(dec)
	if err != nil {
		t.Fatal(err)
	}
	return *v
}

// pow2 returns 2^n.
func pow2(n uint) uint256.Int {
	var v uint256.Int
	v.Lsh(uint256.NewInt(1), n)
	return v
}

func sub(a uint256.Int, b uint64) uint256.Int {
	a.Sub(&a, uint256.NewInt(b))
	return a
}

// fixture is a small genesis: fee account 0 (sequencer), alice 1 and bob 2
// with L2 keys, carol 3 without one.
type fixture struct {
	st                     *MemState
	seq, alice, bob, carol *user
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		st:    NewMemState(),
		seq:   newUser(t, "sequencer"),
		alice: newUser(t, "alice"),
		bob:   newUser(t, "bob"),
		carol: newUser(t, "carol"),
	}
	for i, u := range []*user{f.seq, f.alice, f.bob, f.carol} {
		f.st.Create(uint32(i), u.addr)
		f.st.SetBalance(uint32(i), u256(1_000_000))
		if u != f.carol {
			f.st.SetPubKeyHash(uint32(i), u.keyHash(t))
		}
	}
	return f
}

// l2Tx builds a Transfer or Withdraw signed by k.
func l2Tx(t testing.TB, typ TxType, k *PrivateKey, from uint32, to common.Address, amount, fee uint256.Int, nonce uint32) *Tx {
	t.Helper()
	tx := &Tx{Type: typ, Account: from, To: to, Amount: amount, Fee: fee, Nonce: nonce}
	if err := tx.SignL2(k, testChainID); err != nil {
		t.Fatal(err)
	}
	return tx
}

// cpkTx builds a ChangePubKey signed by the Ethereum key eth.
func cpkTx(t testing.TB, eth *ecdsa.PrivateKey, account, nonce uint32, h fr.Element) *Tx {
	t.Helper()
	tx := &Tx{Type: TxChangePubKey, Account: account, Nonce: nonce, NewPubKeyHash: h}
	if err := tx.SignChangePubKey(eth, testChainID); err != nil {
		t.Fatal(err)
	}
	return tx
}

// mustFailUnchanged runs fn, which must fail with want, and checks that st is
// left exactly as it was.
func mustFailUnchanged(t *testing.T, st *MemState, want error, fn func() error) {
	t.Helper()
	before := st.Clone()
	err := fn()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	if !reflect.DeepEqual(st, before) {
		t.Fatalf("failed operation changed the state")
	}
}

func randElement(r *rand.Rand) fr.Element {
	var b [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	var e fr.Element
	e.SetBytes(b[:]) // reduced mod r
	return e
}

func randAddress(r *rand.Rand) common.Address {
	var a common.Address
	for i := range a {
		a[i] = byte(r.Uint32())
	}
	a[0] |= 1 // never zero
	return a
}

// seededReader is a deterministic io.Reader for key generation.
type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}
