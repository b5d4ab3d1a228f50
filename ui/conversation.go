package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// ConversationInfo is the header of a conversation and what the view needs to
// know about it beyond its messages.
type ConversationInfo struct {
	ID       string
	Title    string
	IsRoom   bool
	Presence string
	// Unread is how many of the newest incoming messages are unread, for
	// "jump to first unread".
	Unread int
	// HasOlder says the store or archive holds messages before the first row.
	HasOlder bool
	// Unavailable is app's sentence for a room that could not be rejoined
	// (app.ConversationRow.Unavailable), drawn under the header; "" otherwise.
	Unavailable string
	// Avatar and Role stand for a chat's peer (app.ConversationRow): the
	// header shows who this is, not only an address. Empty for rooms.
	Avatar app.Avatar
	Role   string
	// Muted: routine messages here do not notify; the header says so with
	// the bell-off mark and in words (mute.go).
	Muted bool
}

// ConversationView draws one conversation: a virtualised list of message
// bubbles with precomputed heights, and a composer.
type ConversationView struct {
	widget.BaseWidget

	info    ConversationInfo
	face    *avatar // the peer's avatar in the header (hidden in rooms)
	faceBox *fyne.Container
	lead    *fyne.Container // back and face; hidden when both are
	actions ConversationActions
	// OnBack, when set, shows a back button (phone layout).
	OnBack func()

	rows     []app.MessageRow
	index    map[app.MessageID]int
	metrics  []rowMetric
	hasOlder bool
	// front is rows' backing array with room before rows[0] for the older
	// pages (Prepend copies only the page); metricsFor is the bubble width
	// Prepend measured the older page at, so the next list keeps every
	// height instead of measuring the whole history again (0: measure).
	front      []app.MessageRow
	metricsFor float32

	geo       geometry
	bubbleMax float32 // the bubble width the metrics were computed for
	list      *widget.List
	listBox   *fyne.Container
	scrollEnd bool    // scroll to the newest message after the next layout
	keepAt    float32 // or restore this offset, when >= 0
	scrollTo  int     // or scroll to this row, when >= 0 (ScrollToMessage, search.go)

	title    *widget.Label
	muted    *widget.Icon // the bell-off mark beside the name when muted
	mutedBox fyne.CanvasObject
	subtitle *widget.Label
	dot      *canvas.Circle
	dotBox   *fyne.Container   // the dot at its size, centred on the title line
	subShift *canvas.Rectangle // as wide as dotBox: the subtitle lines up with the name
	back     *widget.Button
	composer *composerEntry
	send     *widget.Button
	sendErr  *widget.Label
	jump     *widget.Button

	// unavailable says why nothing arrives from this room (hidden otherwise).
	unavailable *widget.Label

	firstUnread int // row index, -1 when none
	ready       bool
	olderAsked  app.MessageID
	popup       *widget.PopUp
	// placed is the list's offset (and placedH its height) after the view
	// last moved it itself (placing while it does) or it was resized: any
	// other move is the user's (Reading).
	placed, placedH float32
	placing         bool

	shownMu      sync.Mutex
	shownIdx     int
	shownSent    int
	shownPending bool

	// Urgency, orders, responses, recall (urgency.go, history.go).
	clin clinicalParts
	// The patient the next message is about (patient.go).
	pat composerPatient

	// The message waiting for this user's acknowledgement (awaiting.go).
	await awaitingBar

	// Files: attach button, transfers, thumbnails, viewer (attachments.go).
	att    attachmentState
	viewer *Viewer

	// lit is the message highlighted for a moment after a quote or a
	// search hit scrolled to it (replies.go); 0 when none.
	lit app.MessageID
}

type rowMetric struct {
	h, bubbleW, textW float32
	lines             int
}

// geometry holds the sizes every row shares, from the current theme.
type geometry struct {
	m                     *measurer
	pad, capSize, capH    float32
	dayH, loaderH, tick   float32
	metaW, gap, bubblePad float32
	senderW               map[string]float32
	chipSize, chipTextH   float32 // reaction chips' text (replies.go)
}

