// Package depcheck guards the package dependency direction of DESIGN.md §10,
// as go-ethereum's check_baddeps does: a package may only import the Velox
// packages its layer allows.
package depcheck

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/veloxlabs/velox"

// allowed maps a layer to the layers it may depend on (transitively).
// Packages below a layer's folder belong to it; imports within a layer are
// free. internal/* helpers belong to the layer "internal" and may be used
// by tests only.
var allowed = map[string][]string{
	"ledger":         {},
	"state":          {"ledger"},
	"executor":       {"state", "ledger"},
	"sequencer":      {"executor", "state", "ledger"},
	"prover/circuit": {"ledger"},
	"asm":            {},
	"accel":          {"asm"},
	"prover":         {"accel", "asm", "prover/circuit", "ledger"},
	"settlement":     {"prover", "accel", "asm", "prover/circuit", "ledger"},
	"node":           {"client", "sequencer", "executor", "state", "ledger", "settlement", "prover", "prover/circuit", "accel", "asm"},
	"bench":          {"internal", "client", "node", "sequencer", "executor", "state", "ledger", "settlement", "prover", "prover/circuit", "accel", "asm"},
	"cmd":            {"internal", "client", "bench", "node", "sequencer", "executor", "state", "ledger", "settlement", "prover", "prover/circuit", "accel", "asm"},
	"internal":       {"executor", "state", "ledger"},
	// client is the wallets' JSON-RPC client: it speaks the protocol and
	// nothing else.
	"client": {"ledger"},
}

// layer returns the layer of a package path relative to the module.
func layer(rel string) string {
	if rel == "prover/circuit" || strings.HasPrefix(rel, "prover/circuit/") {
		return "prover/circuit"
	}
	top, _, _ := strings.Cut(rel, "/")
	return top
}

func TestDependencyDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if rel == "" {
			continue
		}
		from := layer(rel)
		ok, known := allowed[from]
		if !known {
			t.Errorf("%s: layer %q has no rule in DESIGN.md §10; add one here", p.ImportPath, from)
			continue
		}
		n++
		for _, d := range p.Deps {
			if !strings.HasPrefix(d, module+"/") {
				continue
			}
			to := layer(strings.TrimPrefix(d, module+"/"))
			if to == from || contains(ok, to) {
				continue
			}
			t.Errorf("%s depends on %s: layer %s may not depend on %s", p.ImportPath, d, from, to)
		}
	}
	if n == 0 {
		t.Fatal("go list found no packages")
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
