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

func nttDIF2(x *[5][8]uint64, m int, tw *[2][5]uint64, n int) {
	panic("asm: no assembly in this build")
}

func nttDIF2Unit(x *[5][8]uint64, n int) { panic("asm: no assembly in this build") }

func nttDIF4(x *[5][8]uint64, q int, tw *[2][5]uint64, n int) {
	panic("asm: no assembly in this build")
}

func nttDIF4J0(x *[5][8]uint64, q int, b *[2][5]uint64, n int) {
	panic("asm: no assembly in this build")
}

func nttLoad(dst *[5][8]uint64, src *[4]uint64, off, idx *int, lane int, n int) {
	panic("asm: no assembly in this build")
}

func nttLoadMul(dst *[5][8]uint64, src, tab *[4]uint64, off, idx *int, lane int, n int) {
	panic("asm: no assembly in this build")
}

func nttLoadScale(dst *[5][8]uint64, src *[4]uint64, off *int, lane int, n int, v, step *[5][8]uint64) {
	panic("asm: no assembly in this build")
}

func nttStore(src *[5][8]uint64, dst *[4]uint64, off, idx *int, lane int, n int) {
	panic("asm: no assembly in this build")
}

func nttStoreMul(src *[5][8]uint64, dst, tab *[4]uint64, off, idx *int, lane int, n int) {
	panic("asm: no assembly in this build")
}
