package ledger

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards"
	"github.com/consensys/gnark-crypto/ecc/bn254/twistededwards/eddsa"
)

// gnarkVerify is the reference: gnark-crypto's own verification.
func gnarkVerify(t testing.TB, pub PubKey, msg fr.Element, sig Signature) bool {
	pk, err := pub.decode()
	if err != nil {
		t.Fatal(err)
	}
	b := msg.Bytes()
	ok, err := pk.Verify(sig[:], b[:], poseidon2.NewMerkleDamgardHasher())
	return err == nil && ok
}

// setHot sets the hot-key policy for one test and drops every comb, so
// keys start cold; both are restored afterwards.
func setHot(t testing.TB, threshold uint32, maxKeys int) {
	t.Helper()
	oldT, oldM := hotThreshold, maxHotKeys
	evictAllHot()
	hotThreshold, maxHotKeys = threshold, maxKeys
	t.Cleanup(func() {
		evictAllHot()
		hotThreshold, maxHotKeys = oldT, oldM
	})
}

func evictAllHot() {
	hk := &hotKeys.mu
	hk.Lock()
	defer hk.Unlock()
	for _, k := range hk.keys {
		k.hot.comb.Store(nil)
		k.hot.valid.Store(0)
	}
	hk.keys, hk.hand = nil, 0
}

func isHot(t testing.TB, pub PubKey) bool {
	k, err := pub.decoded()
	if err != nil {
		t.Fatal(err)
	}
	return k.hot.comb.Load() != nil
}

// smallOrder returns the 8 points of order dividing 8, T[i] = [i]T[1].
func smallOrder(t testing.TB) [8]twistededwards.PointAffine {
	t.Helper()
	curve := twistededwards.GetEdwardsCurve()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var b [32]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[31] &= 0x3f
		var p twistededwards.PointAffine
		if _, err := p.SetBytes(b[:]); err != nil || !p.IsOnCurve() {
			continue
		}
		var q twistededwards.PointAffine
		q.ScalarMultiplication(&p, &curve.Order) // kills the G component
		var q4 twistededwards.PointAffine
		q4.ScalarMultiplication(&q, big.NewInt(4))
		if q4.IsZero() {
			continue // order < 8
		}
		var ts [8]twistededwards.PointAffine
		ts[0].Y.SetOne()
		for i := 1; i < 8; i++ {
			ts[i].Add(&ts[i-1], &q)
		}
		return ts
	}
	t.Fatal("no point of order 8 found")
	panic("unreachable")
}

// forge signs msg under k with the nonce point R = [r]B + T: S = r + h·a,
// computed from the private scalar, so the cofactored equation holds for
// any small-order T. r = 0 gives R = T.
func forge(t testing.TB, k *PrivateKey, msg fr.Element, r *big.Int, tp *twistededwards.PointAffine, negXBit bool) Signature {
	t.Helper()
	curve := twistededwards.GetEdwardsCurve()
	a := new(big.Int).SetBytes(k.k.Bytes()[32:64])
	var R twistededwards.PointAffine
	R.ScalarMultiplication(&curve.Base, r)
	R.Add(&R, tp)
	pub := k.k.PublicKey
	h := poseidon2.NewMerkleDamgardHasher()
	rx, ry := R.X.Bytes(), R.Y.Bytes()
	ax, ay := pub.A.X.Bytes(), pub.A.Y.Bytes()
	m := msg.Bytes()
	for _, b := range [][]byte{rx[:], ry[:], ax[:], ay[:], m[:]} {
		h.Write(b)
	}
	hInt := new(big.Int).SetBytes(h.Sum(nil))
	s := new(big.Int).Mul(hInt, a)
	s.Add(s, r)
	s.Mod(s, &curve.Order)
	var sig Signature
	rb := R.Bytes()
	copy(sig[:32], rb[:])
	if R.X.IsZero() && negXBit {
		sig[31] |= 0x80 // the other encoding of x = 0
	}
	s.FillBytes(sig[32:])
	return sig
}

