package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// The thread: the virtualised list of message rows, filled (SetMessages,
// Append, Update), scrolled (to the newest, to the first unread) and
// reporting what was shown (noteShown, flushShown → MarkShown). A row's
// drawing is messagerow.go; older pages loadolder.go.

// SetMessages replaces every message (oldest first). The list is rebuilt with
// all heights set in bulk before it is shown, and scrolled to the newest.
func (v *ConversationView) SetMessages(rows []app.MessageRow, hasOlder bool) {
	v.rows, v.metricsFor = rows, 0
	v.hasOlder = hasOlder
	v.reindex()
	v.firstUnread = -1
	if n := v.info.Unread; n > 0 {
		for i := len(rows) - 1; i >= 0; i-- {
			if !rows[i].Outgoing {
				n--
				if n == 0 {
					v.firstUnread = i
					break
				}
			}
		}
	}
	if v.firstUnread >= 0 {
		v.jump.SetText(fmt.Sprintf("%d unread", v.info.Unread))
		v.jump.Show()
	} else {
		v.jump.Hide()
	}
	v.shownIdx, v.shownSent = -1, -1
	v.scrollEnd, v.keepAt, v.scrollTo = true, -1, -1
	v.syncAwaiting()
	v.invalidate()
}

// Append adds new messages at the bottom. A few rows get their heights set one
// by one; a burst (catch-up) rebuilds the list in bulk.
func (v *ConversationView) Append(rows ...app.MessageRow) {
	atEnd := v.atEnd()
	start := len(v.rows)
	v.rows = append(v.rows, rows...)
	for i := start; i < len(v.rows); i++ {
		v.index[v.rows[i].ID] = i
	}
	v.syncAwaiting()
	if v.list == nil || len(rows) > 20 {
		v.scrollEnd = v.scrollEnd || atEnd
		v.invalidate()
		return
	}
	g := v.geometry()
	for i := start; i < len(v.rows); i++ {
		m := v.measure(&g, v.rows[i], v.bubbleMax)
		v.metrics = append(v.metrics, m)
		v.list.SetItemHeight(i+v.offset(), m.h)
	}
	v.list.Refresh()
	if atEnd {
		v.place(v.list.ScrollToBottom)
	}
}

// Update redraws one message whose receipt (or text) changed.
func (v *ConversationView) Update(row app.MessageRow) {
	i, ok := v.index[row.ID]
	if !ok {
		return
	}
	v.rows[i] = row
	v.syncAwaiting()
	if v.list == nil || i >= len(v.metrics) {
		return
	}
	g := v.geometry()
	m := v.measure(&g, row, v.bubbleMax)
	if m != v.metrics[i] {
		// A row that grows or shrinks (a correction, a recall, a reaction)
		// can move the list (a shorter last row pulls it up): the view's
		// move, not the user's reading, or an unattended open conversation
		// would defer auto-lock.
		v.metrics[i] = m
		v.place(func() { v.list.SetItemHeight(i+v.offset(), m.h) })
	}
	v.list.RefreshItem(i + v.offset())
}

// JumpToFirstUnread scrolls to the oldest unread message.
func (v *ConversationView) JumpToFirstUnread() {
	if v.firstUnread >= 0 && v.list != nil {
		v.list.ScrollTo(v.firstUnread + v.offset())
	}
	v.jump.Hide()
}

func (v *ConversationView) reindex() {
	v.index = make(map[app.MessageID]int, len(v.rows))
	for i, r := range v.rows {
		v.index[r.ID] = i
	}
}

// invalidate drops the list so the next layout builds a new one with heights
// set in bulk (never row by row on a shown list: that is quadratic).
func (v *ConversationView) invalidate() {
	v.bubbleMax = 0
	v.Refresh()
}

func (v *ConversationView) atEnd() bool {
	if v.list == nil {
		return true
	}
	content := float32(0)
	for _, m := range v.metrics {
		content += m.h + v.geo.pad
	}
	return v.list.GetScrollOffset()+v.list.Size().Height >= content-4*v.geo.pad
}

func (v *ConversationView) offset() int {
	if v.hasOlder {
		return 1
	}
	return 0
}

// ensureList (re)builds the list when the rows or the width changed: all
// heights are computed and set before the new list is shown.
func (v *ConversationView) ensureList(width float32) {
	bm := bubbleMaxFor(width)
	if v.list != nil && bm == v.bubbleMax {
		return
	}
	if v.list != nil && v.bubbleMax != 0 && !v.scrollEnd && v.keepAt < 0 {
		v.keepAt = v.list.GetScrollOffset() // a resize: stay roughly where we were
	}
	v.bubbleMax = bm
	g := v.geometry()
	if v.metricsFor != bm || len(v.metrics) != len(v.rows) {
		v.metrics = make([]rowMetric, len(v.rows))
		for i, r := range v.rows {
			v.metrics[i] = v.measure(&g, r, bm)
		}
	}
	v.metricsFor = 0
	v.ready = false
	l := widget.NewList(func() int { return len(v.rows) + v.offset() }, v.createRow, v.updateRow)
	l.HideSeparators = true
	// A message is not a thing to select: a click in the thread would paint
	// its whole row in the selection colour. Its actions are its ⋮ and tick.
	l.OnSelected = func(id widget.ListItemID) { l.Unselect(id) }
	off := v.offset()
	if off == 1 {
		l.SetItemHeight(0, g.loaderH)
	}
	for i, m := range v.metrics {
		l.SetItemHeight(i+off, m.h)
	}
	v.list = l
	v.listBox.Objects = []fyne.CanvasObject{l}
	l.MinSize() // creates the renderer, so scrolling works before the first paint
}

