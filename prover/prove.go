// Package prover computes Groth16 proofs over BN254 for circuits compiled by gnark, with the
// NTT and multi-scalar multiplications of package accel.
package prover

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/hash_to_field"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	groth16_bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/constraint/solver"
	fcs "github.com/consensys/gnark/frontend/cs"

	"github.com/veloxlabs/velox/accel"
)

// Errors returned by Prove. A witness that does not satisfy the circuit yields the solver's
// error wrapped in ErrUnsatisfied.
var (
	// ErrUnsupported is returned for a constraint system, proving key or witness that is not
	// a BN254 R1CS, a BN254 Groth16 proving key or a BN254 witness.
	ErrUnsupported = errors.New("prover: unsupported input")
	// ErrProvingKey is returned when the proving key does not fit the constraint system.
	ErrProvingKey = errors.New("prover: proving key does not match the constraint system")
	// ErrUnsatisfied is returned when the witness does not satisfy the constraint system.
	ErrUnsatisfied = errors.New("prover: witness does not satisfy the constraint system")
)

// Prove computes a Groth16 proof that fullWitness (public and secret parts) satisfies ccs,
// with the proving key pk that gnark's groth16.Setup (or its MPC ceremony) made for ccs. The
// proof verifies with gnark's groth16.Verify and the matching verifying key; circuits that use
// BSB22 commitments (gnark's range-check and lookup gadgets) are supported. opts are gnark's
// prover options (solver options, hash-to-field function for the commitments).
//
// ccs must be a *cs.R1CS and pk a *groth16_bn254.ProvingKey, and the returned proof is a
// *groth16_bn254.Proof. Prove returns an error wrapping ErrUnsupported for other curves or
// constraint systems, ErrProvingKey when pk does not fit ccs, and ErrUnsatisfied when the
// witness does not satisfy the circuit. It uses all GOMAXPROCS cores. To prove repeatedly
// with one key, a Prover saves the per-key preparation.
func Prove(ccs constraint.ConstraintSystem, pk groth16.ProvingKey, fullWitness witness.Witness, opts ...backend.ProverOption) (groth16.Proof, error) {
	pr, err := NewProver(ccs, pk, ProverConfig{})
	if err != nil {
		return nil, err
	}
	return pr.Prove(fullWitness, opts...)
}

// Prover proves statements of one constraint system with one proving key. It holds what a
// proof needs beyond the key and can compute once: the NTT domain, the concatenated bases of
// the Krs multi-exponentiation and, if configured, precomputed multiples of the key's bases
// (G1 and G2). A Prover is safe for concurrent use; it keeps references to ccs and pk, which
// must not change while it is in use.
type Prover struct {
	r1cs   *cs.R1CS
	pk     *groth16_bn254.ProvingKey
	info   constraint.Groth16Commitments
	domain *accel.Domain
	// dropped lists, sorted and without repeats, the wires without a [K] point: the private
	// committed wires and the commitment wires.
	dropped []int
	// krsBases is [K] ‖ [Z] ‖ [B]₁ (see (*proving).run for why one MSM).
	krsBases []bn254.G1Affine
	// fixedA and fixedKrs are the fixed-base tables of [A] and krsBases, or nil.
	fixedA, fixedKrs *accel.FixedBaseG1
	// fixedB2 is the fixed-base table of [B]₂, or nil.
	fixedB2 *accel.FixedBaseG2
}

// ProverConfig configures NewProver. The zero value is a valid configuration.
type ProverConfig struct {
	// FixedBaseTableBytes, when positive, makes NewProver precompute fixed-base tables
	// (accel.FixedBaseG1, accel.FixedBaseG2) for the multi-exponentiations of the key, using at
	// most about that much memory for them, shared in proportion to the size of the bases (a
	// G2 base counts twice). Building them takes time (tens of seconds for a 2^16-constraint
	// key on two cores) and makes each proof's MSMs cheaper; it pays off for a prover that
	// makes many proofs with one key.
	FixedBaseTableBytes int64
}

