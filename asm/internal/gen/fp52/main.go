// Command fp52 generates the AVX-512 IFMA kernels of package asm: 8-lane radix-52 Montgomery
// arithmetic over the BN254 base field Fp (and the batch-affine G1 addition built on it) and
// over the BN254 scalar field Fr (the same algorithms, another modulus), and the NTT kernels
// over Fr (ntt.go).
//
// Representation: an element a of Fp is held as a·2^260 mod p (Montgomery form with R = 2^260),
// fully reduced to [0, p), split into five 52-bit limbs. A vector of 8 elements is stored
// structure-of-arrays: limb i of lane j at index [i][j] of a [5][8]uint64, so limb i of all
// lanes is one ZMM register. Every kernel but the NTT ones (which keep lanes lazily reduced,
// see ntt.go) takes fully reduced inputs and produces fully reduced outputs.
//
// Run through go generate in package asm (see asm/doc.go).
package main

import (
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	limbs    = 5
	limbBits = 52
	vecBytes = limbs * 64 // one [5][8]uint64
)

// radix52 returns the limbs of m in radix 2^52 and mu = -m^-1 mod 2^52.
func radix52(m *big.Int) (l [limbs]uint64, mu uint64) {
	mask := new(big.Int).SetUint64(1<<limbBits - 1)
	t := new(big.Int).Set(m)
	for i := range l {
		l[i] = new(big.Int).And(t, mask).Uint64()
		t.Rsh(t, limbBits)
	}
	r := new(big.Int).Lsh(big.NewInt(1), limbBits)
	inv := new(big.Int).ModInverse(m, r)
	return l, new(big.Int).Sub(r, inv).Uint64()
}

// consts holds the constants of every kernel: p and mu are used as broadcast memory operands
// (keeping them in registers leaves too few for the register allocator), the mask sits in a
// register.
type consts struct {
	p    [limbs]Mem
	mu   Mem
	mask VecVirtual
}

// fpData and frData hold the constants of the base field and of the scalar field.
var fpData, frData Mem

// declareField emits the data section of a modulus: its limbs, mu and the 52-bit mask.
func declareField(name string, m *big.Int) Mem {
	l, mu := radix52(m)
	data := GLOBL(name, RODATA|NOPTR)
	for i, v := range l {
		DATA(8*i, U64(v))
	}
	DATA(8*limbs, U64(mu))
	DATA(8*limbs+8, U64(1<<limbBits-1))
	return data
}

func loadConsts(data Mem) consts {
	var c consts
	Comment("The modulus and mu = -modulus^-1 mod 2^52 are broadcast from memory; load the 52-bit mask.")
	for i := range c.p {
		c.p[i] = data.Offset(8 * i)
	}
	c.mu = data.Offset(8 * limbs)
	c.mask = ZMM()
	VPBROADCASTQ(data.Offset(8*limbs+8), c.mask)
	return c
}

type fe [limbs]VecVirtual

func load(m Mem) fe {
	var a fe
	for i := range a {
		a[i] = ZMM()
		VMOVDQU64(m.Offset(64*i), a[i])
	}
	return a
}

func store(a fe, m Mem) {
	for i := range a {
		VMOVDQU64(a[i], m.Offset(64*i))
	}
}

// zero returns a fresh zeroed register. It xors a register that is already live with itself
// so that the register allocator does not see the fresh register as read before written.
func zero(c consts) VecVirtual {
	z := ZMM()
	VPXORQ(c.mask, c.mask, z)
	return z
}

// condSubP returns t - p in the lanes where t >= p and t elsewhere; t must be normalized
// (limbs < 2^52 except the top one) and below 2p.
func condSubP(c consts, t fe) fe {
	var s, out fe
	for j := 0; j < limbs; j++ {
		s[j] = ZMM()
		VPSUBQ_BCST(c.p[j], t[j], s[j])
		if j > 0 {
			b := ZMM()
			VPSRAQ(U8(limbBits), s[j-1], b)
			VPADDQ(b, s[j], s[j])
			VPANDQ(c.mask, s[j-1], s[j-1])
		}
	}
	k := K()
	VPMOVQ2M(s[limbs-1], k)
	for j := 0; j < limbs; j++ {
		out[j] = ZMM()
		VPBLENDMQ(t[j], s[j], k, out[j])
	}
	return out
}

// mul emits a Montgomery product a·b·2^-260 mod p, fully reduced.
func mul(c consts, a, b fe) fe {
	return condSubP(c, mulLazy(c, a, b))
}