func newGeometry() geometry {
	g := geometry{m: bodyMeasurer(), senderW: map[string]float32{}}
	g.pad = theme.Padding()
	g.capSize = theme.CaptionTextSize()
	g.capH = fyne.MeasureText("Ag", g.capSize, fyne.TextStyle{}).Height
	g.tick = g.capH
	g.dayH = g.capH + 4*g.pad
	g.loaderH = widget.NewButton("Load older messages", nil).MinSize().Height + 2*g.pad
	g.metaW = fyne.MeasureText("00:00", g.capSize, fyne.TextStyle{}).Width + g.pad + g.tick
	g.gap = g.pad * 1.5
	g.bubblePad = g.pad
	g.chipSize = theme.TextSize()
	g.chipTextH = fyne.MeasureText("Ag", g.chipSize, fyne.TextStyle{}).Height
	return g
}

func (g *geometry) sender(name string) float32 {
	if w, ok := g.senderW[name]; ok {
		return w
	}
	w := fyne.MeasureText(name, g.capSize, fyne.TextStyle{Bold: true}).Width
	g.senderW[name] = w
	return w
}

// NewConversationView builds the screen for one conversation with its newest
// messages (oldest first). The list is built with every row height set before
// it is first shown.
func NewConversationView(info ConversationInfo, rows []app.MessageRow, actions ConversationActions) *ConversationView {
	v := &ConversationView{info: info, actions: actions, keepAt: -1, scrollTo: -1, firstUnread: -1, shownIdx: -1, shownSent: -1}
	v.ExtendBaseWidget(v)
	v.listBox = container.NewStack()
	v.face = newAvatar(themedPerson)
	v.faceBox = container.NewCenter(v.face)
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.muted = widget.NewIcon(themedMuted)
	v.mutedBox = sizedIcon(v.muted)
	v.mutedBox.Hide()
	v.subtitle = widget.NewLabel("")
	v.subtitle.SizeName = theme.SizeNameCaptionText
	v.subtitle.Truncation = fyne.TextTruncateEllipsis // a long job title must not widen the screen
	v.dot = newPresenceDot()
	v.dotBox = container.NewCenter(sizedDot(v.dot))
	v.subShift = canvas.NewRectangle(color.Transparent)
	v.subShift.SetMinSize(fyne.NewSize(theme.CaptionTextSize(), 0))
	v.unavailable = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.unavailable.Importance = widget.WarningImportance
	v.unavailable.Wrapping = fyne.TextWrapWord
	v.unavailable.Hide()
	v.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() {
		if v.OnBack != nil {
			v.OnBack()
		}
	})
	v.back.Importance = widget.LowImportance
	v.lead = container.NewHBox(v.back, v.faceBox)

	v.composer = newComposer(v.submit)
	v.composer.onRows = func() { v.Refresh() } // the field grew or shrank
	v.send = widget.NewButtonWithIcon("", theme.MailSendIcon(), v.submit)
	v.send.Importance = widget.HighImportance
	v.sendErr = widget.NewLabel("")
	v.sendErr.Importance = widget.DangerImportance
	v.sendErr.Wrapping = fyne.TextWrapWord
	v.sendErr.Hide()
	v.jump = widget.NewButtonWithIcon("", theme.MoveUpIcon(), v.JumpToFirstUnread)
	v.jump.Hide()
	v.initAttachments()
	v.initAwaiting()
	v.initDraft() // mute.go
	v.setInfo(info)
	v.SetMessages(rows, info.HasOlder)
	return v
}

func (v *ConversationView) setInfo(info ConversationInfo) {
	v.info = info
	v.title.SetText(info.Title)
	v.face.set(info.Avatar, themedPerson)
	v.face.Hidden = info.IsRoom || info.Avatar.Initials == ""
	v.faceBox.Hidden = v.face.Hidden
	v.lead.Hidden = v.back.Hidden && v.faceBox.Hidden // no gap before a room's name
	if info.IsRoom {
		v.subtitle.SetText("Room · " + info.ID)
		v.dot.Hide()
		v.dotBox.Hide() // no gap before a room's name
		v.subShift.Hide()
	} else {
		sub := presenceText(info.Presence)
		if info.Role != "" {
			sub += " · " + info.Role
		}
		v.subtitle.SetText(sub + " · " + info.ID)
		v.dot.FillColor = presenceColor(info.Presence)
		v.dot.Show()
		v.dotBox.Show()
		v.subShift.Show()
	}
	if info.Muted {
		v.subtitle.SetText("Muted · " + v.subtitle.Text)
	}
	if info.Muted {
		v.mutedBox.Show()
	} else {
		v.mutedBox.Hide()
	}
	v.mutedBox.Refresh()
	v.unavailable.SetText(info.Unavailable)
	v.unavailable.Hidden = info.Unavailable == ""
}

