package ui

import (
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// InboxActions is what the inbox asks of the app.
type InboxActions interface {
	// Open shows a conversation; the app answers with its messages.
	Open(conv string)
}

// InboxView is the conversation list: urgent ones pinned on top, then by last
// activity; a search box, a "new chat" button and the connection status bar.
type InboxView struct {
	widget.BaseWidget
	actions InboxActions
	// OnNewChat opens the directory to start a chat.
	OnNewChat func()
	// OnSignInAgain is offered when the server refused the credentials.
	OnSignInAgain func()
	// OnOpen runs after actions.Open (the shell navigates).
	OnOpen func(app.ConversationRow)

	all, shown []app.ConversationRow
	search     *widget.Entry
	list       *widget.List
	status     *statusBar
	empty      *widget.Label
	emptyBox   *fyne.Container // centres empty; laid out again when its text changes
	dnd        *dndBar         // nil when the actions have no do-not-disturb controls (dnd.go)
	requests   *requestsBar    // nil when the actions cannot answer presence requests (requests.go)
	selected   string
	levels     app.UrgencyLevelNames
	hits       *messageHits // nil when actions cannot search messages (search.go)
	invites    *inviteBar   // nil when actions cannot answer invitations (careteam.go)
	filters    *searchFilters
}

// NewInboxView builds the inbox with its first rows.
func NewInboxView(rows []app.ConversationRow, actions InboxActions) *InboxView {
	v := &InboxView{actions: actions}
	v.ExtendBaseWidget(v)
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search conversations")
	v.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	v.search.OnChanged = func(string) { v.filter() }
	v.initSearch()
	v.status = newStatusBar(func() {
		if v.OnSignInAgain != nil {
			v.OnSignInAgain()
		}
	})
	v.empty = widget.NewLabelWithStyle("No conversations", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	v.empty.Wrapping = fyne.TextWrapWord // a long search must not run off the screen
	v.emptyBox = container.New(middleWrapped{}, v.empty)
	if a, ok := actions.(DNDActions); ok {
		v.dnd = newDNDBar(a)
	}
	if a, ok := actions.(PresenceRequestActions); ok {
		v.requests = newRequestsBar(a)
	}
	if a, ok := actions.(InvitationActions); ok {
		v.invites = newInviteBar(a)
	}
	v.list = widget.NewList(func() int { return len(v.shown) }, newInboxRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < len(v.shown) {
			o.(*inboxRow).bind(v.shown[id], v.levels)
		}
	})
	v.list.OnSelected = func(id widget.ListItemID) {
		if id >= len(v.shown) {
			return
		}
		r := v.shown[id]
		v.selected = r.ID
		v.actions.Open(r.ID)
		if v.OnOpen != nil {
			v.OnOpen(r)
		}
	}
	v.SetRows(rows)
	return v
}

// SetRows replaces the conversations (any order; the view sorts them).
func (v *InboxView) SetRows(rows []app.ConversationRow) {
	v.all = append(v.all[:0:0], rows...)
	sort.SliceStable(v.all, func(i, j int) bool {
		a, b := v.all[i], v.all[j]
		if a.Urgent != b.Urgent {
			return a.Urgent
		}
		return a.LastActivity.After(b.LastActivity)
	})
	v.filter()
}

// SetLevels sets the urgency levels' display names for the pinned rows'
// labels.
func (v *InboxView) SetLevels(l app.UrgencyLevelNames) {
	v.levels = l
	v.list.Refresh()
}

// pinnedLabel names what pins a row: the level's display name in capitals
// ("STAT", "URGENT"), like the message badges; a routine message that asks
// for an acknowledgement says so.
func pinnedLabel(levels app.UrgencyLevelNames, c app.ConversationRow) string {
	if c.UrgentLevel == app.UrgencyNormal {
		return "ACK REQUESTED"
	}
	return strings.ToUpper(levels.Name(c.UrgentLevel))
}

// SetDND shows do not disturb's state (a line while on; dnd.go).
func (v *InboxView) SetDND(state app.DNDView) {
	if v.dnd != nil {
		v.dnd.set(state)
	}
}

// SetPresenceRequests shows who asks to see this account's presence
// (requests.go).
func (v *InboxView) SetPresenceRequests(reqs []app.PresenceRequest) {
	if v.requests != nil {
		v.requests.set(reqs)
	}
}

// SetInvitations shows the invitations to rooms waiting for an answer
// (careteam.go); without InvitationActions it does nothing.
func (v *InboxView) SetInvitations(list []app.InvitationRow) {
	if v.invites != nil {
		v.invites.set(list)
	}
}

// SetConnection updates the status bar.
func (v *InboxView) SetConnection(c app.Connection) { v.status.set(c) }

// Unselect clears the highlighted row (after "back" on a phone).
func (v *InboxView) Unselect() {
	v.selected = ""
	v.list.UnselectAll()
}

func (v *InboxView) filter() {
	q := strings.ToLower(strings.TrimSpace(v.search.Text))
	v.shown = v.shown[:0]
	for _, r := range v.all {
		if q == "" || strings.Contains(strings.ToLower(r.Title), q) || strings.Contains(strings.ToLower(r.ID), q) || strings.Contains(strings.ToLower(r.Preview), q) {
			v.shown = append(v.shown, r)
		}
	}
	if len(v.shown) == 0 {
		if q != "" {
			v.empty.SetText("No conversation matches “" + v.search.Text + "”")
		} else {
			v.empty.SetText("No conversations yet. Start one with New chat.")
		}
		v.empty.Show()
	} else {
		v.empty.Hide()
	}
	v.emptyBox.Refresh() // the new text may wrap to another number of lines
	v.list.UnselectAll()
	v.list.Refresh()
}

func (v *InboxView) CreateRenderer() fyne.WidgetRenderer {
	newChat := widget.NewButtonWithIcon("New chat", themedNewChat, func() {
		if v.OnNewChat != nil {
			v.OnNewChat()
		}
	})
	field := fyne.CanvasObject(v.search)
	none := container.NewStack()
	none.Hide() // no filters: takes no room
	var filters fyne.CanvasObject = none
	if v.filters != nil {
		field = container.NewBorder(nil, nil, nil, v.filters.toggle, v.search)
		filters = v.filters.box
	}
	bar := container.NewBorder(nil, nil, nil, newChat, field)
	body := v.searchBody(container.NewStack(v.list, v.emptyBox))
	top := []fyne.CanvasObject{v.status}
	if v.invites != nil {
		body = container.NewBorder(v.invites.box, nil, nil, nil, body)
	}
	if v.dnd != nil {
		bar = container.NewBorder(nil, nil, nil, container.NewHBox(v.dnd.toggle, newChat), field)
		top = append(top, v.dnd)
	}
	if v.requests != nil {
		top = append(top, v.requests)
	}
	return widget.NewSimpleRenderer(container.New(&stackTop{}, append(top, bar, filters, body)...))
}

// stackTop puts its objects one under the other, each at its height for the
// full width (measured after resizing, so wrapped text gets its real height),
// and gives the last one the rest.
type stackTop struct{}

// middleWrapped centres its one object (a wrapping label) vertically at the
// full width, measured after resizing like stackTop, so a long "no match"
// line wraps inside the screen instead of running off both edges.
type middleWrapped struct{}

func (middleWrapped) MinSize(objs []fyne.CanvasObject) fyne.Size { return objs[0].MinSize() }

func (middleWrapped) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	o := objs[0]
	o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
	h := o.MinSize().Height // again, now that wrapping knows the width
	o.Resize(fyne.NewSize(size.Width, h))
	o.Move(fyne.NewPos(0, max(0, (size.Height-h)/2)))
}

