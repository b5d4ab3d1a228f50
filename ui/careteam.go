package ui

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// CareTeamActions is what the room info and "Read by" screens ask of the
// app. The controller's actions answer it; without it rooms offer neither.
type CareTeamActions interface {
	RoomMembers(room string) ([]app.RoomMemberRow, error)
	AddRoomMember(room, address string) error
	RemoveRoomMember(room, address string) error
	MakeRoomAdmin(room, address string) error
	ReadBy(room string, id app.MessageID) ([]app.ReadByRow, error)
}

// InvitationActions lets the inbox show invitations to rooms and answer
// them.
type InvitationActions interface {
	Invitations() ([]app.InvitationRow, error)
	AcceptInvitation(room string) (string, error)
	DeclineInvitation(room string) error
}

// careTeamItems are the header menu's room entries.
func (v *ConversationView) careTeamItems() []*fyne.MenuItem {
	ta, ok := v.actions.(CareTeamActions)
	if !ok || !v.info.IsRoom {
		return nil
	}
	return []*fyne.MenuItem{fyne.NewMenuItem("Care team (members)…", func() { v.showCareTeam(ta) })}
}

// readByAction is the ⋮ menu's "Read by" for our own room messages.
func (v *ConversationView) readByAction(r app.MessageRow) []rowAction {
	ta, ok := v.actions.(CareTeamActions)
	if !ok || !v.info.IsRoom || !r.Outgoing || r.Notice {
		return nil
	}
	return []rowAction{{"Read by…", func() { v.showReadBy(ta, r) }}}
}

// teamPopup shows content with a Close button, as tall as the screen
// allows.
func (v *ConversationView) teamPopup(title string, content fyne.CanvasObject, status *widget.Label, footer ...fyne.CanvasObject) (*container.Scroll, *widget.PopUp) {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return nil, nil
	}
	var pop *widget.PopUp
	closeBtn := widget.NewButton("Close", func() { pop.Hide() })
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(content)
	body := container.NewBorder(container.NewVBox(head, status), container.NewVBox(append(footer, closeBtn)...), nil, nil, scroll)
	pop = widget.NewModalPopUp(container.NewPadded(body), c)
	size := c.Size()
	pop.Resize(fyne.NewSize(min(size.Width-2*theme.Padding(), 460), size.Height*0.8))
	v.popup = pop
	pop.Show()
	return scroll, pop
}

// showReadBy lists who of the care team has read our message r, when, and
// who has not yet.
func (v *ConversationView) showReadBy(ta CareTeamActions, r app.MessageRow) {
	conv := v.info.ID
	list := container.NewVBox()
	status := widget.NewLabel("Asking the room…")
	status.Wrapping = fyne.TextWrapWord
	scroll, _ := v.teamPopup("Read by", list, status)
	go func() {
		rows, err := ta.ReadBy(conv, r.ID)
		doUI(func() {
			if err != nil {
				status.SetText("Not available: " + err.Error())
				return
			}
			status.SetText(readBySummary(rows))
			for _, row := range rows {
				when := "Not yet"
				if row.Read {
					when = "Read " + row.At.Local().Format(stampFormat)
				}
				name := widget.NewLabelWithStyle(row.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: row.Read})
				state := widget.NewLabel(when)
				if !row.Read {
					state.Importance = widget.LowImportance
				}
				list.Add(container.NewBorder(nil, nil, name, state))
			}
			if scroll != nil {
				scroll.Refresh()
			}
		})
	}()
}

// readBySummary is the line above the list: "2 of 3 have read it".
func readBySummary(rows []app.ReadByRow) string {
	n := 0
	for _, r := range rows {
		if r.Read {
			n++
		}
	}
	switch {
	case len(rows) == 0:
		return "Nobody else is in this room."
	case n == len(rows):
		return "Everyone has read it."
	}
	return strconv.Itoa(n) + " of " + strconv.Itoa(len(rows)) + " have read it"
}