// TestVerifyMatchesGnark compares verification, cold and hot, with
// gnark-crypto's on valid signatures and on every kind of tampering: each
// byte of R and S, the message, the key, small-order components added to
// R (the cofactored equation still holds, gnark-crypto's subgroup test
// rejects), R the identity with either sign bit, S out of range and
// non-canonical y.
func TestVerifyMatchesGnark(t *testing.T) {
	for _, hot := range []bool{false, true} {
		t.Run(fmt.Sprintf("hot=%v", hot), func(t *testing.T) {
			if hot {
				setHot(t, 1, 64)
			} else {
				setHot(t, math.MaxUint32, 64)
			}
			testVerifyMatchesGnark(t, hot)
		})
	}
}

func testVerifyMatchesGnark(t *testing.T, hot bool) {
	rng := rand.New(rand.NewPCG(3, 4))
	curve := twistededwards.GetEdwardsCurve()
	o := &curve.Order
	ts := smallOrder(t)
	p := fr.Modulus()
	for i := range 12 {
		k := newUser(t, fmt.Sprintf("verify-%d", i)).l2
		other := newUser(t, fmt.Sprintf("verify-other-%d", i)).l2.Public()
		pub := k.Public()
		var msg fr.Element
		msg.SetUint64(rng.Uint64())
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		if pub.Verify(msg, &sig) != nil {
			t.Fatalf("key %d: a valid signature is rejected", i)
		}
		if isHot(t, pub) != hot {
			t.Fatalf("key %d: hot = %v, want %v", i, !hot, hot)
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
		var m2 fr.Element
		m2.Add(&msg, new(fr.Element).SetOne())
		check("other message", pub, m2, sig)
		check("other key", other, msg, sig)
		for j := range SignatureSize {
			bad := sig
			bad[j] ^= byte(1 << (rng.IntN(8)))
			check(fmt.Sprintf("flipped bit in byte %d", j), pub, msg, bad)
		}
		bad := sig
		bad[31] ^= 0x80
		check("sign of x flipped", pub, msg, bad)

		// R + T for each small-order T, with S fixed up so that the
		// cofactored equation holds.
		nonce := new(big.Int).SetUint64(rng.Uint64())
		for j, tp := range ts {
			forged := forge(t, k, msg, nonce, &tp, false)
			check(fmt.Sprintf("R + T%d", j), pub, msg, forged)
			if j == 0 && pub.Verify(msg, &forged) != nil {
				t.Fatalf("key %d: forged signature with T = 0 is rejected", i)
			}
			// R + T with the original S: the equation fails.
			bad := sig
			var r twistededwards.PointAffine
			if _, err := r.SetBytes(sig[:32]); err != nil {
				t.Fatal(err)
			}
			r.Add(&r, &tp)
			rb := r.Bytes()
			copy(bad[:32], rb[:])
			check(fmt.Sprintf("R + T%d, S unchanged", j), pub, msg, bad)
			// R = T itself (nonce 0): only T = identity is in G, and
			// gnark-crypto accepts it, with either sign bit.
			for _, neg := range []bool{false, true} {
				forged := forge(t, k, msg, new(big.Int), &tp, neg)
				check(fmt.Sprintf("R = T%d, sign bit %v", j, neg), pub, msg, forged)
				if j == 0 && pub.Verify(msg, &forged) != nil {
					t.Fatalf("key %d: R = identity, sign bit %v, rejected", i, neg)
				}
			}
		}

		// S + order, S = order, S = 0, S all ones.
		sInt := new(big.Int).SetBytes(sig[32:])
		for _, s := range []*big.Int{new(big.Int).Add(sInt, o), new(big.Int).Set(o), new(big.Int),
			new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))} {
			bad := sig
			s.FillBytes(bad[32:])
			check("S = "+s.String(), pub, msg, bad)
		}
		// y + p: the same field element, not canonical.
		var yb [32]byte
		for j := range 32 {
			yb[31-j] = sig[j]
		}
		sign := yb[0] & 0x80
		yb[0] &= 0x7f
		y := new(big.Int).SetBytes(yb[:])
		y.Add(y, p)
		y.FillBytes(yb[:])
		yb[0] |= sign
		bad = sig
		for j := range 32 {
			bad[j] = yb[31-j]
		}
		check("y + p", pub, msg, bad)
	}
}

