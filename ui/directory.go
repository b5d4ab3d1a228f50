package ui

import (
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

// DirectoryActions is what the directory asks of the app.
type DirectoryActions interface {
	// StartChat opens (creating if needed) the chat with a contact.
	StartChat(jid string)
	// JoinRoom joins a group room with a nickname; the error is shown in the
	// dialog (nick taken, room not found, not allowed).
	JoinRoom(room, nick string) error
}

// DirectoryView is the roster: search by name, address, group or status;
// presence; start a chat; join a room.
type DirectoryView struct {
	widget.BaseWidget
	actions DirectoryActions
	// OnStarted runs after StartChat/JoinRoom succeed (the shell navigates).
	OnStarted func(conv string)
	// DefaultNick prefills the join-room dialog.
	DefaultNick string

	all, shown []app.ContactRow
	search     *widget.Entry
	list       *widget.List
	empty      *widget.Label
	emptyBox   *fyne.Container // centres empty; laid out again when its text changes
	join       *widget.Button
	popup      *widget.PopUp
	roles      *RolesView     // on-call roles (roles.go)
	bcast      *openBroadcast // the broadcast view on screen (broadcast.go)
}

// NewDirectoryView builds the directory with its contacts.
func NewDirectoryView(contacts []app.ContactRow, actions DirectoryActions) *DirectoryView {
	v := &DirectoryView{actions: actions}
	v.ExtendBaseWidget(v)
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search name, unit or status")
	v.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	v.search.OnChanged = func(string) { v.filter() }
	v.empty = widget.NewLabel("")
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Wrapping = fyne.TextWrapWord // a long search must not run off the screen
	v.emptyBox = container.New(middleWrapped{}, v.empty)
	v.join = widget.NewButtonWithIcon("Join room", themedPeople, v.showJoin)
	v.list = widget.NewList(func() int { return len(v.shown) }, newContactRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < len(v.shown) {
			o.(*contactRow).bind(v.shown[id])
		}
	})
	v.list.OnSelected = func(id widget.ListItemID) {
		if id < len(v.shown) {
			jid := v.shown[id].JID
			v.actions.StartChat(jid)
			if v.OnStarted != nil {
				v.OnStarted(jid)
			}
		}
		v.list.UnselectAll()
	}
	v.initRoles(actions)
	v.SetContacts(contacts)
	return v
}

// SetContacts replaces the roster.
func (v *DirectoryView) SetContacts(c []app.ContactRow) {
	v.all = append(v.all[:0:0], c...)
	sort.SliceStable(v.all, func(i, j int) bool {
		return strings.ToLower(name(v.all[i])) < strings.ToLower(name(v.all[j]))
	})
	v.filter()
}

func name(c app.ContactRow) string {
	if c.Name != "" {
		return c.Name
	}
	return c.JID
}

func (v *DirectoryView) filter() {
	q := strings.ToLower(strings.TrimSpace(v.search.Text))
	v.roles.filter(q)
	v.shown = v.shown[:0]
	for _, c := range v.all {
		hay := strings.ToLower(c.Name + "\n" + c.JID + "\n" + strings.Join(c.Groups, "\n") + "\n" + c.Status)
		if q == "" || strings.Contains(hay, q) {
			v.shown = append(v.shown, c)
		}
	}
	switch {
	case len(v.shown) > 0:
		v.empty.Hide()
	case q != "":
		v.empty.SetText("Nobody matches “" + v.search.Text + "”")
		v.empty.Show()
	default:
		v.empty.SetText("Your directory is empty")
		v.empty.Show()
	}
	v.emptyBox.Refresh() // the new text may wrap to another number of lines
	v.list.Refresh()
}

