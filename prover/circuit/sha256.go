package circuit

// A bit-level SHA-256 gadget for R1CS.
//
// Words are 32 little-endian bits (bit i has weight 2^i); rotations and
// shifts only re-index them. Boolean functions are evaluated bit by bit on
// boolean-valued expressions:
//
//	xor(a, b)    = a + b - 2ab                 1 constraint
//	Σ, σ         = xor(xor(x, y), z)           2 constraints per bit
//	Ch(e, f, g)  = g + e(f - g)                1 constraint per bit
//	Maj(a, b, c) = bc + a(b + c - 2bc)         2 constraints per bit
//
// Additions mod 2^32 are linear: the summands' values are added as field
// elements and the sum is decomposed once into 32 bits and a carry of
// bitlen(max>>32) bits (hint, boolean checks, one linear equality). A word
// whose bits are never needed (the last message words, the last round's a
// and e) stays an unreduced sum and is folded into the next addition. Bits
// are only produced on demand.
//
// Soundness of a decomposition: every summand is a weighted sum of
// boolean-valued expressions, so the left side is an integer in [0, max];
// the right side is an integer below 2^(32+k) <= 2*(max+2^32). Both are far
// below the field modulus, so the field equality is an integer equality and
// the bits (and carry) are unique: the low 32 bits are the sum mod 2^32.

import (
	"fmt"
	"math/big"
	"math/bits"
	"reflect"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
)

func init() { solver.RegisterHint(shaBitsHint) }

// shaBitsHint writes to outputs the low len(outputs) bits (little-endian) of
// the integer sum of its inputs.
func shaBitsHint(_ *big.Int, inputs, outputs []*big.Int) error {
	if len(inputs) == 0 {
		return fmt.Errorf("shaBitsHint: no input")
	}
	s := new(big.Int)
	for _, in := range inputs {
		s.Add(s, in)
	}
	for i := range outputs {
		outputs[i].SetUint64(uint64(s.Bit(i)))
	}
	return nil
}

var shaK = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

var shaIV = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// shaTerm is a summand of a modular addition: a linear expression whose
// integer value is at most max.
type shaTerm struct {
	v   frontend.Variable
	max uint64
}

// shaWord is a 32-bit word: either its bits, or an unreduced sum of terms
// (congruent to the word mod 2^32) whose bits are computed on demand.
type shaWord struct {
	bits []frontend.Variable // 32 little-endian boolean-valued bits, or nil
	val  *shaTerm            // cached value of bits
	sum  []shaTerm           // when bits == nil
}

type shaCtx struct {
	api frontend.API
}

// sha256Bytes returns the 32 digest bytes of SHA-256 over msg (a fixed-length
// message known at compile time). Every element of msg must already be constrained to
// [0, 256) by the caller; the returned bytes are linear combinations of constrained bits.
func sha256Bytes(api frontend.API, msg []frontend.Variable) []frontend.Variable {
	s := &shaCtx{api: api}

	// Message bits, then constant padding: 0x80, zeros, 64-bit bit length.
	n := len(msg)
	total := (n + 9 + 63) / 64 * 64
	byteBits := make([][]frontend.Variable, total)
	for i, b := range msg {
		byteBits[i] = s.byteBits(b)
	}
	for i := n; i < total; i++ {
		var c byte
		switch {
		case i == n:
			c = 0x80
		case i >= total-8:
			c = byte(uint64(n) * 8 >> (8 * uint(total-1-i)))
		}
		byteBits[i] = shaConstBits(uint64(c), 8)
	}

	var h [8]*shaWord
	for i, v := range shaIV {
		h[i] = shaConstWord(v)
	}
	for blk := 0; blk < total; blk += 64 {
		var w [16]*shaWord
		for j := range w {
			wb := make([]frontend.Variable, 32)
			for k := 0; k < 4; k++ { // big-endian bytes
				copy(wb[8*(3-k):8*(4-k)], byteBits[blk+4*j+k])
			}
			w[j] = &shaWord{bits: wb}
		}
		h = s.compress(h, w)
	}

	out := make([]frontend.Variable, 32)
	for i := range h {
		wb := s.bitsOf(h[i])
		for k := 0; k < 4; k++ {
			out[4*i+k] = s.weighted(wb[8*(3-k) : 8*(4-k)])
		}
	}
	return out
}