// NewProver checks that ccs and pk are a BN254 R1CS and a Groth16 proving key made for it and
// prepares a Prover. It returns an error wrapping ErrUnsupported or ErrProvingKey otherwise
// (see Prove), or the error of building the fixed-base tables.
func NewProver(ccs constraint.ConstraintSystem, pk groth16.ProvingKey, cfg ProverConfig) (*Prover, error) {
	r1cs, ok := ccs.(*cs.R1CS)
	if !ok || r1cs == nil {
		return nil, fmt.Errorf("%w: constraint system %T, want a BN254 R1CS (*cs.R1CS)", ErrUnsupported, ccs)
	}
	bpk, ok := pk.(*groth16_bn254.ProvingKey)
	if !ok || bpk == nil {
		return nil, fmt.Errorf("%w: proving key %T, want a BN254 Groth16 key", ErrUnsupported, pk)
	}
	info, ok := r1cs.CommitmentInfo.(constraint.Groth16Commitments)
	if !ok {
		return nil, fmt.Errorf("%w: commitment info %T", ErrUnsupported, r1cs.CommitmentInfo)
	}
	dropped := droppedWires(info)
	if err := checkKey(r1cs, bpk, info, len(dropped)); err != nil {
		return nil, err
	}
	domain, err := domainFor(&bpk.Domain)
	if err != nil {
		return nil, err
	}
	pr := &Prover{r1cs: r1cs, pk: bpk, info: info, domain: domain, dropped: dropped}
	nK, nZ, nB := len(bpk.G1.K), len(bpk.G1.Z), len(bpk.G1.B)
	pr.krsBases = make([]bn254.G1Affine, 0, nK+nZ+nB)
	pr.krsBases = append(append(append(pr.krsBases, bpk.G1.K...), bpk.G1.Z...), bpk.G1.B...)
	if budget := cfg.FixedBaseTableBytes; budget > 0 {
		// Split the budget in proportion to the size of the bases: a G2 point is twice a G1
		// point, and so are its table entries.
		nA, nKrs, nB2 := int64(len(bpk.G1.A)), int64(len(pr.krsBases)), 2*int64(len(bpk.G2.B))
		total := max(nA+nKrs+nB2, 1)
		budgetA, budgetB2 := budget*nA/total, budget*nB2/total
		if pr.fixedA, err = accel.NewFixedBaseG1(bpk.G1.A, budgetA); err != nil {
			return nil, fmt.Errorf("prover: fixed-base table of [A]: %w", err)
		}
		if pr.fixedKrs, err = accel.NewFixedBaseG1(pr.krsBases, budget-budgetA-budgetB2); err != nil {
			return nil, fmt.Errorf("prover: fixed-base table of [K], [Z], [B]: %w", err)
		}
		// A budget too small for the G2 share leaves the G2 MSM without a table, as before
		// G2 tables existed, rather than failing.
		if pr.fixedB2, err = accel.NewFixedBaseG2(bpk.G2.B, budgetB2); errors.Is(err, accel.ErrBudget) {
			pr.fixedB2 = nil
		} else if err != nil {
			return nil, fmt.Errorf("prover: fixed-base table of [B]₂: %w", err)
		}
	}
	return pr, nil
}

// Prove computes a proof for fullWitness, as the function Prove does.
func (pr *Prover) Prove(fullWitness witness.Witness, opts ...backend.ProverOption) (groth16.Proof, error) {
	if fullWitness == nil {
		return nil, fmt.Errorf("%w: nil witness", ErrUnsupported)
	}
	if _, ok := fullWitness.Vector().(fr.Vector); !ok {
		return nil, fmt.Errorf("%w: witness of type %T, want BN254 (fr.Vector)", ErrUnsupported, fullWitness.Vector())
	}
	cfg, err := backend.NewProverConfig(opts...)
	if err != nil {
		return nil, fmt.Errorf("prover: options: %w", err)
	}
	if cfg.HashToFieldFn == nil {
		cfg.HashToFieldFn = hash_to_field.New([]byte(constraint.CommitmentDst))
	}
	p := &proving{Prover: pr, cfg: &cfg}
	return p.run(fullWitness)
}

