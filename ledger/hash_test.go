package ledger

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

func TestCompressMatchesGnark(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	perm := poseidon2.NewDefaultPermutation()
	for i := 0; i < 200; i++ {
		a, b := randElement(r), randElement(r)
		if i == 0 {
			a, b = fr.Element{}, fr.Element{}
		}
		got := Compress(&a, &b)
		ab, bb := a.Bytes(), b.Bytes()
		want, err := perm.Compress(ab[:], bb[:])
		if err != nil {
			t.Fatal(err)
		}
		gb := got.Bytes()
		if !bytes.Equal(gb[:], want) {
			t.Fatalf("Compress(%v, %v) = %x, gnark-crypto %x", a.String(), b.String(), gb, want)
		}
		// The same through the Merkle–Damgård hasher with IV = left.
		h := poseidon2.NewMerkleDamgardHasher()
		if err := h.SetState(ab[:]); err != nil {
			t.Fatal(err)
		}
		h.Write(bb[:])
		if !bytes.Equal(h.Sum(nil), want) {
			t.Fatal("MD hasher with state = left disagrees with Compress")
		}
	}
	// Compress is not symmetric.
	var one, two fr.Element
	one.SetOne()
	two.SetUint64(2)
	if Compress(&one, &two) == Compress(&two, &one) {
		t.Fatal("Compress(1,2) == Compress(2,1)")
	}
}

func TestHashMatchesGnarkMerkleDamgard(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 9; n++ {
		for rep := 0; rep < 10; rep++ {
			xs := make([]fr.Element, n)
			for i := range xs {
				xs[i] = randElement(r)
			}
			h := poseidon2.NewMerkleDamgardHasher()
			for i := range xs {
				b := xs[i].Bytes()
				if _, err := h.Write(b[:]); err != nil {
					t.Fatal(err)
				}
			}
			got := Hash(xs...)
			gb := got.Bytes()
			if want := h.Sum(nil); !bytes.Equal(gb[:], want) {
				t.Fatalf("Hash of %d elements = %x, gnark-crypto %x", n, gb, want)
			}
		}
	}
	if h := Hash(); !h.IsZero() {
		t.Fatal("Hash() of nothing must be the zero IV")
	}
}

func TestAccountLeafHash(t *testing.T) {
	var empty Account
	if h := empty.Hash(); !h.IsZero() {
		t.Fatal("empty leaf must hash to 0")
	}
	// A leaf with a balance but no owner is still empty: the leaf is keyed
	// by its address.
	empty.Balance = u256(5)
	if h := empty.Hash(); !h.IsZero() {
		t.Fatal("ownerless leaf must hash to 0")
	}

	u := newUser(t, "leaf")
	a := Account{Address: u.addr, PubKeyHash: u.keyHash(t), Nonce: 7, Balance: sub(pow2(128), 1)}
	// The leaf hash is the MD hash of the four fields as 32-byte big-endian
	// words: address (left-padded), pubKeyHash, nonce, balance.
	h := poseidon2.NewMerkleDamgardHasher()
	var w [32]byte
	copy(w[12:], a.Address[:])
	h.Write(w[:])
	pkh := a.PubKeyHash.Bytes()
	h.Write(pkh[:])
	w = [32]byte{}
	w[31] = 7
	h.Write(w[:])
	bal := a.Balance.Bytes32()
	h.Write(bal[:])
	got := a.Hash()
	gb := got.Bytes()
	if !bytes.Equal(gb[:], h.Sum(nil)) {
		t.Fatal("leaf hash differs from the documented definition")
	}
	b := a
	b.Nonce++
	if a.Hash() == b.Hash() {
		t.Fatal("nonce does not affect the leaf hash")
	}
}