func (stackTop) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if o.Visible() {
			m := o.MinSize()
			s = fyne.NewSize(max(s.Width, m.Width), s.Height+m.Height)
		}
	}
	return s
}

func (stackTop) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for i, o := range objs {
		if !o.Visible() {
			continue
		}
		if i == len(objs)-1 {
			o.Move(fyne.NewPos(0, y))
			o.Resize(fyne.NewSize(size.Width, size.Height-y))
			break
		}
		o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		h := o.MinSize().Height // again, now that wrapping knows the width
		o.Resize(fyne.NewSize(size.Width, h))
		o.Move(fyne.NewPos(0, y))
		y += h + theme.Padding()
	}
}

// inboxRow draws one conversation.
type inboxRow struct {
	widget.BaseWidget
	urgentBar *canvas.Rectangle
	icon      *avatar
	dot       *canvas.Circle
	title     *widget.Label
	presence  *widget.Label
	pin       *widget.Icon
	urgent    *canvas.Text
	preview   *widget.Label
	when      *widget.Label
	badge     *canvas.Circle
	badgeText *canvas.Text
	badgeBox  *fyne.Container
	dotBox    fyne.CanvasObject
	urgentTag *fyne.Container
	// mutedTag is the bell-off mark with its word, so a muted
	// conversation says so in words too (mute.go).
	mutedTag *fyne.Container
}