// mulLazy emits a Montgomery product a·b·2^-260 mod p below a·b·2^-260 + p, normalized. a and
// b must be normalized (below 2^260).
func mulLazy(c consts, a, b fe) fe {
	var t [limbs + 1]VecVirtual
	for j := range t {
		t[j] = zero(c)
	}
	for i := 0; i < limbs; i++ {
		for j := 0; j < limbs; j++ {
			VPMADD52LUQ(b[j], a[i], t[j])
		}
		for j := 0; j < limbs; j++ {
			VPMADD52HUQ(b[j], a[i], t[j+1])
		}
		m := zero(c)
		VPMADD52LUQ_BCST(c.mu, t[0], m)
		for j := 0; j < limbs; j++ {
			VPMADD52LUQ_BCST(c.p[j], m, t[j])
		}
		for j := 0; j < limbs; j++ {
			VPMADD52HUQ_BCST(c.p[j], m, t[j+1])
		}
		// t[0] is now divisible by 2^52: carry its high part and drop it.
		cy := ZMM()
		VPSRLQ(U8(limbBits), t[0], cy)
		VPADDQ(cy, t[1], t[1])
		copy(t[:], t[1:])
		if i < limbs-1 {
			t[limbs] = zero(c)
		}
	}
	var r fe
	copy(r[:], t[:limbs])
	for j := 0; j < limbs-1; j++ {
		cy := ZMM()
		VPSRLQ(U8(limbBits), r[j], cy)
		VPANDQ(c.mask, r[j], r[j])
		VPADDQ(cy, r[j+1], r[j+1])
	}
	return r
}

// add emits a+b mod p.
func add(c consts, a, b fe) fe {
	var s fe
	for j := range s {
		s[j] = ZMM()
		VPADDQ(a[j], b[j], s[j])
	}
	for j := 0; j < limbs-1; j++ {
		cy := ZMM()
		VPSRLQ(U8(limbBits), s[j], cy)
		VPANDQ(c.mask, s[j], s[j])
		VPADDQ(cy, s[j+1], s[j+1])
	}
	return condSubP(c, s)
}

// sub emits a-b mod p.
func sub(c consts, a, b fe) fe {
	var d fe
	for j := range d {
		d[j] = ZMM()
		VPSUBQ(b[j], a[j], d[j])
	}
	signedNormalize(c, d)
	k := K()
	VPMOVQ2M(d[limbs-1], k)
	for j := range d {
		VPADDQ_BCST(c.p[j], d[j], k, d[j])
	}
	signedNormalize(c, d)
	return d
}

func signedNormalize(c consts, d fe) {
	for j := 0; j < limbs-1; j++ {
		cy := ZMM()
		VPSRAQ(U8(limbBits), d[j], cy)
		VPANDQ(c.mask, d[j], d[j])
		VPADDQ(cy, d[j+1], d[j+1])
	}
}

func ptr(name string) Mem {
	return Mem{Base: Load(Param(name), GP64())}
}

