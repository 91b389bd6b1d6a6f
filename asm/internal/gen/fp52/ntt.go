package main

// The NTT kernels of package asm over the BN254 scalar field r.
//
// Representation ("NTT form"): lane values are residues mod r that are kept lazily reduced,
// below 16r, with normalized limbs (every limb below 2^52). They carry no Montgomery factor of
// their own: the kernels preserve whatever form the caller's elements are in (gnark-crypto's
// R = 2^256 Montgomery form, in practice), because every multiplication is either
//
//   - by a broadcast constant w with Shoup's method, x·w mod r with a precomputed
//     w' = floor(w·2^260/r), which has no Montgomery factor; or
//   - by a per-lane factor v held in our Montgomery form (v·2^260 mod r), which the Montgomery
//     product x·v·2^-260 turns into a multiplication by v.
//
// Bounds. Shoup's product of a normalized x < 2^260 by w < r is below 12r (see shoup). The
// butterflies keep their outputs below 16r (< 2^257.6) by conditional subtractions of 16r and
// 32r. Differences u - v are formed as u + K - v, where K is a multiple of r written with
// limbs of at least 2^54, so that no limb below the top one goes negative even when v has
// unnormalized limbs (sums of two normalized values).

import (
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Offsets of the NTT constants in nttData.
const (
	nttRBar  = 0                 // 2^260 - r, for Shoup's final subtraction done as an addition
	nttK16   = nttRBar + 8*limbs // 16r with limbs of at least 2^54 (subtraction offset)
	nttK32   = nttK16 + 8*limbs  // 32r likewise
	nttR1    = nttK32 + 8*limbs  // r, 2r, 4r, 8r, 16r, 32r, normalized limbs
	nttIdxLo = nttR1 + 6*8*limbs
	nttIdxHi = nttIdxLo + 64
	nttRecip = nttIdxHi + 64 // floor(2^260 / r)
)

// twBytes is the size of one asm.NTTTwiddle: the limbs of w, then those of w'.
const twBytes = 2 * 8 * limbs

var nttData Mem

func limbsOf(x *big.Int) [limbs]uint64 {
	var l [limbs]uint64
	mask := new(big.Int).SetUint64(1<<limbBits - 1)
	t := new(big.Int).Set(x)
	for i := range l {
		l[i] = new(big.Int).And(t, mask).Uint64()
		t.Rsh(t, limbBits)
	}
	if t.Sign() != 0 {
		panic("limbsOf: value does not fit 260 bits")
	}
	return l
}

// adjusted returns the limbs of x rewritten so that limbs 0 to 3 are at least 2^54: it adds
// 2^54 to each of them and takes the same amount (4 units) from the limb above.
func adjusted(x *big.Int) [limbs]uint64 {
	l := limbsOf(x)
	for i := 0; i < limbs-1; i++ {
		l[i] += 1 << 54
		l[i+1] -= 4
	}
	return l
}

func declareNTT() {
	r := fr.Modulus()
	nttData = GLOBL("frntt52", RODATA|NOPTR)
	put := func(off int, l [limbs]uint64) {
		for i, v := range l {
			DATA(off+8*i, U64(v))
		}
	}
	rbar := new(big.Int).Lsh(big.NewInt(1), limbs*limbBits)
	rbar.Sub(rbar, r)
	put(nttRBar, limbsOf(rbar))
	put(nttK16, adjusted(new(big.Int).Lsh(r, 4)))
	put(nttK32, adjusted(new(big.Int).Lsh(r, 5)))
	for s := 0; s < 6; s++ {
		put(nttR1+8*limbs*s, limbsOf(new(big.Int).Lsh(r, uint(s))))
	}
	for i, v := range []uint64{0, 4, 8, 12, 1, 5, 9, 13} {
		DATA(nttIdxLo+8*i, U64(v))
	}
	for i, v := range []uint64{2, 6, 10, 14, 3, 7, 11, 15} {
		DATA(nttIdxHi+8*i, U64(v))
	}
	DATA(nttRecip, U64(new(big.Int).Quo(new(big.Int).Lsh(big.NewInt(1), limbs*limbBits), r).Uint64()))
}

// limbMems returns the five limb operands of the constant at off in nttData.
func limbMems(off int) [limbs]Mem {
	var m [limbs]Mem
	for i := range m {
		m[i] = nttData.Offset(off + 8*i)
	}
	return m
}

// rMul returns the limbs of 2^s·r.
func rMul(s int) [limbs]Mem { return limbMems(nttR1 + 8*limbs*s) }

// twMems returns the limbs of w and of w' of the twiddle at m.
func twMems(m Mem) (w, wp [limbs]Mem) {
	for i := 0; i < limbs; i++ {
		w[i] = m.Offset(8 * i)
		wp[i] = m.Offset(8*limbs + 8*i)
	}
	return w, wp
}

// addLimbs returns a+b limb by limb, without carrying.
func addLimbs(a, b fe) fe {
	var s fe
	for j := range s {
		s[j] = ZMM()
		VPADDQ(a[j], b[j], s[j])
	}
	return s
}

// carry normalizes x in place: every limb but the top one ends below 2^52. The arithmetic
// shifts let the top limb absorb a negative value.
func carry(c consts, x fe) {
	for j := 0; j < limbs-1; j++ {
		cy := ZMM()
		VPSRAQ(U8(limbBits), x[j], cy)
		VPANDQ(c.mask, x[j], x[j])
		VPADDQ(cy, x[j+1], x[j+1])
	}
}

// subOffset returns a + K - b, normalized, for the adjusted multiple K of r at off. Limbs 0 to
// 3 of b must be below 2^54 and the value a + K - b must lie in [0, 2^260).
func subOffset(c consts, a, b fe, off int) fe {
	k := limbMems(off)
	var d fe
	for j := range d {
		d[j] = ZMM()
		VPADDQ_BCST(k[j], a[j], d[j])
		VPSUBQ(b[j], d[j], d[j])
	}
	carry(c, d)
	return d
}

// condSub returns x - K where x >= K and x elsewhere, for x normalized and K = 2^s·r.
func condSub(c consts, x fe, s int) fe {
	k := rMul(s)
	var d fe
	for j := range d {
		d[j] = ZMM()
		VPSUBQ_BCST(k[j], x[j], d[j])
	}
	carry(c, d)
	m := K()
	VPMOVQ2M(d[limbs-1], m)
	// Blend into d, which is already written: with a fresh destination the register allocator
	// would take the masked write for a read and keep the register live from the start.
	for j := range d {
		VPBLENDMQ(x[j], d[j], m, d[j])
	}
	return d
}

// shoup returns x·w mod r, normalized and below 12r, for x normalized (any value below
// 2^260) and the twiddle (w < r, w' = floor(w·2^260/r)) at tw.
//
// With B = 2^52, q = floor(x·w'/B^5) is floor(x·w/r) or one less, so x·w - q·r lies in
// [0, 2r). The kernel estimates q from the columns B^5 and up of x·w' only, dropping columns
// B^0..B^4, whose sum is below 10·B^5: the estimate is short by at most 10, and the result
// x·w - q·r lies in [0, 12r) < B^5, so it is computed exactly modulo B^5 as the low halves of
// x·w + q·(B^5 - r).
func shoup(c consts, x fe, tw Mem) fe {
	w, wp := twMems(tw)
	return shoupOps(c, x, w, wp, true)
}

// shoupOps is shoup with the limbs of w and w' given as operands: broadcast from memory when
// bcst is set, else one value per lane.
func shoupOps(c consts, x fe, w, wp [limbs]Mem, bcst bool) fe {
	lo, hi := VPMADD52LUQ, VPMADD52HUQ
	if bcst {
		lo, hi = VPMADD52LUQ_BCST, VPMADD52HUQ_BCST
	}
	rbar := limbMems(nttRBar)
	var q fe // columns 5..9 of x·w'
	for k := range q {
		q[k] = zero(c)
	}
	for i := 0; i < limbs; i++ {
		for j := 0; j < limbs; j++ {
			if i+j >= limbs-1 {
				hi(wp[j], x[i], q[i+j+1-limbs])
			}
			if i+j >= limbs {
				lo(wp[j], x[i], q[i+j-limbs])
			}
		}
	}
	for j := 0; j < limbs-1; j++ {
		cy := ZMM()
		VPSRLQ(U8(limbBits), q[j], cy)
		VPANDQ(c.mask, q[j], q[j])
		VPADDQ(cy, q[j+1], q[j+1])
	}
	var p fe // columns 0..4 of x·w + q·(B^5 - r)
	for k := range p {
		p[k] = zero(c)
	}
	for i := 0; i < limbs; i++ {
		for j := 0; i+j < limbs; j++ {
			lo(w[j], x[i], p[i+j])
			if i+j < limbs-1 {
				hi(w[j], x[i], p[i+j+1])
			}
		}
	}
	for i := 0; i < limbs; i++ {
		for j := 0; i+j < limbs; j++ {
			VPMADD52LUQ_BCST(rbar[j], q[i], p[i+j])
			if i+j < limbs-1 {
				VPMADD52HUQ_BCST(rbar[j], q[i], p[i+j+1])
			}
		}
	}
	for j := 0; j < limbs-1; j++ {
		cy := ZMM()
		VPSRLQ(U8(limbBits), p[j], cy)
		VPANDQ(c.mask, p[j], p[j])
		VPADDQ(cy, p[j+1], p[j+1])
	}
	VPANDQ(c.mask, p[limbs-1], p[limbs-1])
	return p
}

// reduce returns x mod r, fully reduced, for x normalized and below 16r. With M =
// floor(2^260/r), q = floor(x_4·M / 2^52) (x_4 the top limb) is floor(x/r) or one less, so
// x - q·r, computed modulo 2^260 as x + q·(2^260 - r), needs one conditional subtraction.
func reduce(c consts, x fe) fe {
	q := zero(c)
	VPMADD52HUQ_BCST(nttData.Offset(nttRecip), x[limbs-1], q)
	rbar := limbMems(nttRBar)
	for j := 0; j < limbs; j++ {
		VPMADD52LUQ_BCST(rbar[j], q, x[j])
		if j < limbs-1 {
			VPMADD52HUQ_BCST(rbar[j], q, x[j+1])
		}
	}
	for j := 0; j < limbs-1; j++ {
		cy := ZMM()
		VPSRLQ(U8(limbBits), x[j], cy)
		VPANDQ(c.mask, x[j], x[j])
		VPADDQ(cy, x[j+1], x[j+1])
	}
	VPANDQ(c.mask, x[limbs-1], x[limbs-1])
	return condSub(c, x, 0)
}

// vec returns the memory operand of the vector at base + index·scale.
func vec(base, index Register, scale uint8) Mem {
	if index == nil {
		return Mem{Base: base}
	}
	return Mem{Base: base, Index: index, Scale: scale}
}

// difButterfly2 emits (u, v) = (u+v, (u-v)·w) on the vectors at pu and pv; tw == nil stands
// for w = 1.
func difButterfly2(c consts, pu, pv Mem, tw *Mem) {
	u, v := load(pu), load(pv)
	s := addLimbs(u, v)
	d := subOffset(c, u, v, nttK16)
	carry(c, s)
	store(condSub(c, s, 4), pu)
	if tw == nil {
		store(condSub(c, d, 4), pv)
	} else {
		store(shoup(c, d, *tw), pv)
	}
}

// difButterfly4 emits two DIF stages on the vectors x0..x3 at p0..p3: with twiddles a, b, c
// (at tw, tw+80, tw+160), (x0, x2) and (x1, x3) go through butterflies with a and b, then
// (x0, x1) and (x2, x3) with c.
func difButterfly4(c consts, p [4]Mem, tw Mem) {
	x0, x2 := load(p[0]), load(p[2])
	a0 := addLimbs(x0, x2) // < 32r, limbs < 2^53
	store(shoup(c, subOffset(c, x0, x2, nttK16), tw), p[2])
	x1, x3 := load(p[1]), load(p[3])
	a1 := addLimbs(x1, x3)
	a3 := shoup(c, subOffset(c, x1, x3, nttK16), tw.Offset(twBytes)) // < 12r
	y0 := addLimbs(a0, a1)                                           // < 64r
	d := subOffset(c, a0, a1, nttK32)                                // < 64r
	carry(c, y0)
	store(condSub(c, condSub(c, y0, 5), 4), p[0])
	store(shoup(c, d, tw.Offset(2*twBytes)), p[1])
	a2 := load(p[2])
	y2 := addLimbs(a2, a3) // < 24r
	d = subOffset(c, a2, a3, nttK16)
	carry(c, y2)
	store(condSub(c, y2, 4), p[2])
	store(shoup(c, d, tw.Offset(2*twBytes)), p[3])
}

// difButterfly4J0 is difButterfly4 with a = c = 1 (j = 0 of every group), which leaves one
// multiplication, by b (ω_4 in a transform), at tw.
func difButterfly4J0(c consts, p [4]Mem, tw Mem) {
	x1, x3 := load(p[1]), load(p[3])
	a1 := addLimbs(x1, x3)                           // < 32r, limbs < 2^53
	a3 := shoup(c, subOffset(c, x1, x3, nttK16), tw) // < 12r
	x0, x2 := load(p[0]), load(p[2])
	a0 := addLimbs(x0, x2)
	a2 := subOffset(c, x0, x2, nttK16) // < 32r
	y0 := addLimbs(a0, a1)             // < 64r
	y1 := subOffset(c, a0, a1, nttK32) // < 64r
	carry(c, y0)
	store(condSub(c, condSub(c, y0, 5), 4), p[0])
	store(condSub(c, condSub(c, y1, 5), 4), p[1])
	y2 := addLimbs(a2, a3)             // < 44r
	y3 := subOffset(c, a2, a3, nttK16) // < 48r
	carry(c, y2)
	store(condSub(c, condSub(c, y2, 5), 4), p[2])
	store(condSub(c, condSub(c, y3, 5), 4), p[3])
}

func nttKernels() {
	declareNTT()
	difKernel2()
	difKernel2Unit()
	difKernel4()
	difKernel4J0()
	loadScaleKernel()
	loadKernel(false)
	loadKernel(true)
	storeKernel(false)
	storeKernel(true)
}

func difKernel2() {
	TEXT("nttDIF2", NOSPLIT, "func(x *[5][8]uint64, m int, tw *[2][5]uint64, n int)")
	Pragma("noescape")
	Doc(
		"nttDIF2 runs one radix-2 DIF stage of half-size m on the n vectors at x (n a multiple",
		"of 2m): for every group of 2m vectors and j < m, (x[j], x[j+m]) = (x[j]+x[j+m],",
		"(x[j]-x[j+m])·tw[j]). Lanes are in NTT form (below 16r).",
	)
	c := loadConsts(frData)
	xp := Load(Param("x"), GP64())
	moff := Load(Param("m"), GP64())
	IMUL3Q(U32(vecBytes), moff, moff)
	end := Load(Param("n"), GP64())
	IMUL3Q(U32(vecBytes), end, end)
	ADDQ(xp, end)
	CMPQ(xp, end)
	JAE(LabelRef("dif2_done"))
	Label("dif2_group")
	p := GP64()
	MOVQ(xp, p)
	stop := GP64()
	LEAQ(Mem{Base: xp, Index: moff, Scale: 1}, stop)
	tw := Load(Param("tw"), GP64())
	Label("dif2_loop")
	t := Mem{Base: tw}
	difButterfly2(c, vec(p, nil, 0), vec(p, moff, 1), &t)
	ADDQ(U32(vecBytes), p)
	ADDQ(U32(twBytes), tw)
	CMPQ(p, stop)
	JB(LabelRef("dif2_loop"))
	LEAQ(Mem{Base: p, Index: moff, Scale: 1}, xp)
	CMPQ(xp, end)
	JB(LabelRef("dif2_group"))
	Label("dif2_done")
	VZEROUPPER()
	RET()
}

func difKernel2Unit() {
	TEXT("nttDIF2Unit", NOSPLIT, "func(x *[5][8]uint64, n int)")
	Pragma("noescape")
	Doc(
		"nttDIF2Unit runs the last radix-2 DIF stage (half-size 1, twiddle 1) on the n vectors",
		"at x (n even): (x[2k], x[2k+1]) = (x[2k]+x[2k+1], x[2k]-x[2k+1]).",
	)
	c := loadConsts(frData)
	xp := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(1), n)
	JZ(LabelRef("dif2u_done"))
	Label("dif2u_loop")
	difButterfly2(c, Mem{Base: xp}, Mem{Base: xp}.Offset(vecBytes), nil)
	ADDQ(U32(2*vecBytes), xp)
	DECQ(n)
	JNZ(LabelRef("dif2u_loop"))
	Label("dif2u_done")
	VZEROUPPER()
	RET()
}

