//go:build amd64 && !purego

package accel

// avx512Available reports whether this build contains the AVX-512 IFMA kernels.
const avx512Available = true