// checkKey rejects a proving key whose sizes do not fit the constraint system, so that a
// mismatch is an error rather than a panic.
func checkKey(r1cs *cs.R1CS, pk *groth16_bn254.ProvingKey, info constraint.Groth16Commitments, nbDropped int) error {
	nbWires := r1cs.GetNbInternalVariables() + r1cs.GetNbPublicVariables() + r1cs.GetNbSecretVariables()
	n := pk.Domain.Cardinality
	switch {
	case n == 0 || n&(n-1) != 0 || n < uint64(r1cs.GetNbConstraints()):
		return fmt.Errorf("%w: domain of %d for %d constraints", ErrProvingKey, n, r1cs.GetNbConstraints())
	case len(pk.InfinityA) != nbWires || len(pk.InfinityB) != nbWires:
		return fmt.Errorf("%w: infinity masks for %d/%d wires, circuit has %d", ErrProvingKey, len(pk.InfinityA), len(pk.InfinityB), nbWires)
	case uint64(len(pk.G1.A))+pk.NbInfinityA != uint64(nbWires) || uint64(len(pk.G1.B))+pk.NbInfinityB != uint64(nbWires) ||
		len(pk.G2.B) != len(pk.G1.B):
		return fmt.Errorf("%w: [A], [B] sizes", ErrProvingKey)
	case uint64(len(pk.G1.Z)) != n-1:
		return fmt.Errorf("%w: %d [Z] points for a domain of %d", ErrProvingKey, len(pk.G1.Z), n)
	case len(pk.G1.K) != nbWires-r1cs.GetNbPublicVariables()-nbDropped:
		return fmt.Errorf("%w: %d [K] points", ErrProvingKey, len(pk.G1.K))
	case len(pk.CommitmentKeys) != len(info):
		return fmt.Errorf("%w: %d commitment keys for %d commitments", ErrProvingKey, len(pk.CommitmentKeys), len(info))
	}
	if countTrue(pk.InfinityA) != pk.NbInfinityA || countTrue(pk.InfinityB) != pk.NbInfinityB {
		return fmt.Errorf("%w: infinity counts", ErrProvingKey)
	}
	for _, c := range info {
		if c.CommitmentIndex < 0 || c.CommitmentIndex >= nbWires {
			return fmt.Errorf("%w: commitment wire %d", ErrProvingKey, c.CommitmentIndex)
		}
	}
	return nil
}

func countTrue(b []bool) uint64 {
	var k uint64
	for _, x := range b {
		if x {
			k++
		}
	}
	return k
}

// proving holds the state of one Prove call.
type proving struct {
	*Prover
	cfg *backend.ProverConfig

	proof *groth16_bn254.Proof
	// privateCommitted[i] are the values of the private wires committed by commitment i, set
	// by the commitment hint during solving.
	privateCommitted [][]fr.Element
	hashMu           sync.Mutex // serializes use of cfg.HashToFieldFn by the hint
}

