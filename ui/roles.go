package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// A nurse at 3 a.m. does not know who is "Cardiology on call" tonight; the
// directory's Roles section says who holds each role now (or that the
// backup covers, and until when), and tapping a role writes to the role:
// the app resolves it at the moment of sending and the dialog says whom the
// message reached.

// RoleActions is what the Roles section asks of the app.
type RoleActions interface {
	SendToRole(role, text string, o app.ClinicalOptions) (app.Sent, error)
}

// RolesView lists the on-call roles.
type RolesView struct {
	widget.BaseWidget
	actions RoleActions
	levels  app.UrgencyLevelNames
	// OnSent runs after a message to a role was sent, with the
	// conversation it went to (the shell opens it).
	OnSent func(conv string)

	all, shown []app.RoleRow
	box        *fyne.Container
	head       *widget.Label
	popup      *widget.PopUp
}

func newRolesView(actions RoleActions) *RolesView {
	v := &RolesView{actions: actions, box: container.NewVBox()}
	v.head = widget.NewLabelWithStyle("Roles", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.ExtendBaseWidget(v)
	v.Hide()
	return v
}

// SetRoles replaces the roles (Client.Roles).
func (v *RolesView) SetRoles(rows []app.RoleRow) {
	v.all = append(v.all[:0:0], rows...)
	v.filter("")
}

func (v *RolesView) filter(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	v.shown = v.shown[:0]
	for _, r := range v.all {
		if q == "" || strings.Contains(strings.ToLower(r.Role+"\n"+r.HolderName+"\n"+r.Holder), q) {
			v.shown = append(v.shown, r)
		}
	}
	v.box.Objects = v.box.Objects[:0]
	for _, r := range v.shown {
		v.box.Add(v.roleRow(r))
	}
	if len(v.shown) == 0 || v.actions == nil {
		v.Hide()
	} else {
		v.Show()
	}
	v.box.Refresh()
	v.Refresh()
}

// holderText says who holds the role now and who backs them up:
// "Dr Osei until 20:00 · backup charge.nurse".
func holderText(r app.RoleRow) string {
	s := holderNow(r)
	if b := backupText(r); b != "" {
		s += " · " + b
	}
	return s
}

// holderNow says who holds the role now: "Dr Osei until 20:00",
// "Dr Lee (backup) until 20:00", "Nobody now · next shift 20:00".
func holderNow(r app.RoleRow) string {
	if r.Holder == "" {
		if r.Next.IsZero() {
			return "Nobody now"
		}
		return "Nobody now · next shift " + clock(r.Next)
	}
	s := r.HolderName
	if s == "" {
		s = r.Holder
	}
	if r.Backup {
		s += " (backup)"
	}
	if !r.Until.IsZero() {
		s += " until " + clock(r.Until)
	}
	return s
}

// backupText names the shift's backup ("backup Ade Bello"), or "" when
// there is none or the backup already holds the role.
func backupText(r app.RoleRow) string {
	if r.BackupJID == "" || r.Backup || r.Holder == "" {
		return ""
	}
	switch r.BackupName {
	case "":
		return "backup " + localName(r.BackupJID)
	case "You":
		return "you are the backup"
	}
	return "backup " + r.BackupName
}

func localName(jid string) string {
	if i := strings.IndexByte(jid, '@'); i > 0 {
		return jid[:i]
	}
	return jid
}

func (v *RolesView) roleRow(r app.RoleRow) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(r.Role, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	// The holder and the backup on lines of their own (like a person's
	// row): with a shift ending tomorrow the date makes one line too long
	// for the list, and the backup is what gets cut.
	who := widget.NewLabel(holderNow(r))
	who.Truncation = fyne.TextTruncateEllipsis
	if r.Holder == "" {
		who.Importance = widget.WarningImportance
	}
	lines := []fyne.CanvasObject{name, who}
	if b := backupText(r); b != "" {
		backup := widget.NewLabel(b)
		backup.Truncation = fyne.TextTruncateEllipsis
		backup.SizeName = theme.SizeNameCaptionText
		lines = append(lines, backup)
	}
	// The holder's face (picture or initials); the role's icon while
	// no one holds it.
	face := newAvatar(themedPeople)
	face.set(r.HolderAvatar, themedPeople)
	iconSize := theme.IconInlineSize() * 1.6
	icon := container.NewCenter(container.NewGridWrap(fyne.NewSize(iconSize, iconSize), face))
	row := container.NewBorder(nil, nil, icon, widget.NewIcon(theme.MailComposeIcon()),
		container.New(layout.NewCustomPaddedVBoxLayout(-3*theme.Padding()), lines...))
	return newTapRow(row, func() { v.compose(r) })
}

// tapRow is a tappable list row.
type tapRow struct {
	widget.BaseWidget
	content fyne.CanvasObject
	onTap   func()
}

func newTapRow(content fyne.CanvasObject, onTap func()) *tapRow {
	t := &tapRow{content: content, onTap: onTap}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.content) }
