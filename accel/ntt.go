package accel

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
)

// Errors returned by the NTT.
var (
	// ErrDomainSize is returned by NewDomain for a size of 0 or one larger than the largest
	// power-of-two subgroup of the BN254 scalar field (2^28).
	ErrDomainSize = errors.New("accel: unsupported NTT domain size")
	// ErrLength is returned by the transforms when the slice length is not the domain's
	// cardinality.
	ErrLength = errors.New("accel: slice length does not match NTT domain cardinality")
	// ErrDecimation is returned for a Decimation other than DIT and DIF.
	ErrDecimation = errors.New("accel: unknown NTT decimation")
)

// Decimation selects the input and output orderings of a transform. The values and meanings
// are those of gnark-crypto's fft.DIT and fft.DIF.
type Decimation uint8

const (
	// DIT (decimation in time) takes its input in bit-reversed order and returns the output in
	// natural order.
	DIT Decimation = iota
	// DIF (decimation in frequency) takes its input in natural order and returns the output in
	// bit-reversed order.
	DIF
)

// maxLogN is the 2-adicity of the BN254 scalar field.
const maxLogN = 28

// blockLog is log2 of the largest contiguous block the in-cache phase of a transform works on
// (2^12 elements = 128 KiB, well inside L2); panelElems bounds the working set of the strided
// phase.
const (
	blockLog    = 12
	maxBlockLog = 15
	panelElems  = 1 << 14
)

// Domain is a multiplicative subgroup of the BN254 scalar field of power-of-two order n, with
// the precomputed tables its number-theoretic transforms need. It uses the same generator of
// order n and the same coset shift (FrMultiplicativeGen, 5) as gnark-crypto's fft.NewDomain, so
// its transforms produce the same results as fft.Domain.FFT and fft.Domain.FFTInverse.
//
// A Domain is safe for concurrent use. Transforms run on all GOMAXPROCS cores and use the
// kernel family of Selected() at the time of the call.
type Domain struct {
	n    int
	logN int

	gen, genInv     fr.Element // ω of order n and its inverse
	shift, shiftInv fr.Element // coset shift g and g⁻¹
	nInv            fr.Element

	// tw[m+j] = ω_{2m}^j for each stage half-size m (a power of two < n) and 0 ≤ j < m, where
	// ω_{2m} = ω^{n/2m}; twInv likewise for ω⁻¹. Index 0 is unused.
	tw, twInv []fr.Element

	// lazily built scaling tables, each of length n, indexed by kind.
	tables [nbTables]struct {
		once sync.Once
		t    []fr.Element
	}

	// tables of the AVX-512 path, built on its first use
	vecOnce sync.Once
	vecP    *vecPlan
}

// kinds of lazily built scaling tables
const (
	tblCoset         = iota // g^i
	tblCosetRev             // g^rev(i)
	tblCosetInvNInv         // g^-i / n
	tblCosetInvNInvR        // g^-rev(i) / n
	tblQuotientPre          // g^rev(i) / n
	tblQuotientPost         // g^-rev(i) / (n (g^n - 1))
	nbTables
)

// NewDomain returns the domain of the smallest power-of-two cardinality n ≥ m. It returns
// ErrDomainSize if m is 0 or n exceeds 2^28.
func NewDomain(m uint64) (*Domain, error) {
	if m == 0 || m > 1<<maxLogN {
		return nil, fmt.Errorf("%w: %d", ErrDomainSize, m)
	}
	logN := bits.Len64(m - 1)
	n := 1 << logN
	d := &Domain{n: n, logN: logN}
	gen, err := fr.Generator(uint64(n))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDomainSize, err)
	}
	d.gen = gen
	d.genInv.Inverse(&d.gen)
	d.shift = fft.GeneratorFullMultiplicativeGroup()
	d.shiftInv.Inverse(&d.shift)
	d.nInv.SetUint64(uint64(n))
	d.nInv.Inverse(&d.nInv)

	var wg sync.WaitGroup
	wg.Go(func() { d.tw = buildTwiddles(n, d.gen) })
	wg.Go(func() { d.twInv = buildTwiddles(n, d.genInv) })
	wg.Wait()
	return d, nil
}

// Cardinality returns n, the number of elements the transforms of d operate on.
func (d *Domain) Cardinality() int { return d.n }

// Generator returns ω, the generator of order n of the domain.
func (d *Domain) Generator() fr.Element { return d.gen }

// Shift returns g, the coset shift of the coset transforms (fft.Domain.FrMultiplicativeGen).
func (d *Domain) Shift() fr.Element { return d.shift }

// FFT evaluates in place the polynomial with coefficients a at ω^0, …, ω^{n-1}. With DIF, a is
// read in natural order and written in bit-reversed order; with DIT the reverse. It returns
// ErrLength if len(a) != n and ErrDecimation for an unknown decimation.
func (d *Domain) FFT(a []fr.Element, dec Decimation) error {
	if err := d.check(a, dec); err != nil {
		return err
	}
	d.transform(a, false, dec, scaling{}, scaling{})
	return nil
}