func (p *proving) run(fullWitness witness.Witness) (*groth16_bn254.Proof, error) {
	p.proof = &groth16_bn254.Proof{Commitments: make([]bn254.G1Affine, len(p.info))}
	p.privateCommitted = make([][]fr.Element, len(p.info))

	solverOpts := append(slices.Clip(p.cfg.SolverOpts),
		solver.OverrideHint(solver.GetHintID(fcs.Bsb22CommitmentComputePlaceholder), p.commitHint))
	sol, err := p.r1cs.Solve(fullWitness, solverOpts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsatisfied, err)
	}
	solution, ok := sol.(*cs.R1CSSolution)
	if !ok {
		return nil, fmt.Errorf("%w: solution %T", ErrUnsupported, sol)
	}
	wires := []fr.Element(solution.W)
	if len(wires) != len(p.pk.InfinityA) {
		return nil, fmt.Errorf("%w: %d wires, key has %d", ErrProvingKey, len(wires), len(p.pk.InfinityA))
	}
	n := int(p.pk.Domain.Cardinality)
	if len(solution.A) > n || len(solution.B) > n || len(solution.C) > n {
		return nil, fmt.Errorf("%w: %d constraints for a domain of %d", ErrProvingKey, len(solution.A), n)
	}
	var r, s fr.Element
	if _, err := r.SetRandom(); err != nil {
		return nil, fmt.Errorf("prover: randomness: %w", err)
	}
	if _, err := s.SetRandom(); err != nil {
		return nil, fmt.Errorf("prover: randomness: %w", err)
	}
	if err := p.commitmentPoK(wires); err != nil {
		return nil, err
	}

	// With Ar = [α] + Σ wᵢ[Aᵢ] + r[δ] and Bs = [β] + Σ wᵢ[Bᵢ] + s[δ] (G1 and G2), gnark's
	//	Krs = Σ wᵢ[Kᵢ] + Σ hᵢ[Zᵢ] + s·Ar + r·Bs₁ − rs[δ]
	// equals Σ wᵢ[Kᵢ] + Σ hᵢ[Zᵢ] + Σ r·wᵢ[Bᵢ]₁ + s·Ar + r[β]₁: the G1 [B] MSM folds into one
	// MSM with [K] and [Z], which is cheaper than three (a larger MSM affords wider windows),
	// and the [δ] terms cancel.
	//
	// Two lanes run side by side, each using all cores in its kernels: the G2 MSM of Bs then
	// the MSM of Ar; and the quotient H then the merged MSM of Krs.
	var (
		wg         sync.WaitGroup
		errK, errB error
		m, ar      bn254.G1Jac
		bs         bn254.G2Jac
	)
	wB := filterInfinity(wires, p.pk.InfinityB, len(p.pk.G1.B))
	wg.Go(func() {
		errB = func() error {
			var err error
			if bs, err = p.msmG2(wB); err != nil {
				return fmt.Errorf("prover: MSM G2 [B]: %w", err)
			}
			wA := filterInfinity(wires, p.pk.InfinityA, len(p.pk.G1.A))
			if ar, err = p.msmG1(p.fixedA, p.pk.G1.A, wA); err != nil {
				return fmt.Errorf("prover: MSM [A]: %w", err)
			}
			return nil
		}()
	})
	wg.Go(func() {
		errK = func() error {
			h, err := quotient(p.domain, solution.A, solution.B, solution.C)
			if err != nil {
				return err
			}
			solution.A, solution.B, solution.C = nil, nil, nil
			wK := p.privateWires(wires)
			scalars := make([]fr.Element, 0, len(p.krsBases))
			scalars = append(append(scalars, wK...), h[:len(p.pk.G1.Z)]...)
			for i := range wB {
				var x fr.Element
				x.Mul(&wB[i], &r)
				scalars = append(scalars, x)
			}
			if len(scalars) != len(p.krsBases) {
				return fmt.Errorf("%w: %d scalars for %d [K], [Z], [B] bases", ErrProvingKey, len(scalars), len(p.krsBases))
			}
			if m, err = p.msmG1(p.fixedKrs, p.krsBases, scalars); err != nil {
				return fmt.Errorf("prover: MSM [K], [Z], [B]: %w", err)
			}
			return nil
		}()
	})
	wg.Wait()
	if err := errors.Join(errK, errB); err != nil {
		return nil, err
	}

	var sb, rb big.Int
	s.BigInt(&sb)
	r.BigInt(&rb)
	var t bn254.G1Jac

	t.FromAffine(&p.pk.G1.Delta)
	t.ScalarMultiplication(&t, &rb)
	ar.AddMixed(&p.pk.G1.Alpha)
	ar.AddAssign(&t)

	var sDelta2 bn254.G2Jac
	sDelta2.FromAffine(&p.pk.G2.Delta)
	sDelta2.ScalarMultiplication(&sDelta2, &sb)
	bs.AddMixed(&p.pk.G2.Beta)
	bs.AddAssign(&sDelta2)

	krs := m
	t.ScalarMultiplication(&ar, &sb)
	krs.AddAssign(&t)
	t.FromAffine(&p.pk.G1.Beta)
	t.ScalarMultiplication(&t, &rb)
	krs.AddAssign(&t)

	p.proof.Ar.FromJacobian(&ar)
	p.proof.Bs.FromJacobian(&bs)
	p.proof.Krs.FromJacobian(&krs)
	return p.proof, nil
}

