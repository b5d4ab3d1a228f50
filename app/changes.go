package app

import (
	gosync "sync"
	"time"
)

// ChangeKind says what the UI should redraw.
type ChangeKind uint8

const (
	// InboxChanged: the inbox (order, unread counts, previews, presence).
	InboxChanged ChangeKind = iota + 1
	// ConversationChanged: messages or receipts of Change.Conversation.
	ConversationChanged
	// DirectoryChanged: the roster or a contact's presence.
	DirectoryChanged
	// ConnectionChanged: Client.Connection() has a new value.
	ConnectionChanged
	// Locked: the Client locked itself (idle, background, on demand); show
	// the unlock screen and drop every view model.
	Locked
	// Unlocked: the store is open again; reload the views.
	Unlocked
	// SignedOut: the Client is finished (sign-out or wipe); Changes closes.
	SignedOut
	// PolicyChanged: the org policy in force changed (Client.Policy).
	PolicyChanged
	// RolesChanged: the on-call schedule changed (Client.Roles).
	RolesChanged
	// AlertsChanged: an urgent alert opened, repeated or ended
	// (Client.Alerts).
	AlertsChanged
	// DNDChanged: do-not-disturb went on or off, here or on another of the
	// user's devices (Client.DND).
	DNDChanged
	// LockedWaiting: a message arrived while locked, or the unlock took
	// what waited (Client.LockedBanner).
	LockedWaiting
)

func (k ChangeKind) String() string {
	switch k {
	case InboxChanged:
		return "inbox"
	case ConversationChanged:
		return "conversation"
	case DirectoryChanged:
		return "directory"
	case ConnectionChanged:
		return "connection"
	case Locked:
		return "locked"
	case Unlocked:
		return "unlocked"
	case SignedOut:
		return "signed out"
	case PolicyChanged:
		return "policy"
	case RolesChanged:
		return "roles"
	case AlertsChanged:
		return "alerts"
	case DNDChanged:
		return "do not disturb"
	case LockedWaiting:
		return "locked waiting"
	}
	return "unknown"
}

// Change is one thing for the UI to redraw; it carries no data (read the view
// models for it), so coalescing loses nothing.
type Change struct {
	Kind         ChangeKind
	Conversation string // for ConversationChanged
}

// coalesceWindow is the least time between two deliveries of the same change.
const coalesceWindow = 100 * time.Millisecond

// catchUpWindow is the least time between deliveries while only catch-up is
// arriving (pushBulk): each delivery reloads the inbox (and the open
// conversation) from the store, which a catch-up of 10,000 messages would
// otherwise do up to ten times a second for no one's benefit. Anything else
// pushed meanwhile (a live message, the connection coming online, the
// user's own send) cuts the wait back to coalesceWindow. A variable only so
// a test can make it long (TestLiveMessageAfterCatchUpShowsAtOnce).
var catchUpWindow = 500 * time.Millisecond

// catchUpPage is the MAM page size the Session asks for (0: sync's default,
// 250). A variable only so a test can have many pages from a small archive
// (TestCatchUpReloadsInboxAFewTimesASecond).
var catchUpPage = 0

// changeQueue coalesces changes: a change already pending is not queued
// again, and pending changes are delivered in batches at most once per
// window (catchUpWindow after a batch of catch-up changes only), so a
// catch-up of 10,000 messages costs the UI a handful of redraws. It never
// blocks the producer.
type changeQueue struct {
	mu gosync.Mutex
	// pending in order; set says which are pending and whether each is
	// bulk (pushed by catch-up only).
	pending []Change
	set     map[Change]bool
	signal  chan struct{}
	// hurry: a change that is not bulk is pending; a catch-up wait ends
	// at coalesceWindow.
	hurry  chan struct{}
	out    chan Change
	done   chan struct{}
	once   gosync.Once
	window time.Duration
	slow   time.Duration
}

func newChangeQueue(window, slow time.Duration) *changeQueue {
	q := &changeQueue{set: map[Change]bool{}, signal: make(chan struct{}, 1), hurry: make(chan struct{}, 1),
		out: make(chan Change), done: make(chan struct{}), window: window, slow: slow}
	go q.pump()
	return q
}

// push queues a change the user should see at once (within window).
func (q *changeQueue) push(ch Change) { q.add(ch, false) }

// pushBulk queues a change caused by catch-up alone: it may wait for the
// slow window.
func (q *changeQueue) pushBulk(ch Change) { q.add(ch, true) }

func (q *changeQueue) add(ch Change, bulk bool) {
	q.mu.Lock()
	if ch.Kind == Locked || ch.Kind == Unlocked {
		// Only the latest of the two matters.
		opp := Change{Kind: Locked + Unlocked - ch.Kind}
		if _, ok := q.set[opp]; ok {
			delete(q.set, opp)
			for i, p := range q.pending {
				if p == opp {
					q.pending = append(q.pending[:i], q.pending[i+1:]...)
					break
				}
			}
		}
	}
	if was, ok := q.set[ch]; !ok {
		q.set[ch] = bulk
		q.pending = append(q.pending, ch)
	} else if was && !bulk {
		q.set[ch] = false
	}
	if !bulk {
		// Under mu: a batch taken after this sees the change and does not
		// wait slowly; one taken before may be cut short by it.
		select {
		case q.hurry <- struct{}{}:
		default:
		}
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *changeQueue) pump() {
	defer close(q.out)
	for {
		select {
		case <-q.signal:
		case <-q.done:
			q.drain()
			return
		}
		q.mu.Lock()
		batch := q.pending
		bulk := len(batch) > 0
		for _, b := range q.set {
			bulk = bulk && b
		}
		q.pending = nil
		q.set = map[Change]bool{}
		select {
		case <-q.hurry: // for changes in this batch
		default:
		}
		q.mu.Unlock()
		for _, ch := range batch {
			select {
			case q.out <- ch:
			case <-q.done:
				q.drain()
				return
			}
		}
		wait := q.window
		if bulk {
			wait = q.slow
		}
		if !q.wait(wait) {
			q.drain()
			return
		}
	}
}

// wait sleeps d after a delivery, or only window of it once a change that
// is not bulk is pending. It reports false when the queue closed.
func (q *changeQueue) wait(d time.Duration) bool {
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-q.hurry:
			if d <= q.window {
				continue
			}
			d = q.window
			left := d - time.Since(start)
			if left <= 0 {
				return true
			}
			t.Reset(left)
		case <-q.done:
			return false
		}
	}
}

// drain hands out what is pending when the queue closes (the final
// SignedOut), waiting briefly for a reader.
func (q *changeQueue) drain() {
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	q.mu.Unlock()
	for _, ch := range batch {
		select {
		case q.out <- ch:
		case <-time.After(time.Second):
			return
		}
	}
}

func (q *changeQueue) close() { q.once.Do(func() { close(q.done) }) }