// FFTInverse is the inverse of FFT: it interpolates in place the evaluations a at ω^0, …,
// ω^{n-1} into coefficients. The orderings are those described for FFT. It returns ErrLength
// if len(a) != n and ErrDecimation for an unknown decimation.
func (d *Domain) FFTInverse(a []fr.Element, dec Decimation) error {
	if err := d.check(a, dec); err != nil {
		return err
	}
	d.transform(a, true, dec, scaling{}, scaling{c: &d.nInv})
	return nil
}

// CosetFFT evaluates in place the polynomial with coefficients a at g·ω^0, …, g·ω^{n-1}, like
// fft.Domain.FFT with fft.OnCoset(). The orderings are those described for FFT. It returns
// ErrLength if len(a) != n and ErrDecimation for an unknown decimation.
func (d *Domain) CosetFFT(a []fr.Element, dec Decimation) error {
	if err := d.check(a, dec); err != nil {
		return err
	}
	kind := tblCoset
	if dec == DIT {
		kind = tblCosetRev
	}
	d.transform(a, false, dec, scaling{t: d.table(kind)}, scaling{})
	return nil
}

// CosetFFTInverse is the inverse of CosetFFT, like fft.Domain.FFTInverse with fft.OnCoset().
// It returns ErrLength if len(a) != n and ErrDecimation for an unknown decimation.
func (d *Domain) CosetFFTInverse(a []fr.Element, dec Decimation) error {
	if err := d.check(a, dec); err != nil {
		return err
	}
	kind := tblCosetInvNInv
	if dec == DIF {
		kind = tblCosetInvNInvR
	}
	d.transform(a, true, dec, scaling{}, scaling{t: d.table(kind)})
	return nil
}

func (d *Domain) check(a []fr.Element, dec Decimation) error {
	if len(a) != d.n {
		return fmt.Errorf("%w: got %d, want %d", ErrLength, len(a), d.n)
	}
	if dec != DIT && dec != DIF {
		return fmt.Errorf("%w: %d", ErrDecimation, dec)
	}
	return nil
}

// table returns the scaling table of the given kind, building it on first use.
func (d *Domain) table(kind int) []fr.Element {
	e := &d.tables[kind]
	e.once.Do(func() {
		n := d.n
		t := make([]fr.Element, n)
		var c fr.Element
		switch kind {
		case tblCoset, tblCosetRev, tblQuotientPre:
			c.SetOne()
			if kind == tblQuotientPre {
				c = d.nInv
			}
			expTable(t, d.shift, c)
		case tblCosetInvNInv, tblCosetInvNInvR, tblQuotientPost:
			c = d.nInv
			if kind == tblQuotientPost {
				// 1/(g^n - 1): Z(X) = X^n - 1 is the constant g^n - 1 on the coset.
				var den, one fr.Element
				one.SetOne()
				den.Exp(d.shift, big.NewInt(int64(n)))
				den.Sub(&den, &one).Inverse(&den)
				c.Mul(&c, &den)
			}
			expTable(t, d.shiftInv, c)
		}
		if kind == tblCosetRev || kind == tblCosetInvNInvR || kind == tblQuotientPre || kind == tblQuotientPost {
			bitReverse(t)
		}
		e.t = t
	})
	return e.t
}

// buildTwiddles returns the stage twiddle table described at Domain.tw for a generator w of
// order n.
func buildTwiddles(n int, w fr.Element) []fr.Element {
	t := make([]fr.Element, max(n, 1))
	if n < 2 {
		return t
	}
	h := n / 2
	var one fr.Element
	one.SetOne()
	expTable(t[h:], w, one)
	for m := h / 2; m >= 1; m /= 2 {
		step := h / m
		for j := range m {
			t[m+j] = t[h+j*step]
		}
	}
	return t
}

// expTable sets t[i] = c·w^i, in parallel chunks.
func expTable(t []fr.Element, w, c fr.Element) {
	const chunk = 1 << 12
	nttParallelFor((len(t)+chunk-1)/chunk, func(k int) {
		lo := k * chunk
		hi := min(lo+chunk, len(t))
		var x fr.Element
		x.Exp(w, big.NewInt(int64(lo)))
		x.Mul(&x, &c)
		for i := lo; i < hi; i++ {
			t[i] = x
			x.Mul(&x, &w)
		}
	})
}

// bitReverse permutes t (of power-of-two length) by bit reversal of the indices.
func bitReverse(t []fr.Element) {
	n := len(t)
	if n < 2 {
		return
	}
	shift := uint(64 - bits.TrailingZeros64(uint64(n)))
	for i := range n {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if i < j {
			t[i], t[j] = t[j], t[i]
		}
	}
}

// nttParallelFor calls fn(0), …, fn(tasks-1) on up to GOMAXPROCS goroutines, handing out tasks
// dynamically so that a core slowed by other load does not hold the others back. It returns
// when all calls have returned.
func nttParallelFor(tasks int, fn func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), tasks)
	if workers <= 1 {
		for k := range tasks {
			fn(k)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= tasks {
					return
				}
				fn(k)
			}
		})
	}
	wg.Wait()
}
