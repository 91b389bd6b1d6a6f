package ledger

import (
	"math/big"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Square roots in fr for decoding signature points (decodeSig), about
// 1.35 times faster than fr.Element.Sqrt (5.9 vs 8.0 µs, BenchmarkSqrt).
//
// r - 1 = 2^28·Q with Q odd. Tonelli–Shanks computes x = a^((Q+1)/2) and
// t = a^Q, an element of the subgroup of 2^28-th roots of unity: t = g^e
// for the generator g = z^Q (z a non-square), with e even iff a is a
// square, and then sqrt(a) = x·g^(-e/2). fr.Element.Sqrt finds e one bit
// at a time, a few hundred squarings on average. Here e is read seven
// bits at a time from a table of the 2^7-th roots of unity: 21 squarings
// and ten multiplications. What remains is the exponentiation by
// (Q-1)/2, shared by both.

const (
	sqrtS = 28 // two-adicity of r - 1
	sqrtW = 7  // bits of e found per table lookup
	sqrtK = sqrtS / sqrtW
)

type sqrtTables struct {
	// ginv[k][j] = g^(-j·2^(7k)).
	ginv [sqrtK][1 << sqrtW]fr.Element
	// root maps ω^j (ω = g^(2^21), a primitive 2^7-th root of unity), by
	// the first word of its Montgomery form, to j; roots holds ω^j.
	root  map[uint64]uint8
	roots [1 << sqrtW]fr.Element
	// exp is the window plan of the exponent (Q-1)/2.
	exp windowPlan
}

var sqrtTab = sync.OnceValue(func() *sqrtTables {
	t := &sqrtTables{root: make(map[uint64]uint8, 1<<sqrtW)}
	q := fr.Modulus()
	q.Sub(q, big.NewInt(1))
	q.Rsh(q, sqrtS) // Q
	half := new(big.Int).Rsh(q, 1)
	t.exp = newWindowPlan(half)

	// The smallest non-square.
	var z fr.Element
	for z.SetUint64(2); z.Legendre() != -1; z.Add(&z, &feOne) {
	}
	var g, ginv fr.Element
	g.Exp(z, q)
	ginv.Inverse(&g)
	for k := range sqrtK {
		step := ginv
		for range sqrtW * k {
			step.Square(&step)
		}
		t.ginv[k][0].SetOne()
		for j := 1; j < 1<<sqrtW; j++ {
			t.ginv[k][j].Mul(&t.ginv[k][j-1], &step)
		}
	}
	omega := g
	for range sqrtS - sqrtW {
		omega.Square(&omega)
	}
	t.roots[0].SetOne()
	for j := range 1 << sqrtW {
		if j > 0 {
			t.roots[j].Mul(&t.roots[j-1], &omega)
		}
		if _, dup := t.root[t.roots[j][0]]; dup {
			panic("ledger: roots of unity share a first word") // never for BN254's fr
		}
		t.root[t.roots[j][0]] = uint8(j)
	}
	return t
})

// lookup returns j with ω^j == v, or false if v is not a 2^7-th root of
// unity.
func (t *sqrtTables) lookup(v *fr.Element) (uint32, bool) {
	j, ok := t.root[v[0]]
	if !ok || t.roots[j] != *v {
		return 0, false
	}
	return uint32(j), true
}

// sqrt sets z to a square root of a and returns true, or returns false
// if a is not a square. Which of the two roots is unspecified.
func sqrt(z, a *fr.Element) bool {
	if a.IsZero() {
		z.SetZero()
		return true
	}
	tab := sqrtTab()
	var w, x, t fr.Element
	tab.exp.pow(&w, a) // a^((Q-1)/2)
	x.Mul(a, &w)       // a^((Q+1)/2)
	t.Mul(&x, &w)      // a^Q = g^e

	// tp[k] = t^(2^(7k)) = g^(e·2^(7k)), which depends on e's low
	// 28-7k bits only.
	var tp [sqrtK]fr.Element
	tp[0] = t
	for k := 1; k < sqrtK; k++ {
		tp[k] = tp[k-1]
		for range sqrtW {
			tp[k].Square(&tp[k])
		}
	}
	// Digit i of e: tp[3-i]·g^(-(e mod 2^(7i))·2^(7(3-i))) = ω^(digit i).
	var d [sqrtK]uint32
	for i := range sqrtK {
		v := tp[sqrtK-1-i]
		for j := range i {
			v.Mul(&v, &tab.ginv[sqrtK-1-i+j][d[j]])
		}
		var ok bool
		if d[i], ok = tab.lookup(&v); !ok {
			return slowSqrt(z, a) // unreachable: t is a 2^28-th root of unity
		}
	}
	if d[0]&1 != 0 {
		return false // e odd: a is not a square
	}
	e := d[0] | d[1]<<sqrtW | d[2]<<(2*sqrtW) | d[3]<<(3*sqrtW)
	h := e >> 1
	for k := range sqrtK {
		x.Mul(&x, &tab.ginv[k][h&(1<<sqrtW-1)])
		h >>= sqrtW
	}
	// x² == a by construction; checked, as a wrong root would only make
	// valid signatures fail.
	var c fr.Element
	if c.Square(&x); c != *a {
		return slowSqrt(z, a)
	}
	*z = x
	return true
}

func slowSqrt(z, a *fr.Element) bool {
	var c fr.Element
	if c.Sqrt(a) == nil {
		return false
	}
	*z = c
	return true
}

// windowPlan is a fixed exponent in sliding windows of up to
// planWindow bits: raise to it with pow.
type windowPlan struct {
	// steps, most significant first: square sq times, then multiply by
	// the odd power digit (when digit > 0).
	steps []planStep
}

type planStep struct {
	sq    int
	digit uint8
}

const planWindow = 5

func newWindowPlan(e *big.Int) windowPlan {
	var p windowPlan
	i := e.BitLen() - 1
	pending := 0 // squarings before the next multiplication
	for i >= 0 {
		if e.Bit(i) == 0 {
			pending++
			i--
			continue
		}
		// The longest window [i..j] with bit j set, up to planWindow bits.
		j := max(i-planWindow+1, 0)
		for e.Bit(j) == 0 {
			j++
		}
		var digit uint8
		for b := i; b >= j; b-- {
			digit = digit<<1 | uint8(e.Bit(b))
		}
		p.steps = append(p.steps, planStep{sq: pending + i - j + 1, digit: digit})
		pending = 0
		i = j - 1
	}
	if pending > 0 {
		p.steps = append(p.steps, planStep{sq: pending})
	}
	return p
}

// pow sets z = a^e for p's exponent e (at least 1).
func (p *windowPlan) pow(z, a *fr.Element) {
	// odd[i] = a^(2i+1).
	var odd [1 << (planWindow - 1)]fr.Element
	var a2 fr.Element
	a2.Square(a)
	odd[0] = *a
	for i := 1; i < len(odd); i++ {
		odd[i].Mul(&odd[i-1], &a2)
	}
	var acc fr.Element
	first := true
	for _, s := range p.steps {
		if first {
			// The leading window: start from its digit, no squarings.
			acc = odd[s.digit>>1]
			first = false
			continue
		}
		for range s.sq {
			acc.Square(&acc)
		}
		if s.digit > 0 {
			acc.Mul(&acc, &odd[s.digit>>1])
		}
	}
	*z = acc
}
