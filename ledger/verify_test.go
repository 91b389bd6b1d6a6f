package ledger

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
)

// gnarkVerify is the reference: gnark-crypto's own verification.
func gnarkVerify(t *testing.T, pub PubKey, msg fr.Element, sig Signature) bool {
	pk, err := pub.decode()
	if err != nil {
		t.Fatal(err)
	}
	b := msg.Bytes()
	ok, err := pk.Verify(sig[:], b[:], poseidon2.NewMerkleDamgardHasher())
	return err == nil && ok
}

// TestVerifyMatchesGnark compares the joint-multiplication verification
// with gnark-crypto's on valid signatures and on every kind of tampering:
// each byte of R and S, the message, the key, small-order components
// added to R, and S + order.
func TestVerifyMatchesGnark(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	curve := twistededwards.GetEdwardsCurve()
	// A point of order 2: (0, -1).
	var t2 twistededwards.PointAffine
	t2.X.SetZero()
	t2.Y.SetOne()
	t2.Y.Neg(&t2.Y)
	for i := 0; i < 24; i++ {
		k := newUser(t, string(rune('a'+i))).l2
		other := newUser(t, string(rune('A'+i))).l2.Public()
		pub := k.Public()
		var msg fr.Element
		msg.SetUint64(rng.Uint64())
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, pub PubKey, msg fr.Element, sig Signature) {
			t.Helper()
			want := gnarkVerify(t, pub, msg, sig)
			got := pub.Verify(msg, &sig) == nil
			if got != want {
				t.Fatalf("key %d, %s: ours %v, gnark-crypto %v", i, what, got, want)
			}
		}
		check("valid", pub, msg, sig)
		if pub.Verify(msg, &sig) != nil {
			t.Fatalf("key %d: a valid signature is rejected", i)
		}
		var m2 fr.Element
		m2.Add(&msg, new(fr.Element).SetOne())
		check("other message", pub, m2, sig)
		check("other key", other, msg, sig)
		for j := 0; j < SignatureSize; j++ {
			bad := sig
			bad[j] ^= byte(1 << (rng.IntN(8)))
			check("flipped bit", pub, msg, bad)
		}
		// R plus a point of order 2: [8] removes it, but h changes.
		var r twistededwards.PointAffine
		if _, err := r.SetBytes(sig[:32]); err == nil {
			r.Add(&r, &t2)
			bad := sig
			rb := r.Bytes()
			copy(bad[:32], rb[:])
			check("R + T2", pub, msg, bad)
		}
		// S + order encodes the same scalar mod the order (gnark-crypto
		// rejects S >= order in decoding).
		o := curve.Order
		sInt := new(big.Int).SetBytes(sig[32:])
		sInt.Add(sInt, &o)
		if sInt.BitLen() <= 256 {
			bad := sig
			sInt.FillBytes(bad[32:])
			check("S + order", pub, msg, bad)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	k := newUser(b, "bench").l2
	pub := k.Public()
	msg := fr.NewElement(7)
	sig, err := k.Sign(msg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("velox", func(b *testing.B) {
		for b.Loop() {
			if pub.Verify(msg, &sig) != nil {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("gnark-crypto", func(b *testing.B) {
		pk, _ := pub.decode()
		m := msg.Bytes()
		for b.Loop() {
			if ok, _ := pk.Verify(sig[:], m[:], poseidon2.NewMerkleDamgardHasher()); !ok {
				b.Fatal("rejected")
			}
		}
	})
}
