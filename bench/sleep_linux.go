package bench

import (
	"syscall"
	"time"
)

// preciseFrom is the shortest wait sleepUntil spends in nanosleep.
const preciseFrom = 300 * time.Microsecond

// sleepUntil waits until t. time.Sleep wakes through the Go netpoller,
// whose epoll timeout counts whole milliseconds when no other work is due:
// on an idle generator a sub-millisecond wait ended up to 1 ms late (p50
// 0.56 ms at 500 tx/s), and that lateness counts in every latency, which
// runs from the schedule. So a wait of preciseFrom or more sleeps on the
// calling thread (nanosleep; p50 lateness 0.11 ms at 500 tx/s). Shorter
// ones, at rates of a few thousand per second and up, keep time.Sleep:
// there the generator is busy, and a thread sleep per request doubled its
// CPU at 5,000 tx/s, CPU the node shares.
func sleepUntil(t time.Time) {
	d := time.Until(t)
	if d < preciseFrom {
		time.Sleep(d)
		return
	}
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
