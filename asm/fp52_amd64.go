//go:build amd64 && !purego

package asm

import "github.com/klauspost/cpuid/v2"

// ifma reports whether the assembly kernels can run on this CPU.
var ifma = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512DQ, cpuid.AVX512IFMA)

// haveAsm reports whether this build has the assembly (baseline amd64 instructions such as
// PREFETCHT0 need no CPU check).
const haveAsm = true
