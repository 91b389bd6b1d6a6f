package accel

import (
	"math/bits"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/veloxlabs/velox/asm"
)

// The AVX-512 path of the transforms: a four-step decomposition whose sub-transforms run eight
// at a time in the lanes of package asm's radix-52 NTT kernels.
//
// A transform of size n = R·C sees a as an R×C row-major matrix. For DIF (natural order in,
// bit-reversed out) and k = k1 + R·k2 (k1 < R, k2 < C):
//
//	A[k] = Σ_c ω_C^{c·k2} · ω_n^{c·k1} · Σ_r a[r·C + c] · ω_R^{r·k1}
//
// so the column phase runs a size-R DIF transform down every column (leaving k1 at row
// bitrev_R(k1)), and the row phase multiplies row bitrev_R(k1) by ω_n^{c·k1} and runs a size-C
// DIF transform along it; the result lands at bitrev_n(k) = bitrev_R(k1)·C + bitrev_C(k2).
// Eight adjacent columns, or eight rows, are one task: they are loaded into a scratch vector
// (lane j = column or row j of the eight) where every butterfly pairs two whole vectors with a
// broadcast twiddle, and the row factor ω_n^{c·k1} is a geometric progression in c per lane
// (asm.NTTLoadScale).
//
// DIT (bit-reversed in, natural out) runs the same kernels: each phase permutes its vectors
// into bit-reversed order in the scratch buffer, which turns its sub-transform into a
// natural-order DIF one, and permutes them back as it stores. Rows go first, then columns,
// whose factor ω_n^{i1·c} is geometric in the bit-reversed row index i1.
//
// Scalings by a constant are folded into the geometric factor; scalings by a table go through
// asm.NTTLoadMul and asm.NTTStoreMul, whose factor 1/16 the geometric factor makes up for.

// vecMinLog is log2 of the smallest transform that takes the AVX-512 path.
const vecMinLog = 10

// vecPass is one pass of a sub-transform over a scratch buffer: a radix-4 pass (two stages)
// with parameter q and twiddles tw, or the final radix-2 stage with twiddle 1 (q == 0).
type vecPass struct {
	q  int
	tw []asm.NTTTwiddle
}

// vecPlan holds the tables of the AVX-512 path for one domain.
type vecPlan struct {
	r, c int
	// element offsets of row k (nat) or bitrev_R(k) (rev), for the vectors of a column task
	rowNat, rowRev []int
	// offsets of column k or bitrev_C(k), for the vectors of a row task
	colNat, colRev []int
	// scratch indices k (nat) and bitrev(k) (rev) for transforms of size R and C
	idxR, idxRevR, idxC, idxRevC []int
	// passes of the size-R and size-C DIF transforms with ω (fwd) and ω⁻¹ (inv)
	fwdR, fwdC, invR, invC []vecPass
	// ratios of the geometric factors, [0] for ω and [1] for ω⁻¹: ω_n^bitrev_R(ρ) for the
	// rows of a DIF row task, ω_n^c for the columns of a DIT column task
	rowRatio, colRatio [2][]asm.NTTTwiddle
}

// vecScratch holds the per-task buffers.
var vecScratch = sync.Pool{New: func() any { return new([]asm.Fr8) }}

// vec returns the plan of the AVX-512 path, building it on first use.
func (d *Domain) vec() *vecPlan {
	d.vecOnce.Do(func() {
		logR := d.logN / 2
		p := &vecPlan{r: 1 << logR, c: d.n >> logR}
		p.rowNat, p.rowRev = offsets(p.r, p.c)
		p.colNat, p.colRev = offsets(p.c, 1)
		p.idxR, p.idxRevR = offsets(p.r, 1)
		p.idxC, p.idxRevC = p.colNat, p.colRev
		var wg sync.WaitGroup
		wg.Go(func() { p.fwdR, p.fwdC = difPasses(p.r, d.tw), difPasses(p.c, d.tw) })
		wg.Go(func() { p.invR, p.invC = difPasses(p.r, d.twInv), difPasses(p.c, d.twInv) })
		for i, tw := range [2][]fr.Element{d.tw, d.twInv} {
			wg.Go(func() {
				// ω_n^e = tw[n/2 + e] for e < n/2
				p.rowRatio[i] = make([]asm.NTTTwiddle, p.r)
				for r, o := range p.rowRev {
					p.rowRatio[i][r] = asm.NewNTTTwiddle(&tw[d.n/2+o/p.c])
				}
				p.colRatio[i] = make([]asm.NTTTwiddle, p.c)
				for c := range p.colRatio[i] {
					p.colRatio[i][c] = asm.NewNTTTwiddle(&tw[d.n/2+c])
				}
			})
		}
		wg.Wait()
		d.vecP = p
	})
	return d.vecP
}

// offsets returns k·step and bitrev(k)·step for k < s (a power of two).
func offsets(s, step int) (nat, rev []int) {
	nat, rev = make([]int, s), make([]int, s)
	shift := uint(64 - bits.TrailingZeros64(uint64(s)))
	for k := range s {
		nat[k] = k * step
		rev[k] = int(bits.Reverse64(uint64(k))>>shift) * step
	}
	return nat, rev
}