func difKernel4() {
	TEXT("nttDIF4", NOSPLIT, "func(x *[5][8]uint64, q int, tw *[2][5]uint64, n int)")
	Pragma("noescape")
	Doc(
		"nttDIF4 runs two DIF stages, of half-sizes 2q and q, on the n vectors at x (n a",
		"multiple of 4q) as radix-4 butterflies, leaving out j = 0 (see nttDIF4J0): for every",
		"group of 4q vectors and 0 < j < q, with a, b, c = tw[3j], tw[3j+1], tw[3j+2],",
		"(x[j], x[j+2q]) and (x[j+q], x[j+3q]) go through DIF butterflies with a and b, then",
		"(x[j], x[j+q]) and (x[j+2q], x[j+3q]) with c.",
	)
	c := loadConsts(frData)
	xp := Load(Param("x"), GP64())
	qoff := Load(Param("q"), GP64())
	IMUL3Q(U32(vecBytes), qoff, qoff)
	q3 := GP64()
	LEAQ(Mem{Base: qoff, Index: qoff, Scale: 2}, q3)
	end := Load(Param("n"), GP64())
	IMUL3Q(U32(vecBytes), end, end)
	ADDQ(xp, end)
	CMPQ(qoff, U32(vecBytes))
	JBE(LabelRef("dif4_done"))
	CMPQ(xp, end)
	JAE(LabelRef("dif4_done"))
	Label("dif4_group")
	p := GP64()
	LEAQ(Mem{Base: xp, Disp: vecBytes}, p)
	stop := GP64()
	LEAQ(Mem{Base: xp, Index: qoff, Scale: 1}, stop)
	tw := Load(Param("tw"), GP64())
	ADDQ(U32(3*twBytes), tw)
	Label("dif4_loop")
	difButterfly4(c, [4]Mem{vec(p, nil, 0), vec(p, qoff, 1), vec(p, qoff, 2), vec(p, q3, 1)}, Mem{Base: tw})
	ADDQ(U32(vecBytes), p)
	ADDQ(U32(3*twBytes), tw)
	CMPQ(p, stop)
	JB(LabelRef("dif4_loop"))
	LEAQ(Mem{Base: xp, Index: qoff, Scale: 4}, xp)
	CMPQ(xp, end)
	JB(LabelRef("dif4_group"))
	Label("dif4_done")
	VZEROUPPER()
	RET()
}