// TestDecodeSigMatchesGnark checks decodeSig against gnark-crypto's
// Signature.SetBytes on random and edge-case encodings: decodeSig accepts
// a superset (it skips the subgroup test verify makes redundant), and
// where both accept they decode the same R and S.
func TestDecodeSigMatchesGnark(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	k := newUser(t, "decode").l2
	valid, err := k.Sign(fr.NewElement(9))
	if err != nil {
		t.Fatal(err)
	}
	ts := smallOrder(t)
	var inputs []Signature
	// Every small-order point, both sign bits, with a valid S.
	for _, tp := range ts {
		for _, neg := range []bool{false, true} {
			s := valid
			b := tp.Bytes()
			copy(s[:32], b[:])
			if neg {
				s[31] |= 0x80
			}
			inputs = append(inputs, s)
		}
	}
	// y = 0, y = p - 1, y = p, y = 2^255 - 1, with either sign bit.
	p := fr.Modulus()
	for _, y := range []*big.Int{new(big.Int), new(big.Int).Sub(p, big.NewInt(1)), p,
		new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1))} {
		for _, neg := range []byte{0, 0x80} {
			s := valid
			var yb [32]byte
			y.FillBytes(yb[:])
			for j := range 32 {
				s[j] = yb[31-j]
			}
			s[31] |= neg
			inputs = append(inputs, s)
		}
	}
	for range 2000 {
		s := valid
		switch rng.IntN(3) {
		case 0: // random y, valid S
			for j := range 32 {
				s[j] = byte(rng.Uint32())
			}
			s[31] &= 0xbf
		case 1: // one flipped bit
			s[rng.IntN(64)] ^= 1 << rng.IntN(8)
		default: // random everything, top bits cleared to be in range often
			for j := range s {
				s[j] = byte(rng.Uint32())
			}
			s[31] &= 0xbf
			s[32] &= 0x03
		}
		inputs = append(inputs, s)
	}
	for _, in := range inputs {
		var ref eddsa.Signature
		_, err := ref.SetBytes(in[:])
		r, s, ok := decodeSig(&in)
		inG := ok && r.IsInSubGroup()
		if inG != (err == nil) {
			t.Fatalf("%x: decodeSig ok=%v, in G=%v; gnark-crypto: %v", in, ok, inG, err)
		}
		if err == nil && (!r.Equal(&ref.R) || s != ref.S) {
			t.Fatalf("%x: decoded differently", in)
		}
		if ok && !r.IsOnCurve() {
			t.Fatalf("%x: decoded a point off the curve", in)
		}
	}
}

// TestRecode checks the signed-digit recoding by recomposing the digits.
func TestRecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), scalarBits), big.NewInt(1))
	for _, w := range []uint{4, 5, 6, 7, 8} {
		for i := range 2000 {
			var k big.Int
			switch i {
			case 0:
			case 1:
				k.Set(max)
			default:
				var b [32]byte
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				b[0] &= 0x3f
				if i%3 == 0 { // long runs of ones
					for j := 1 + rng.IntN(30); j < 32; j++ {
						b[j] = 0xff
					}
				}
				k.SetBytes(b[:])
			}
			var kb [32]byte
			k.FillBytes(kb[:])
			d := make([]int16, windows(w))
			recode(&kb, w, d)
			var sum big.Int
			for j := len(d) - 1; j >= 0; j-- {
				if d[j] > 1<<(w-1) || d[j] <= -(1<<(w-1)) {
					t.Fatalf("w=%d: digit %d out of range", w, d[j])
				}
				sum.Lsh(&sum, w)
				sum.Add(&sum, big.NewInt(int64(d[j])))
			}
			if sum.Cmp(&k) != 0 {
				t.Fatalf("w=%d: %x recoded to %x", w, &k, &sum)
			}
		}
	}
}

// TestCombMatchesScalarMultiplication checks the combs and the window
// table against gnark-crypto's scalar multiplication.
func TestCombMatchesScalarMultiplication(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a := newUser(t, "comb").l2.k.PublicKey.A
	wt := newWindowTable(&a)
	for i := range 250 {
		c := combsForTest(&a)[i%5]
		var kb [32]byte
		for j := range kb {
			kb[j] = byte(rng.Uint32())
		}
		kb[0] &= 0x3f
		var want twistededwards.PointAffine
		want.ScalarMultiplication(&a, new(big.Int).SetBytes(kb[:]))
		var acc extPoint
		acc.setIdentity()
		c.addMul(&acc, &kb)
		if !acc.equalAffine(&want.X, &want.Y) {
			t.Fatalf("comb: [%x]A wrong", kb)
		}
		wt.mul(&acc, &kb)
		if !acc.equalAffine(&want.X, &want.Y) {
			t.Fatalf("window table: [%x]A wrong", kb)
		}
	}
}