func newInboxRow() fyne.CanvasObject {
	r := &inboxRow{
		urgentBar: canvas.NewRectangle(theme.Color(theme.ColorNameError)),
		icon:      newAvatar(themedPerson),
		dot:       newPresenceDot(),
		title:     widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		presence:  widget.NewLabel(""),
		pin:       widget.NewIcon(themedUrgent),
		urgent:    canvas.NewText("", theme.Color(theme.ColorNameError)),
		preview:   widget.NewLabel(""),
		when:      widget.NewLabel(""),
		badge:     canvas.NewCircle(theme.Color(theme.ColorNamePrimary)),
		badgeText: canvas.NewText("", theme.Color(theme.ColorNameForegroundOnPrimary)),
	}
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.preview.Truncation = fyne.TextTruncateEllipsis
	r.presence.SizeName = theme.SizeNameCaptionText
	r.when.SizeName = theme.SizeNameCaptionText
	r.urgent.TextStyle.Bold = true
	r.urgent.TextSize = theme.CaptionTextSize()
	r.badgeText.TextStyle.Bold = true
	r.badgeText.TextSize = theme.CaptionTextSize()
	r.badgeText.Alignment = fyne.TextAlignCenter
	r.ExtendBaseWidget(r)
	return r
}

func (r *inboxRow) bind(c app.ConversationRow, levels app.UrgencyLevelNames) {
	if c.IsRoom {
		r.icon.set(app.Avatar{}, themedPeople)
		r.dot.Hide()
		r.presence.SetText("Room")
	} else {
		r.icon.set(c.Avatar, themedPerson)
		r.dot.FillColor = presenceColor(c.Presence)
		r.dot.Show()
		r.dot.Refresh()
		r.presence.SetText(presenceText(c.Presence))
	}
	r.title.SetText(c.Title)
	// A room that could not be rejoined says why where its last message
	// would be: nothing new arrives from it until it is back.
	r.preview.Importance = widget.MediumImportance
	r.preview.TextStyle.Bold = false
	r.preview.TextStyle.Italic = false
	switch {
	case c.Unavailable != "":
		r.preview.Importance = widget.WarningImportance
		r.preview.TextStyle.Bold = true
		r.preview.SetText(c.Unavailable)
	case c.Draft != "" && !c.Urgent:
		// What the user left unsent, said as such (an open alert still
		// speaks for the conversation).
		r.preview.TextStyle.Italic = true
		r.preview.SetText(draftLine(c.Draft))
	default:
		r.preview.SetText(firstLine(c.Preview))
	}
	r.mutedTag.Hidden = !c.Muted
	r.when.SetText(app.InboxTime(nowFunc(), c.LastActivity))
	r.urgentBar.Hidden = !c.Urgent
	r.urgentTag.Hidden = !c.Urgent
	r.urgentBar.FillColor = theme.Color(theme.ColorNameError)
	r.urgent.Color = theme.Color(theme.ColorNameError)
	if c.Urgent {
		r.urgent.Text = pinnedLabel(levels, c)
	}
	if c.Unread > 0 {
		n := fmt.Sprint(c.Unread)
		if c.Unread > 99 {
			n = "99+"
		}
		r.badgeText.Text = n
		r.badge.FillColor = theme.Color(theme.ColorNamePrimary)
		if c.Urgent {
			r.badge.FillColor = theme.Color(theme.ColorNameError)
		}
		r.badgeText.Color = theme.Color(theme.ColorNameForegroundOnPrimary)
		r.badgeBox.Show()
		r.badgeBox.Refresh()
	} else {
		r.badgeBox.Hide()
	}
	r.Refresh()
}

