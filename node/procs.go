package node

import (
	"os"
	"runtime"
)

// DefaultExtraProcs is how many Go scheduler slots (Ps) `velox node` runs
// above the number of CPUs Go would use.
//
// Every mini-block ends in a synced Pebble commit: an fdatasync of about
// 0.6 ms on this project's reference machine, about 1,300 times a second
// at 5,000 transactions per second. A goroutine in a blocking system call
// keeps its P until the runtime's monitor thread takes the P back, and
// the monitor only does so once it sees the same call in progress at two
// of its ticks; when nothing needs taking back for a while its ticks
// stretch to 10 ms, so a sync of under a millisecond keeps its P to the
// end. With as many Ps as CPUs that leaves a CPU idle while the sync
// runs, and runnable goroutines wait: measured with an execution trace at
// 5,000 transactions per second on 2 CPUs, Ps sat in fdatasync for about
// a quarter of the time, and after a garbage collection hundreds of
// goroutines queued behind them. One P more lets the other CPUs keep
// running Go code while the sync blocks; compute-bound work (the prover)
// loses nothing measurable, as the runtime time-slices its goroutines
// over the CPUs. The README's measured table has the A/B.
const DefaultExtraProcs = 1

// AddProcs raises GOMAXPROCS by extra above its current value and
// returns a function that restores it. It does nothing (and returns a
// no-op) when extra is not positive or when the operator set GOMAXPROCS
// in the environment: an explicit setting wins. Setting GOMAXPROCS turns
// off the runtime's own updates of it (to a changed CPU quota), so call
// it once, at start.
func AddProcs(extra int) (restore func(), procs int) {
	procs = runtime.GOMAXPROCS(0)
	if extra <= 0 || os.Getenv("GOMAXPROCS") != "" {
		return func() {}, procs
	}
	prev := runtime.GOMAXPROCS(procs + extra)
	return func() { runtime.GOMAXPROCS(prev) }, procs + extra
}
