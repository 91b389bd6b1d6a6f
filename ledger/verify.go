package ledger

import (
	"math/big"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards/eddsa"
)

// This file verifies EdDSA signatures exactly as gnark-crypto's
// eddsa.PublicKey.Verify accepts them — [8][S]B == [8](R + [h]A) with
// h = Poseidon2(R.X, R.Y, A.X, A.Y, msg) — but faster: as one joint
// multiplication [S]B + [h](-A) - R with 4-bit windows, a static table for
// the base point and a per-key table cached with the decoded key, in
// extended coordinates without inversions, followed by three doublings and
// an identity check. The equation is the same group equation, so the same
// signatures verify (checked against gnark-crypto in verify_test.go).

// window tables hold j·P for j = 0..15.
type affineTable [16]twistededwards.PointAffine
type extendedTable [16]twistededwards.PointExtended

var baseTable = sync.OnceValue(func() *affineTable {
	var t affineTable
	b := twistededwards.GetEdwardsCurve().Base
	t[0].X.SetZero()
	t[0].Y.SetOne()
	for j := 1; j < 16; j++ {
		t[j].Add(&t[j-1], &b)
	}
	return &t
})

// negTable returns j·(-A) for j = 0..15.
func negTable(a *twistededwards.PointAffine) *extendedTable {
	var t extendedTable
	var neg twistededwards.PointAffine
	neg.Neg(a)
	t[0].X.SetZero()
	t[0].Y.SetOne()
	t[0].Z.SetOne()
	t[0].T.SetZero()
	for j := 1; j < 16; j++ {
		t[j].MixedAdd(&t[j-1], &neg)
	}
	return &t
}

// nibble returns the i-th 4-bit digit (from the least significant) of a
// 32-byte big-endian number.
func nibble(b *[32]byte, i int) int {
	v := b[31-i/2]
	if i%2 == 1 {
		v >>= 4
	}
	return int(v & 0xf)
}

// verify reports whether sigBin is a valid signature of msg (32 bytes)
// under k.
func (k *decodedKey) verify(sigBin []byte, msg []byte) bool {
	var sig eddsa.Signature
	if _, err := sig.SetBytes(sigBin); err != nil {
		return false
	}
	h := poseidon2.NewMerkleDamgardHasher()
	rx, ry := sig.R.X.Bytes(), sig.R.Y.Bytes()
	ax, ay := k.pk.A.X.Bytes(), k.pk.A.Y.Bytes()
	for _, b := range [][]byte{rx[:], ry[:], ax[:], ay[:], msg} {
		h.Write(b)
	}
	var hram big.Int
	hram.SetBytes(h.Sum(nil))
	if hram.BitLen() > 256 {
		return false // cannot happen: the hash is a field element
	}
	var hb [32]byte
	hram.FillBytes(hb[:])
	sb := sig.S

	bt := baseTable()
	at := k.negA
	var acc twistededwards.PointExtended
	acc.X.SetZero()
	acc.Y.SetOne()
	acc.Z.SetOne()
	acc.T.SetZero()
	for i := 63; i >= 0; i-- {
		if i != 63 {
			acc.Double(&acc)
			acc.Double(&acc)
			acc.Double(&acc)
			acc.Double(&acc)
		}
		if d := nibble(&sb, i); d != 0 {
			acc.MixedAdd(&acc, &bt[d])
		}
		if d := nibble(&hb, i); d != 0 {
			acc.Add(&acc, &at[d])
		}
	}
	var negR twistededwards.PointAffine
	negR.Neg(&sig.R)
	acc.MixedAdd(&acc, &negR)
	// The cofactor, 8.
	acc.Double(&acc)
	acc.Double(&acc)
	acc.Double(&acc)
	return acc.IsZero()
}