func (t *tapRow) Tapped(*fyne.PointEvent)             { t.onTap() }
func (t *tapRow) Cursor() desktop.Cursor              { return desktop.PointerCursor }

// compose writes to a role: text, level, then the app resolves the role
// and the dialog says whom it reached.
func (v *RolesView) compose(r app.RoleRow) {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	entry := newClinicalField()
	entry.SetPlaceHolder("Message to " + r.Role)
	entry.SetMinRowsVisible(3)
	urg := widget.NewSelect(levelNames(v.levels), nil)
	ack := widget.NewCheck("Ack required", nil)
	urg.OnChanged = func(string) {
		if app.AckAlways(urgencyLevels[max(urg.SelectedIndex(), 0)]) {
			ack.SetChecked(true)
			ack.Disable()
		} else {
			ack.Enable()
		}
	}
	urg.SetSelectedIndex(0)
	status := errorLabel()
	result := wrapped("")
	result.Importance = widget.SuccessImportance
	result.TextStyle.Bold = true
	result.Hide()
	var pop *widget.PopUp
	var send *widget.Button
	cancel := widget.NewButton("Cancel", func() { pop.Hide() })
	send = widget.NewButtonWithIcon("Send to role", theme.MailSendIcon(), func() {
		text := strings.TrimSpace(entry.Text)
		if text == "" {
			status.SetText("Write a message first")
			status.Show()
			return
		}
		u := urgencyLevels[max(urg.SelectedIndex(), 0)]
		o := app.ClinicalOptions{Urgency: u, AckRequired: ack.Checked || app.AckAlways(u)}
		send.Disable()
		go func() {
			sent, err := v.actions.SendToRole(r.Role, text, o)
			doUI(func() {
				send.Enable()
				if err != nil {
					status.SetText("Not sent: " + err.Error())
					status.Show()
					return
				}
				status.Hide()
				result.SetText(reachedText(sent))
				result.Show()
				entry.SetText("")
				send.SetText("Open conversation")
				send.OnTapped = func() {
					pop.Hide()
					if v.OnSent != nil {
						v.OnSent(sent.Conversation)
					}
				}
				cancel.SetText("Close")
				pop.Resize(fyne.NewSize(pop.Size().Width, pop.Content.MinSize().Height))
			})
		}()
	})
	send.Importance = widget.HighImportance
	content := container.NewVBox(
		widget.NewLabelWithStyle("Message "+r.Role, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped("Now: "+holderText(r)+". Rounds finds who holds the role when you send."),
		entry, container.NewHBox(urg, ack), status, result,
		container.NewGridWithColumns(2, cancel, send))
	pop = widget.NewModalPopUp(container.NewPadded(content), c)
	pop.Resize(fyne.NewSize(min(c.Size().Width-2*theme.Padding(), 440), content.MinSize().Height+3*theme.Padding()))
	v.popup = pop
	pop.Show()
	c.Focus(entry)
}

// reachedText says whom a message to a role reached.
func reachedText(s app.Sent) string {
	who := s.ToName
	if who == "" {
		who = s.To
	}
	if s.Role == nil {
		return "Sent to " + who + "."
	}
	t := "Sent to " + who + " (" + s.Role.Role
	if s.Role.Backup {
		t += ", backup"
	}
	if !s.Role.Until.IsZero() {
		t += ", on call until " + clock(s.Role.Until)
	}
	return t + ")."
}

func (v *RolesView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewVBox(v.head, v.box, widget.NewSeparator(),
		widget.NewLabelWithStyle("People", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})))
}

// SetRoles shows the on-call roles above the people.
func (v *DirectoryView) SetRoles(rows []app.RoleRow) {
	v.roles.SetRoles(rows)
	v.roles.filter(v.search.Text)
}

// SetLevels sets the urgency levels' display names.
func (v *DirectoryView) SetLevels(l app.UrgencyLevelNames) { v.roles.levels = l }

func (v *DirectoryView) initRoles(actions DirectoryActions) {
	ra, _ := actions.(RoleActions)
	v.roles = newRolesView(ra)
	v.roles.OnSent = func(conv string) {
		if v.OnStarted != nil {
			v.OnStarted(conv)
		}
	}
}
