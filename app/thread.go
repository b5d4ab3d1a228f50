package app

import (
	"sync"
	"time"
)

// Thread is what one screen has drawn of one conversation, so that each
// refresh can say which rows are new and whether they can simply be
// appended. Rows are ordered by time, not by id, so "newer than the last
// id" cannot tell new from known; and a fresh row older than the newest
// drawn (a catch-up filling a gap) belongs in the middle, so the screen
// must redraw from the store instead of appending.
type Thread struct {
	conv string

	mu     sync.Mutex
	drawn  map[MessageID]bool
	newest time.Time // the latest timestamp drawn
}

// NewThread starts following conv with the rows the screen draws first.
func NewThread(conv string, rows []MessageRow) *Thread {
	t := &Thread{conv: conv, drawn: make(map[MessageID]bool, len(rows))}
	t.Redrawn(rows)
	return t
}

// Conversation is the conversation followed ("" for a nil Thread).
func (t *Thread) Conversation() string {
	if t == nil {
		return ""
	}
	return t.conv
}

// Fresh records the rows of a refresh as drawn and returns those not drawn
// before. gap is true when the first of them is older than the newest row
// drawn: the screen redraws the conversation (then calls Redrawn) instead
// of appending.
func (t *Thread) Fresh(rows []MessageRow) (fresh []MessageRow, gap bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range rows {
		if !t.drawn[r.ID] {
			fresh = append(fresh, r)
			t.drawn[r.ID] = true
		}
	}
	gap = len(fresh) > 0 && fresh[0].Timestamp.Before(t.newest)
	if len(fresh) > 0 && fresh[len(fresh)-1].Timestamp.After(t.newest) {
		t.newest = fresh[len(fresh)-1].Timestamp
	}
	return fresh, gap
}

// Redrawn replaces what was drawn with rows (the conversation was drawn
// again from the store).
func (t *Thread) Redrawn(rows []MessageRow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.drawn)
	for _, r := range rows {
		t.drawn[r.ID] = true
		if r.Timestamp.After(t.newest) {
			t.newest = r.Timestamp
		}
	}
}

// Prepended records older rows drawn above the others (an earlier page).
func (t *Thread) Prepended(rows []MessageRow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range rows {
		t.drawn[r.ID] = true
	}
}