// loop emits a loop running body n times (n read from parameter "n"); body receives the
// per-iteration pointers, which advance by one vector each iteration.
func loop(name string, ptrs []Mem, body func()) {
	n := Load(Param("n"), GP64())
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	body()
	for _, p := range ptrs {
		ADDQ(U32(vecBytes), p.Base)
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func binaryKernel(data Mem, name, doc string, op func(consts, fe, fe) fe) {
	TEXT(name, NOSPLIT, "func(z, x, y *[5][8]uint64, n int)")
	Pragma("noescape")
	Doc(doc)
	z, x, y := ptr("z"), ptr("x"), ptr("y")
	c := loadConsts(data)
	loop(name, []Mem{z, x, y}, func() {
		store(op(c, load(x), load(y)), z)
	})
}

func main() {
	ConstraintExpr("amd64,!purego")
	fpData = declareField("fp52consts", fp.Modulus())
	frData = declareField("fr52consts", fr.Modulus())

	binaryKernel(fpData, "mulVec", "mulVec sets z[k] = x[k]·y[k]·2^-260 mod p for k < n.", mul)
	binaryKernel(fpData, "addVec", "addVec sets z[k] = x[k]+y[k] mod p for k < n.", add)
	binaryKernel(fpData, "subVec", "subVec sets z[k] = x[k]-y[k] mod p for k < n.", sub)
	sqrKernel(fpData, "sqrVec", "p")

	binaryKernel(frData, "frMulVec", "frMulVec sets z[k] = x[k]·y[k]·2^-260 mod r for k < n.", mul)
	binaryKernel(frData, "frAddVec", "frAddVec sets z[k] = x[k]+y[k] mod r for k < n.", add)
	binaryKernel(frData, "frSubVec", "frSubVec sets z[k] = x[k]-y[k] mod r for k < n.", sub)
	sqrKernel(frData, "frSqrVec", "r")

	prefixKernel()
	backKernel()
	affineAddKernel()
	prefetchKernel()
	nttKernels()
	Generate()
}

func sqrKernel(data Mem, name, modulus string) {
	TEXT(name, NOSPLIT, "func(z, x *[5][8]uint64, n int)")
	Pragma("noescape")
	Doc(name + " sets z[k] = x[k]²·2^-260 mod " + modulus + " for k < n.")
	{
		z, x := ptr("z"), ptr("x")
		c := loadConsts(data)
		loop(name, []Mem{z, x}, func() {
			a := load(x)
			store(mul(c, a, a), z)
		})
	}
}

// The batch inversion runs two interleaved product chains (even and odd k): consecutive
// multiplications are independent, so the CPU overlaps them instead of waiting on the latency
// of each.

func prefixKernel() {
	TEXT("prefixMulVec", NOSPLIT, "func(acc, d *[5][8]uint64, n int)")
	Pragma("noescape")
	Doc(
		"prefixMulVec sets acc[k] = acc[k-2]·d[k] (Montgomery) for 2 <= k < n; the caller sets",
		"acc[0] and acc[1].",
	)
	{
		acc, d := ptr("acc"), ptr("d")
		c := loadConsts(fpData)
		n := Load(Param("n"), GP64())
		SUBQ(U8(2), n)
		JLE(LabelRef("prefix_done"))
		Label("prefix_loop")
		store(mul(c, load(acc), load(d.Offset(2*vecBytes))), acc.Offset(2*vecBytes))
		ADDQ(U32(vecBytes), acc.Base)
		ADDQ(U32(vecBytes), d.Base)
		DECQ(n)
		JNZ(LabelRef("prefix_loop"))
		Label("prefix_done")
		VZEROUPPER()
		RET()
	}
}

func backKernel() {
	TEXT("backMulVec", NOSPLIT, "func(inv, acc, d, t *[5][8]uint64, n int)")
	Pragma("noescape")
	Doc(
		"backMulVec is the backward pass of the two-chain batch inversion: t points to two",
		"vectors, t[k&1] holding 1/acc[k] for the largest k < n of each parity; for",
		"k = n-1 down to 2 it sets inv[k] = t[k&1]·acc[k-2] and t[k&1] = t[k&1]·d[k]. On return",
		"t[0] = 1/d[0] and t[1] = 1/d[1].",
	)
	{
		inv, acc, d := ptr("inv"), ptr("acc"), ptr("d")
		tbase := Load(Param("t"), GP64())
		c := loadConsts(fpData)
		k := Load(Param("n"), GP64())
		DECQ(k)
		CMPQ(k, U8(2))
		JL(LabelRef("back_done"))
		// Point inv and d at element k, acc at element k-2.
		off := GP64()
		MOVQ(k, off)
		IMUL3Q(U32(vecBytes), off, off)
		ADDQ(off, inv.Base)
		ADDQ(off, d.Base)
		ADDQ(off, acc.Base)
		SUBQ(U32(2*vecBytes), acc.Base)
		Label("back_loop")
		tp := GP64()
		MOVQ(k, tp)
		ANDQ(U8(1), tp)
		IMUL3Q(U32(vecBytes), tp, tp)
		ADDQ(tbase, tp)
		t := load(Mem{Base: tp})
		store(mul(c, t, load(acc)), inv)
		store(mul(c, t, load(d)), Mem{Base: tp})
		SUBQ(U32(vecBytes), inv.Base)
		SUBQ(U32(vecBytes), d.Base)
		SUBQ(U32(vecBytes), acc.Base)
		DECQ(k)
		CMPQ(k, U8(2))
		JGE(LabelRef("back_loop"))
		Label("back_done")
		VZEROUPPER()
		RET()
	}
}

func affineAddKernel() {
	TEXT("affineAddVec", NOSPLIT, "func(x1, y1, x2, y2, inv *[5][8]uint64, n int)")
	Pragma("noescape")
	Doc(
		"affineAddVec sets (x1[k], y1[k]) to the affine sum of (x1[k], y1[k]) and (x2[k], y2[k])",
		"for k < n, given inv[k] = 1/(x2[k]-x1[k]). The caller guarantees x1[k] != x2[k].",
	)
	{
		x1, y1, x2, y2, inv := ptr("x1"), ptr("y1"), ptr("x2"), ptr("y2"), ptr("inv")
		c := loadConsts(fpData)
		loop("affineAddVec", []Mem{x1, y1, x2, y2, inv}, func() {
			dy := sub(c, load(y2), load(y1))
			lambda := mul(c, dy, load(inv))
			l2 := mul(c, lambda, lambda)
			x3 := sub(c, sub(c, l2, load(x1)), load(x2))
			dx := sub(c, load(x1), x3)
			store(x3, x1)
			y3 := sub(c, mul(c, lambda, dx), load(y1))
			store(y3, y1)
		})
	}
}

func prefetchKernel() {
	TEXT("prefetch", NOSPLIT, "func(addr uintptr)")
	Doc("prefetch hints the CPU to load the cache line at addr (PREFETCHT0); it never faults.")
	a := Load(Param("addr"), GP64())
	PREFETCHT0(Mem{Base: a})
	RET()
}
