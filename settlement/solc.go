package settlement

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// Artifact is a compiled contract.
type Artifact struct {
	Name string
	ABI  abi.ABI
	// ABIJSON is the ABI as solc wrote it.
	ABIJSON []byte
	Bin     []byte
}

// ContractsDir returns the directory of the Solidity sources, package.json
// and compile.js: $VELOX_CONTRACTS_DIR if set, else settlement/contracts of
// the source tree this package was built from.
func ContractsDir() string {
	if d := os.Getenv("VELOX_CONTRACTS_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "contracts")
}

var npmMu sync.Mutex

// EnsureSolc makes sure the solc npm package pinned by dir/package-lock.json
// is installed, running `npm ci` in dir when dir/node_modules/solc is
// missing. It returns an error wrapping ErrNoSolc when node or npm is not
// installed or the install fails.
func EnsureSolc(ctx context.Context, dir string) error {
	npmMu.Lock()
	defer npmMu.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "solc", "package.json")); err == nil {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("%w: npm not found (install node.js): %v", ErrNoSolc, err)
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--prefix", dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: npm ci in %s: %v\n%s", ErrNoSolc, dir, err, out.String())
	}
	return nil
}

// Compile compiles the Solidity files with the pinned solc (ContractsDir's
// compile.js, installing solc first if needed) and returns every contract
// with code, by name.
func Compile(ctx context.Context, files ...string) (map[string]*Artifact, error) {
	dir := ContractsDir()
	if err := EnsureSolc(ctx, dir); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("%w: node not found: %v", ErrNoSolc, err)
	}
	out, err := os.MkdirTemp("", "velox-solc-")
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	defer os.RemoveAll(out)
	args := append([]string{filepath.Join(dir, "compile.js"), "--out", out}, files...)
	cmd := exec.CommandContext(ctx, "node", args...)
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %v\n%s", ErrCompile, err, msg.String())
	}
	return readArtifacts(out)
}

// readArtifacts reads every <Name>.abi/<Name>.bin pair of dir.
func readArtifacts(dir string) (map[string]*Artifact, error) {
	abis, err := filepath.Glob(filepath.Join(dir, "*.abi"))
	if err != nil {
		return nil, err
	}
	res := make(map[string]*Artifact)
	for _, f := range abis {
		name := strings.TrimSuffix(filepath.Base(f), ".abi")
		a, err := LoadArtifact(dir, name)
		if err != nil {
			return nil, err
		}
		res[name] = a
	}
	return res, nil
}

// LoadArtifact reads dir/<name>.abi and dir/<name>.bin.
func LoadArtifact(dir, name string) (*Artifact, error) {
	rawABI, err := os.ReadFile(filepath.Join(dir, name+".abi"))
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	rawBin, err := os.ReadFile(filepath.Join(dir, name+".bin"))
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	parsed, err := abi.JSON(bytes.NewReader(rawABI))
	if err != nil {
		return nil, fmt.Errorf("%w: %s ABI: %v", ErrCompile, name, err)
	}
	bin, err := hex.DecodeString(strings.TrimSpace(string(rawBin)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s bytecode: %v", ErrCompile, name, err)
	}
	var check json.RawMessage
	if err := json.Unmarshal(rawABI, &check); err != nil {
		return nil, fmt.Errorf("%w: %s ABI: %v", ErrCompile, name, err)
	}
	return &Artifact{Name: name, ABI: parsed, ABIJSON: rawABI, Bin: bin}, nil
}
