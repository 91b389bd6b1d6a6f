package prover

import (
	"errors"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	groth16_bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/frontend/cs/scs"
	"github.com/consensys/gnark/std/rangecheck"

	"github.com/veloxlabs/velox/accel"
)

// chainCircuit proves knowledge of X with Y = f^N(X), f(v) = v² + i at step i. It has no
// commitments.
type chainCircuit struct {
	N int `gnark:"-"`
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
}

func (c *chainCircuit) Define(api frontend.API) error {
	v := c.X
	for i := range c.N {
		v = api.Add(api.Mul(v, v), i)
	}
	api.AssertIsEqual(v, c.Y)
	return nil
}

func chainOutput(x uint64, n int) *big.Int {
	var v, k fr.Element
	v.SetUint64(x)
	for i := range n {
		k.SetUint64(uint64(i))
		v.Square(&v).Add(&v, &k)
	}
	return v.BigInt(new(big.Int))
}

// rangeCircuit range-checks its secret inputs with gnark's std/rangecheck (which commits to
// them with a BSB22 commitment in Groth16) and proves their sum is Sum; the chain part makes
// the circuit less trivial.
type rangeCircuit struct {
	Bits int `gnark:"-"`
	X    [24]frontend.Variable
	Sum  frontend.Variable `gnark:",public"`
	Pub  frontend.Variable `gnark:",public"`
}

func (c *rangeCircuit) Define(api frontend.API) error {
	rc := rangecheck.New(api)
	sum := frontend.Variable(0)
	for _, x := range c.X {
		rc.Check(x, c.Bits)
		sum = api.Add(sum, x)
	}
	api.AssertIsEqual(sum, c.Sum)
	api.AssertIsDifferent(c.Pub, 0)
	return nil
}

type setup struct {
	ccs constraint.ConstraintSystem
	pk  groth16.ProvingKey
	vk  groth16.VerifyingKey
}

func newSetup(t testing.TB, circuit frontend.Circuit) setup {
	t.Helper()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, circuit)
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	return setup{ccs, pk, vk}
}

func newWitness(t testing.TB, assignment frontend.Circuit) (full, public witness.Witness) {
	t.Helper()
	full, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	public, err = full.Public()
	if err != nil {
		t.Fatal(err)
	}
	return full, public
}

func rangeAssignment(bits int, wrongSum bool) *rangeCircuit {
	a := &rangeCircuit{Pub: 7}
	sum := 0
	for i := range a.X {
		v := (i*7919 + 13) % (1 << bits)
		a.X[i] = v
		sum += v
	}
	if wrongSum {
		sum++
	}
	a.Sum = sum
	return a
}

func paths(t *testing.T) []accel.Path {
	var ps []accel.Path
	for _, p := range []accel.Path{accel.Generic, accel.ADX, accel.AVX512} {
		if p <= accel.Detected() {
			ps = append(ps, p)
		}
	}
	return ps
}

func TestProveVerifies(t *testing.T) {
	const n = 2500 // a 4096-row domain: the multi-strip NTT layout
	chain := newSetup(t, &chainCircuit{N: n})
	rng := newSetup(t, &rangeCircuit{Bits: 12})
	if k := len(rng.ccs.(*cs.R1CS).CommitmentInfo.CommitmentIndexes()); k == 0 {
		t.Fatal("the range-check circuit is meant to have a BSB22 commitment")
	}
	if k := len(chain.ccs.(*cs.R1CS).CommitmentInfo.CommitmentIndexes()); k != 0 {
		t.Fatal("the chain circuit is meant to have no commitment")
	}
	cases := []struct {
		name       string
		s          setup
		good, evil frontend.Circuit // evil: same public inputs but a different statement
	}{
		{"chain", chain,
			&chainCircuit{N: n, X: 3, Y: chainOutput(3, n)},
			&chainCircuit{N: n, X: 3, Y: chainOutput(4, n)}},
		{"rangecheck", rng, rangeAssignment(12, false), rangeAssignment(12, true)},
	}
	for _, c := range cases {
		full, public := newWitness(t, c.good)
		_, wrongPublic := newWitness(t, c.evil)
		for _, p := range paths(t) {
			t.Run(c.name+"/"+p.String(), func(t *testing.T) {
				defer accel.SetPath(p)()
				proof, err := Prove(c.s.ccs, c.s.pk, full)
				if err != nil {
					t.Fatal(err)
				}
				if err := groth16.Verify(proof, c.s.vk, public); err != nil {
					t.Fatalf("gnark rejects our proof: %v", err)
				}
				if err := groth16.Verify(proof, c.s.vk, wrongPublic); err == nil {
					t.Fatal("our proof verifies with a wrong public witness")
				}
				// as many BSB22 commitments as gnark's own proof (their values are randomized
				// by the circuit's hiding wire, so they differ from proof to proof)
				ref, err := groth16.Prove(c.s.ccs, c.s.pk, full)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := len(proof.(*groth16_bn254.Proof).Commitments), len(ref.(*groth16_bn254.Proof).Commitments); got != want {
					t.Fatalf("%d commitments, gnark has %d", got, want)
				}
			})
		}
	}
}

