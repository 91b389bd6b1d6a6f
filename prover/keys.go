package prover

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/consensys/gnark/constraint"

	"github.com/veloxlabs/velox/prover/circuit"
)

// Key errors.
var (
	// ErrKeyMismatch: keys on disk were made for another circuit.
	ErrKeyMismatch = errors.New("prover: keys do not match the circuit")
	// ErrNoKeys: no keys are cached for the circuit and setup was not allowed.
	ErrNoKeys = errors.New("prover: no keys for the circuit")
)

// Keys are a compiled batch circuit with its Groth16 keys.
type Keys struct {
	Config circuit.Config
	CCS    constraint.ConstraintSystem
	PK     groth16.ProvingKey
	VK     groth16.VerifyingKey
	// CircuitHash is SHA-256 of the serialized R1CS: any change of the
	// circuit's shape or code changes it, and with it the keys.
	CircuitHash [32]byte
	// Dev reports keys from the unsafe development setup.
	Dev bool

	// ProverConfig configures the Prover made on first use (e.g. fixed-base
	// tables for the key's points); set it before the first proof.
	ProverConfig ProverConfig

	// prover is our Groth16 prover for these keys, prepared once.
	proverOnce sync.Once
	prover     *Prover
	proverErr  error
}

// Prover returns this package's prover for the keys, prepared on first use
// and shared by every proof made with them.
func (k *Keys) Prover() (*Prover, error) {
	k.proverOnce.Do(func() { k.prover, k.proverErr = NewProver(k.CCS, k.PK, k.ProverConfig) })
	return k.prover, k.proverErr
}

// keyMeta is stored beside the keys.
type keyMeta struct {
	Circuit     string    `json:"circuit"`
	CircuitHash string    `json:"circuit_hash"`
	Constraints int       `json:"constraints"`
	Dev         bool      `json:"dev_setup_unsafe"`
	Created     time.Time `json:"created"`
}

// KeyOptions tune LoadOrSetup.
type KeyOptions struct {
	// Setup allows the development setup when no keys are cached.
	Setup bool
	// Progress, if set, is told each stage ("compile", "setup", "write",
	// "load") as it starts.
	Progress func(stage string)
	Log      *slog.Logger
}

// Compile compiles cfg's circuit and returns it with its hash.
func Compile(cfg circuit.Config) (constraint.ConstraintSystem, [32]byte, error) {
	ccs, err := circuit.Compile(cfg)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("prover: compiling %v: %w", cfg, err)
	}
	h := sha256.New()
	if _, err := ccs.WriteTo(h); err != nil {
		return nil, [32]byte{}, fmt.Errorf("prover: hashing %v: %w", cfg, err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return ccs, sum, nil
}

// KeyDir is where the keys of a circuit live under dir.
func KeyDir(dir string, cfg circuit.Config, hash [32]byte) string {
	return filepath.Join(dir, fmt.Sprintf("%v-%s", cfg, hex.EncodeToString(hash[:6])))
}

// LoadOrSetup compiles cfg's circuit and loads its keys from dir, keyed by
// the circuit hash. If none are cached and o.Setup is set, it runs gnark's
// groth16.Setup — a DEVELOPMENT setup whose toxic waste this process knew:
// never use such keys to secure value — and caches the result. Production
// keys come from gnark's mpcsetup ceremony (docs/KEYS.md) and are placed in
// the same layout.
func LoadOrSetup(ctx context.Context, dir string, cfg circuit.Config, o KeyOptions) (*Keys, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	stage := func(s string) {
		if o.Progress != nil {
			o.Progress(s)
		}
	}
	stage("compile")
	ccs, hash, err := Compile(cfg)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kd := KeyDir(dir, cfg, hash)
	k, err := Load(kd, cfg, ccs, hash, stage)
	if err == nil {
		o.Log.Info("loaded circuit keys", "circuit", cfg, "dir", kd, "dev", k.Dev)
		return k, nil
	}
	if !errors.Is(err, ErrNoKeys) {
		return nil, err
	}
	if !o.Setup {
		return nil, fmt.Errorf("%w %v in %s", ErrNoKeys, cfg, kd)
	}
	stage("setup")
	o.Log.Warn("running the UNSAFE development setup: these keys must never secure real value", "circuit", cfg, "constraints", ccs.GetNbConstraints())
	start := time.Now()
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		return nil, fmt.Errorf("prover: setup %v: %w", cfg, err)
	}
	o.Log.Info("development setup done", "circuit", cfg, "took", time.Since(start))
	k = &Keys{Config: cfg, CCS: ccs, PK: pk, VK: vk, CircuitHash: hash, Dev: true}
	stage("write")
	if err := k.write(kd); err != nil {
		return nil, err
	}
	return k, nil
}

