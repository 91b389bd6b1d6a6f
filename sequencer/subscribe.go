package sequencer

import (
	"sync"
	"sync/atomic"
)

// Subscription delivers events on C, a channel of bounded capacity. A
// subscriber that lets C fill up is dropped: C is closed and Dropped
// reports true; the sequencer never waits for a subscriber. Unsubscribe
// closes C too; both are safe to call more than once.
type Subscription[T any] struct {
	C       <-chan T
	c       chan T
	hub     *hub[T]
	dropped atomic.Bool
	once    sync.Once
}

// Dropped reports whether the subscription was closed because it fell
// behind (as opposed to Unsubscribe or shutdown).
func (s *Subscription[T]) Dropped() bool { return s.dropped.Load() }

// Unsubscribe stops delivery and closes C.
func (s *Subscription[T]) Unsubscribe() { s.hub.remove(s) }

func (s *Subscription[T]) close() { s.once.Do(func() { close(s.c) }) }

// hub fans events out to subscriptions without blocking.
type hub[T any] struct {
	mu struct {
		sync.Mutex
		// subs and closed are guarded by mu.
		subs   map[*Subscription[T]]struct{}
		closed bool
	}
}

func newHub[T any]() *hub[T] {
	h := &hub[T]{}
	h.mu.subs = map[*Subscription[T]]struct{}{}
	return h
}

func (h *hub[T]) subscribe(buffer int) *Subscription[T] {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan T, buffer)
	s := &Subscription[T]{C: c, c: c, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		s.close()
		return s
	}
	h.mu.subs[s] = struct{}{}
	return s
}

func (h *hub[T]) remove(s *Subscription[T]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.mu.subs, s)
	s.close()
}

// publish delivers evs to every subscriber that has room for all of them
// and drops the others.
func (h *hub[T]) publish(evs ...T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.mu.subs {
		if cap(s.c)-len(s.c) < len(evs) {
			s.dropped.Store(true)
			delete(h.mu.subs, s)
			s.close()
			continue
		}
		for _, e := range evs {
			s.c <- e
		}
	}
}

func (h *hub[T]) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.closed = true
	for s := range h.mu.subs {
		delete(h.mu.subs, s)
		s.close()
	}
}
