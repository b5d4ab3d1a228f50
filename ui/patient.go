package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// Patient context and SBAR on screen: the composer's Patient… and SBAR…
// controls (in the options panel behind the composer's options button), the
// chip above a tagged message's text with whose claim it is, and an "SBAR"
// chip above a handover's text (the text itself is drawn as sent: Fyne's
// rich text wraps a line of several coloured segments mid-word, so the
// headings are not coloured). The rules (what a tag may hold, what a notification hides) are app's.

// SBARActions sends an SBAR handover; the controller's actions implement
// it, and a screen whose actions do not offers no SBAR control.
type SBARActions interface {
	SendSBAR(conv string, f [4]string, o app.ClinicalOptions) (app.Sent, error)
}

// rowPatient is what a row draws for a patient tag and an SBAR handover.
type rowPatient struct {
	chipBg, sbarBg *canvas.Rectangle
	chip, sbar     *canvas.Text
	claim          *canvas.Text
}

func newRowPatient() rowPatient {
	rp := rowPatient{chipBg: canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)),
		sbarBg: canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)),
		chip:   canvas.NewText("", theme.Color(theme.ColorNameForegroundOnPrimary)),
		sbar:   canvas.NewText("SBAR", theme.Color(theme.ColorNameForegroundOnPrimary)),
		claim:  canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))}
	for _, t := range []*canvas.Text{rp.chip, rp.sbar, rp.claim} {
		t.TextSize = theme.CaptionTextSize()
	}
	rp.chip.TextStyle.Bold = true
	rp.sbar.TextStyle.Bold = true
	rp.claim.TextStyle.Italic = true
	rp.chipBg.CornerRadius = theme.InputRadiusSize()
	rp.sbarBg.CornerRadius = theme.InputRadiusSize()
	return rp
}

func (rp *rowPatient) objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{rp.chipBg, rp.chip, rp.sbarBg, rp.sbar, rp.claim}
}

func (rp *rowPatient) hide() {
	for _, o := range rp.objects() {
		o.Hide()
	}
}

// hasTags: r draws a chip line above its text.
func hasTags(r app.MessageRow) bool {
	return r.Recalled.IsZero() && (r.Patient != nil || r.SBAR != nil)
}

