package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// A message's ⋮ menu: on one's own message Recall (after a confirmation:
// it removes the message from every recipient's device) and Correct; on an
// incoming urgent message the quick responses; on a corrected message its
// history (every earlier text with its time); on every message its
// details (receipts).

// rowAction is one entry of a message's menu.
type rowAction struct {
	Label string
	Run   func()
}

// canRespond: an incoming message that asked for a response and has not
// been acknowledged by us yet.
func canRespond(r app.MessageRow) bool {
	if r.Outgoing || !r.Recalled.IsZero() || r.Notice || r.Response != "" {
		return false
	}
	if r.Urgency == app.UrgencyNormal && !r.AckRequired {
		return false
	}
	for _, x := range r.Responses {
		if x.Own && x.Kind == app.ResponseAck {
			return false
		}
	}
	return true
}

// rowActions lists what the user can do with r (empty: no ⋮ button).
func (v *ConversationView) rowActions(r app.MessageRow) []rowAction {
	ca, ok := v.clinicalActions()
	if !ok || r.Notice {
		return nil
	}
	conv := v.info.ID
	var out []rowAction
	if canRespond(r) {
		for _, k := range []app.ResponseKind{app.ResponseAck, app.ResponseDecline, app.ResponseCallMe, app.ResponseFiveMinutes} {
			out = append(out, rowAction{responseButton(k), func() { v.respond(ca, r.ID, k, "") }})
		}
		out = append(out, rowAction{"Reply…", func() { v.showReply(ca, r) }})
	}
	if r.Outgoing && r.Recalled.IsZero() && r.Response == "" {
		if r.Body != "" && r.Forward == nil {
			out = append(out, rowAction{"Correct…", func() { v.showCorrect(ca, r) }})
		}
		out = append(out, rowAction{"Recall…", func() { v.confirmRecall(ca, r) }})
	}
	if e := r.Escalation; r.Outgoing && e != nil && e.Active && r.Recalled.IsZero() {
		out = append(out, rowAction{"Stop escalation…", func() { v.confirmStopEscalation(ca, r) }})
	}
	if r.Corrected && r.Recalled.IsZero() {
		out = append(out, rowAction{"Edit history", func() { v.showHistory(ca, r) }})
	}
	if len(out) > 0 && r.Outgoing {
		out = append(out, rowAction{"Details", func() { v.showDetails(r) }})
	}
	out = append(out, v.readByAction(r)...)  // careteam.go
	out = append(out, v.replyActions(r)...)  // replies.go
	out = append(out, v.forwardAction(r)...) // forward.go
	_ = conv
	return out
}

func (v *ConversationView) showRowMenu(r app.MessageRow, anchor fyne.CanvasObject) {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	var items []*fyne.MenuItem
	for _, a := range v.rowActions(r) {
		items = append(items, fyne.NewMenuItem(a.Label, a.Run))
	}
	showMenu(c, fyne.NewMenu("", items...), fyne.CurrentApp().Driver().AbsolutePositionForObject(anchor), anchor.Size())
}

// showMenu opens menu from an anchor of size anchor at at (menuPosition).
func showMenu(c fyne.Canvas, menu *fyne.Menu, at fyne.Position, anchor fyne.Size) {
	m := widget.NewPopUpMenu(menu, c)
	_, area := c.InteractiveArea()
	m.ShowAtPosition(menuPosition(at, anchor, m.MinSize(), area, theme.Padding()))
}

// menuPosition places a menu of size menu opened from an anchor at at:
// below and right of the anchor's top left corner where it fits, else
// opening leftwards (ending at the anchor's right edge) and upwards (ending
// at its bottom), always at least margin inside the window's area
// (positions are relative to it, as for Fyne's pop-ups). Fyne only pushes
// a menu back inside the area flush against its edge, where its border and
// shadow are cut off.
func menuPosition(at fyne.Position, anchor, menu, area fyne.Size, margin float32) fyne.Position {
	maxX, maxY := area.Width-margin-menu.Width, area.Height-margin-menu.Height
	x, y := at.X, at.Y
	if x > maxX {
		x = at.X + anchor.Width - menu.Width
	}
	if y > maxY {
		y = at.Y + anchor.Height - menu.Height
	}
	// A menu larger than the area starts at its top left corner.
	return fyne.NewPos(max(min(x, maxX), margin), max(min(y, maxY), margin))
}