func (v *DirectoryView) showJoin() {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	room := newField()
	room.SetPlaceHolder("icu@rooms.hospital.org")
	nick := newField()
	nick.SetText(v.DefaultNick)
	nick.SetPlaceHolder("Your name in the room")
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	var pop *widget.PopUp
	joinBtn := widget.NewButton("Join", func() {
		r, n := strings.TrimSpace(room.Text), strings.TrimSpace(nick.Text)
		if err := ValidateAddress(r); err != nil {
			status.SetText("A room address looks like icu@rooms.hospital.org")
			status.Show()
			return
		}
		if n == "" {
			status.SetText("Choose a name to show in the room")
			status.Show()
			return
		}
		if err := v.actions.JoinRoom(r, n); err != nil {
			status.SetText(err.Error())
			status.Show()
			return
		}
		pop.Hide()
		if v.OnStarted != nil {
			v.OnStarted(r)
		}
	})
	joinBtn.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { pop.Hide() })
	content := container.NewVBox(
		widget.NewLabelWithStyle("Join a room", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("Room address"), room, widget.NewLabel("Nickname"), nick, status,
		container.NewGridWithColumns(2, cancel, joinBtn))
	if ra, ok := v.actions.(RoomCreateActions); ok { // careteam.go
		newTeam := widget.NewButtonWithIcon("New care team…", theme.ContentAddIcon(), func() { v.showCreateRoom(ra) })
		newTeam.Importance = widget.LowImportance
		content.Add(widget.NewSeparator())
		content.Add(newTeam)
	}
	pop = widget.NewModalPopUp(container.NewPadded(content), c)
	pop.Resize(fyne.NewSize(min(c.Size().Width-2*theme.Padding(), 400), content.MinSize().Height+2*theme.Padding()))
	v.popup = pop
	pop.Show()
	c.Focus(room)
}

func (v *DirectoryView) CreateRenderer() fyne.WidgetRenderer {
	var right fyne.CanvasObject = v.join
	if b := v.broadcastButton(); b != nil {
		right = container.NewHBox(b, v.join) // broadcast.go
	}
	bar := container.NewBorder(nil, nil, nil, right, v.search)
	return widget.NewSimpleRenderer(container.New(&stackTop{}, bar, v.roles, container.NewStack(v.list, v.emptyBox)))
}

type contactRow struct {
	widget.BaseWidget
	icon     *avatar
	dot      *canvas.Circle
	name     *widget.Label
	presence *widget.Label
	detail   *widget.Label
}

func newContactRow() fyne.CanvasObject {
	r := &contactRow{icon: newAvatar(themedPerson), dot: newPresenceDot(),
		name:     widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		presence: widget.NewLabel(""), detail: widget.NewLabel("")}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.presence.Truncation = fyne.TextTruncateEllipsis
	r.detail.SizeName = theme.SizeNameCaptionText
	r.ExtendBaseWidget(r)
	return r
}

func (r *contactRow) bind(c app.ContactRow) {
	r.name.SetText(name(c))
	r.dot.FillColor = presenceColor(c.Presence)
	r.dot.Refresh()
	p := presenceText(c.Presence)
	if c.Status != "" {
		p += " · " + c.Status
	}
	r.presence.SetText(p)
	r.icon.set(c.Avatar, themedPerson)
	// What they do (their card's claim), then the address the server
	// vouches for: a name from a card is never shown without it.
	var d []string
	for _, s := range []string{c.Role, c.Unit} {
		if s != "" {
			d = append(d, s)
		}
	}
	if len(d) == 0 && len(c.Groups) > 0 {
		d = append(d, strings.Join(c.Groups, ", "))
	}
	r.detail.SetText(strings.Join(append(d, c.JID), " · "))
}

func (r *contactRow) CreateRenderer() fyne.WidgetRenderer {
	s := theme.CaptionTextSize() * 0.8
	iconSize := theme.IconInlineSize() * 1.6
	line2 := container.NewBorder(nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSize(s, s), r.dot)), nil, r.presence)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(iconSize, iconSize), r.icon)), nil,
		container.New(layout.NewCustomPaddedVBoxLayout(-3*theme.Padding()), r.name, line2, r.detail)))
}
