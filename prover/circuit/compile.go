package circuit

import (
	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// Compile compiles the batch circuit of cfg to an R1CS over BN254.
func Compile(cfg Config) (constraint.ConstraintSystem, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
}

// Cost returns the R1CS constraints of one slot and the fixed cost of a
// batch at the given depth. Four slots carry exactly one SHA-256 block of
// pubdata, so the per-slot figure is measured over four slots and includes
// the slot's share of the public-input hash.
func Cost(depth int) (perSlot, perBatch int, err error) {
	count := func(n int) (int, error) {
		ccs, err := Compile(Config{Slots: n, Depth: depth, ChainID: 1})
		if err != nil {
			return 0, err
		}
		return ccs.GetNbConstraints(), nil
	}
	four, err := count(4)
	if err != nil {
		return 0, 0, err
	}
	eight, err := count(8)
	if err != nil {
		return 0, 0, err
	}
	perSlot = (eight - four) / 4
	return perSlot, four - 4*perSlot, nil
}
