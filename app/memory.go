package app

import (
	"runtime/debug"
	gosync "sync"
	"time"
)

// historySettle is how long after the last older page a history load counts
// as done: a user scrolling back asks for a page every few hundred
// milliseconds, so two seconds without one means the reading has settled.
const historySettle = 2 * time.Second

// heapReturn gives freed heap back to the OS once a burst that freed a lot
// has settled. Paging back through a 10,000-row conversation frees tens of
// MB (each page's decoded messages and rows, the screens' remeasuring) that
// the Go runtime would otherwise keep from the OS for minutes
// (docs/BENCHMARKS.md, ## app). debug.FreeOSMemory runs a full GC, so it
// runs once after the burst, never per page. It has its own lock.
type heapReturn struct {
	clock Clock
	free  func() // debug.FreeOSMemory; tests count the calls

	mu    gosync.Mutex
	timer Timer
}

// settleAfter (re)arms the return: it runs once, d after the last call.
func (h *heapReturn) settleAfter(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.timer != nil {
		h.timer.Stop()
	}
	var t Timer
	t = h.clock.AfterFunc(d, func() {
		h.mu.Lock()
		if h.timer != t {
			h.mu.Unlock()
			return // re-armed since: a later page came
		}
		h.timer = nil
		free := h.free
		h.mu.Unlock()
		if free == nil {
			free = debug.FreeOSMemory
		}
		free()
	})
	h.timer = t
}