var combsForTest = func() func(*twistededwards.PointAffine) []*comb {
	var cs []*comb
	return func(a *twistededwards.PointAffine) []*comb {
		if cs == nil {
			for w := uint(4); w <= 8; w++ {
				cs = append(cs, newComb(a, w))
			}
		}
		return cs
	}
}()

// TestFieldAddSub checks the branchless feAdd and feSub against fr's Add
// and Sub, and their modulus against fr's.
func TestFieldAddSub(t *testing.T) {
	q := new(big.Int).Lsh(big.NewInt(fq3), 192)
	q.Add(q, new(big.Int).Lsh(new(big.Int).SetUint64(fq2), 128))
	q.Add(q, new(big.Int).Lsh(new(big.Int).SetUint64(fq1), 64))
	q.Add(q, new(big.Int).SetUint64(fq0))
	if q.Cmp(fr.Modulus()) != 0 {
		t.Fatalf("modulus %x, fr's %x", q, fr.Modulus())
	}
	var edge [4]fr.Element
	edge[1].SetOne()
	edge[2].SetOne()
	edge[2].Neg(&edge[2])
	edge[3].SetUint64(2)
	edge[3].Neg(&edge[3])
	for i := range 20000 {
		var x, y fr.Element
		if i < 16 {
			x, y = edge[i%4], edge[i/4]
		} else {
			x.SetRandom()
			y.SetRandom()
			if i%7 == 0 {
				y = x
			}
		}
		var want, got fr.Element
		want.Add(&x, &y)
		feAdd(&got, &x, &y)
		if got != want {
			t.Fatalf("%v + %v: got %v, want %v", x, y, got, want)
		}
		want.Sub(&x, &y)
		feSub(&got, &x, &y)
		if got != want {
			t.Fatalf("%v - %v: got %v, want %v", x, y, got, want)
		}
	}
}

