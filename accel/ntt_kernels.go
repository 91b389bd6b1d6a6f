package accel

import (
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// A transform of size n = R·C works on a as an R×C row-major matrix. The butterflies of the
// stages with half-size m ≥ C pair elements of the same column, so they run in the "panel"
// phase on column strips of width W (all R rows, working set R·W elements); the stages with
// m < C stay inside one row, so they run in the "block" phase on contiguous rows of C
// elements. Each phase reads and writes a once, and both work inside L2. DIF runs the panel
// phase first, DIT the block phase first. Strips and rows are spread over all cores.

// layout is the R×C split of a transform of size n and the strip width W of its panel phase.
type layout struct {
	n, c, r, w int
}

func newLayout(n int) layout {
	procs := runtime.GOMAXPROCS(0)
	c := min(n, 1<<blockLog)
	// past 2^22 elements, widen the rows so that a strip of R rows still fits in L2
	for n/c > 1<<10 && c < 1<<maxBlockLog {
		c <<= 1
	}
	// give every core a few rows when the whole transform would fit one block
	if n >= 1<<11 && n/c < 2*procs {
		c = max(n/(2*procs), 1<<9)
	}
	r := n / c
	if r == 1 {
		return layout{n: n, c: c, r: 1, w: c}
	}
	w := min(max(8, panelElems/r), c)
	for w > 8 && c/w < 4*procs {
		w /= 2
	}
	return layout{n: n, c: c, r: r, w: w}
}

// scaling multiplies a transform's input (pre) or output (post) element-wise: by t[i] at
// position i when t is set, by the constant c when c is set, or not at all.
type scaling struct {
	t []fr.Element
	c *fr.Element
}

func (s scaling) isNone() bool { return s.t == nil && s.c == nil }

// apply scales x, which sits at offset off of the transformed slice.
func (s scaling) apply(x []fr.Element, off int, vec bool) {
	switch {
	case s.t != nil:
		t := s.t[off : off+len(x)]
		if vec {
			v := fr.Vector(x)
			v.Mul(v, t)
			return
		}
		for i := range x {
			x[i].Mul(&x[i], &t[i])
		}
	case s.c != nil:
		if vec {
			v := fr.Vector(x)
			v.ScalarMul(v, s.c)
			return
		}
		for i := range x {
			x[i].Mul(&x[i], s.c)
		}
	}
}

// transform runs a DIF or DIT transform with ω (or ω⁻¹ if inverse) on a, scaling the input by
// pre and the output by post.
func (d *Domain) transform(a []fr.Element, inverse bool, dec Decimation, pre, post scaling) {
	if Selected() == AVX512 && d.logN >= vecMinLog {
		d.transformVec(a, inverse, dec, pre, post)
		return
	}
	tw := d.tw
	if inverse {
		tw = d.twInv
	}
	transformWith(newLayout(len(a)), a, tw, dec, pre, post)
}

// transformWith is transform with the layout given.
func transformWith(L layout, a, tw []fr.Element, dec Decimation, pre, post scaling) {
	vec := Selected() == AVX512
	if L.r == 1 {
		pre.apply(a, 0, vec)
		if dec == DIF {
			blockDIF(a, tw, vec)
		} else {
			blockDIT(a, tw, vec)
		}
		post.apply(a, 0, vec)
		return
	}
	if dec == DIF {
		nttParallelFor(L.c/L.w, func(k int) {
			c0 := k * L.w
			panelScale(a, L, c0, pre, vec)
			panelDIF(a, tw, L, c0, vec)
		})
		nttParallelFor(L.r, func(k int) {
			blk := a[k*L.c : (k+1)*L.c]
			blockDIF(blk, tw, vec)
			post.apply(blk, k*L.c, vec)
		})
		return
	}
	nttParallelFor(L.r, func(k int) {
		blk := a[k*L.c : (k+1)*L.c]
		pre.apply(blk, k*L.c, vec)
		blockDIT(blk, tw, vec)
	})
	nttParallelFor(L.c/L.w, func(k int) {
		c0 := k * L.w
		panelDIT(a, tw, L, c0, vec)
		panelScale(a, L, c0, post, vec)
	})
}

// panelScale applies s to the strip of columns [c0, c0+W).
func panelScale(a []fr.Element, L layout, c0 int, s scaling, vec bool) {
	if s.isNone() {
		return
	}
	for r := range L.r {
		off := r*L.c + c0
		s.apply(a[off:off+L.w], off, vec)
	}
}

// panelDIF runs the DIF stages with m ≥ C on the strip of columns [c0, c0+W).
func panelDIF(a, tw []fr.Element, L layout, c0 int, vec bool) {
	for m := L.n / 2; m >= L.c; m >>= 1 {
		mr := m / L.c
		twm := tw[m : 2*m]
		for rg := 0; rg < L.r; rg += 2 * mr {
			for r := range mr {
				lo := (rg+r)*L.c + c0
				t := r*L.c + c0
				difButterflies(a[lo:lo+L.w], a[lo+m:lo+m+L.w], twm[t:t+L.w], vec)
			}
		}
	}
}

// panelDIT runs the DIT stages with m ≥ C on the strip of columns [c0, c0+W).
func panelDIT(a, tw []fr.Element, L layout, c0 int, vec bool) {
	for m := L.c; m < L.n; m <<= 1 {
		mr := m / L.c
		twm := tw[m : 2*m]
		for rg := 0; rg < L.r; rg += 2 * mr {
			for r := range mr {
				lo := (rg+r)*L.c + c0
				t := r*L.c + c0
				ditButterflies(a[lo:lo+L.w], a[lo+m:lo+m+L.w], twm[t:t+L.w], vec)
			}
		}
	}
}

// vecChunk is the number of butterflies the vector kernels process per call sequence; its
// scratch lives on the stack.
const vecChunk = 64

// difButterflies sets lo, hi = lo+hi, (lo-hi)·t element-wise.
func difButterflies(lo, hi, t []fr.Element, vec bool) {
	_ = hi[len(lo)-1]
	_ = t[len(lo)-1]
	if vec && len(lo) >= 8 {
		var buf [vecChunk]fr.Element
		for s := 0; s < len(lo); s += vecChunk {
			e := min(s+vecChunk, len(lo))
			l, h, tmp := fr.Vector(lo[s:e]), fr.Vector(hi[s:e]), fr.Vector(buf[:e-s])
			tmp.Sub(l, h)
			l.Add(l, h)
			h.Mul(tmp, t[s:e])
		}
		return
	}
	for j := range lo {
		fr.Butterfly(&lo[j], &hi[j])
		hi[j].Mul(&hi[j], &t[j])
	}
}

// ditButterflies sets lo, hi = lo+hi·t, lo-hi·t element-wise.
func ditButterflies(lo, hi, t []fr.Element, vec bool) {
	_ = hi[len(lo)-1]
	_ = t[len(lo)-1]
	if vec && len(lo) >= 8 {
		var buf [vecChunk]fr.Element
		for s := 0; s < len(lo); s += vecChunk {
			e := min(s+vecChunk, len(lo))
			l, h, tmp := fr.Vector(lo[s:e]), fr.Vector(hi[s:e]), fr.Vector(buf[:e-s])
			tmp.Mul(h, t[s:e])
			h.Sub(l, tmp)
			l.Add(l, tmp)
		}
		return
	}
	for j := range lo {
		hi[j].Mul(&hi[j], &t[j])
		fr.Butterfly(&lo[j], &hi[j])
	}
}

// blockDIF runs the DIF stages with m < len(blk) on the contiguous block blk, whose length is
// a power of two. The block-local twiddles are those of the whole transform because blocks
// are aligned to their length.
func blockDIF(blk, tw []fr.Element, vec bool) {
	c := len(blk)
	if c < 8 {
		for m := c / 2; m >= 1; m >>= 1 {
			for g := 0; g < c; g += 2 * m {
				difButterflies(blk[g:g+m], blk[g+m:g+2*m], tw[m:2*m], false)
			}
		}
		return
	}
	for m := c / 2; m >= 8; m >>= 1 {
		twm := tw[m : 2*m]
		for g := 0; g < c; g += 2 * m {
			difButterflies(blk[g:g+m], blk[g+m:g+2*m], twm, vec)
		}
	}
	// the last three stages (m = 4, 2, 1) on groups of 8
	if vec && c >= 8*vecLeafMin {
		leafVec(blk, tw, DIF)
		return
	}
	w5, w6, w7, w3 := &tw[5], &tw[6], &tw[7], &tw[3]
	for g := 0; g < c; g += 8 {
		x := blk[g : g+8 : g+8]
		fr.Butterfly(&x[0], &x[4])
		fr.Butterfly(&x[1], &x[5])
		fr.Butterfly(&x[2], &x[6])
		fr.Butterfly(&x[3], &x[7])
		x[5].Mul(&x[5], w5)
		x[6].Mul(&x[6], w6)
		x[7].Mul(&x[7], w7)
		fr.Butterfly(&x[0], &x[2])
		fr.Butterfly(&x[1], &x[3])
		fr.Butterfly(&x[4], &x[6])
		fr.Butterfly(&x[5], &x[7])
		x[3].Mul(&x[3], w3)
		x[7].Mul(&x[7], w3)
		fr.Butterfly(&x[0], &x[1])
		fr.Butterfly(&x[2], &x[3])
		fr.Butterfly(&x[4], &x[5])
		fr.Butterfly(&x[6], &x[7])
	}
}

// blockDIT runs the DIT stages with m < len(blk) on the contiguous block blk (see blockDIF).
func blockDIT(blk, tw []fr.Element, vec bool) {
	c := len(blk)
	if c < 8 {
		for m := 1; m < c; m <<= 1 {
			for g := 0; g < c; g += 2 * m {
				ditButterflies(blk[g:g+m], blk[g+m:g+2*m], tw[m:2*m], false)
			}
		}
		return
	}
	// the first three stages (m = 1, 2, 4) on groups of 8
	if vec && c >= 8*vecLeafMin {
		leafVec(blk, tw, DIT)
	} else {
		leafDITScalar(blk, tw)
	}
	for m := 8; m < c; m <<= 1 {
		twm := tw[m : 2*m]
		for g := 0; g < c; g += 2 * m {
			ditButterflies(blk[g:g+m], blk[g+m:g+2*m], twm, vec)
		}
	}
}

// leafDITScalar runs the DIT stages m = 1, 2, 4 on each group of 8 of blk.
func leafDITScalar(blk, tw []fr.Element) {
	c := len(blk)
	w5, w6, w7, w3 := &tw[5], &tw[6], &tw[7], &tw[3]
	for g := 0; g < c; g += 8 {
		x := blk[g : g+8 : g+8]
		fr.Butterfly(&x[0], &x[1])
		fr.Butterfly(&x[2], &x[3])
		fr.Butterfly(&x[4], &x[5])
		fr.Butterfly(&x[6], &x[7])
		x[3].Mul(&x[3], w3)
		x[7].Mul(&x[7], w3)
		fr.Butterfly(&x[0], &x[2])
		fr.Butterfly(&x[1], &x[3])
		fr.Butterfly(&x[4], &x[6])
		fr.Butterfly(&x[5], &x[7])
		x[5].Mul(&x[5], w5)
		x[6].Mul(&x[6], w6)
		x[7].Mul(&x[7], w7)
		fr.Butterfly(&x[0], &x[4])
		fr.Butterfly(&x[1], &x[5])
		fr.Butterfly(&x[2], &x[6])
		fr.Butterfly(&x[3], &x[7])
	}
}

// vecLeafMin is the smallest number of groups of 8 for which the leaf stages are vectorized.
const vecLeafMin = 8

// leafScratch holds the transposed blocks of leafVec.
var leafScratch = sync.Pool{New: func() any { return new([]fr.Element) }}

// leafVec runs the three stages with m = 4, 2, 1 (DIF) or m = 1, 2, 4 (DIT) of blk with vector
// operations: it transposes blk, seen as len(blk)/8 groups of 8, into 8 rows so that every
// butterfly of these stages pairs two whole rows and every twiddle is one constant per row.
func leafVec(blk, tw []fr.Element, dec Decimation) {
	c := len(blk)
	q := c / 8
	sp := leafScratch.Get().(*[]fr.Element)
	if cap(*sp) < c {
		*sp = make([]fr.Element, c)
	}
	sc := (*sp)[:c]
	for g := range q {
		x := blk[8*g : 8*g+8 : 8*g+8]
		for k := range 8 {
			sc[k*q+g] = x[k]
		}
	}
	var row [8][]fr.Element
	for k := range 8 {
		row[k] = sc[k*q : (k+1)*q : (k+1)*q]
	}
	w := [8]*fr.Element{3: &tw[3], 5: &tw[5], 6: &tw[6], 7: &tw[7]}
	if dec == DIF {
		for k := range 4 { // m = 4
			rowButterflies(row[k], row[k+4], w[k+4], DIF)
		}
		for _, k := range [4]int{0, 1, 4, 5} { // m = 2
			rowButterflies(row[k], row[k+2], w[(k&1)*3], DIF)
		}
		for k := 0; k < 8; k += 2 { // m = 1
			rowButterflies(row[k], row[k+1], nil, DIF)
		}
	} else {
		for k := 0; k < 8; k += 2 {
			rowButterflies(row[k], row[k+1], nil, DIT)
		}
		for _, k := range [4]int{0, 1, 4, 5} {
			rowButterflies(row[k], row[k+2], w[(k&1)*3], DIT)
		}
		for k := range 4 {
			rowButterflies(row[k], row[k+4], w[k+4], DIT)
		}
	}
	for g := range q {
		x := blk[8*g : 8*g+8 : 8*g+8]
		for k := range 8 {
			x[k] = sc[k*q+g]
		}
	}
	leafScratch.Put(sp)
}

// rowButterflies is difButterflies (DIF) or ditButterflies (DIT) with the same twiddle w for
// every pair; w == nil stands for 1.
func rowButterflies(lo, hi []fr.Element, w *fr.Element, dec Decimation) {
	var buf [vecChunk]fr.Element
	for s := 0; s < len(lo); s += vecChunk {
		e := min(s+vecChunk, len(lo))
		l, h, tmp := fr.Vector(lo[s:e]), fr.Vector(hi[s:e]), fr.Vector(buf[:e-s])
		if dec == DIT && w != nil {
			h.ScalarMul(h, w)
		}
		tmp.Sub(l, h)
		l.Add(l, h)
		if dec == DIF && w != nil {
			h.ScalarMul(tmp, w)
		} else {
			copy(h, tmp)
		}
	}
}
