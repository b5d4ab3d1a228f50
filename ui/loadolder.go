package ui

import (
	"rounds/app"
)

// Loading older messages: when the thread is scrolled near its top the view
// asks the app for the page before its first row (LoadOlder), and the page
// arrives through Prepend without moving what the user is reading.

// Prepend adds an older page above the first message (the answer to
// LoadOlder), keeping the messages the user is looking at in place.
func (v *ConversationView) Prepend(older []app.MessageRow, hasMore bool) {
	if len(older) == 0 {
		v.hasOlder = hasMore
		v.invalidate()
		return
	}
	offset := float32(0)
	var measured []rowMetric
	if v.list != nil {
		offset = v.list.GetScrollOffset()
		g := v.geometry()
		measured = make([]rowMetric, len(older))
		for i, r := range older {
			measured[i] = v.measure(&g, r, v.bubbleMax)
			offset += measured[i].h + g.pad
		}
		if v.hasOlder && !hasMore {
			offset -= g.loaderH + g.pad
		} else if !v.hasOlder && hasMore {
			offset += g.loaderH + g.pad
		}
	}
	v.prependRows(older)
	if measured != nil && len(v.metrics) == len(v.rows)-len(older) {
		v.metrics = append(measured, v.metrics...)
		v.metricsFor = v.bubbleMax
	}
	v.hasOlder = hasMore
	v.reindex()
	if v.firstUnread >= 0 {
		v.firstUnread += len(older)
	}
	v.shownMu.Lock()
	if v.shownIdx >= 0 {
		v.shownIdx += len(older)
		v.shownSent += len(older)
	}
	v.shownMu.Unlock()
	v.scrollEnd, v.keepAt = false, offset
	v.syncAwaiting()
	v.invalidate()
}

// prependRows puts older before rows, in front's spare room when it has
// enough, else in a new array with room for half as many rows again: each
// row is copied a bounded number of times however far back the user scrolls.
func (v *ConversationView) prependRows(older []app.MessageRow) {
	n := len(older)
	start := len(v.front) - len(v.rows)
	if v.front == nil || start < n || len(v.rows) == 0 || &v.front[start] != &v.rows[0] {
		size := len(v.rows) + n
		v.front = make([]app.MessageRow, size+max(size/2, n))
		start = len(v.front) - len(v.rows)
		copy(v.front[start:], v.rows)
	}
	copy(v.front[start-n:start], older)
	v.rows = v.front[start-n : start+len(v.rows) : start+len(v.rows)]
}

func (v *ConversationView) requestOlder() {
	if len(v.rows) == 0 {
		return
	}
	before := v.rows[0].ID
	v.olderAsked = before
	conv := v.info.ID
	go v.actions.LoadOlder(conv, before)
}
