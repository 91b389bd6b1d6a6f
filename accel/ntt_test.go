package accel

import (
	"errors"
	"fmt"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
)

// allPaths returns the kernel paths this CPU and build can run; every test runs on each.
func allPaths(t testing.TB) []Path {
	var ps []Path
	for _, p := range []Path{Generic, ADX, AVX512} {
		if p <= Detected() {
			ps = append(ps, p)
		} else {
			t.Logf("path %s not supported here (detected %s)", p, Detected())
		}
	}
	return ps
}

func randomVector(n int) []fr.Element {
	v := make([]fr.Element, n)
	for i := range v {
		if _, err := v[i].SetRandom(); err != nil {
			panic(err)
		}
	}
	return v
}

type nttCase struct {
	name  string
	ours  func(d *Domain, a []fr.Element, dec Decimation) error
	gnark func(d *fft.Domain, a []fr.Element, dec fft.Decimation)
}

var nttCases = []nttCase{
	{"fft", (*Domain).FFT, func(d *fft.Domain, a []fr.Element, dec fft.Decimation) { d.FFT(a, dec) }},
	{"ifft", (*Domain).FFTInverse, func(d *fft.Domain, a []fr.Element, dec fft.Decimation) { d.FFTInverse(a, dec) }},
	{"coset-fft", (*Domain).CosetFFT, func(d *fft.Domain, a []fr.Element, dec fft.Decimation) { d.FFT(a, dec, fft.OnCoset()) }},
	{"coset-ifft", (*Domain).CosetFFTInverse, func(d *fft.Domain, a []fr.Element, dec fft.Decimation) {
		d.FFTInverse(a, dec, fft.OnCoset())
	}},
}

// checkAgainstGnark runs every transform of our domain for requested size m on random input
// and compares with gnark-crypto's fft.Domain.
func checkAgainstGnark(t *testing.T, m uint64) {
	t.Helper()
	ours, err := NewDomain(m)
	if err != nil {
		t.Fatal(err)
	}
	ref := fft.NewDomain(m)
	if uint64(ours.Cardinality()) != ref.Cardinality {
		t.Fatalf("m=%d: cardinality %d, gnark %d", m, ours.Cardinality(), ref.Cardinality)
	}
	if g := ours.Generator(); !g.Equal(&ref.Generator) {
		t.Fatalf("m=%d: generator differs from gnark's", m)
	}
	if s := ours.Shift(); !s.Equal(&ref.FrMultiplicativeGen) {
		t.Fatalf("m=%d: coset shift differs from gnark's", m)
	}
	n := ours.Cardinality()
	for _, c := range nttCases {
		for _, dec := range []Decimation{DIF, DIT} {
			in := randomVector(n)
			got := append([]fr.Element(nil), in...)
			want := append([]fr.Element(nil), in...)
			if err := c.ours(ours, got, dec); err != nil {
				t.Fatalf("%s m=%d dec=%d: %v", c.name, m, dec, err)
			}
			c.gnark(ref, want, fft.Decimation(dec))
			for i := range want {
				if !got[i].Equal(&want[i]) {
					t.Fatalf("%s m=%d n=%d dec=%d: element %d differs from gnark-crypto", c.name, m, n, dec, i)
				}
			}
		}
	}
}

func TestNTTMatchesGnark(t *testing.T) {
	for _, p := range allPaths(t) {
		t.Run(p.String(), func(t *testing.T) {
			defer SetPath(p)()
			if Selected() != p {
				t.Fatalf("SetPath(%s) selected %s", p, Selected())
			}
			for lg := 0; lg <= 12; lg++ {
				checkAgainstGnark(t, 1<<lg)
			}
			// multi-row layouts with a full-size block phase
			checkAgainstGnark(t, 1<<14)
			// requested sizes that are not powers of two
			for _, m := range []uint64{3, 5, 7, 12, 100, 1000, 3000, 5000} {
				checkAgainstGnark(t, m)
			}
		})
	}
}