func TestProveTamperedProofFails(t *testing.T) {
	s := newSetup(t, &rangeCircuit{Bits: 12})
	full, public := newWitness(t, rangeAssignment(12, false))
	proof, err := Prove(s.ccs, s.pk, full)
	if err != nil {
		t.Fatal(err)
	}
	bp := proof.(*groth16_bn254.Proof)
	orig := *bp
	// swap in the doubled Krs: a valid curve point but a wrong proof
	bp.Krs.Add(&orig.Krs, &orig.Krs)
	if err := groth16.Verify(bp, s.vk, public); err == nil {
		t.Fatal("a proof with a tampered Krs verifies")
	}
	bp.Krs = orig.Krs
	bp.CommitmentPok.Add(&orig.CommitmentPok, &orig.Ar)
	if err := groth16.Verify(bp, s.vk, public); err == nil {
		t.Fatal("a proof with a tampered commitment proof of knowledge verifies")
	}
}

func TestProveUnsatisfied(t *testing.T) {
	const n = 40
	chain := newSetup(t, &chainCircuit{N: n})
	rng := newSetup(t, &rangeCircuit{Bits: 12})
	outOfRange := rangeAssignment(12, false)
	outOfRange.X[5] = 1 << 13
	sum := 0
	for _, x := range outOfRange.X {
		sum += x.(int)
	}
	outOfRange.Sum = sum
	for _, c := range []struct {
		name string
		s    setup
		a    frontend.Circuit
	}{
		{"chain", chain, &chainCircuit{N: n, X: 3, Y: chainOutput(4, n)}},
		{"range-sum", rng, rangeAssignment(12, true)},
		{"out-of-range", rng, outOfRange},
	} {
		full, _ := newWitness(t, c.a)
		if _, err := Prove(c.s.ccs, c.s.pk, full); !errors.Is(err, ErrUnsatisfied) {
			t.Errorf("%s: got %v, want ErrUnsatisfied", c.name, err)
		}
	}
}

func TestProveRejectsUnsupportedInput(t *testing.T) {
	const n = 10
	chain := newSetup(t, &chainCircuit{N: n})
	other := newSetup(t, &chainCircuit{N: 2 * n})
	full, _ := newWitness(t, &chainCircuit{N: n, X: 3, Y: chainOutput(3, n)})

	plonkCCS, err := frontend.Compile(ecc.BN254.ScalarField(), scs.NewBuilder, &chainCircuit{N: n})
	if err != nil {
		t.Fatal(err)
	}
	blsCCS, err := frontend.Compile(ecc.BLS12_381.ScalarField(), r1cs.NewBuilder, &chainCircuit{N: n})
	if err != nil {
		t.Fatal(err)
	}
	blsPK, _, err := groth16.Setup(blsCCS)
	if err != nil {
		t.Fatal(err)
	}
	blsWitness, err := frontend.NewWitness(&chainCircuit{N: n, X: 3, Y: 5}, ecc.BLS12_381.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ccs  constraint.ConstraintSystem
		pk   groth16.ProvingKey
		w    witness.Witness
		want error
	}{
		{"plonk-system", plonkCCS, chain.pk, full, ErrUnsupported},
		{"bls-system", blsCCS, chain.pk, full, ErrUnsupported},
		{"bls-key", chain.ccs, blsPK, full, ErrUnsupported},
		{"bls-witness", chain.ccs, chain.pk, blsWitness, ErrUnsupported},
		{"nil-witness", chain.ccs, chain.pk, nil, ErrUnsupported},
		{"nil-system", nil, chain.pk, full, ErrUnsupported},
		{"other-circuit-key", chain.ccs, other.pk, full, ErrProvingKey},
	} {
		if _, err := Prove(c.ccs, c.pk, c.w); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestProverReuseAndFixedBaseTables(t *testing.T) {
	s := newSetup(t, &rangeCircuit{Bits: 12})
	full, public := newWitness(t, rangeAssignment(12, false))
	_, wrongPublic := newWitness(t, rangeAssignment(12, true))
	for _, c := range []struct {
		name string
		cfg  ProverConfig
	}{
		{"plain", ProverConfig{}},
		{"fixed-base", ProverConfig{FixedBaseTableBytes: 64 << 20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pr, err := NewProver(s.ccs, s.pk, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tables := pr.fixedA != nil && pr.fixedKrs != nil; tables != (c.cfg.FixedBaseTableBytes > 0) {
				t.Fatalf("fixed-base tables built: %v", tables)
			}
			if tableB2 := pr.fixedB2 != nil; tableB2 != (c.cfg.FixedBaseTableBytes > 0) {
				t.Fatalf("fixed-base table of [B]₂ built: %v", tableB2)
			}
			// concurrent proofs with one Prover
			const k = 3
			errs := make(chan error, k)
			for range k {
				go func() {
					proof, err := pr.Prove(full)
					if err == nil {
						err = groth16.Verify(proof, s.vk, public)
					}
					if err == nil && groth16.Verify(proof, s.vk, wrongPublic) == nil {
						err = errors.New("proof verifies with a wrong public witness")
					}
					errs <- err
				}()
			}
			for range k {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