func difKernel4J0() {
	TEXT("nttDIF4J0", NOSPLIT, "func(x *[5][8]uint64, q int, b *[2][5]uint64, n int)")
	Pragma("noescape")
	Doc(
		"nttDIF4J0 runs the j = 0 butterflies of nttDIF4, whose twiddles a and c are 1: for",
		"every group of 4q vectors, (x[0], x[2q]) with 1 and (x[q], x[3q]) with b, then",
		"(x[0], x[q]) and (x[2q], x[3q]) with 1.",
	)
	c := loadConsts(frData)
	xp := Load(Param("x"), GP64())
	qoff := Load(Param("q"), GP64())
	IMUL3Q(U32(vecBytes), qoff, qoff)
	q3 := GP64()
	LEAQ(Mem{Base: qoff, Index: qoff, Scale: 2}, q3)
	end := Load(Param("n"), GP64())
	IMUL3Q(U32(vecBytes), end, end)
	ADDQ(xp, end)
	tw := Load(Param("b"), GP64())
	CMPQ(xp, end)
	JAE(LabelRef("dif4j0_done"))
	Label("dif4j0_loop")
	difButterfly4J0(c, [4]Mem{vec(xp, nil, 0), vec(xp, qoff, 1), vec(xp, qoff, 2), vec(xp, q3, 1)}, Mem{Base: tw})
	LEAQ(Mem{Base: xp, Index: qoff, Scale: 4}, xp)
	CMPQ(xp, end)
	JB(LabelRef("dif4j0_loop"))
	Label("dif4j0_done")
	VZEROUPPER()
	RET()
}