// ID is the conversation shown.
func (v *ConversationView) ID() string { return v.info.ID }

// SetInfo updates the header (presence, title) without touching the messages.
func (v *ConversationView) SetInfo(info ConversationInfo) {
	v.setInfo(info)
	v.dot.Refresh()
}

// SetHeader redraws the header (title, presence, room availability) from
// info and keeps what the view knows of its messages (unread, older pages).
func (v *ConversationView) SetHeader(info ConversationInfo) {
	if info.ID != v.info.ID {
		return
	}
	info.Unread, info.HasOlder = v.info.Unread, v.info.HasOlder
	if info == v.info {
		return
	}
	v.SetInfo(info)
}

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

func (v *ConversationView) geometry() geometry {
	if v.geo.m == nil || v.geo.m.size != theme.TextSize() {
		v.geo = newGeometry()
	}
	return v.geo
}

// measure computes one row's height and bubble width.
func (v *ConversationView) measure(g *geometry, r app.MessageRow, bubbleMax float32) rowMetric {
	textMax := bubbleMax - g.m.padW
	lines, textW := g.m.wrap(displayText(r.Body), textMax)
	textH := g.m.textHeight(lines)
	if r.Body == "" && len(r.Attachments) > 0 {
		lines, textW, textH = 0, 0, 0 // a file alone: no text line
	}
	attW, attH := v.attachmentSize(g, r, bubbleMax)
	h := textH + attH + g.bubblePad + g.capH + g.bubblePad + g.gap
	w := max(textW+g.m.padW+2, attW) // slack: rounding must not wrap a line that fits
	if v.showSender(r) {
		h += g.capH
		w = max(w, g.sender(v.senderLine(r))+g.m.padW)
	}
	h, w = v.measureClinical(g, r, h, w)
	h, w = v.measureReply(g, r, h, w) // replies.go
	h, w = v.measurePatient(g, r, h, w, bubbleMax)
	if r.DayBreak {
		h += g.dayH
	}
	w = max(w, g.metaW+g.m.padW)
	return rowMetric{h: h, bubbleW: min(w, bubbleMax), textW: textW, lines: lines}
}

func (v *ConversationView) showSender(r app.MessageRow) bool {
	return !r.Notice && ((v.info.IsRoom && !r.Outgoing) || v.badge(r) != "" || r.Forward != nil)
}