// showCareTeam is the room info screen: the care team with roles; owners
// and admins add members (who get an invitation), make admins and remove.
func (v *ConversationView) showCareTeam(ta CareTeamActions) {
	conv := v.info.ID
	list := container.NewVBox()
	status := widget.NewLabel("Asking the room…")
	status.Wrapping = fyne.TextWrapWord
	title := "Care team · " + v.info.Title
	content := container.NewVBox(list)
	var reload func()
	act := func(what string, f func() error) func() {
		return func() {
			status.SetText(what + "…")
			go func() {
				err := f()
				doUI(func() {
					if err != nil {
						status.SetText(what + ": " + err.Error())
						return
					}
					reload()
				})
			}()
		}
	}
	add := newField()
	add.SetPlaceHolder("colleague@hospital.org")
	addBtn := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), nil)
	addBtn.OnTapped = func() {
		addr := strings.TrimSpace(add.Text)
		if addr == "" {
			return
		}
		act("Adding "+addr, func() error { return ta.AddRoomMember(conv, addr) })()
		add.SetText("")
	}
	add.OnSubmitted = func(string) { addBtn.OnTapped() }
	addRow := container.NewBorder(widget.NewLabel("Add a member (they get an invitation)"), nil, nil, addBtn, add)
	addRow.Hide()
	scroll, pop := v.teamPopup(title, content, status, addRow)
	reload = func() {
		go func() {
			rows, err := ta.RoomMembers(conv)
			doUI(func() {
				list.RemoveAll()
				if err != nil {
					status.SetText("Members not available: " + err.Error())
					return
				}
				manage := app.CanManageRoom(rows)
				status.SetText(strconv.Itoa(len(rows)) + " members")
				for _, m := range rows {
					list.Add(memberRow(m, manage, act, ta, conv))
				}
				if manage {
					addRow.Show()
				} else {
					addRow.Hide()
				}
				content.Refresh()
				if scroll != nil {
					scroll.Refresh()
				}
				if pop != nil {
					pop.Refresh() // the footer's add row appeared: lay out again
				}
			})
		}()
	}
	reload()
}

// memberRow is one member: name and address, role, and for managers the
// actions on others who are not owners.
func memberRow(m app.RoomMemberRow, manage bool, act func(string, func() error) func(), ta CareTeamActions, conv string) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(m.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	addr := widget.NewLabel(m.Address)
	addr.Importance = widget.LowImportance
	addr.Truncation = fyne.TextTruncateEllipsis
	role := widget.NewLabel(m.Role)
	var buttons []fyne.CanvasObject
	if manage && !m.Self && m.Role != app.RoomRoleOwner {
		if m.Role == app.RoomRoleMember {
			b := widget.NewButton("Make admin", act("Making "+m.Name+" admin", func() error { return ta.MakeRoomAdmin(conv, m.Address) }))
			b.Importance = widget.LowImportance
			buttons = append(buttons, b)
		}
		// Removing takes a second tap on the same button, which then says
		// what it does: one tap on an icon beside "Make admin" took a
		// colleague out of the team (and the room) at once.
		remove := act("Removing "+m.Name, func() error { return ta.RemoveRoomMember(conv, m.Address) })
		var rm *widget.Button
		rm = widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			if rm.Text == "" {
				rm.SetText("Remove?")
				return
			}
			remove()
		})
		rm.Importance = widget.DangerImportance
		buttons = append(buttons, rm)
	}
	right := container.NewCenter(container.NewHBox(append([]fyne.CanvasObject{role}, buttons...)...))
	return container.NewBorder(nil, nil, nil, right, container.NewVBox(name, addr))
}

// inviteBar is the inbox's list of invitations to rooms, each with Join
// and Decline; hidden when there are none.
type inviteBar struct {
	actions InvitationActions
	box     *fyne.Container
	onJoin  func(room string)
}

func newInviteBar(a InvitationActions) *inviteBar {
	b := &inviteBar{actions: a, box: container.NewVBox()}
	b.box.Hide()
	return b
}

// set shows list (newest first).
func (b *inviteBar) set(list []app.InvitationRow) {
	b.box.RemoveAll()
	for _, inv := range list {
		b.box.Add(b.card(inv))
	}
	if len(list) == 0 {
		b.box.Hide()
	} else {
		b.box.Show()
	}
	b.box.Refresh()
}

