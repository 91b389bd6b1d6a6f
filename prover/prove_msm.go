package prover

import (
	"runtime"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/veloxlabs/velox/accel"
)

// msmBackend is the seam through which Prove computes multi-scalar multiplications
// Σ scalars[i]·points[i]; both functions have gnark-crypto MultiExp semantics (equal lengths,
// scalars in regular Montgomery form).
type msmBackend struct {
	g1 func(points []bn254.G1Affine, scalars []fr.Element) (bn254.G1Jac, error)
	g2 func(points []bn254.G2Affine, scalars []fr.Element) (bn254.G2Jac, error)
}

// msm is the backend Prove uses.
var msm = accelMSM

// accelMSM runs package accel's multi-scalar multiplications (Pippenger with signed digits,
// on the kernels of accel.Selected()).
var accelMSM = msmBackend{g1: accel.MultiExpG1, g2: accel.MultiExpG2}

// gnarkMSM runs gnark-crypto's MultiExp on all cores.
var gnarkMSM = msmBackend{
	g1: func(points []bn254.G1Affine, scalars []fr.Element) (bn254.G1Jac, error) {
		var r bn254.G1Jac
		_, err := r.MultiExp(points, scalars, ecc.MultiExpConfig{NbTasks: runtime.GOMAXPROCS(0)})
		return r, err
	},
	g2: func(points []bn254.G2Affine, scalars []fr.Element) (bn254.G2Jac, error) {
		var r bn254.G2Jac
		_, err := r.MultiExp(points, scalars, ecc.MultiExpConfig{NbTasks: runtime.GOMAXPROCS(0)})
		return r, err
	},
}