// chipText is the patient chip's words, cut with "…" to fit maxW.
func chipText(g *geometry, label string, maxW float32) string {
	s := "Patient · " + label
	style := fyne.TextStyle{Bold: true}
	if fyne.MeasureText(s, g.capSize, style).Width <= maxW {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 && fyne.MeasureText(string(rs)+"…", g.capSize, style).Width > maxW {
		rs = rs[:len(rs)-1]
	}
	return strings.TrimRight(string(rs), " ") + "…"
}

// measurePatient adds r's chip line (and the claim under a patient chip)
// to a row's height h and bubble width w.
func (v *ConversationView) measurePatient(g *geometry, r app.MessageRow, h, w, bubbleMax float32) (float32, float32) {
	if !hasTags(r) {
		return h, w
	}
	h += g.capH + g.pad
	maxW := bubbleMax - g.m.padW
	lw := float32(0)
	if r.SBAR != nil {
		lw += fyne.MeasureText("SBAR", g.capSize, fyne.TextStyle{Bold: true}).Width + 3*g.pad
	}
	if p := r.Patient; p != nil {
		lw += fyne.MeasureText(chipText(g, p.Label, maxW-lw-2*g.pad), g.capSize, fyne.TextStyle{Bold: true}).Width + 2*g.pad
		h += g.capH
		cw := min(fyne.MeasureText(p.Claim, g.capSize, fyne.TextStyle{Italic: true}).Width, maxW)
		w = max(w, cw+g.m.padW)
	}
	return h, max(w, min(lw, maxW)+g.m.padW)
}

// bindPatient sets r's chips and claim.
func (l *messageLayout) bindPatient(r app.MessageRow) {
	rp := &l.tags
	rp.hide()
	if !hasTags(r) {
		return
	}
	primary, on := theme.Color(theme.ColorNamePrimary), theme.Color(theme.ColorNameForegroundOnPrimary)
	if r.SBAR != nil {
		rp.sbarBg.FillColor, rp.sbar.Color = primary, on
		rp.sbarBg.Show()
		rp.sbar.Show()
		rp.sbarBg.Refresh()
		rp.sbar.Refresh()
	}
	if p := r.Patient; p != nil {
		rp.chipBg.FillColor, rp.chip.Color = primary, on
		rp.claim.Text, rp.claim.Color = p.Claim, theme.Color(theme.ColorNamePlaceHolder)
		for _, o := range []fyne.CanvasObject{rp.chipBg, rp.chip, rp.claim} {
			o.Show()
			o.Refresh()
		}
	}
}

// layoutPatient places the chip line (and claim) from y in a bubble's
// inner width and returns the y below them.
func (l *messageLayout) layoutPatient(x, y, width float32, r app.MessageRow) float32 {
	if !hasTags(r) {
		return y
	}
	g, rp := l.v.geo, &l.tags
	cx := x
	if rp.sbar.Visible() {
		tw := fyne.MeasureText("SBAR", rp.sbar.TextSize, rp.sbar.TextStyle).Width
		rp.sbarBg.Move(fyne.NewPos(cx, y))
		rp.sbarBg.Resize(fyne.NewSize(tw+2*g.pad, g.capH))
		rp.sbar.Move(fyne.NewPos(cx+g.pad, y))
		rp.sbar.Resize(fyne.NewSize(tw, g.capH))
		cx += tw + 3*g.pad
	}
	if p := r.Patient; p != nil {
		rp.chip.Text = chipText(&g, p.Label, x+width-cx-2*g.pad)
		tw := fyne.MeasureText(rp.chip.Text, rp.chip.TextSize, rp.chip.TextStyle).Width
		rp.chipBg.Move(fyne.NewPos(cx, y))
		rp.chipBg.Resize(fyne.NewSize(tw+2*g.pad, g.capH))
		rp.chip.Move(fyne.NewPos(cx+g.pad, y))
		rp.chip.Resize(fyne.NewSize(tw, g.capH))
		rp.chip.Refresh()
		rp.claim.Move(fyne.NewPos(x, y+g.capH))
		rp.claim.Resize(fyne.NewSize(width, g.capH))
		y += g.capH
	}
	return y + g.capH + g.pad
}

// composerPatient is the tag the next message carries, shown as a chip
// above the composer with a button to drop it.
type composerPatient struct {
	tag  *app.PatientTag
	line *widget.Label
	box  *fyne.Container
}

// patientControls are the options panel's Patient… and SBAR… buttons and
// the pending tag's line (nil when the actions cannot send clinical
// messages).
func (v *ConversationView) patientControls() (buttons, pending fyne.CanvasObject) {
	pb := widget.NewButtonWithIcon("Patient…", theme.AccountIcon(), func() { v.showPatientDialog() })
	pb.Importance = widget.LowImportance
	objs := []fyne.CanvasObject{pb}
	if _, ok := v.actions.(SBARActions); ok {
		sb := widget.NewButtonWithIcon("SBAR…", theme.DocumentCreateIcon(), func() { v.showSBARDialog() })
		sb.Importance = widget.LowImportance
		objs = append(objs, sb)
	}
	v.pat.line = widget.NewLabel("")
	v.pat.line.Truncation = fyne.TextTruncateEllipsis
	v.pat.line.TextStyle.Bold = true
	clear := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { v.setPendingPatient(nil) })
	clear.Importance = widget.LowImportance
	v.pat.box = container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), clear, v.pat.line)
	v.pat.box.Hide()
	return container.NewHBox(objs...), v.pat.box
}

// setPendingPatient sets (nil: drops) the tag the next message carries.
func (v *ConversationView) setPendingPatient(p *app.PatientTag) {
	v.pat.tag = p
	if v.pat.box == nil {
		return
	}
	if p == nil {
		v.pat.box.Hide()
	} else {
		v.pat.line.SetText("Patient: " + p.Label())
		v.pat.box.Show()
	}
	v.syncSending()
	v.Refresh()
}

// dialogWidth is a dialog's width on canvas c: 480 or the screen less a
// margin on a phone.
func dialogWidth(c fyne.Canvas) float32 {
	return min(c.Size().Width-2*theme.Padding(), 480)
}

// patientForm is the patient dialog's fields and its button.
type patientForm struct {
	mrn, name, bed, paste *field
	use                   *widget.Button
	status                *widget.Label
}