// msmG1 returns Σ scalars[i]·bases[i] with the fixed-base table when there is one.
func (p *proving) msmG1(table *accel.FixedBaseG1, bases []bn254.G1Affine, scalars []fr.Element) (bn254.G1Jac, error) {
	if table != nil {
		return table.MultiExp(scalars)
	}
	return msm.g1(bases, scalars)
}

// msmG2 returns Σ scalars[i]·[B]₂[i] with the fixed-base table when there is one.
func (p *proving) msmG2(scalars []fr.Element) (bn254.G2Jac, error) {
	if p.fixedB2 != nil {
		return p.fixedB2.MultiExp(scalars)
	}
	return msm.g2(p.pk.G2.B, scalars)
}

// commitHint replaces gnark's BSB22 commitment placeholder hint: it commits to the private
// committed values of commitment i and returns the hash of the commitment and the public
// committed values, which becomes the commitment wire. in[0] is i, followed by the public and
// commitment committed values, then the private committed values.
func (p *proving) commitHint(_ *big.Int, in []*big.Int, out []*big.Int) error {
	if len(in) == 0 || len(out) != 1 || !in[0].IsInt64() {
		return fmt.Errorf("%w: malformed commitment hint call", ErrUnsupported)
	}
	i := int(in[0].Int64())
	if i < 0 || i >= len(p.info) {
		return fmt.Errorf("%w: commitment %d of %d", ErrUnsupported, i, len(p.info))
	}
	in = in[1:]
	c := &p.info[i]
	nbPublic := len(c.PublicAndCommitmentCommitted)
	if len(in) != nbPublic+len(c.PrivateCommitted) {
		return fmt.Errorf("%w: commitment %d has %d inputs, want %d", ErrUnsupported, i, len(in), nbPublic+len(c.PrivateCommitted))
	}
	public, private := in[:nbPublic], in[nbPublic:]
	values := make([]fr.Element, len(private))
	for j, v := range private {
		values[j].SetBigInt(v)
	}
	p.privateCommitted[i] = values
	commitment, err := p.pk.CommitmentKeys[i].Commit(values)
	if err != nil {
		return fmt.Errorf("prover: commitment %d: %w", i, err)
	}
	p.proof.Commitments[i] = commitment

	p.hashMu.Lock()
	defer p.hashMu.Unlock()
	hf := p.cfg.HashToFieldFn
	hf.Write(constraint.SerializeCommitment(commitment.Marshal(), public, (fr.Bits-1)/8+1))
	digest := hf.Sum(nil)
	hf.Reset()
	var res fr.Element
	res.SetBytes(digest[:min(fr.Bytes, hf.Size())])
	res.BigInt(out[0])
	return nil
}

