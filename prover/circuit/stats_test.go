package circuit

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	tedwards "github.com/consensys/gnark-crypto/ecc/twistededwards"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/std/algebra/native/twistededwards"
	p2hash "github.com/consensys/gnark/std/hash/poseidon2"
	"github.com/consensys/gnark/std/permutation/poseidon2"
	"github.com/consensys/gnark/std/rangecheck"
	"github.com/consensys/gnark/std/signature/eddsa"

	"github.com/veloxlabs/velox/ledger"
)

var updateStats = flag.Bool("update-stats", false, "rewrite testdata/constraints.json with the measured counts")

const statsFile = "testdata/constraints.json"

// stats are the R1CS constraint counts of the batch circuit at depth 32.
type stats struct {
	Depth int `json:"depth"`
	// PerSlot is the cost of one slot (one 16-byte chunk).
	PerSlot int `json:"per_slot"`
	// PerBatch is the fixed cost of a batch beyond its slots.
	PerBatch int `json:"per_batch"`
	// PerOperation is the cost of each operation type: its chunks × PerSlot.
	PerOperation map[string]int `json:"per_operation"`
	// Slot breaks PerSlot down by purpose.
	Slot struct {
		Signature  int `json:"signature"`    // EdDSA check, message and key hashes
		MerkleRoot int `json:"merkle_paths"` // two leaf updates: 4 paths + 4 leaf hashes
		Pubdata    int `json:"pubdata_sha"`  // SHA-256 of the slot's 16 bytes (a quarter block)
		Other      int `json:"other"`        // ranges, packing, rules, pubdata layout
	} `json:"slot"`
}

type sigCircuit struct {
	Msg    [2]frontend.Variable
	PubKey eddsa.PublicKey
	Sig    eddsa.Signature
}

func (c *sigCircuit) Define(api frontend.API) error {
	perm, err := poseidon2.NewPoseidon2(api)
	if err != nil {
		return err
	}
	curve, err := twistededwards.NewEdCurve(api, tedwards.BN254)
	if err != nil {
		return err
	}
	g := &gadgets{api: api, perm: perm}
	msg := g.hash(c.Msg[:]...)
	api.AssertIsEqual(g.hash(c.PubKey.A.X, c.PubKey.A.Y), 1)
	h, err := p2hash.New(api)
	if err != nil {
		return err
	}
	v, err := eddsa.IsValid(curve, c.Sig, msg, c.PubKey, h)
	api.AssertIsEqual(v, 1)
	return err
}

type merkleCircuit struct {
	Root     frontend.Variable
	Index    [2]frontend.Variable
	Before   [2]Account
	After    [2]Account
	Siblings [2][ledger.MaxDepth]frontend.Variable
}

func (c *merkleCircuit) Define(api frontend.API) error {
	perm, err := poseidon2.NewPoseidon2(api)
	if err != nil {
		return err
	}
	g := &gadgets{api: api, perm: perm, rc: rangecheck.New(api), depth: ledger.MaxDepth}
	root := c.Root
	for i := range c.Index {
		root = g.update(root, g.indexBits(c.Index[i]), c.Siblings[i][:], c.Before[i], c.After[i])
	}
	api.AssertIsEqual(root, 0)
	return nil
}

func measureStats(t *testing.T) stats {
	var s stats
	s.Depth = ledger.MaxDepth
	count := func(c frontend.Circuit) int {
		t.Helper()
		ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			t.Fatal(err)
		}
		return ccs.GetNbConstraints()
	}
	var err error
	if s.PerSlot, s.PerBatch, err = Cost(ledger.MaxDepth); err != nil {
		t.Fatal(err)
	}
	s.PerOperation = map[string]int{}
	for _, op := range opOfFlag {
		s.PerOperation[op.String()] = op.Chunks() * s.PerSlot
	}
	s.Slot.Signature = count(&sigCircuit{})
	s.Slot.MerkleRoot = count(&merkleCircuit{})
	s.Slot.Pubdata = count(&shaCountCircuit{Msg: make([]frontend.Variable, 64*4-9)}) / 16 // 4 blocks → per 16 bytes
	s.Slot.Other = s.PerSlot - s.Slot.Signature - s.Slot.MerkleRoot - s.Slot.Pubdata
	return s
}

type shaCountCircuit struct{ Msg []frontend.Variable }

func (c *shaCountCircuit) Define(api frontend.API) error {
	d := sha256Bytes(api, c.Msg)
	api.AssertIsEqual(d[0], 0)
	return nil
}

// TestConstraintBudget fails when the circuit grows beyond the checked-in
// counts (regenerate with -update-stats after a deliberate change) or
// beyond the 60,000 constraints per Transfer slot budget at depth 32.
func TestConstraintBudget(t *testing.T) {
	got := measureStats(t)
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("measured:\n%s", js)
	if got.PerOperation[ledger.OpTransfer.String()] > 60_000 {
		t.Errorf("a Transfer slot costs %d constraints at depth 32, budget 60,000", got.PerSlot)
	}
	if *updateStats {
		if err := os.MkdirAll(filepath.Dir(statsFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(statsFile, append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(statsFile)
	if err != nil {
		t.Fatalf("%v (run go test -run ConstraintBudget -update-stats ./prover/circuit/)", err)
	}
	var want stats
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if got.PerSlot > want.PerSlot || got.PerBatch > want.PerBatch {
		t.Errorf("constraints grew: per slot %d (recorded %d), per batch %d (recorded %d)", got.PerSlot, want.PerSlot, got.PerBatch, want.PerBatch)
	}
	if got.PerSlot < want.PerSlot || got.PerBatch < want.PerBatch {
		t.Logf("constraints shrank: update %s with -update-stats to lock the gain in", statsFile)
	}
}