// compress applies the compression function to the state h and the block w.
func (s *shaCtx) compress(h [8]*shaWord, w [16]*shaWord) [8]*shaWord {
	var ws [64]*shaWord
	copy(ws[:], w[:])
	for t := 16; t < 64; t++ {
		var parts []shaTerm
		parts = append(parts, s.sigma(s.bitsOf(ws[t-2]), 17, 19, 10, true))
		parts = append(parts, s.terms(ws[t-7])...)
		parts = append(parts, s.sigma(s.bitsOf(ws[t-15]), 7, 18, 3, true))
		parts = append(parts, s.terms(ws[t-16])...)
		ws[t] = &shaWord{sum: parts}
	}

	a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for t := 0; t < 64; t++ {
		ab, bb, cb := s.bitsOf(a), s.bitsOf(b), s.bitsOf(c)
		eb, fb, gb := s.bitsOf(e), s.bitsOf(f), s.bitsOf(g)

		var t1 []shaTerm
		t1 = append(t1, s.terms(hh)...)
		t1 = append(t1, s.sigma(eb, 6, 11, 25, false))
		t1 = append(t1, s.ch(eb, fb, gb))
		t1 = append(t1, shaTerm{v: uint64(shaK[t]), max: uint64(shaK[t])})
		t1 = append(t1, s.terms(ws[t])...)

		newE := append(append([]shaTerm{}, s.terms(d)...), t1...)
		newA := append(append(t1[:len(t1):len(t1)], s.sigma(ab, 2, 13, 22, false)), s.maj(ab, bb, cb))

		hh, g, f, e = g, f, e, &shaWord{sum: newE}
		d, c, b, a = c, b, a, &shaWord{sum: newA}
	}

	st := [8]*shaWord{a, b, c, d, e, f, g, hh}
	var res [8]*shaWord
	for i := range res {
		res[i] = &shaWord{sum: append(append([]shaTerm{}, s.terms(h[i])...), s.terms(st[i])...)}
	}
	return res
}

// byteBits decomposes a byte into 8 constrained little-endian bits.
func (s *shaCtx) byteBits(b frontend.Variable) []frontend.Variable {
	api := s.api
	if c, ok := api.Compiler().ConstantValue(b); ok && c.IsUint64() && c.Uint64() < 256 {
		return shaConstBits(c.Uint64(), 8)
	}
	bs, err := api.Compiler().NewHint(shaBitsHint, 8, b)
	if err != nil {
		panic(err)
	}
	for _, x := range bs {
		api.AssertIsBoolean(x)
	}
	api.AssertIsEqual(b, s.weighted(bs))
	return bs
}

// bitsOf returns the 32 bits of w, decomposing its sum if needed.
func (s *shaCtx) bitsOf(w *shaWord) []frontend.Variable {
	if w.bits == nil {
		w.bits = s.decompose(w.sum)
		w.sum = nil
	}
	return w.bits
}

// terms returns summands whose sum is congruent to w mod 2^32.
func (s *shaCtx) terms(w *shaWord) []shaTerm {
	if w.bits == nil {
		return w.sum
	}
	if w.val == nil {
		w.val = &shaTerm{v: s.weighted(w.bits), max: 1<<32 - 1}
		if c, ok := s.api.Compiler().ConstantValue(w.val.v); ok && c.IsUint64() {
			w.val.max = c.Uint64()
		}
	}
	return []shaTerm{*w.val}
}

// shaCompressAt is gnark's default R1CS CompressThreshold: an addition whose
// result has this many terms costs one extra constraint.
const shaCompressAt = 300

