package accel

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

func TestPathString(t *testing.T) {
	for _, tc := range []struct {
		p    Path
		want string
	}{{Generic, "generic"}, {ADX, "adx"}, {AVX512, "avx512"}, {Path(9), "unknown"}} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("Path(%d).String() = %q, want %q", tc.p, got, tc.want)
		}
		if tc.want == "unknown" {
			continue
		}
		if p, ok := ParsePath(strings.ToUpper(tc.want)); !ok || p != tc.p {
			t.Errorf("ParsePath(%q) = %v, %v", tc.want, p, ok)
		}
	}
	if _, ok := ParsePath("sse"); ok {
		t.Error("ParsePath accepted an unknown name")
	}
}

func TestSetPathClampsAndRestores(t *testing.T) {
	before := Selected()
	for _, p := range []Path{Generic, ADX, AVX512} {
		restore := SetPath(p)
		want := min(p, Detected())
		if got := Selected(); got != want {
			t.Errorf("SetPath(%v): Selected() = %v, want %v", p, got, want)
		}
		restore()
		if got := Selected(); got != before {
			t.Errorf("restore after SetPath(%v): Selected() = %v, want %v", p, got, before)
		}
	}
}

func TestDetectedMatchesCPU(t *testing.T) {
	c := &cpuid.CPU
	want := Generic
	if c.Supports(cpuid.ADX, cpuid.BMI2) {
		want = ADX
		if avx512Available && c.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512IFMA) {
			want = AVX512
		}
	}
	if Detected() != want {
		t.Fatalf("Detected() = %v, want %v (features %q)", Detected(), want, Features())
	}
	f := Features()
	if c.Supports(cpuid.ADX) != strings.Contains(f, "adx") {
		t.Errorf("Features() = %q disagrees with cpuid on adx", f)
	}
	if c.Supports(cpuid.AVX512IFMA) != strings.Contains(f, "avx512ifma") {
		t.Errorf("Features() = %q disagrees with cpuid on avx512ifma", f)
	}
}

func TestChoosePath(t *testing.T) {
	for _, tc := range []struct {
		env      string
		best     Path
		want     Path
		fellBack bool
	}{
		{"", AVX512, AVX512, false},
		{"generic", AVX512, Generic, false},
		{"ADX", AVX512, ADX, false},
		{" avx512 ", AVX512, AVX512, false},
		{"avx512", ADX, ADX, true},
		{"adx", Generic, Generic, true},
		{"sse4", ADX, ADX, true},
	} {
		p, fb := choosePath(tc.env, tc.best)
		if p != tc.want || fb != tc.fellBack {
			t.Errorf("choosePath(%q, %v) = %v, %v; want %v, %v", tc.env, tc.best, p, fb, tc.want, tc.fellBack)
		}
	}
}

func TestLogSelection(t *testing.T) {
	var buf strings.Builder
	logSelection(slog.New(slog.NewTextHandler(&buf, nil)))
	if out := buf.String(); !strings.Contains(out, "selected="+Selected().String()) {
		t.Fatalf("LogSelection wrote %q", out)
	}
}
