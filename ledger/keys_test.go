package ledger

import (
	"bytes"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards/eddsa"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestDeriveKey(t *testing.T) {
	u := newUser(t, "derive")
	k1, err := DeriveKey(u.eth, 1)
	if err != nil {
		t.Fatal(err)
	}
	k1b, err := DeriveKey(u.eth, 1)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Public() != k1b.Public() {
		t.Fatal("DeriveKey is not deterministic")
	}
	k2, err := DeriveKey(u.eth, 2)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Public() == k2.Public() {
		t.Fatal("same L2 key for two chain ids")
	}
	other := newUser(t, "derive-other")
	k3, err := DeriveKey(other.eth, 1)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Public() == k3.Public() {
		t.Fatal("same L2 key for two Ethereum keys")
	}

	// A wallet signing the message with personal_sign (v = 27/28) gets the
	// same key as DeriveKey.
	sig, err := crypto.Sign(accounts.TextHash(KeyDerivationMessage(1)), u.eth)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []byte{0, 27} {
		s := bytes.Clone(sig)
		s[64] += v
		k, err := DeriveKeyFromSignature(s)
		if err != nil {
			t.Fatal(err)
		}
		if k.Public() != k1.Public() {
			t.Fatalf("DeriveKeyFromSignature with v offset %d differs from DeriveKey", v)
		}
	}
	for _, bad := range [][]byte{nil, sig[:64], append(bytes.Clone(sig), 0)} {
		if _, err := DeriveKeyFromSignature(bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("DeriveKeyFromSignature(%d bytes) = %v, want ErrMalformed", len(bad), err)
		}
	}
	s := bytes.Clone(sig)
	s[64] = 29
	if _, err := DeriveKeyFromSignature(s); !errors.Is(err, ErrMalformed) {
		t.Fatalf("recovery id 29: %v, want ErrMalformed", err)
	}
	if got := string(KeyDerivationMessage(1)); got != "Velox L2 key\nchain id: 1\nSign this only in a Velox wallet." {
		t.Fatalf("key derivation message changed: %q", got)
	}
}

func TestSignVerify(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	k, err := GenerateKey(seededReader{r})
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey(seededReader{r})
	if err != nil {
		t.Fatal(err)
	}
	pk, otherPK := k.Public(), other.Public()
	for i := 0; i < 5; i++ {
		msg := randElement(r)
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := pk.Verify(msg, &sig); err != nil {
			t.Fatalf("valid signature rejected: %v", err)
		}
		var msg2 fr.Element
		one := fr.One()
		msg2.Add(&msg, &one)
		if err := pk.Verify(msg2, &sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("tampered message: %v", err)
		}
		if err := otherPK.Verify(msg, &sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("other key: %v", err)
		}
		for _, pos := range []int{0, 5, 31, 32, 40, 63} {
			bad := sig
			bad[pos] ^= 1
			if err := pk.Verify(msg, &bad); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("signature with byte %d flipped: %v", pos, err)
			}
		}
		badKey := pk
		badKey[3] ^= 0x10
		if err := badKey.Verify(msg, &sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("tampered key: %v", err)
		}
	}
	// S + l (the subgroup order) must not verify: no malleability.
	msg := randElement(r)
	sig, _ := k.Sign(msg)
	order, _ := new(big.Int).SetString("2736030358979909402780800718157159386076813972158567259200215660948447373041", 10)
	s := new(big.Int).SetBytes(sig[32:])
	s.Add(s, order)
	if s.BitLen() <= 256 {
		bad := sig
		s.FillBytes(bad[32:])
		if err := pk.Verify(msg, &bad); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("S+l accepted: %v", err)
		}
	}
}

// littleEndian32 encodes v as 32 little-endian bytes (the compressed point
// layout: y little-endian, sign of x in the top bit).
func littleEndian32(v *big.Int) [32]byte {
	var be, le [32]byte
	v.FillBytes(be[:])
	for i := range be {
		le[i] = be[31-i]
	}
	return le
}