func loadScaleKernel() {
	TEXT("nttLoadScale", NOSPLIT, "func(dst *[5][8]uint64, src *[4]uint64, off *int, lane int, n int, v *[5][8]uint64, step *[5][8]uint64)")
	Pragma("noescape")
	Doc(
		"nttLoadScale is nttLoad followed, for k < n, by dst[k] = dst[k]·v·2^-260 (Montgomery",
		"product mod r) and v = v·s mod r (Shoup's product), where step points to two vectors,",
		"the limbs of s and those of floor(s·2^260/r), one s per lane. v must be normalized",
		"(below 2^260); it stays below 12r.",
	)
	c := loadConsts(frData)
	t := loadTransposer()
	vp := Load(Param("v"), GP64())
	sp := Load(Param("step"), GP64())
	var w, wp [limbs]Mem
	for i := range w {
		w[i] = Mem{Base: sp}.Offset(64 * i)
		wp[i] = Mem{Base: sp}.Offset(vecBytes + 64*i)
	}
	elemLoop("nttLoadScale", "dst", "src", false, false, true, func(d Mem, e, _ [8]Mem) {
		v := load(Mem{Base: vp})
		store(mulLazy(c, loadElems(c, t, e), v), d)
		store(shoupOps(c, v, w, wp, false), Mem{Base: vp})
	})
}

