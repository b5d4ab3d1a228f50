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

// changeQueue coalesces changes: a change already pending is not queued
// again, and pending changes are delivered in batches at most once per
// window, so a catch-up of 10,000 messages costs the UI a handful of redraws.
// It never blocks the producer.
type changeQueue struct {
	mu      gosync.Mutex
	pending []Change
	set     map[Change]bool
	signal  chan struct{}
	out     chan Change
	done    chan struct{}
	once    gosync.Once
	window  time.Duration
}

func newChangeQueue(window time.Duration) *changeQueue {
	q := &changeQueue{set: map[Change]bool{}, signal: make(chan struct{}, 1),
		out: make(chan Change), done: make(chan struct{}), window: window}
	go q.pump()
	return q
}

func (q *changeQueue) push(ch Change) {
	q.mu.Lock()
	if ch.Kind == Locked || ch.Kind == Unlocked {
		// Only the latest of the two matters.
		opp := Change{Kind: Locked + Unlocked - ch.Kind}
		if q.set[opp] {
			delete(q.set, opp)
			for i, p := range q.pending {
				if p == opp {
					q.pending = append(q.pending[:i], q.pending[i+1:]...)
					break
				}
			}
		}
	}
	if !q.set[ch] {
		q.set[ch] = true
		q.pending = append(q.pending, ch)
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
		q.pending = nil
		q.set = map[Change]bool{}
		q.mu.Unlock()
		for _, ch := range batch {
			select {
			case q.out <- ch:
			case <-q.done:
				q.drain()
				return
			}
		}
		select {
		case <-time.After(q.window):
		case <-q.done:
			q.drain()
			return
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
