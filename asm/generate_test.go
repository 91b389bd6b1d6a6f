package asm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate rebuilds the avo generator, runs it with the go:generate arguments in a
// temporary directory and requires byte-identical output to the checked-in files.
func TestGeneratedUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fp52gen")
	build := exec.Command(goTool, "build", "-o", bin, "./internal/gen/fp52")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building generator: %v\n%s", err, out)
	}
	// Same arguments as the go:generate line in doc.go.
	gen := exec.Command(bin, "-out", "fp52_amd64.s", "-stubs", "fp52_stubs_amd64.go", "-pkg", "asm")
	gen.Dir = dir
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("running generator: %v\n%s", err, out)
	}
	for _, name := range []string{"fp52_amd64.s", "fp52_stubs_amd64.go"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./asm/...", name)
		}
	}
}