// decompose returns the 32 low bits of Σ ts, constrained as described above.
func (s *shaCtx) decompose(ts []shaTerm) []frontend.Variable {
	api := s.api
	var cst, bound uint64
	var vars []shaTerm
	for _, t := range ts {
		if c, ok := api.Compiler().ConstantValue(t.v); ok && c.IsUint64() {
			cst += c.Uint64()
			continue
		}
		bound += t.max
		vars = append(vars, t)
	}
	if len(vars) == 0 {
		return shaConstBits(cst&(1<<32-1), 32)
	}
	bound += cst
	k := bits.Len64(bound >> 32)
	inputs := make([]frontend.Variable, 0, len(vars)+1)
	for _, t := range vars {
		inputs = append(inputs, t.v)
	}
	if cst != 0 {
		inputs = append(inputs, cst)
	}
	bs, err := api.Compiler().NewHint(shaBitsHint, 32+k, inputs...)
	if err != nil {
		panic(err)
	}
	for _, x := range bs {
		api.AssertIsBoolean(x)
	}

	// Σ left = bits + 2^32 carry - Σ right, splitting the summands so that
	// neither side reaches the compression threshold if possible.
	var left, right []frontend.Variable
	nl, nr := 0, 32+k+1
	for _, t := range vars {
		n := shaLen(t.v)
		if nl+n < shaCompressAt && (nl <= nr || nr+n >= shaCompressAt) {
			left = append(left, t.v)
			nl += n
		} else {
			right = append(right, t.v)
			nr += n
		}
	}
	if cst != 0 {
		left = append(left, cst)
	}
	rhs := s.weighted(bs)
	if len(right) > 0 {
		rhs = api.Sub(rhs, right[0], right[1:]...)
	}
	api.AssertIsEqual(s.sum(left), rhs)
	return bs[:32]
}

// sigma returns the value of ROTR^r1 ^ ROTR^r2 ^ (SHR^r3 if shr else ROTR^r3)
// of the word x.
func (s *shaCtx) sigma(x []frontend.Variable, r1, r2, r3 int, shr bool) shaTerm {
	out := make([]frontend.Variable, 32)
	for i := range out {
		v := s.xor(x[(i+r1)%32], x[(i+r2)%32])
		if !shr {
			v = s.xor(v, x[(i+r3)%32])
		} else if i+r3 < 32 {
			v = s.xor(v, x[i+r3])
		}
		out[i] = v
	}
	return shaTerm{v: s.weighted(out), max: 1<<32 - 1}
}

// ch returns the value of (e AND f) XOR (NOT e AND g).
func (s *shaCtx) ch(e, f, g []frontend.Variable) shaTerm {
	api := s.api
	out := make([]frontend.Variable, 32)
	for i := range out {
		out[i] = api.Add(g[i], api.Mul(e[i], api.Sub(f[i], g[i])))
	}
	return shaTerm{v: s.weighted(out), max: 1<<32 - 1}
}

// maj returns the value of the bitwise majority of a, b, c.
func (s *shaCtx) maj(a, b, c []frontend.Variable) shaTerm {
	api := s.api
	out := make([]frontend.Variable, 32)
	for i := range out {
		bc := api.Mul(b[i], c[i])
		x := api.Sub(api.Add(b[i], c[i]), api.Add(bc, bc)) // b xor c
		out[i] = api.Add(bc, api.Mul(a[i], x))
	}
	return shaTerm{v: s.weighted(out), max: 1<<32 - 1}
}

// xor of two boolean-valued expressions (free if one is constant).
func (s *shaCtx) xor(a, b frontend.Variable) frontend.Variable {
	api := s.api
	ab := api.Mul(a, b)
	return api.Sub(api.Add(a, b), api.Add(ab, ab))
}

// weighted returns Σ 2^i bs[i].
func (s *shaCtx) weighted(bs []frontend.Variable) frontend.Variable {
	ts := make([]frontend.Variable, len(bs))
	for i, b := range bs {
		ts[i] = s.api.Mul(b, uint64(1)<<uint(i))
	}
	return s.sum(ts)
}

func (s *shaCtx) sum(vs []frontend.Variable) frontend.Variable {
	switch len(vs) {
	case 0:
		return 0
	case 1:
		return vs[0]
	}
	return s.api.Add(vs[0], vs[1], vs[2:]...)
}

// shaLen estimates the number of terms of the linear expression v.
func shaLen(v frontend.Variable) int {
	if r := reflect.ValueOf(v); r.Kind() == reflect.Slice {
		return r.Len()
	}
	return 1
}

func shaConstBits(v uint64, n int) []frontend.Variable {
	bs := make([]frontend.Variable, n)
	for i := range bs {
		bs[i] = (v >> uint(i)) & 1
	}
	return bs
}

func shaConstWord(v uint32) *shaWord { return &shaWord{bits: shaConstBits(uint64(v), 32)} }
