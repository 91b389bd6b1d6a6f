// Package accel holds the prover's hot kernels: multi-scalar multiplication (MSM) over BN254
// G1 and G2, and number-theoretic transforms over the BN254 scalar field, each with kernels
// for several CPU feature levels.
//
// # Kernel paths
//
// At init the package detects the CPU (github.com/klauspost/cpuid/v2) and selects a Path:
// Generic, ADX (ADX+BMI2) or AVX512 (plus AVX-512F/VL/DQ and IFMA). The environment variable
// VELOX_ACCEL=generic|adx|avx512 forces a path (clamped to what the CPU supports, with a
// warning); SetPath does the same in-process for tests and benchmarks. LogSelection reports the
// choice.
//
// # MSM
//
// MultiExpG1 and MultiExpG2 compute Σ sᵢ·Pᵢ with the semantics of gnark-crypto's MultiExp.
// G1 uses Pippenger's algorithm with signed c-bit digits and batch-affine buckets: additions
// to distinct buckets are collected into batches that share one field inversion (Montgomery's
// trick), several windows share one bucket set (and so their inversions), and window groups
// run on all cores. On the AVX512 path the batches are added eight at a time by the AVX-512
// IFMA kernels of package asm, on radix-52 coordinates; on the Generic and ADX paths by
// gnark-crypto's field arithmetic (which uses its own ADX assembly when the CPU has it, so
// these two paths run the same code). Doublings (P+P), cancellations (P+(−P)) and the point
// at infinity never reach a batch: they are handled when an addition is scheduled. Additions
// to a bucket already in the batch wait in a queue; when too many wait (few distinct buckets,
// as in the top window or with repeated scalars) they go to per-bucket Jacobian accumulators.
// G2 uses the same batch-affine buckets over Fp2 (eight lanes at a time on the
// AVX512 path), and bucket sums are reduced in segments with batch-affine
// additions. FixedBaseG1 and FixedBaseG2 serve bases that never change.
//
// FixedBaseG1 serves bases that never change (a proving key): it precomputes 2^(c·w)·P for
// every window w within a memory budget, so one bucket pass covers every window.
package accel