// Load reads keys from a key directory and checks that they were made for
// ccs (whose hash is hash). It returns ErrNoKeys if the directory holds no
// keys and ErrKeyMismatch if they belong to another circuit.
func Load(kd string, cfg circuit.Config, ccs constraint.ConstraintSystem, hash [32]byte, stage func(string)) (*Keys, error) {
	raw, err := os.ReadFile(filepath.Join(kd, "meta.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoKeys
	}
	if err != nil {
		return nil, fmt.Errorf("prover: reading key metadata: %w", err)
	}
	var m keyMeta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("prover: key metadata %s: %w", kd, err)
	}
	if m.CircuitHash != hex.EncodeToString(hash[:]) {
		return nil, fmt.Errorf("%w: %s holds keys for circuit %s (hash %s), want %v (hash %x)", ErrKeyMismatch, kd, m.Circuit, m.CircuitHash, cfg, hash)
	}
	if stage != nil {
		stage("load")
	}
	pk := groth16.NewProvingKey(ecc.BN254)
	vk := groth16.NewVerifyingKey(ecc.BN254)
	if err := readFile(filepath.Join(kd, "pk.bin"), func(r io.Reader) error { _, err := pk.UnsafeReadFrom(r); return err }); err != nil {
		return nil, err
	}
	if err := readFile(filepath.Join(kd, "vk.bin"), func(r io.Reader) error { _, err := vk.ReadFrom(r); return err }); err != nil {
		return nil, err
	}
	return &Keys{Config: cfg, CCS: ccs, PK: pk, VK: vk, CircuitHash: hash, Dev: m.Dev}, nil
}

func readFile(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("prover: %w", err)
	}
	defer f.Close()
	if err := read(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return fmt.Errorf("prover: reading %s: %w", path, err)
	}
	return nil
}

// write stores the keys atomically: into a temporary directory renamed
// into place, so a crash never leaves half-written keys behind.
func (k *Keys) write(kd string) error {
	if err := os.MkdirAll(filepath.Dir(kd), 0o755); err != nil {
		return fmt.Errorf("prover: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(kd), ".keys-*")
	if err != nil {
		return fmt.Errorf("prover: %w", err)
	}
	defer os.RemoveAll(tmp)
	write := func(name string, w func(io.Writer) error) error {
		f, err := os.Create(filepath.Join(tmp, name))
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := w(bw); err != nil {
			f.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	meta, err := json.MarshalIndent(keyMeta{Circuit: k.Config.String(), CircuitHash: hex.EncodeToString(k.CircuitHash[:]),
		Constraints: k.CCS.GetNbConstraints(), Dev: k.Dev, Created: time.Now().UTC()}, "", "  ")
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		w    func(io.Writer) error
	}{
		{"pk.bin", func(w io.Writer) error { _, err := k.PK.WriteRawTo(w); return err }},
		{"vk.bin", func(w io.Writer) error { _, err := k.VK.WriteRawTo(w); return err }},
		{"Verifier.sol", k.ExportVerifier},
		{"meta.json", func(w io.Writer) error { _, err := w.Write(meta); return err }},
	} {
		if err := write(f.name, f.w); err != nil {
			return fmt.Errorf("prover: writing %s: %w", f.name, err)
		}
	}
	_ = os.RemoveAll(kd)
	if err := os.Rename(tmp, kd); err != nil {
		return fmt.Errorf("prover: %w", err)
	}
	return nil
}

// ExportVerifier writes the Solidity verifier of the verifying key
// (gnark's ExportSolidity), with the pragma the settlement contracts use.
func (k *Keys) ExportVerifier(w io.Writer) error {
	return k.VK.ExportSolidity(w, solidity.WithPragmaVersion("^0.8.20"))
}