// respond sends a quick response off the UI goroutine; a failure shows
// under the composer.
func (v *ConversationView) respond(ca ClinicalActions, id app.MessageID, k app.ResponseKind, text string) {
	conv := v.info.ID
	go func() {
		err := ca.Respond(conv, id, k, text)
		doUI(func() {
			if err != nil {
				v.showComposerNote(responseButton(k) + " not sent: " + err.Error())
			}
		})
	}()
}

// modal shows content in a modal pop-up over the conversation.
func (v *ConversationView) modal(content fyne.CanvasObject, width float32) *widget.PopUp {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return nil
	}
	pop := widget.NewModalPopUp(container.NewPadded(content), c)
	size := c.Size()
	pop.Resize(fyne.NewSize(min(size.Width-2*theme.Padding(), width), min(size.Height-2*theme.Padding(), content.MinSize().Height+3*theme.Padding())))
	v.clin.popup = pop
	pop.Show()
	return pop
}

func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (v *ConversationView) showReply(ca ClinicalActions, r app.MessageRow) {
	entry := newClinicalField()
	entry.SetPlaceHolder("Reply to " + r.Sender)
	status := errorLabel()
	var pop *widget.PopUp
	send := widget.NewButtonWithIcon("Send reply", theme.MailSendIcon(), func() {
		text := strings.TrimSpace(entry.Text)
		if text == "" {
			status.SetText("Write a reply first")
			status.Show()
			return
		}
		pop.Hide()
		v.respond(ca, r.ID, app.ResponseText, text)
	})
	send.Importance = widget.HighImportance
	pop = v.modal(container.NewVBox(
		widget.NewLabelWithStyle("Reply", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped(app.Excerpt(r.Body, 120)), entry, status,
		container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), send)), 440)
}

// confirmRecall asks before recalling: it cannot be undone.
func (v *ConversationView) confirmRecall(ca ClinicalActions, r app.MessageRow) {
	conv := v.info.ID
	v.confirmAction("Recall this message?", dialogAction{
		Label: "Recall", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, Failed: "Not recalled: ",
		Run: func() error { return ca.Recall(conv, r.ID) },
	},
		wrapped("It is removed from every device of everyone it reached that runs Rounds, and any attached file can no longer be opened. The thread and the audit log keep a note that it was recalled. Other apps may already have shown it."),
		wrapped("“"+app.Excerpt(r.Body, 120)+"”"))
}

// dialogAction is the one button of a confirmation besides Cancel.
type dialogAction struct {
	Label      string
	Icon       fyne.Resource
	Importance widget.Importance
	Failed     string       // shown before the error when Run fails
	Run        func() error // called off the UI goroutine
}

// confirmAction shows a modal with a bold title, the explanation, Cancel and
// act's button. The action runs off the UI goroutine; on failure the dialog
// stays open with the error under the explanation, so the user can retry.
func (v *ConversationView) confirmAction(title string, act dialogAction, explain ...fyne.CanvasObject) {
	status := errorLabel()
	var pop *widget.PopUp
	btn := widget.NewButtonWithIcon(act.Label, act.Icon, func() {
		go func() {
			err := act.Run()
			doUI(func() {
				if err != nil {
					status.SetText(act.Failed + err.Error())
					status.Show()
					return
				}
				pop.Hide()
			})
		}()
	})
	btn.Importance = act.Importance
	rows := append([]fyne.CanvasObject{widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}, explain...)
	rows = append(rows, status, container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), btn))
	pop = v.modal(container.NewVBox(rows...), 440)
}

