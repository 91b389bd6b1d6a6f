//go:build purego || !amd64

package asm

// ifma is false: this build has no assembly kernels.
const ifma = false

// haveAsm is false: this build has no assembly.
const haveAsm = false

// The stand-ins below keep the dispatching code identical across builds; they are unreachable
// because ifma is false.

func mulVec(z, x, y *[5][8]uint64, n int)            { panic("asm: no assembly in this build") }
func sqrVec(z, x *[5][8]uint64, n int)               { panic("asm: no assembly in this build") }
func addVec(z, x, y *[5][8]uint64, n int)            { panic("asm: no assembly in this build") }
func subVec(z, x, y *[5][8]uint64, n int)            { panic("asm: no assembly in this build") }
func frMulVec(z, x, y *[5][8]uint64, n int)          { panic("asm: no assembly in this build") }
func frSqrVec(z, x *[5][8]uint64, n int)             { panic("asm: no assembly in this build") }
func frAddVec(z, x, y *[5][8]uint64, n int)          { panic("asm: no assembly in this build") }
func frSubVec(z, x, y *[5][8]uint64, n int)          { panic("asm: no assembly in this build") }
func prefixMulVec(acc, d *[5][8]uint64, n int)       { panic("asm: no assembly in this build") }
func backMulVec(inv, acc, d, t *[5][8]uint64, n int) { panic("asm: no assembly in this build") }
func prefetch(addr uintptr)                          { panic("asm: no assembly in this build") }

func affineAddVec(x1, y1, x2, y2, inv *[5][8]uint64, n int) {
	panic("asm: no assembly in this build")
}