func (b *inviteBar) card(inv app.InvitationRow) fyne.CanvasObject {
	// One line each, cut with an ellipsis: a wrapped label in the inbox's
	// top bar is measured before it has its width.
	line := widget.NewLabelWithStyle(inv.FromName+" invites you to the room "+inv.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	line.Truncation = fyne.TextTruncateEllipsis
	lines := []fyne.CanvasObject{line}
	if inv.Reason != "" {
		reason := widget.NewLabelWithStyle("“"+inv.Reason+"”", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		reason.Truncation = fyne.TextTruncateEllipsis
		lines = append(lines, reason)
	}
	// The sender's whole address has a line of its own, before the room's:
	// after the room's address it was cut off at phone width, where a
	// lookalike (dr.patel@another-server) is what the user must see.
	from := widget.NewLabel("From " + inv.From)
	from.Truncation = fyne.TextTruncateEllipsis
	lines = append(lines, from)
	if inv.Caution != "" {
		caution := widget.NewLabelWithStyle("⚠ "+inv.Caution, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		caution.Importance = widget.WarningImportance
		caution.Truncation = fyne.TextTruncateEllipsis
		lines = append(lines, caution)
	}
	addr := widget.NewLabel("Room " + inv.Room)
	addr.Importance = widget.LowImportance
	addr.Truncation = fyne.TextTruncateEllipsis
	lines = append(lines, addr)
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	room := inv.Room
	var join, decline *widget.Button
	join = widget.NewButton("Join", func() {
		join.Disable()
		go func() {
			_, err := b.actions.AcceptInvitation(room)
			doUI(func() {
				if err != nil {
					join.Enable()
					status.SetText("Not joined: " + err.Error())
					status.Show()
					return
				}
				if b.onJoin != nil {
					b.onJoin(room)
				}
			})
		}()
	})
	join.Importance = widget.HighImportance
	decline = widget.NewButton("Decline", func() {
		go func() { _ = b.actions.DeclineInvitation(room) }()
	})
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, container.NewPadded(container.NewVBox(append(lines, status, container.NewHBox(join, decline))...)))
}

// RoomCreateActions lets the directory create a care-team room.
type RoomCreateActions interface {
	// CreateRoom creates a members-only, non-anonymous, archived room at
	// address named name, with members (who are invited), and opens it.
	CreateRoom(address, name string, members []string) error
}

// showCreateRoom is the "New care team" dialog: the room's address, its
// name and the members' addresses (one per line or comma separated).
func (v *DirectoryView) showCreateRoom(ra RoomCreateActions) {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	if v.popup != nil {
		v.popup.Hide()
	}
	room := newField()
	room.SetPlaceHolder("icu-team@rooms.hospital.org")
	name := newField()
	name.SetPlaceHolder("ICU team")
	members := newMultiLineField()
	members.SetPlaceHolder("kim@hospital.org, osei@hospital.org")
	members.SetMinRowsVisible(3)
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	var pop *widget.PopUp
	var create *widget.Button
	create = widget.NewButton("Create", func() {
		r := strings.TrimSpace(room.Text)
		if err := ValidateAddress(r); err != nil {
			status.SetText("A room address looks like icu-team@rooms.hospital.org")
			status.Show()
			return
		}
		var ms []string
		for _, m := range strings.FieldsFunc(members.Text, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == ';' }) {
			if err := ValidateAddress(m); err != nil {
				status.SetText("Not an address: " + m)
				status.Show()
				return
			}
			ms = append(ms, m)
		}
		create.Disable()
		status.Importance = widget.MediumImportance
		status.SetText("Creating the room…")
		status.Show()
		n := strings.TrimSpace(name.Text)
		go func() {
			err := ra.CreateRoom(r, n, ms)
			doUI(func() {
				create.Enable()
				if err != nil {
					status.Importance = widget.DangerImportance
					status.SetText(err.Error())
					status.Refresh()
					return
				}
				pop.Hide()
				if v.OnStarted != nil {
					v.OnStarted(r)
				}
			})
		}()
	})
	create.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { pop.Hide() })
	note := widget.NewLabel("Only members get in; everyone sees who is who; the room keeps its history for every member's devices. Members get an invitation.")
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.LowImportance
	content := container.NewVBox(
		widget.NewLabelWithStyle("New care team", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("Room address"), room, widget.NewLabel("Name"), name,
		widget.NewLabel("Members"), members, note, status,
		container.NewGridWithColumns(2, cancel, create))
	pop = widget.NewModalPopUp(container.NewPadded(content), c)
	width := min(c.Size().Width-2*theme.Padding(), 440)
	pop.Resize(fyne.NewSize(width, min(c.Size().Height-2*theme.Padding(), content.MinSize().Height+6*theme.Padding())))
	v.popup = pop
	pop.Show()
	c.Focus(room)
}