// difPasses returns the passes of a DIF transform of size s (a power of two ≥ 2) with the
// stage twiddles tw (Domain.tw or Domain.twInv): radix-4 passes from the largest stage down,
// and a final radix-2 stage when log2(s) is odd.
func difPasses(s int, tw []fr.Element) []vecPass {
	var ps []vecPass
	m := s / 2
	for ; m >= 2; m /= 4 {
		q := m / 2
		t := make([]asm.NTTTwiddle, 3*q)
		for j := range q {
			// ω_{2m}^j, ω_{2m}^{j+q} and ω_m^j, with tw[h+i] = ω_{2h}^i
			t[3*j] = asm.NewNTTTwiddle(&tw[m+j])
			t[3*j+1] = asm.NewNTTTwiddle(&tw[m+j+q])
			t[3*j+2] = asm.NewNTTTwiddle(&tw[q+j])
		}
		ps = append(ps, vecPass{q: q, tw: t})
	}
	if m == 1 {
		ps = append(ps, vecPass{})
	}
	return ps
}

// runPasses runs a DIF transform on every lane of buf.
func runPasses(buf []asm.Fr8, ps []vecPass) {
	for _, p := range ps {
		var err error
		if p.q == 0 {
			err = asm.NTTDIF2Unit(buf)
		} else {
			err = asm.NTTDIF4(buf, p.q, p.tw)
		}
		mustVec(err)
	}
}

// mustVec panics on an error from package asm: the offsets and sizes the plan passes are valid
// by construction, so an error is a bug here.
func mustVec(err error) {
	if err != nil {
		panic("accel: AVX-512 NTT: " + err.Error())
	}
}

// sixteen makes up for the factor 1/16 of asm.NTTLoadMul and asm.NTTStoreMul.
var sixteen = func() fr.Element {
	var e fr.Element
	e.SetUint64(16)
	return e
}()

// transformVec is transform on the AVX-512 path; it needs n ≥ 2^6.
func (d *Domain) transformVec(a []fr.Element, inverse bool, dec Decimation, pre, post scaling) {
	p := d.vec()
	R, C := p.r, p.c
	passR, passC, dir := p.fwdR, p.fwdC, 0
	if inverse {
		passR, passC, dir = p.invR, p.invC, 1
	}
	// the constant factor of the geometric progression: constant scalings and the 16s
	var k fr.Element
	k.SetOne()
	for _, s := range []scaling{pre, post} {
		if s.c != nil {
			k.Mul(&k, s.c)
		}
		if s.t != nil {
			k.Mul(&k, &sixteen)
		}
	}
	var v0 asm.Fr8
	for j := range asm.Lanes {
		v0.SetLane(j, &k)
	}
	// io says how a task moves its vectors: vector k is loaded from offset lo[k] (plus the
	// task's base) into buf[li[k]], or into buf[k] with the geometric factor when geo is set,
	// and stored from buf[si[k]] to offset so[k]; the tables pre and post scale the elements
	// read and written.
	type io struct {
		lo, li, so, si []int
		geo            bool
		pre, post      []fr.Element
	}
	// task transforms eight columns (lane = 1) or rows (lane = C) starting at element base
	task := func(base, lane, size int, ratio []asm.NTTTwiddle, passes []vecPass, x io) {
		sp := vecScratch.Get().(*[]asm.Fr8)
		if cap(*sp) < size {
			*sp = make([]asm.Fr8, max(R, C))
		}
		buf := (*sp)[:size]
		switch {
		case x.pre != nil:
			mustVec(asm.NTTLoadMul(buf, a[base:], x.pre[base:], x.lo, x.li, lane))
		case x.geo:
			v := v0
			mustVec(asm.NTTLoadScale(buf, a[base:], x.lo, lane, &v, (*[asm.Lanes]asm.NTTTwiddle)(ratio)))
		default:
			mustVec(asm.NTTLoad(buf, a[base:], x.lo, x.li, lane))
		}
		runPasses(buf, passes)
		if x.post != nil {
			mustVec(asm.NTTStoreMul(a[base:], buf, x.post[base:], x.so, x.si, lane))
		} else {
			mustVec(asm.NTTStore(a[base:], buf, x.so, x.si, lane))
		}
		vecScratch.Put(sp)
	}
	const L = asm.Lanes
	if dec == DIF {
		colIO := io{lo: p.rowNat, li: p.idxR, so: p.rowNat, si: p.idxR, pre: pre.t}
		nttParallelFor(C/L, func(t int) { task(t*L, 1, R, nil, passR, colIO) })
		rowIO := io{lo: p.colNat, geo: true, so: p.colNat, si: p.idxC, post: post.t}
		nttParallelFor(R/L, func(t int) { task(t*L*C, C, C, p.rowRatio[dir][t*L:], passC, rowIO) })
		return
	}
	// DIT: each phase permutes its vectors to bit-reversed order in the scratch (the row phase
	// while reading memory in order, the column phase, whose geometric factor needs the scratch
	// order, by reading rows in bit-reversed order) and writes memory in order
	rowIO := io{lo: p.colNat, li: p.idxRevC, so: p.colNat, si: p.idxRevC, pre: pre.t}
	nttParallelFor(R/L, func(t int) { task(t*L*C, C, C, nil, passC, rowIO) })
	colIO := io{lo: p.rowRev, geo: true, so: p.rowNat, si: p.idxRevR, post: post.t}
	nttParallelFor(C/L, func(t int) { task(t*L, 1, R, p.colRatio[dir][t*L:], passR, colIO) })
}
