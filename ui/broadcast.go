package ui

import (
	"io"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// BroadcastActions is what the directory's Broadcast asks of the app: send
// one message to each of several people or a role group, list the
// broadcasts sent, show each recipient's state, export it. Without it the
// directory offers no Broadcast.
type BroadcastActions interface {
	SendBroadcast(to []string, role, text string, urgency app.Urgency, ack bool) (app.BroadcastView, error)
	Broadcasts() ([]app.BroadcastView, error)
	Broadcast(id string) (app.BroadcastView, error)
	ExportBroadcast(w io.Writer, id string) error
}

// broadcastButton is the directory bar's Broadcast button (nil without
// BroadcastActions).
func (v *DirectoryView) broadcastButton() *widget.Button {
	ba, ok := v.actions.(BroadcastActions)
	if !ok {
		return nil
	}
	return widget.NewButtonWithIcon("Broadcast", theme.MailForwardIcon(), func() { v.showBroadcast(ba) })
}

// directoryModal shows content over the directory, width at most width.
func (v *DirectoryView) directoryModal(content fyne.CanvasObject, width float32) *widget.PopUp {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return nil
	}
	if v.popup != nil {
		v.popup.Hide()
	}
	pop := widget.NewModalPopUp(container.NewPadded(content), c)
	size := c.Size()
	pop.Resize(fyne.NewSize(min(size.Width-2*theme.Padding(), width), min(size.Height-2*theme.Padding(), content.MinSize().Height+3*theme.Padding())))
	v.popup = pop
	pop.Show()
	return pop
}

