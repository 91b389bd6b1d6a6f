//go:build !unix

package prover

import "time"

// processCPUTime is not available on this platform; benchmarks then report 0.
func processCPUTime() time.Duration { return 0 }