func TestNTTRoundTrip(t *testing.T) {
	for _, p := range allPaths(t) {
		t.Run(p.String(), func(t *testing.T) {
			defer SetPath(p)()
			d, err := NewDomain(1 << 15)
			if err != nil {
				t.Fatal(err)
			}
			in := randomVector(d.Cardinality())
			a := append([]fr.Element(nil), in...)
			// natural → bit-reversed → natural, on the coset and off it
			if err := d.FFT(a, DIF); err != nil {
				t.Fatal(err)
			}
			if err := d.FFTInverse(a, DIT); err != nil {
				t.Fatal(err)
			}
			if err := d.CosetFFT(a, DIF); err != nil {
				t.Fatal(err)
			}
			if err := d.CosetFFTInverse(a, DIT); err != nil {
				t.Fatal(err)
			}
			for i := range in {
				if !a[i].Equal(&in[i]) {
					t.Fatalf("round trip differs at %d", i)
				}
			}
		})
	}
}

func TestNTTErrors(t *testing.T) {
	for _, m := range []uint64{0, 1<<28 + 1, 1 << 40} {
		if _, err := NewDomain(m); !errors.Is(err, ErrDomainSize) {
			t.Errorf("NewDomain(%d): got %v, want ErrDomainSize", m, err)
		}
	}
	d, err := NewDomain(16)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range nttCases {
		for _, n := range []int{0, 8, 15, 17, 32} {
			if err := c.ours(d, make([]fr.Element, n), DIF); !errors.Is(err, ErrLength) {
				t.Errorf("%s len %d: got %v, want ErrLength", c.name, n, err)
			}
		}
		if err := c.ours(d, make([]fr.Element, 16), Decimation(2)); !errors.Is(err, ErrDecimation) {
			t.Errorf("%s decimation 2: got %v, want ErrDecimation", c.name, err)
		}
	}
}

func TestNTTLayouts(t *testing.T) {
	// every layout covers the slice exactly with aligned, power-of-two rows and strips
	for lg := 0; lg <= maxLogN; lg++ {
		n := 1 << lg
		L := newLayout(n)
		if L.r*L.c != n || L.c&(L.c-1) != 0 || L.w&(L.w-1) != 0 || L.c%L.w != 0 {
			t.Errorf("n=%d: bad layout %+v", n, L)
		}
		if L.r > 1 && L.w < 8 {
			t.Errorf("n=%d: strip width %d below the vector width", n, L.w)
		}
		if lg <= 25 && (L.r*L.w > 1<<14 || L.c > 1<<maxBlockLog) {
			t.Errorf("n=%d: layout %+v leaves L2", n, L)
		}
	}
}

func TestNTTAllLayouts(t *testing.T) {
	// every R×C split and strip width of a 2^10 transform gives gnark's result, so the split
	// chosen for sizes too large to test here is right too
	const n = 1 << 10
	ours, err := NewDomain(n)
	if err != nil {
		t.Fatal(err)
	}
	ref := fft.NewDomain(n)
	coset := scaling{t: ours.table(tblCoset)}
	for _, p := range allPaths(t) {
		defer SetPath(p)()
		for c := 8; c <= n; c *= 2 {
			for w := 8; w <= c; w *= 2 {
				L := layout{n: n, c: c, r: n / c, w: w}
				in := randomVector(n)
				got := append([]fr.Element(nil), in...)
				want := append([]fr.Element(nil), in...)
				transformWith(L, got, ours.tw, DIF, coset, scaling{})
				ref.FFT(want, fft.DIF, fft.OnCoset())
				transformWith(L, got, ours.twInv, DIT, scaling{}, scaling{c: &ours.nInv})
				ref.FFTInverse(want, fft.DIT)
				for i := range want {
					if !got[i].Equal(&want[i]) {
						t.Fatalf("%s layout %+v: element %d differs from gnark-crypto", p, L, i)
					}
				}
			}
		}
	}
}

func ExampleDomain_FFT() {
	d, _ := NewDomain(4)
	a := make([]fr.Element, 4)
	a[1].SetOne() // the polynomial X
	_ = d.FFT(a, DIF)
	_ = d.FFTInverse(a, DIT)
	fmt.Println(a[0].IsZero(), a[1].IsOne(), a[2].IsZero(), a[3].IsZero())
	// Output: true true true true
}