// Element load and store: lane j of vector k is the fr.Element at src + 32·(off[k] + j·lane),
// four 64-bit words that the kernels transpose into five 52-bit limbs (or back).

type transposer struct {
	lo, hi VecVirtual
}

func loadTransposer() transposer {
	t := transposer{lo: ZMM(), hi: ZMM()}
	VMOVDQU64(nttData.Offset(nttIdxLo), t.lo)
	VMOVDQU64(nttData.Offset(nttIdxHi), t.hi)
	return t
}

// laneMems computes the eight lane addresses of the vector at element offset o (a
// register, clobbered) from base with lane stride ls (bytes) and 3·ls in ls3.
func laneMems(base, o, ls, ls3 Register) [8]Mem {
	SHLQ(U8(5), o)
	ADDQ(base, o)
	o4 := GP64()
	LEAQ(Mem{Base: o, Index: ls, Scale: 4}, o4)
	var m [8]Mem
	for h, b := range []Register{o, o4} {
		m[4*h+0] = Mem{Base: b}
		m[4*h+1] = Mem{Base: b, Index: ls, Scale: 1}
		m[4*h+2] = Mem{Base: b, Index: ls, Scale: 2}
		m[4*h+3] = Mem{Base: b, Index: ls3, Scale: 1}
	}
	return m
}