// TestVerifyConcurrentHot verifies from many goroutines while keys become
// hot, build combs and evict each other (run with -race); every result
// must match gnark-crypto's, and at most maxHotKeys keys hold a comb.
func TestVerifyConcurrentHot(t *testing.T) {
	const nKeys, maxKeys = 12, 4
	setHot(t, 2, maxKeys)
	type item struct {
		pub  PubKey
		msg  fr.Element
		sig  Signature
		want bool
	}
	var items []item
	pubs := make([]PubKey, nKeys)
	for i := range nKeys {
		k := newUser(t, fmt.Sprintf("concurrent-%d", i)).l2
		pubs[i] = k.Public()
		for j := range 3 {
			msg := fr.NewElement(uint64(100*i + j))
			sig, err := k.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			bad := sig
			bad[40+j] ^= 4
			items = append(items,
				item{pubs[i], msg, sig, gnarkVerify(t, pubs[i], msg, sig)},
				item{pubs[i], msg, bad, gnarkVerify(t, pubs[i], msg, bad)})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			for range 300 {
				it := &items[rng.IntN(len(items))]
				if got := it.pub.Verify(it.msg, &it.sig) == nil; got != it.want {
					errs <- fmt.Errorf("goroutine %d: %x: got %v, want %v", g, it.sig, got, it.want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pubs {
		if isHot(t, p) {
			n++
		}
	}
	if n == 0 || n > maxKeys {
		t.Fatalf("%d keys hold a comb, want 1..%d", n, maxKeys)
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
	b.Run("velox-cold", func(b *testing.B) {
		setHot(b, math.MaxUint32, maxHotKeys)
		b.ReportAllocs()
		for b.Loop() {
			if pub.Verify(msg, &sig) != nil {
				b.Fatal("rejected")
			}
		}
		if isHot(b, pub) {
			b.Fatal("key became hot")
		}
	})
	b.Run("velox-hot", func(b *testing.B) {
		setHot(b, 1, maxHotKeys)
		if pub.Verify(msg, &sig) != nil || !isHot(b, pub) {
			b.Fatal("key did not become hot")
		}
		b.ReportAllocs()
		for b.Loop() {
			if pub.Verify(msg, &sig) != nil {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("gnark-crypto", func(b *testing.B) {
		pk, _ := pub.decode()
		m := msg.Bytes()
		b.ReportAllocs()
		for b.Loop() {
			if ok, _ := pk.Verify(sig[:], m[:], poseidon2.NewMerkleDamgardHasher()); !ok {
				b.Fatal("rejected")
			}
		}
	})
}

// BenchmarkHotComb measures building a hot key's comb, the price the
// hotThreshold choice weighs against the per-signature saving.
func BenchmarkHotComb(b *testing.B) {
	a := newUser(b, "bench").l2.k.PublicKey.A
	b.ReportAllocs()
	for b.Loop() {
		newComb(&a, hotCombW)
	}
}

// BenchmarkDecodeSig compares decodeSig with gnark-crypto's
// Signature.SetBytes (which adds the subgroup test).
func BenchmarkDecodeSig(b *testing.B) {
	k := newUser(b, "bench").l2
	sig, err := k.Sign(fr.NewElement(7))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("velox", func(b *testing.B) {
		for b.Loop() {
			if _, _, ok := decodeSig(&sig); !ok {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("gnark-crypto", func(b *testing.B) {
		for b.Loop() {
			var s eddsa.Signature
			if _, err := s.SetBytes(sig[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func randScalar(rng *rand.Rand, bitLen int) (b [32]byte) {
	for j := range b {
		b[j] = byte(rng.Uint32())
	}
	k := new(big.Int).SetBytes(b[:])
	k.Rsh(k, uint(256-bitLen))
	k.FillBytes(b[:])
	return b
}

// TestLatticeReduce checks the half-size pair on random and edge-case h:
// u ≡ h·v (mod order), v odd and positive, both small.
func TestLatticeReduce(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	o := orderInt
	p := fr.Modulus()
	edge := []*big.Int{new(big.Int), big.NewInt(1), big.NewInt(2), new(big.Int).Sub(o, big.NewInt(1)),
		new(big.Int).Set(o), new(big.Int).Add(o, big.NewInt(1)), new(big.Int).Sub(p, big.NewInt(1)),
		new(big.Int).Lsh(big.NewInt(1), 126), new(big.Int).Lsh(big.NewInt(1), 200)}
	declined := 0
	for i := range 20000 {
		var hb [32]byte
		if i < len(edge) {
			edge[i].FillBytes(hb[:])
		} else {
			hb = randScalar(rng, 254)
		}
		u, v, uNeg, ok := latticeReduce(&hb)
		if !ok {
			declined++
			continue
		}
		ub, vb := u.bytes(), v.bytes()
		ui, vi := new(big.Int).SetBytes(ub[:]), new(big.Int).SetBytes(vb[:])
		if uNeg {
			ui.Neg(ui)
		}
		if vi.Bit(0) != 1 || u.bitLen() > maxLatticeBits || v.bitLen() > maxLatticeBits {
			t.Fatalf("h = %x: u = %v, v = %v", hb, ui, vi)
		}
		hv := new(big.Int).Mul(new(big.Int).SetBytes(hb[:]), vi)
		if hv.Sub(hv, ui).Mod(hv, o).Sign() != 0 {
			t.Fatalf("h = %x: u = %v, v = %v: u ≢ h·v", hb, ui, vi)
		}
	}
	if declined > 2 {
		t.Fatalf("declined %d of 20000", declined)
	}
}

// TestDivStep checks the Euclidean step against math/big, including
// quotients near the 2^32 limit.
func TestDivStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for range 20000 {
		la := 1 + rng.IntN(254)
		lb := max(1, la-rng.IntN(34))
		ab, bb := randScalar(rng, la), randScalar(rng, lb)
		a, b := new(big.Int).SetBytes(ab[:]), new(big.Int).SetBytes(bb[:])
		if b.Sign() == 0 {
			continue
		}
		var x, y scalar256
		for i, w := range a.Bits() {
			x[i] = uint64(w)
		}
		for i, w := range b.Bits() {
			y[i] = uint64(w)
		}
		q, r, ok := divStep(&x, &y)
		wq, wr := new(big.Int).QuoRem(a, b, new(big.Int))
		if !ok {
			if wq.BitLen() < 31 {
				t.Fatalf("%v / %v declined", a, b)
			}
			continue
		}
		rb := r.bytes()
		if wq.Cmp(new(big.Int).SetUint64(q)) != 0 || wr.Cmp(new(big.Int).SetBytes(rb[:])) != 0 {
			t.Fatalf("%v / %v: got %d, %x", a, b, q, rb)
		}
	}
}

// TestLatticeMatchesWindowed compares the two cold checks of [S]B - [h]A
// == R on true and false instances, R with small-order components and
// R the identity.
func TestLatticeMatchesWindowed(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	curve := twistededwards.GetEdwardsCurve()
	ts := smallOrder(t)
	for i := range 300 {
		ab := randScalar(rng, 250)
		var a twistededwards.PointAffine
		a.ScalarMultiplication(&curve.Base, new(big.Int).SetBytes(ab[:]))
		var negA twistededwards.PointAffine
		negA.Neg(&a)
		wt := newWindowTable(&negA)
		s, h := randScalar(rng, 250), randScalar(rng, 254)
		if i%50 == 0 {
			h = [32]byte{} // R = [S]B
		}
		// R = [S]B - [h]A, then perturbed.
		var sB, hA, r twistededwards.PointAffine
		sB.ScalarMultiplication(&curve.Base, new(big.Int).SetBytes(s[:]))
		hA.ScalarMultiplication(&a, new(big.Int).SetBytes(h[:]))
		hA.Neg(&hA)
		r.Add(&sB, &hA)
		want := true
		switch i % 4 {
		case 1:
			r.Add(&r, &ts[1+rng.IntN(7)])
			want = false
		case 2:
			r.Add(&r, &curve.Base)
			want = false
		case 3:
			// S chosen so that R is the identity: S = h·a mod order.
			sv := new(big.Int).Mul(new(big.Int).SetBytes(h[:]), new(big.Int).SetBytes(ab[:]))
			sv.Mod(sv, &curve.Order)
			s = [32]byte{}
			sv.FillBytes(s[:])
			r.X.SetZero()
			r.Y.SetOne()
		}
		got, decided := verifyLattice(wt, &r, &s, &h)
		plain := verifyWindowed(wt, &r, &s, &h)
		if !decided || got != plain || got != want {
			t.Fatalf("case %d: lattice %v (decided %v), windowed %v, want %v", i, got, decided, plain, want)
		}
	}
}

// TestCurveComplete checks what the addition formulas rely on to be
// complete: a = -1 is a square and d is not.
func TestCurveComplete(t *testing.T) {
	c := twistededwards.GetEdwardsCurve()
	var minusOne fr.Element
	minusOne.SetOne()
	minusOne.Neg(&minusOne)
	if !c.A.Equal(&minusOne) || c.A.Legendre() != 1 || c.D.Legendre() != -1 {
		t.Fatal("the curve is not a = -1 with d a non-square")
	}
}

// FuzzDecodeSig checks decodeSig against gnark-crypto's Signature.SetBytes
// (whose subgroup test verify replaces, see verify.go) and verification
// against gnark-crypto's on arbitrary signature bytes.
func FuzzDecodeSig(f *testing.F) {
	k := newUser(f, "fuzz").l2
	pub := k.Public()
	msg := fr.NewElement(3)
	sig, err := k.Sign(msg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig[:])
	f.Add(make([]byte, SignatureSize))
	identity := sig
	copy(identity[:32], append([]byte{1}, make([]byte, 31)...))
	f.Add(identity[:])
	identity[31] |= 0x80
	f.Add(identity[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != SignatureSize {
			return
		}
		var in Signature
		copy(in[:], b)
		var ref eddsa.Signature
		_, err := ref.SetBytes(in[:])
		r, s, ok := decodeSig(&in)
		if (ok && r.IsInSubGroup()) != (err == nil) {
			t.Fatalf("%x: decodeSig ok=%v; gnark-crypto: %v", in, ok, err)
		}
		if err == nil && (!r.Equal(&ref.R) || s != ref.S) {
			t.Fatalf("%x: decoded differently", in)
		}
		if got, want := pub.Verify(msg, &in) == nil, gnarkVerify(t, pub, msg, in); got != want {
			t.Fatalf("%x: ours %v, gnark-crypto %v", in, got, want)
		}
	})
}

// challenges returns n valid (R, S, h) triples of k's signatures on
// distinct messages, decoded, for benchmarks of verifyChallenge that do
// not replay one signature (whose digits the branch predictor would learn).
func challenges(b *testing.B, k *PrivateKey, n int) (rs []twistededwards.PointAffine, ss [][32]byte, hs []fr.Element) {
	pub := k.Public()
	dk, err := pub.decoded()
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		msg := fr.NewElement(uint64(1000 + i))
		sig, err := k.Sign(msg)
		if err != nil {
			b.Fatal(err)
		}
		r, s, ok := decodeSig(&sig)
		if !ok {
			b.Fatal("decodeSig")
		}
		rs, ss = append(rs, r), append(ss, s)
		hs = append(hs, Hash(r.X, r.Y, dk.pk.A.X, dk.pk.A.Y, msg))
	}
	return rs, ss, hs
}

// BenchmarkVerifyChallenge measures verifyChallenge alone (no decoding,
// no hash) over 256 distinct signatures, hot and cold.
func BenchmarkVerifyChallenge(b *testing.B) {
	k := newUser(b, "bench").l2
	pub := k.Public()
	dk, err := pub.decoded()
	if err != nil {
		b.Fatal(err)
	}
	const n = 256
	rs, ss, hs := challenges(b, k, n)
	baseComb()
	b.Run("hot", func(b *testing.B) {
		setHot(b, 1, maxHotKeys)
		if !dk.verifyChallenge(&rs[0], &ss[0], &hs[0]) || !isHot(b, pub) {
			b.Fatal("key did not become hot")
		}
		i := 0
		for b.Loop() {
			if !dk.verifyChallenge(&rs[i], &ss[i], &hs[i]) {
				b.Fatal("rejected")
			}
			i = (i + 1) % n
		}
	})
	b.Run("cold", func(b *testing.B) {
		setHot(b, math.MaxUint32, maxHotKeys)
		i := 0
		for b.Loop() {
			if !dk.verifyChallenge(&rs[i], &ss[i], &hs[i]) {
				b.Fatal("rejected")
			}
			i = (i + 1) % n
		}
	})
}

// BenchmarkBaseComb measures building the static comb of B, which the
// first verification pays (baseComb is built once, lazily).
func BenchmarkBaseComb(b *testing.B) {
	base := twistededwards.GetEdwardsCurve().Base
	b.ReportAllocs()
	for b.Loop() {
		newComb(&base, baseCombW)
	}
}

// BenchmarkCombAddMul compares comb widths for [k]B over 256 distinct
// random scalars below the order.
func BenchmarkCombAddMul(b *testing.B) {
	base := twistededwards.GetEdwardsCurve().Base
	rng := rand.New(rand.NewPCG(21, 22))
	ks := make([][32]byte, 256)
	for i := range ks {
		ks[i] = randScalar(rng, 250)
	}
	for _, w := range []uint{4, 5, 6, 7, 8} {
		c := newComb(&base, w)
		b.Run(fmt.Sprintf("w=%d", w), func(b *testing.B) {
			var acc extPoint
			acc.setIdentity()
			i := 0
			for b.Loop() {
				c.addMul(&acc, &ks[i])
				i = (i + 1) % len(ks)
			}
		})
	}
}

// BenchmarkVerifyChallengeManyKeys is the hot check as a busy node sees it:
// 256 hot keys (12 MiB of combs, beyond the caches), one signature each
// in turn, so that most table entries come from memory.
func BenchmarkVerifyChallengeManyKeys(b *testing.B) {
	const keys = 256
	setHot(b, 1, maxHotKeys)
	baseComb()
	dks := make([]*decodedKey, keys)
	rs := make([]twistededwards.PointAffine, keys)
	ss := make([][32]byte, keys)
	hs := make([]fr.Element, keys)
	for i := range keys {
		k := newUser(b, fmt.Sprintf("many %d", i)).l2
		pub := k.Public()
		dk, err := pub.decoded()
		if err != nil {
			b.Fatal(err)
		}
		r, s, h := challenges(b, k, 1)
		dks[i], rs[i], ss[i], hs[i] = dk, r[0], s[0], h[0]
		if !dk.verifyChallenge(&rs[i], &ss[i], &hs[i]) || !isHot(b, pub) {
			b.Fatal("key did not become hot")
		}
	}
	i := 0
	for b.Loop() {
		if !dks[i].verifyChallenge(&rs[i], &ss[i], &hs[i]) {
			b.Fatal("rejected")
		}
		i = (i + 1) % keys
	}
}