// showDetails is the receipt detail plus every response and escalation
// step in full (the bubble may shorten them).
func (v *ConversationView) showDetails(r app.MessageRow) {
	if len(r.Responses) == 0 && (r.Escalation == nil || len(r.Escalation.Steps) == 0) {
		v.showReceipt(r)
		return
	}
	content := container.NewVBox(widget.NewLabelWithStyle("Message details", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	content.Add(widget.NewLabel("Written " + r.Timestamp.Local().Format(stampFormat)))
	content.Add(receiptTable(r.Receipt))
	names := make([]string, 0, len(r.Members))
	for n := range r.Members {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		content.Add(widget.NewLabelWithStyle(n, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		content.Add(receiptTable(r.Members[n]))
	}
	if len(r.Responses) > 0 {
		content.Add(widget.NewSeparator())
		content.Add(widget.NewLabelWithStyle("Responses", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, x := range r.Responses {
			line := x.From + ": " + app.ResponseLabel(x.Kind) + " " + x.At.Local().Format(stampFormat)
			if t := strings.TrimSpace(x.Text); t != "" {
				line += "\n" + t
			}
			content.Add(wrapped(line))
		}
	}
	if e := r.Escalation; e != nil && len(e.Steps) > 0 {
		content.Add(widget.NewSeparator())
		content.Add(widget.NewLabelWithStyle("Escalation", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, st := range e.Steps {
			who := st.ToName
			if who == "" {
				who = st.To
			}
			if st.Role != "" {
				who += " (" + st.Role + ")"
			}
			line := fmt.Sprintf("Step %d, %s: %s", st.Step, st.At.Local().Format(stampFormat), who)
			if st.Via != "" {
				line += ", " + st.Via
			}
			if st.Failed != "" {
				line += ": not reached, " + st.Failed
			}
			content.Add(wrapped(line))
		}
	}
	var pop *widget.PopUp
	closeBtn := widget.NewButton("Close", func() { pop.Hide() })
	body := container.NewBorder(nil, closeBtn, nil, nil, container.NewVScroll(content))
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	pop = widget.NewModalPopUp(container.NewPadded(body), c)
	size := c.Size()
	pop.Resize(fyne.NewSize(min(size.Width-2*theme.Padding(), 460), min(size.Height*0.85, content.MinSize().Height+closeBtn.MinSize().Height+8*theme.Padding())))
	v.clin.popup = pop
	pop.Show()
}

// confirmStopEscalation asks before ending a ladder: nobody further will
// be paged about this message.
func (v *ConversationView) confirmStopEscalation(ca ClinicalActions, r app.MessageRow) {
	conv := v.info.ID
	v.confirmAction("Stop escalating this message?", dialogAction{
		Label: "Stop escalation", Importance: widget.WarningImportance, Failed: "Escalation not stopped: ",
		Run: func() error { return ca.CancelEscalation(conv, r.ID) },
	},
		wrapped("Nobody further is paged about it, and those already reached are told no action is needed. Do this only when you have reached someone another way."))
}

func (v *ConversationView) showCorrect(ca ClinicalActions, r app.MessageRow) {
	entry := newClinicalField()
	entry.SetText(r.Body)
	entry.SetMinRowsVisible(3)
	status := errorLabel()
	var pop *widget.PopUp
	conv := v.info.ID
	save := widget.NewButton("Save correction", func() {
		text := entry.Text
		go func() {
			err := ca.Correct(conv, r.ID, text)
			doUI(func() {
				if err != nil {
					status.SetText("Not corrected: " + err.Error())
					status.Show()
					return
				}
				pop.Hide()
			})
		}()
	})
	save.Importance = widget.HighImportance
	pop = v.modal(container.NewVBox(
		widget.NewLabelWithStyle("Correct message", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped("Everyone sees the corrected text marked “edited”; the earlier text stays in the message's history."),
		entry, status,
		container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), save)), 480)
}

// historyEntries are the texts a history dialog lists, newest first: the
// current text, then each earlier one with when it was written.
func historyEntries(r app.MessageRow, earlier []app.BodyVersion) [][2]string {
	out := [][2]string{{"Now (edited " + clock(r.CorrectedAt) + ")", r.Body}}
	for i := len(earlier) - 1; i >= 0; i-- {
		label := "Written " + clock(earlier[i].At)
		if i == 0 {
			label = "Sent " + clock(earlier[i].At)
		}
		out = append(out, [2]string{label, earlier[i].Body})
	}
	return out
}

func (v *ConversationView) showHistory(ca ClinicalActions, r app.MessageRow) {
	content := container.NewVBox(widget.NewLabelWithStyle("Edit history", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	earlier, err := ca.History(r.ID)
	if err != nil {
		l := errorLabel()
		l.SetText("History unavailable: " + err.Error())
		l.Show()
		content.Add(l)
	}
	for _, e := range historyEntries(r, earlier) {
		head := widget.NewLabelWithStyle(e[0], fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		head.SizeName = theme.SizeNameCaptionText
		content.Add(head)
		content.Add(wrapped(e[1]))
	}
	var pop *widget.PopUp
	closeBtn := widget.NewButton("Close", func() { pop.Hide() })
	body := container.NewBorder(nil, closeBtn, nil, nil, container.NewVScroll(content))
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	pop = widget.NewModalPopUp(container.NewPadded(body), c)
	size := c.Size()
	pop.Resize(fyne.NewSize(min(size.Width-2*theme.Padding(), 460), min(size.Height*0.8, content.MinSize().Height+closeBtn.MinSize().Height+8*theme.Padding())))
	v.clin.popup = pop
	pop.Show()
}
