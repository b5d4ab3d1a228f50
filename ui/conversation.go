package ui

import (
	"image/color"
	"sync"

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

	// Urgency, orders, responses, recall (composeroptions.go, rowmenu.go).
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

var receiptOrder = []app.ReceiptState{
	app.ReceiptQueued, app.ReceiptSent, app.ReceiptDelivered,
	app.ReceiptRead, app.ReceiptAcknowledged, app.ReceiptFailed,
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
