package sync

import gosync "sync"

// eventQueue is an unbounded FIFO between the read loop (which must never
// block) and the app (which may be slow to draw). The store is the source of
// truth, so events are hints; still, none is dropped.
type eventQueue struct {
	mu     gosync.Mutex
	items  []Event
	signal chan struct{}
	out    chan Event
	done   chan struct{}
	once   gosync.Once
}

func newEventQueue() *eventQueue {
	q := &eventQueue{signal: make(chan struct{}, 1), out: make(chan Event), done: make(chan struct{})}
	go q.pump()
	return q
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		var next Event
		if len(q.items) > 0 {
			next = q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
		}
		q.mu.Unlock()
		if next == nil {
			select {
			case <-q.signal:
				continue
			case <-q.done:
				return
			}
		}
		select {
		case q.out <- next:
		case <-q.done:
			return
		}
	}
}

func (q *eventQueue) close() { q.once.Do(func() { close(q.done) }) }
