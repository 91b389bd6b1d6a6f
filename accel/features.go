package accel

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"
)

// Path is a kernel family. Larger values are faster families that need more CPU features;
// every CPU supports Generic.
type Path uint8

const (
	// Generic is portable Go code (gnark-crypto's field arithmetic, whatever it selects).
	Generic Path = iota
	// ADX needs ADX and BMI2 (the mulx/adcx/adox 64-bit Montgomery kernels).
	ADX
	// AVX512 needs ADX, BMI2, AVX-512F, AVX-512VL and AVX-512 IFMA (the radix-52 8-lane kernels
	// in package asm).
	AVX512
)

// EnvPath is the environment variable read once at process start to force a Path:
// "generic", "adx" or "avx512".
const EnvPath = "VELOX_ACCEL"

// String returns "generic", "adx" or "avx512".
func (p Path) String() string {
	switch p {
	case Generic:
		return "generic"
	case ADX:
		return "adx"
	case AVX512:
		return "avx512"
	default:
		return "unknown"
	}
}

// ParsePath parses the names returned by Path.String. It reports false for anything else.
func ParsePath(s string) (Path, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "generic":
		return Generic, true
	case "adx":
		return ADX, true
	case "avx512":
		return AVX512, true
	}
	return Generic, false
}

var (
	detected Path
	selected atomic.Uint32 // holds a Path
	// initNote records what init decided, for LogSelection.
	initNote struct {
		requested string // value of EnvPath, "" if unset
		fellBack  bool   // requested path unknown or unsupported by the CPU
	}
	logOnce sync.Once
)

func init() {
	detected = detect()
	env := os.Getenv(EnvPath)
	p, fellBack := choosePath(env, detected)
	initNote.requested, initNote.fellBack = env, fellBack
	selected.Store(uint32(p))
	if initNote.fellBack {
		slog.Warn("accel: requested kernel path not supported by this CPU; using best supported",
			"env", EnvPath, "requested", initNote.requested, "path", p.String(), "features", Features())
	} else {
		slog.Debug("accel: kernel path selected", "path", p.String(), "features", Features())
	}
}

// choosePath returns the path to use given the value of EnvPath ("" if unset) and the best
// supported path, and whether the request could not be honoured (unknown name, or a path the
// CPU lacks), in which case it returns best.
func choosePath(env string, best Path) (p Path, fellBack bool) {
	if env == "" {
		return best, false
	}
	want, ok := ParsePath(env)
	if !ok || want > best {
		return best, true
	}
	return want, false
}

func detect() Path {
	c := &cpuid.CPU
	if !c.Supports(cpuid.ADX, cpuid.BMI2) {
		return Generic
	}
	if avx512Available && c.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512IFMA) {
		return AVX512
	}
	return ADX
}

// Detected returns the best Path this CPU (and this build: the AVX512 path needs amd64 without
// the purego tag) supports.
func Detected() Path { return detected }

// Selected returns the Path kernels currently use: Detected(), or the path forced by the
// VELOX_ACCEL environment variable at init (clamped to what the CPU supports), or the one set
// with SetPath.
func Selected() Path { return Path(selected.Load()) }

// SetPath makes kernels use p, clamped to Detected(), and returns a closure restoring the
// previous selection. It is meant for tests and benchmarks; it is safe for concurrent use, but
// operations already running keep the path they started with.
func SetPath(p Path) (restore func()) {
	if p > detected {
		p = detected
	}
	prev := selected.Swap(uint32(p))
	return func() { selected.Store(prev) }
}

// Features returns the CPU features relevant to kernel selection that this CPU has, space
// separated, e.g. "adx bmi2 avx2 avx512f avx512vl avx512ifma".
func Features() string {
	c := &cpuid.CPU
	var b strings.Builder
	for _, f := range []struct {
		id   cpuid.FeatureID
		name string
	}{
		{cpuid.ADX, "adx"}, {cpuid.BMI2, "bmi2"}, {cpuid.AVX2, "avx2"},
		{cpuid.AVX512F, "avx512f"}, {cpuid.AVX512VL, "avx512vl"}, {cpuid.AVX512DQ, "avx512dq"},
		{cpuid.AVX512BW, "avx512bw"}, {cpuid.AVX512IFMA, "avx512ifma"},
	} {
		if c.Supports(f.id) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f.name)
		}
	}
	return b.String()
}

// LogSelection logs the detected and selected kernel paths once per process at Info level on
// l (slog.Default() if l is nil). Later calls do nothing.
func LogSelection(l *slog.Logger) {
	logOnce.Do(func() { logSelection(l) })
}

func logSelection(l *slog.Logger) {
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelInfo
	if initNote.fellBack {
		level = slog.LevelWarn
	}
	l.Log(context.Background(), level, "accel kernels",
		"selected", Selected().String(), "detected", Detected().String(),
		"requested", initNote.requested, "cpu", cpuid.CPU.BrandName, "features", Features())
}