func (v *ConversationView) afterLayout() {
	if v.list == nil {
		return
	}
	v.place(func() {
		switch {
		case v.scrollTo >= 0 && v.scrollTo < len(v.rows):
			v.list.ScrollTo(v.scrollTo + v.offset())
		case v.scrollEnd:
			v.list.ScrollToBottom()
		case v.keepAt >= 0:
			v.list.ScrollToOffset(v.keepAt)
		}
	})
	v.scrollEnd, v.keepAt, v.scrollTo = false, -1, -1
	v.ready = true
}

// place runs a move of the list the view makes itself (opening at the
// newest message, following new ones, keeping the place over an older
// page): not the user's reading.
func (v *ConversationView) place(move func()) {
	v.placing = true
	move()
	v.placing = false
	v.placed, v.placedH = v.list.GetScrollOffset(), v.list.Size().Height
}

func (v *ConversationView) createRow() fyne.CanvasObject {
	l := &messageLayout{v: v}
	l.day = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	l.day.TextSize = theme.CaptionTextSize()
	l.day.TextStyle.Bold = true
	l.dayBg = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	l.dayBg.CornerRadius = theme.InputRadiusSize()
	l.bg = canvas.NewRectangle(color.Transparent)
	l.bg.CornerRadius = 2 * theme.InputRadiusSize()
	l.sender = canvas.NewText("", theme.Color(theme.ColorNamePrimary))
	l.sender.TextSize = theme.CaptionTextSize()
	l.sender.TextStyle.Bold = true
	l.body = widget.NewRichText()
	l.body.Wrapping = fyne.TextWrapWord
	l.when = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	l.when.TextSize = theme.CaptionTextSize()
	l.tick = newTapIcon(nil, nil)
	l.loader = widget.NewButtonWithIcon("Load older messages", theme.HistoryIcon(), nil)
	l.loader.Importance = widget.LowImportance
	l.att = newAttachmentBox(v)
	l.clin = newRowClinical()
	l.reply = newRowReplies()
	l.tags = newRowPatient()
	objs := append([]fyne.CanvasObject{l.dayBg, l.day, l.bg, l.sender, l.body, l.when, l.tick, l.loader, l.att}, l.clin.objects()...)
	objs = append(objs, l.reply.objects()...)
	return container.New(l, append(objs, l.tags.objects()...)...)
}

func (v *ConversationView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	c := o.(*fyne.Container)
	l := c.Layout.(*messageLayout)
	if v.ready && !v.placing {
		off, h := v.list.GetScrollOffset(), v.list.Size().Height
		if off != v.placed && h == v.placedH {
			v.actions.Reading(v.info.ID) // a row came into view by the user's scrolling
		}
		v.placed, v.placedH = off, h

	}
	if v.hasOlder && id == 0 {
		l.bind(-1)
		l.Layout(c.Objects, c.Size())
		if v.ready && len(v.rows) > 0 && v.olderAsked != v.rows[0].ID {
			v.requestOlder()
		}
		return
	}
	i := id - v.offset()
	if i < 0 || i >= len(v.rows) || i >= len(v.metrics) {
		return
	}
	l.bind(i)
	l.Layout(c.Objects, c.Size())
	if !v.rows[i].Outgoing && v.ready {
		v.noteShown(i)
	}
	if i == v.firstUnread && v.ready {
		v.jump.Hide()
	}
}

// noteShown records that row i is on screen; MarkShown follows shortly after,
// once per burst of scrolling.
func (v *ConversationView) noteShown(i int) {
	v.shownMu.Lock()
	defer v.shownMu.Unlock()
	if i <= v.shownIdx {
		return
	}
	v.shownIdx = i
	if !v.shownPending {
		v.shownPending = true
		time.AfterFunc(300*time.Millisecond, func() { doUI(v.flushShown) })
	}
}

func (v *ConversationView) flushShown() {
	v.shownMu.Lock()
	v.shownPending = false
	i := v.shownIdx
	if i <= v.shownSent || i >= len(v.rows) {
		v.shownMu.Unlock()
		return
	}
	v.shownSent = i
	id := v.rows[i].ID
	v.shownMu.Unlock()
	conv := v.info.ID
	go v.actions.MarkShown(conv, id)
}
