package circuit

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/constraint/solver"
)

func init() { solver.RegisterHint(bytesHint) }

// bytesHint writes the len(outputs) big-endian bytes of inputs[0].
func bytesHint(_ *big.Int, inputs, outputs []*big.Int) error {
	if len(inputs) != 1 {
		return fmt.Errorf("bytesHint: %d inputs", len(inputs))
	}
	v := new(big.Int).Set(inputs[0])
	mask := big.NewInt(255)
	for i := len(outputs) - 1; i >= 0; i-- {
		outputs[i].And(v, mask)
		v.Rsh(v, 8)
	}
	return nil
}