// loadElems reads the eight elements at m and returns them as five 52-bit limbs.
func loadElems(c consts, t transposer, m [8]Mem) fe {
	var e [4]VecVirtual
	for i := range e {
		e[i] = ZMM()
		VMOVDQU64(m[2*i], e[i].AsY())
		VINSERTI64X4(U8(1), m[2*i+1], e[i], e[i])
	}
	// e[i] = [elem 2i | elem 2i+1]; gather word w of elements 0..3 and 4..7
	var lo, hi [2]VecVirtual
	for h := range 2 {
		hi[h] = ZMM()
		VMOVDQA64(e[2*h], hi[h])
		VPERMT2Q(e[2*h+1], t.lo, e[2*h])
		lo[h] = e[2*h]
		VPERMT2Q(e[2*h+1], t.hi, hi[h])
	}
	var w [4]VecVirtual
	for i := range w {
		w[i] = ZMM()
	}
	VSHUFI64X2(U8(0x44), lo[1], lo[0], w[0])
	VSHUFI64X2(U8(0xee), lo[1], lo[0], w[1])
	VSHUFI64X2(U8(0x44), hi[1], hi[0], w[2])
	VSHUFI64X2(U8(0xee), hi[1], hi[0], w[3])
	var l fe
	l[0] = ZMM()
	VPANDQ(c.mask, w[0], l[0])
	for i := 1; i < limbs-1; i++ {
		l[i] = ZMM()
		b := ZMM()
		VPSRLQ(U8(64-12*i), w[i-1], l[i])
		VPSLLQ(U8(12*i), w[i], b)
		VPTERNLOGQ(U8(0xa8), c.mask, b, l[i]) // (l | b) & mask
	}
	l[limbs-1] = ZMM()
	VPSRLQ(U8(16), w[3], l[limbs-1])
	return l
}