// showPatientDialog asks for the patient the next message is about: MRN,
// name and bed typed, or a tag or patient line pasted (which fills them).
func (v *ConversationView) showPatientDialog() *patientForm {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return nil
	}
	mrn, name, bed, paste := newField(), newField(), newField(), newField() // escape.go: Escape closes the dialog
	mrn.SetPlaceHolder("123456")
	name.SetPlaceHolder("Ama Osei")
	bed.SetPlaceHolder("4, ICU 2, Room 12")
	paste.SetPlaceHolder("Paste a patient tag or line")
	if p := v.pat.tag; p != nil {
		mrn.SetText(p.MRN)
		name.SetText(p.Name)
		bed.SetText(p.Bed)
	}
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	paste.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" {
			return
		}
		p, err := app.ParsePatient(s)
		if err != nil {
			status.SetText(err.Error())
			status.Show()
			return
		}
		status.Hide()
		mrn.SetText(p.MRN)
		name.SetText(p.Name)
		bed.SetText(p.Bed)
	}
	help := widget.NewLabel("The tag goes with your next message; the recipient sees it as your claim. Notifications never show it.")
	help.Wrapping = fyne.TextWrapWord
	help.SizeName = theme.SizeNameCaptionText
	var pop *widget.PopUp
	use := widget.NewButtonWithIcon("Tag message", theme.ConfirmIcon(), func() {
		p, err := app.CheckPatient(app.PatientTag{MRN: mrn.Text, Name: name.Text, Bed: bed.Text})
		if err != nil {
			status.SetText(err.Error())
			status.Show()
			return
		}
		pop.Hide()
		v.setPendingPatient(&p)
	})
	use.Importance = widget.HighImportance
	form := widget.NewForm(widget.NewFormItem("MRN", mrn), widget.NewFormItem("Name", name), widget.NewFormItem("Bed", bed))
	content := container.NewVBox(
		widget.NewLabelWithStyle("Patient", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		form, paste, help, status,
		container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), use))
	pop = widget.NewModalPopUp(container.NewPadded(content), c)
	pop.Resize(fyne.NewSize(dialogWidth(c), content.MinSize().Height+2*theme.Padding()))
	v.clin.popup = pop
	pop.Show()
	c.Focus(mrn)
	return &patientForm{mrn: mrn, name: name, bed: bed, paste: paste, use: use, status: status}
}

// sbarForm is the SBAR dialog's four fields, each a composer field (so
// what is sent is exactly what was typed; Enter is a new line).
type sbarForm struct {
	fields [4]*composerEntry
	send   *widget.Button
	status *widget.Label
}

func newSBARForm() *sbarForm {
	f := &sbarForm{}
	for i := range f.fields {
		e := newComposer(nil)
		e.SetPlaceHolder("")
		f.fields[i] = e
	}
	return f
}

func (f *sbarForm) texts() [4]string {
	var out [4]string
	for i, e := range f.fields {
		out[i] = e.Text
	}
	return out
}

// showSBARDialog asks for an SBAR handover and sends it with the options
// chosen in the panel (level, acknowledgement, order, patient).
func (v *ConversationView) showSBARDialog() *sbarForm {
	sa, ok := v.actions.(SBARActions)
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if !ok || c == nil {
		return nil
	}
	form := newSBARForm()
	heads := app.SBARHeadings()
	hints := [4]string{"What is happening now", "Relevant history and context", "What you think the problem is", "What you need, and by when"}
	box := container.NewVBox(widget.NewLabelWithStyle("SBAR handover", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	if v.pat.tag != nil {
		box.Add(widget.NewLabel("Patient: " + v.pat.tag.Label()))
	}
	for i, e := range form.fields {
		e.SetPlaceHolder(hints[i])
		box.Add(widget.NewLabelWithStyle(heads[i], fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		box.Add(e)
	}
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	var pop *widget.PopUp
	send := widget.NewButtonWithIcon("Send", theme.MailSendIcon(), func() {
		if err := v.sendSBAR(sa, form.texts()); err != nil {
			status.SetText(sendErrorText(err))
			status.Show()
			return
		}
		pop.Hide()
	})
	send.Importance = widget.HighImportance
	buttons := container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), send)
	content := container.NewBorder(nil, container.NewVBox(status, buttons), nil, nil, container.NewVScroll(box))
	pop = widget.NewModalPopUp(container.NewPadded(content), c)
	h := min(box.MinSize().Height+buttons.MinSize().Height+6*theme.Padding(), c.Size().Height-2*theme.Padding())
	pop.Resize(fyne.NewSize(dialogWidth(c), h))
	v.clin.popup = pop
	pop.Show()
	c.Focus(form.fields[0])
	form.send, form.status = send, status
	return form
}

// sendSBAR sends the four fields with the panel's options and resets the
// options like a sent message does.
func (v *ConversationView) sendSBAR(sa SBARActions, f [4]string) error {
	u := v.urgency()
	o := app.ClinicalOptions{Urgency: u, Patient: v.pat.tag}
	if v.clin.ack != nil {
		o.AckRequired = v.clin.ack.Checked || app.AckAlways(u)
		o.Order = v.clin.order.Checked
	}
	if _, err := sa.SendSBAR(v.info.ID, f, o); err != nil {
		return err
	}
	v.resetOptions()
	return nil
}