// commitmentPoK computes the folded proof of knowledge of the commitments' openings, with the
// folding challenge derived from the commitment wires as the verifier does.
func (p *proving) commitmentPoK(wires []fr.Element) error {
	if len(p.info) == 0 {
		return nil
	}
	poks := make([]bn254.G1Affine, len(p.info))
	serialized := make([]byte, 0, fr.Bytes*len(p.info))
	for i := range p.info {
		var err error
		if poks[i], err = p.pk.CommitmentKeys[i].ProveKnowledge(p.privateCommitted[i]); err != nil {
			return fmt.Errorf("prover: commitment %d proof of knowledge: %w", i, err)
		}
		b := wires[p.info[i].CommitmentIndex].Bytes()
		serialized = append(serialized, b[:]...)
	}
	challenge, err := fr.Hash(serialized, []byte("G16-BSB22"), 1)
	if err != nil {
		return fmt.Errorf("prover: commitment challenge: %w", err)
	}
	if _, err := p.proof.CommitmentPok.Fold(poks, challenge[0], ecc.MultiExpConfig{NbTasks: 1}); err != nil {
		return fmt.Errorf("prover: folding commitment proofs: %w", err)
	}
	return nil
}

// droppedWires returns the private committed wires and the commitment wires, sorted and
// without repeats.
func droppedWires(info constraint.Groth16Commitments) []int {
	var drop []int
	for _, c := range info {
		drop = append(drop, c.PrivateCommitted...)
		drop = append(drop, c.CommitmentIndex)
	}
	slices.Sort(drop)
	return slices.Compact(drop)
}

// privateWires returns the wires that pair with the [K] points: the non-public wires without
// the dropped ones, in wire order.
func (p *proving) privateWires(wires []fr.Element) []fr.Element {
	nbPublic := p.r1cs.GetNbPublicVariables()
	if len(p.dropped) == 0 {
		return wires[nbPublic:]
	}
	out := make([]fr.Element, 0, len(wires)-nbPublic)
	k := 0
	for i := nbPublic; i < len(wires); i++ {
		for k < len(p.dropped) && p.dropped[k] < i {
			k++
		}
		if k < len(p.dropped) && p.dropped[k] == i {
			continue
		}
		out = append(out, wires[i])
	}
	return out
}

// filterInfinity returns the wires whose proving-key point is not the point at infinity
// (infinity[i] false); size is their number.
func filterInfinity(wires []fr.Element, infinity []bool, size int) []fr.Element {
	out := make([]fr.Element, 0, size)
	for i, inf := range infinity {
		if !inf {
			out = append(out, wires[i])
		}
	}
	return out
}

// quotient pads a, b, c to the domain size and returns H in bit-reversed order (see
// accel.Domain.Groth16Quotient).
func quotient(d *accel.Domain, a, b, c []fr.Element) ([]fr.Element, error) {
	n := d.Cardinality()
	pad := func(x []fr.Element) []fr.Element {
		if m := len(x); cap(x) >= n {
			x = x[:n]
			clear(x[m:])
			return x
		}
		return append(x, make([]fr.Element, n-len(x))...)
	}
	a, b, c = pad(a), pad(b), pad(c)
	if err := d.Groth16Quotient(a, b, c); err != nil {
		return nil, fmt.Errorf("prover: quotient: %w", err)
	}
	return a, nil
}

// domains caches accel domains by cardinality: their twiddle tables are reused by every proof
// with the same key.
var domains sync.Map // uint64 → *accel.Domain

// domainFor returns the accel domain of the proving key's cardinality, checking that it uses
// the key's generator and coset shift.
func domainFor(kd *fft.Domain) (*accel.Domain, error) {
	var d *accel.Domain
	if v, ok := domains.Load(kd.Cardinality); ok {
		d = v.(*accel.Domain)
	} else {
		var err error
		if d, err = accel.NewDomain(kd.Cardinality); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProvingKey, err)
		}
		v, _ := domains.LoadOrStore(kd.Cardinality, d)
		d = v.(*accel.Domain)
	}
	g, shift := d.Generator(), d.Shift()
	if uint64(d.Cardinality()) != kd.Cardinality || !g.Equal(&kd.Generator) || !shift.Equal(&kd.FrMultiplicativeGen) {
		return nil, fmt.Errorf("%w: key domain has another generator or coset shift", ErrProvingKey)
	}
	return d, nil
}
