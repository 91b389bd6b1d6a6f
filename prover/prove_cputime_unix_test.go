//go:build unix

package prover

import (
	"syscall"
	"time"
)

// processCPUTime returns the user and system CPU time this process has used. Benchmarks report
// it per operation next to wall time, because the machines they run on are shared and wall
// time then measures the neighbours as much as the code.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