// showBroadcast is the composer: the people (ticked from the directory) or
// a role group, the text, the urgency and whether to ask for an
// acknowledgement; Send, and the broadcasts sent before.
func (v *DirectoryView) showBroadcast(ba BroadcastActions) {
	var chosen []string
	people := container.NewVBox()
	for _, c := range v.all {
		jid := c.JID
		people.Add(widget.NewCheck(name(c), func(on bool) {
			if i := slices.Index(chosen, jid); on && i < 0 {
				chosen = append(chosen, jid)
			} else if !on && i >= 0 {
				chosen = slices.Delete(chosen, i, i+1)
			}
		}))
	}
	scroll := container.NewVScroll(people)
	scroll.SetMinSize(fyne.NewSize(0, 160))
	roles := []string{"No role group"}
	for _, r := range v.roles.all {
		if !slices.Contains(roles, r.Role) {
			roles = append(roles, r.Role)
		}
	}
	role := widget.NewSelect(roles, nil)
	role.SetSelectedIndex(0)
	text := newClinicalField()
	text.SetPlaceHolder("Message to each of them")
	levels := levelNames(v.roles.levels)
	ack := widget.NewCheck("Ask each to acknowledge", nil)
	urg := widget.NewRadioGroup(levels, func(sel string) {
		// Urgent and STAT always ask (app.AckAlways), as in the other composers.
		if app.AckAlways(urgencyLevels[max(0, indexOf(levels, sel))]) {
			ack.SetChecked(true)
			ack.Disable()
		} else {
			ack.Enable()
		}
	})
	urg.Horizontal, urg.Required = true, true
	urg.SetSelected(levels[0])
	status := errorLabel()
	send := widget.NewButtonWithIcon("Send to each", theme.MailSendIcon(), func() {
		r := ""
		if role.SelectedIndex() > 0 {
			r = role.Selected
		}
		if len(chosen) == 0 && r == "" {
			status.SetText("Tick people or choose a role group")
			status.Show()
			return
		}
		if strings.TrimSpace(text.Text) == "" {
			status.SetText("Write the message first")
			status.Show()
			return
		}
		u := urgencyLevels[max(0, indexOf(levels, urg.Selected))]
		to, body, asks := slices.Clone(chosen), text.Text, ack.Checked || app.AckAlways(u)
		go func() {
			b, err := ba.SendBroadcast(to, r, body, u, asks)
			doUI(func() {
				if err != nil {
					status.SetText("Not sent: " + err.Error())
					status.Show()
					return
				}
				v.showBroadcastView(ba, b)
			})
		}()
	})
	send.Importance = widget.HighImportance
	sent := widget.NewButton("Sent broadcasts", func() { v.showBroadcastList(ba) })
	var pop *widget.PopUp
	pop = v.directoryModal(container.NewVBox(
		widget.NewLabelWithStyle("Broadcast: one message to each", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		scroll, container.NewBorder(nil, nil, widget.NewLabel("or everyone on call as"), nil, role),
		text, urg, ack, status,
		container.NewGridWithColumns(3, widget.NewButton("Cancel", func() { pop.Hide() }), sent, send)), 520)
}

// openBroadcast is the broadcast view on screen: the controller redraws it
// when a message changes (a receipt arrived), through ShowBroadcastState.
type openBroadcast struct {
	id   string
	pop  *widget.PopUp
	fill func(app.BroadcastView)
}

// OpenBroadcast is the id of the broadcast view on screen ("" when none).
func (v *DirectoryView) OpenBroadcast() string {
	if b := v.bcast; b != nil && b.pop != nil && b.pop.Visible() && v.popup == b.pop {
		return b.id
	}
	return ""
}

// ShowBroadcastState redraws the broadcast view with b's states, when it
// is still b's view on screen.
func (v *DirectoryView) ShowBroadcastState(b app.BroadcastView) {
	if v.OpenBroadcast() == b.ID && b.ID != "" {
		v.bcast.fill(b)
	}
}

// showBroadcastView lists each recipient's state, with Refresh and Export.
func (v *DirectoryView) showBroadcastView(ba BroadcastActions, b app.BroadcastView) {
	rows := container.NewVBox()
	summary := widget.NewLabel("")
	summary.Wrapping = fyne.TextWrapWord
	fill := func(b app.BroadcastView) {
		summary.SetText(b.Summary)
		rows.RemoveAll()
		for _, r := range b.Recipients {
			n := widget.NewLabelWithStyle(r.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			n.Truncation = fyne.TextTruncateEllipsis
			s := widget.NewLabel(r.State)
			s.Wrapping = fyne.TextWrapWord
			if r.Receipt.State == app.ReceiptAcknowledged {
				s.Importance = widget.SuccessImportance
			} else if r.Message == 0 || r.Receipt.State == app.ReceiptFailed {
				s.Importance = widget.DangerImportance
			}
			rows.Add(container.NewGridWithColumns(2, n, s))
		}
		rows.Refresh()
	}
	fill(b)
	scroll := container.NewVScroll(rows)
	scroll.SetMinSize(fyne.NewSize(0, 220))
	note := widget.NewLabel("")
	note.Wrapping = fyne.TextWrapWord
	note.Hide()
	id := b.ID
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), func() {
		go func() {
			nb, err := ba.Broadcast(id)
			doUI(func() {
				if err != nil {
					note.SetText(err.Error())
					note.Show()
					return
				}
				fill(nb)
			})
		}()
	})
	var pop *widget.PopUp
	export := widget.NewButtonWithIcon("Export CSV", theme.DocumentSaveIcon(), func() {
		saveExport(v, safeFileName("broadcast-"+id)+".csv", func(w io.Writer) error { return ba.ExportBroadcast(w, id) },
			func(msg string, err error) {
				if err != nil {
					msg = "Export failed: " + err.Error()
				}
				note.SetText(msg)
				note.Show()
			})
	})
	head := "Broadcast · " + clock(b.At)
	if b.Role != "" {
		head += " · " + b.Role
	}
	pop = v.directoryModal(container.NewVBox(
		widget.NewLabelWithStyle(head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped("“"+app.Excerpt(b.Preview, 120)+"”"), summary, scroll, note,
		container.NewGridWithColumns(3, widget.NewButton("Close", func() { pop.Hide() }), refresh, export)), 520)
	v.bcast = &openBroadcast{id: id, pop: pop, fill: fill}
}

// showBroadcastList lists the broadcasts sent from this device, newest
// first; a tap opens one.
func (v *DirectoryView) showBroadcastList(ba BroadcastActions) {
	list, err := ba.Broadcasts()
	box := container.NewVBox()
	switch {
	case err != nil:
		box.Add(wrapped(err.Error()))
	case len(list) == 0:
		box.Add(widget.NewLabel("No broadcasts sent from this device"))
	}
	for _, b := range list {
		btn := widget.NewButton(clock(b.At)+" · "+app.Excerpt(b.Preview, 40)+"\n"+b.Summary, func() { v.showBroadcastView(ba, b) })
		btn.Alignment = widget.ButtonAlignLeading
		box.Add(btn)
	}
	scroll := container.NewVScroll(box)
	scroll.SetMinSize(fyne.NewSize(0, 300))
	var pop *widget.PopUp
	pop = v.directoryModal(container.NewVBox(
		widget.NewLabelWithStyle("Sent broadcasts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		scroll, widget.NewButton("Close", func() { pop.Hide() })), 520)
}