// bubbleMaxFor is the widest a bubble may be in a list this wide, in steps of
// 16 so that small resizes do not rebuild the list.
func bubbleMaxFor(width float32) float32 {
	w := width * 0.78
	if w > 560 {
		w = 560
	}
	if w < 120 {
		w = 120
	}
	return float32(int(w/16) * 16)
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

func (v *ConversationView) requestOlder() {
	if len(v.rows) == 0 {
		return
	}
	before := v.rows[0].ID
	v.olderAsked = before
	conv := v.info.ID
	go v.actions.LoadOlder(conv, before)
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

func (v *ConversationView) submit() {
	text := strings.TrimSpace(v.composer.Text)
	if text == "" {
		return
	}
	if err := v.sendText(text); err != nil {
		v.showComposerNote(sendErrorText(err))
		return
	}
	v.sendErr.Hide()
	v.composer.SetText("")
}

// showReceipt opens the detail view of one message's receipts.
func (v *ConversationView) showReceipt(r app.MessageRow) {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	content := container.NewVBox()
	add := func(o fyne.CanvasObject) { content.Add(o) }
	add(widget.NewLabelWithStyle("Message details", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	add(widget.NewLabel("Written " + r.Timestamp.Local().Format(stampFormat)))
	add(receiptTable(r.Receipt))
	if len(r.Members) > 0 {
		names := make([]string, 0, len(r.Members))
		for n := range r.Members {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			add(widget.NewSeparator())
			add(widget.NewLabelWithStyle(n, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			add(receiptTable(r.Members[n]))
		}
	}
	var pop *widget.PopUp
	closeBtn := widget.NewButton("Close", func() { pop.Hide() })
	body := container.NewBorder(nil, closeBtn, nil, nil, container.NewVScroll(content))
	pop = widget.NewModalPopUp(container.NewPadded(body), c)
	size := c.Size()
	pop.Resize(fyne.NewSize(min(size.Width-2*theme.Padding(), 420), min(size.Height*0.8, content.MinSize().Height+closeBtn.MinSize().Height+4*theme.Padding())))
	v.popup = pop
	pop.Show()
}

var receiptOrder = []app.ReceiptState{
	app.ReceiptQueued, app.ReceiptSent, app.ReceiptDelivered,
	app.ReceiptRead, app.ReceiptAcknowledged, app.ReceiptFailed,
}

// receiptTable lists every state with its time ("—" when not reached).
func receiptTable(r app.Receipt) fyne.CanvasObject {
	form := container.New(layout.NewFormLayout())
	for _, s := range receiptOrder {
		if s == app.ReceiptFailed && r.State != app.ReceiptFailed {
			continue
		}
		at := "—"
		if t := r.At[s]; !t.IsZero() {
			at = t.Local().Format(stampFormat)
		}
		if s == app.ReceiptFailed && r.Reason != "" {
			at += " · " + r.Reason
		}
		name := widget.NewLabel(app.ReceiptStateName(s))
		val := widget.NewLabel(at)
		val.Wrapping = fyne.TextWrapWord
		form.Add(name)
		form.Add(val)
	}
	return form
}

func tickIcon(s app.ReceiptState) fyne.Resource {
	switch s {
	case app.ReceiptQueued:
		return tickQueued
	case app.ReceiptSent:
		return tickSent
	case app.ReceiptDelivered:
		return tickDelivered
	case app.ReceiptRead:
		return tickRead
	case app.ReceiptAcknowledged:
		return tickAcked
	case app.ReceiptFailed:
		return tickFailed
	}
	return nil
}

// messageLayout places one row: an optional day separator, then the bubble
// with sender, body and time+tick, left for incoming and right for outgoing.
type messageLayout struct {
	v      *ConversationView
	i      int // row index, -1 for the loader row
	day    *canvas.Text
	dayBg  *canvas.Rectangle
	bg     *canvas.Rectangle
	sender *canvas.Text
	body   *widget.RichText
	when   *canvas.Text
	tick   *tapIcon
	loader *widget.Button
	att    *attachmentBox
	clin   rowClinical
	reply  rowReplies
	tags   rowPatient // patient.go
}

func (l *messageLayout) bind(i int) {
	l.i = i
	v := l.v
	if i < 0 {
		for _, o := range []fyne.CanvasObject{l.day, l.dayBg, l.bg, l.sender, l.body, l.when, l.tick, l.att} {
			o.Hide()
		}
		l.clin.hide()
		l.reply.hide()
		l.tags.hide()
		l.loader.OnTapped = v.requestOlder
		l.loader.Show()
		return
	}
	l.loader.Hide()
	r := v.rows[i]
	fg := theme.Color(theme.ColorNameForeground)
	if r.DayBreak {
		l.day.Text = app.DayLabel(nowFunc(), r.Timestamp.Local())
		l.day.Color = fg
		l.day.Show()
		l.dayBg.FillColor = theme.Color(theme.ColorNameInputBackground)
		l.dayBg.Show()
		l.day.Refresh()
	} else {
		l.day.Hide()
		l.dayBg.Hide()
	}
	if r.Outgoing {
		p := theme.Color(theme.ColorNamePrimary)
		pr, pg, pb, _ := p.RGBA()
		l.bg.FillColor = color.NRGBA{R: uint8(pr >> 8), G: uint8(pg >> 8), B: uint8(pb >> 8), A: 0x38}
	} else {
		l.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	}
	if r.Urgency != app.UrgencyNormal {
		l.bg.StrokeColor = theme.Color(theme.ColorNameError)
		l.bg.StrokeWidth = 2
	} else {
		l.bg.StrokeWidth = 0
	}
	l.bg.Show()
	l.bg.Refresh()
	if v.showSender(r) {
		l.sender.Color = theme.Color(theme.ColorNamePrimary)
		l.sender.Text = v.senderLine(r)
		l.sender.Show()
		l.sender.Refresh()
	} else {
		l.sender.Hide()
	}
	l.body.Segments = mentionSegments(bodySegments(r.Body), r.MentionsMe) // replies.go
	l.bindClinical(r)
	l.bindReplies(r)
	l.bindPatient(r) // patient.go
	l.body.Show()
	l.body.Refresh()
	l.att.bind(r)
	l.when.Text = whenText(r)
	l.when.Color = fg
	l.when.Show()
	l.when.Refresh()
	if r.Outgoing {
		if res := tickIcon(r.Receipt.State); res != nil {
			l.tick.setResource(res)
			l.tick.onTap = func() { v.showReceipt(v.rows[l.i]) }
			l.tick.Show()
		} else {
			l.tick.Hide()
		}
	} else {
		l.tick.Hide()
	}
	l.bindHighlight(r)
}

func (l *messageLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(100, 10)
}

func (l *messageLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	v := l.v
	g := v.geo
	if l.i < 0 {
		ms := l.loader.MinSize()
		l.loader.Resize(ms)
		l.loader.Move(fyne.NewPos((size.Width-ms.Width)/2, g.pad))
		return
	}
	if l.i >= len(v.rows) || l.i >= len(v.metrics) || g.m == nil {
		return
	}
	r, m := v.rows[l.i], v.metrics[l.i]
	y := float32(0)
	if r.DayBreak {
		tw := fyne.MeasureText(l.day.Text, l.day.TextSize, l.day.TextStyle)
		l.dayBg.Resize(fyne.NewSize(tw.Width+4*g.pad, g.capH+2*g.pad))
		l.dayBg.Move(fyne.NewPos((size.Width-tw.Width)/2-2*g.pad, g.pad))
		l.day.Resize(tw)
		l.day.Move(fyne.NewPos((size.Width-tw.Width)/2, 2*g.pad))
		y += g.dayH
	}
	side := 2 * g.pad
	x := side
	if r.Outgoing {
		x = size.Width - side - m.bubbleW
	}
	if r.Notice {
		x = (size.Width - m.bubbleW) / 2 // a system row: centred
	}
	bubbleH := size.Height - y - g.gap - g.chipH(r)
	l.bg.Move(fyne.NewPos(x, y))
	l.bg.Resize(fyne.NewSize(m.bubbleW, bubbleH))
	inner := g.m.padW / 2
	y += g.bubblePad
	if v.showSender(r) {
		sx := l.layoutBadge(x+inner, y)
		l.sender.Move(fyne.NewPos(sx, y))
		l.sender.Resize(fyne.NewSize(m.bubbleW-2*inner, g.capH))
		y += g.capH
	}
	y = l.layoutQuote(x+inner, y, m.bubbleW-2*inner) // replies.go
	y = l.layoutPatient(x+inner, y, m.bubbleW-2*inner, r)
	bodyH := g.m.textHeight(m.lines)
	if m.lines == 0 {
		bodyH = inner / 2 // a file alone (see measure)
	}
	l.body.Move(fyne.NewPos(x, y-inner/2))
	l.body.Resize(fyne.NewSize(m.bubbleW, bodyH))
	y += bodyH - inner/2
	if l.att.Visible() {
		_, attH := v.attachmentSize(&g, r, v.bubbleMax)
		l.att.Move(fyne.NewPos(x+inner, y))
		l.att.Resize(fyne.NewSize(m.bubbleW-2*inner, attH))
		l.att.place(&g, m.bubbleW-2*inner)
		y += attH
	}
	y = l.layoutStatus(x+inner, y, m.bubbleW-2*inner)
	tw := fyne.MeasureText(l.when.Text, l.when.TextSize, l.when.TextStyle).Width
	right := x + m.bubbleW - inner
	if l.tick.Visible() {
		l.tick.Resize(fyne.NewSize(g.tick, g.tick))
		l.tick.Move(fyne.NewPos(right-g.tick, y))
		right -= g.tick + g.pad
	}
	right = l.layoutMore(right, y)
	l.when.Move(fyne.NewPos(right-tw, y))
	l.when.Resize(fyne.NewSize(tw, g.capH))
	if g.chipH(r) > 0 {
		l.layoutChips(x, x+m.bubbleW, l.bg.Position().Y+bubbleH+g.pad/2, r.Outgoing)
	}
}

// tapIcon is an icon that can be tapped (the receipt tick).
type tapIcon struct {
	widget.BaseWidget
	img   *canvas.Image
	onTap func()
}

func newTapIcon(res fyne.Resource, onTap func()) *tapIcon {
	t := &tapIcon{img: canvas.NewImageFromResource(res), onTap: onTap}
	t.img.FillMode = canvas.ImageFillContain
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapIcon) setResource(res fyne.Resource) {
	if t.img.Resource != res {
		t.img.Resource = res
		t.img.Refresh()
	}
}

func (t *tapIcon) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.img) }

func (t *tapIcon) MinSize() fyne.Size {
	s := theme.CaptionTextSize() + 2
	return fyne.NewSize(s, s)
}

func (t *tapIcon) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

func (v *ConversationView) CreateRenderer() fyne.WidgetRenderer {
	// The presence dot leads the name on its own line, centred on it (the
	// Border stretches it to the title's height); the name still truncates.
	titleLine := container.NewBorder(nil, nil, v.dotBox, v.mutedBox, v.title)
	header := container.NewVBox(container.NewBorder(nil, nil, v.lead, v.headerMenu(),
		container.NewVBox(titleLine, container.NewBorder(nil, nil, v.subShift, nil, v.subtitle), v.unavailable)),
		v.await.box)
	v.back.Hidden = v.OnBack == nil
	v.lead.Hidden = v.back.Hidden && v.faceBox.Hidden
	left := v.attachButton()
	if opts := v.composerOptionsButton(); opts != nil {
		left = container.NewHBox(left, container.NewVBox(layout.NewSpacer(), opts))
	}
	composer := container.NewBorder(container.NewVBox(v.uploadBox(), v.composerBar()), v.sendErr, left, container.NewVBox(layout.NewSpacer(), v.send), v.composer)
	l := &conversationLayout{v: v, header: header, composer: composer, headerBg: canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))}
	return widget.NewSimpleRenderer(container.New(l, l.headerBg, header, v.listBox, composer, v.jump, widget.NewSeparator()))
}

type conversationLayout struct {
	v                *ConversationView
	header, composer fyne.CanvasObject
	headerBg         *canvas.Rectangle
}

func (c *conversationLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	h, k := c.header.MinSize(), c.composer.MinSize()
	return fyne.NewSize(max(h.Width, k.Width), h.Height+k.Height+100)
}

func (c *conversationLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	v := c.v
	v.back.Hidden = v.OnBack == nil
	v.lead.Hidden = v.back.Hidden && v.faceBox.Hidden
	hh := c.header.MinSize().Height
	c.headerBg.FillColor = theme.Color(theme.ColorNameHeaderBackground)
	c.headerBg.Resize(fyne.NewSize(size.Width, hh))
	c.header.Resize(fyne.NewSize(size.Width, hh))
	c.header.Move(fyne.NewPos(0, 0))
	sep := objs[len(objs)-1]
	ch := c.composer.MinSize().Height
	c.composer.Resize(fyne.NewSize(size.Width-2*theme.Padding(), ch))
	c.composer.Move(fyne.NewPos(theme.Padding(), size.Height-ch-theme.Padding()))
	sep.Resize(fyne.NewSize(size.Width, theme.SeparatorThicknessSize()))
	sep.Move(fyne.NewPos(0, size.Height-ch-2*theme.Padding()))
	listH := size.Height - hh - ch - 2*theme.Padding()
	v.ensureList(size.Width)
	v.listBox.Move(fyne.NewPos(0, hh))
	v.listBox.Resize(fyne.NewSize(size.Width, listH))
	if v.list != nil {
		v.list.Resize(fyne.NewSize(size.Width, listH))
	}
	js := v.jump.MinSize()
	v.jump.Resize(js)
	v.jump.Move(fyne.NewPos(size.Width-js.Width-3*theme.Padding(), hh+2*theme.Padding()))
	v.afterLayout()
}

// sizedDot gives a presence circle a fixed size.
func sizedDot(c *canvas.Circle) fyne.CanvasObject {
	s := theme.CaptionTextSize()
	return container.NewGridWrap(fyne.NewSize(s, s), c)
}

// sizedIcon gives an icon the caption's size, centred on its line.
func sizedIcon(i *widget.Icon) fyne.CanvasObject {
	s := theme.IconInlineSize()
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(s, s), i))
}