func (r *inboxRow) CreateRenderer() fyne.WidgetRenderer {
	s := theme.CaptionTextSize()
	r.dotBox = container.NewGridWrap(fyne.NewSize(s*0.8, s*0.8), r.dot)
	bs := theme.TextSize() + 6
	r.badgeBox = container.NewGridWrap(fyne.NewSize(bs+4, bs), container.NewStack(r.badge, container.NewCenter(r.badgeText)))
	r.badgeBox.Hide()
	iconSize := theme.IconInlineSize() * 1.6
	avatar := container.NewGridWrap(fyne.NewSize(iconSize, iconSize), r.icon)
	r.urgentTag = container.NewHBox(container.NewCenter(container.NewGridWrap(fyne.NewSize(s, s), r.pin)), container.NewCenter(r.urgent))
	line1 := container.NewBorder(nil, nil, nil, r.when,
		container.NewBorder(nil, nil, r.urgentTag, container.NewHBox(container.NewCenter(r.dotBox), r.presence), r.title))
	mutedWord := widget.NewLabel("Muted")
	mutedWord.SizeName = theme.SizeNameCaptionText
	r.mutedTag = container.NewHBox(container.NewCenter(container.NewGridWrap(fyne.NewSize(s, s), widget.NewIcon(themedMuted))), mutedWord)
	r.mutedTag.Hide()
	line2 := container.NewBorder(nil, nil, nil, container.NewHBox(r.mutedTag, container.NewCenter(r.badgeBox)), r.preview)
	body := container.NewBorder(nil, nil, container.NewCenter(avatar), nil,
		container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), line1, line2))
	r.urgentBar.SetMinSize(fyne.NewSize(4, 1))
	r.urgentTag.Hide()
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, r.urgentBar, nil, body))
}

// statusBar shows the connection: hidden when online, otherwise what is
// happening and what the user can do.
type statusBar struct {
	widget.BaseWidget
	bg     *canvas.Rectangle
	text   *widget.Label
	action *widget.Button
	state  app.Connection
}

func newStatusBar(signInAgain func()) *statusBar {
	s := &statusBar{bg: canvas.NewRectangle(theme.Color(theme.ColorNameWarning)), text: widget.NewLabel("")}
	s.text.Wrapping = fyne.TextWrapWord
	s.action = widget.NewButton("Sign in again", signInAgain)
	s.action.Hide()
	s.ExtendBaseWidget(s)
	s.set(app.Connection{Connectivity: app.Connecting})
	return s
}

// Text is what the bar says (for tests and screen readers).
func (s *statusBar) Text() string { return s.text.Text }

func (s *statusBar) set(c app.Connection) {
	s.state = c
	s.action.Hide()
	s.Show()
	s.text.SetText(app.ConnectionLine(c, nowFunc()))
	switch c.Connectivity {
	case app.Online:
		s.Hide()
	case app.Connecting, app.Offline:
		s.bg.FillColor = theme.Color(theme.ColorNameWarning)
	case app.AuthFailed:
		s.bg.FillColor = theme.Color(theme.ColorNameError)
		s.action.Show()
	}
	s.bg.Refresh()
	s.Refresh()
}

func (s *statusBar) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(s.bg, container.NewBorder(nil, nil, nil, container.NewCenter(s.action), s.text)))
}

// draftLine is an inbox row's line for an unsent draft.
func draftLine(d string) string { return "Draft: " + firstLine(d) }