// storeElems writes the canonical limbs l as eight elements at m.
func storeElems(t transposer, l fe, m [8]Mem) {
	var w [4]VecVirtual
	for i := range w {
		w[i] = ZMM()
		b := ZMM()
		// w[i] = l[i] >> 12i | l[i+1] << (52 - 12i)
		if i == 0 {
			VMOVDQA64(l[0], w[0])
		} else {
			VPSRLQ(U8(12*i), l[i], w[i])
		}
		VPSLLQ(U8(52-12*i), l[i+1], b)
		VPORQ(b, w[i], w[i])
	}
	var lo, hi [2]VecVirtual
	for h := range 2 {
		lo[h], hi[h] = ZMM(), ZMM()
	}
	VSHUFI64X2(U8(0x44), w[1], w[0], lo[0])
	VSHUFI64X2(U8(0xee), w[1], w[0], lo[1])
	VSHUFI64X2(U8(0x44), w[3], w[2], hi[0])
	VSHUFI64X2(U8(0xee), w[3], w[2], hi[1])
	for h := range 2 {
		e1 := ZMM()
		VMOVDQA64(lo[h], e1)
		VPERMT2Q(hi[h], t.lo, lo[h])
		VPERMT2Q(hi[h], t.hi, e1)
		e0 := lo[h]
		VMOVDQU64(e0.AsY(), m[4*h])
		VEXTRACTI64X4(U8(1), e0, m[4*h+1])
		VMOVDQU64(e1.AsY(), m[4*h+2])
		VEXTRACTI64X4(U8(1), e1, m[4*h+3])
	}
}

// prefetchAhead is how many vectors ahead nttLoad and nttLoadScale prefetch the elements they
// will read: the rows of a column task, or the bit-reversed rows of a DIT one, follow no
// pattern the hardware prefetchers can see in time. (nttLoadMul has no registers to spare.)
const prefetchAhead = 8