func TestMalformedPublicKeys(t *testing.T) {
	k := newUser(t, "pk").l2
	good := k.Public()
	if _, _, err := good.Point(); err != nil {
		t.Fatal(err)
	}

	rmod := fr.Modulus()
	var y big.Int
	le := good
	le[31] &= 0x7f
	for i := 0; i < 16; i++ {
		le[i], le[31-i] = le[31-i], le[i]
	}
	y.SetBytes(le[:])

	var cases []PubKey
	// y + r decodes to the same point: a second encoding of the same key.
	yr := littleEndian32(new(big.Int).Add(&y, rmod))
	yr[31] |= good[31] & 0x80
	cases = append(cases, PubKey(yr))
	var raw, rawGood eddsa.PublicKey
	if _, err := raw.SetBytes(yr[:]); err != nil {
		t.Fatalf("gnark-crypto rejects y+r itself (%v): the canonical check is then redundant", err)
	}
	rawGood.SetBytes(good[:])
	if !raw.A.Equal(&rawGood.A) {
		t.Fatal("y+r does not decode to the same point")
	}
	// identity (0, 1), with both sign bits
	id := littleEndian32(big.NewInt(1))
	cases = append(cases, PubKey(id))
	id[31] |= 0x80
	cases = append(cases, PubKey(id))
	// the point of order 2, (0, -1)
	cases = append(cases, PubKey(littleEndian32(new(big.Int).Sub(rmod, big.NewInt(1)))))
	// all ones, all zeros (y = 0 gives a point of order 4)
	var ones PubKey
	for i := range ones {
		ones[i] = 0xff
	}
	cases = append(cases, ones, PubKey{})
	// random bytes: most are not on the curve
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 50; i++ {
		var p PubKey
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		cases = append(cases, p)
	}
	msg := randElement(r)
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range cases {
		_, _, err := p.Point()
		if err == nil {
			// A random string may be a valid key; the named cases not.
			if i < 6 {
				t.Fatalf("case %d: malformed key %x accepted", i, p)
			}
			continue
		}
		if !errors.Is(err, ErrNonCanonical) {
			t.Fatalf("case %d: Point error %v, want ErrNonCanonical", i, err)
		}
		if _, err := p.Hash(); !errors.Is(err, ErrNonCanonical) {
			t.Fatalf("case %d: Hash error %v", i, err)
		}
		if err := p.Verify(msg, &sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("case %d: Verify error %v, want ErrBadSignature", i, err)
		}
	}
}

// TestKeyCache checks that cached decodings agree with fresh ones and that
// a full cache starts over rather than growing.
func TestKeyCache(t *testing.T) {
	k := newUser(t, "cache").l2
	pub := k.Public()
	msg := fr.NewElement(42)
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second round is served by the cache
		if err := pub.Verify(msg, &sig); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		h, err := pub.Hash()
		fresh, ferr := pub.decode()
		if err != nil || ferr != nil || h != Hash(fresh.A.X, fresh.A.Y) {
			t.Fatalf("round %d: cached hash disagrees (%v, %v)", i, err, ferr)
		}
	}
	bad := sig
	bad[40] ^= 1
	if err := pub.Verify(msg, &bad); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a tampered signature under a cached key: %v", err)
	}
	keyCache.Lock()
	for i := len(keyCache.m); i < keyCacheSize; i++ {
		var p PubKey
		p[0], p[1], p[2] = byte(i), byte(i>>8), byte(i>>16)
		keyCache.m[p] = &decodedKey{}
	}
	keyCache.Unlock()
	other := newUser(t, "cache-2").l2.Public()
	if _, err := other.Hash(); err != nil {
		t.Fatal(err)
	}
	keyCache.RLock()
	n := len(keyCache.m)
	keyCache.RUnlock()
	if n != 1 {
		t.Fatalf("cache holds %d keys after filling up, want 1", n)
	}
}