// elemLoop emits the loop over the offsets shared by the load and store kernels; body gets the
// lane addresses of vector k in the elements (and in tab, if withTab) and the address of its
// vector: v[idx[k]] if withIdx, else v[k]. With prefetch, all but the last prefetchAhead
// iterations first prefetch the elements of vector k + prefetchAhead.
func elemLoop(name, vname, ename string, withTab, withIdx, prefetch bool, body func(v Mem, e, t [8]Mem)) {
	vp := Load(Param(vname), GP64())
	base := Load(Param(ename), GP64())
	var tab, idxp Register
	if withTab {
		tab = Load(Param("tab"), GP64())
	}
	if withIdx {
		idxp = Load(Param("idx"), GP64())
	}
	offp := Load(Param("off"), GP64())
	ls := Load(Param("lane"), GP64())
	SHLQ(U8(5), ls)
	ls3 := GP64()
	LEAQ(Mem{Base: ls, Index: ls, Scale: 2}, ls3)
	n := Load(Param("n"), GP64())
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	iteration := func(pf bool) {
		if pf {
			o := GP64()
			MOVQ(Mem{Base: offp, Disp: 8 * prefetchAhead}, o)
			for _, m := range laneMems(base, o, ls, ls3) {
				PREFETCHT0(m)
			}
		}
		o := GP64()
		MOVQ(Mem{Base: offp}, o)
		var tm [8]Mem
		if withTab {
			o2 := GP64()
			MOVQ(o, o2)
			tm = laneMems(tab, o2, ls, ls3)
		}
		em := laneMems(base, o, ls, ls3)
		v := Mem{Base: vp}
		if withIdx {
			vi := GP64()
			IMUL3Q(U32(vecBytes), Mem{Base: idxp}, vi)
			ADDQ(vp, vi)
			v = Mem{Base: vi}
			ADDQ(U8(8), idxp)
		}
		body(v, em, tm)
		if !withIdx {
			ADDQ(U32(vecBytes), vp)
		}
		ADDQ(U8(8), offp)
	}
	if prefetch {
		CMPQ(n, U8(prefetchAhead))
		JLE(LabelRef(name + "_loop"))
		SUBQ(U8(prefetchAhead), n)
		Label(name + "_pf")
		iteration(true)
		DECQ(n)
		JNZ(LabelRef(name + "_pf"))
		MOVQ(U32(prefetchAhead), n)
	}
	Label(name + "_loop")
	iteration(false)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func loadKernel(withTab bool) {
	name := "nttLoad"
	sig := "func(dst *[5][8]uint64, src *[4]uint64, off *int, idx *int, lane int, n int)"
	doc := []string{
		"nttLoad sets lane j of dst[idx[k]] to the element src[off[k] + j·lane] for k < n,",
		"unchanged in value (no change of Montgomery form): the four 64-bit words become five",
		"52-bit limbs.",
	}
	if withTab {
		name = "nttLoadMul"
		sig = "func(dst *[5][8]uint64, src *[4]uint64, tab *[4]uint64, off *int, idx *int, lane int, n int)"
		doc = []string{
			"nttLoadMul is nttLoad followed by a Montgomery product (R = 2^260) of every lane",
			"with the element of tab at the same offset as the source element: for elements in",
			"gnark-crypto's form the result is src·tab/16, fully reduced.",
		}
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc...)
	c := loadConsts(frData)
	t := loadTransposer()
	elemLoop(name, "dst", "src", withTab, true, !withTab, func(v Mem, e, tm [8]Mem) {
		x := loadElems(c, t, e)
		if withTab {
			x = mul(c, x, loadElems(c, t, tm))
		}
		store(x, v)
	})
}

func storeKernel(withTab bool) {
	name := "nttStore"
	sig := "func(src *[5][8]uint64, dst *[4]uint64, off *int, idx *int, lane int, n int)"
	doc := []string{
		"nttStore is the inverse of nttLoad: it reduces every lane of src[idx[k]] (in NTT form)",
		"to [0, r) and writes it as the element dst[off[k] + j·lane], for k < n.",
	}
	if withTab {
		name = "nttStoreMul"
		sig = "func(src *[5][8]uint64, dst *[4]uint64, tab *[4]uint64, off *int, idx *int, lane int, n int)"
		doc = []string{
			"nttStoreMul is nttStore after a Montgomery product (R = 2^260) of every lane with the",
			"element of tab at the same offset as the destination element (src·tab/16 for",
			"elements in gnark-crypto's form).",
		}
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc...)
	c := loadConsts(frData)
	t := loadTransposer()
	elemLoop(name, "src", "dst", withTab, true, false, func(v Mem, e, tm [8]Mem) {
		x := load(v)
		if withTab {
			x = mul(c, x, loadElems(c, t, tm))
		} else {
			x = reduce(c, x)
		}
		storeElems(t, x, e)
	})
}
