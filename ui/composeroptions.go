package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// The composer's clinical options: the urgency level, "ack required" and
// order choices behind the options button, and the banner naming how the
// next message goes. Sending itself is composersend.go.

// clinicalParts is a conversation's clinical state: the composer's
// urgency picker and order switch, the level names in force, and the
// dialog open over it.
type clinicalParts struct {
	levels    app.UrgencyLevelNames
	urg       *widget.Select
	ack       *widget.Check
	order     *widget.Check
	orderHint *widget.Label // what an order is, wrapped under the checkbox
	bar       fyne.CanvasObject
	panel     *fyne.Container // level, acknowledgement, order: behind opts
	opts      *widget.Button
	banner    *canvas.Text
	bannerBg  *canvas.Rectangle
	bannerBox *fyne.Container
	menu      *widget.Button
	popup     *widget.PopUp
}

// urgency is the level chosen in the composer.
func (v *ConversationView) urgency() app.Urgency {
	if v.clin.urg == nil {
		return app.UrgencyNormal
	}
	if i := v.clin.urg.SelectedIndex(); i >= 0 && i < len(urgencyLevels) {
		return urgencyLevels[i]
	}
	return app.UrgencyNormal
}

// composerBar is what sits above the composer: a banner naming how the
// next message goes when it is not plain routine ("Sending: URGENT · ack
// required"), and the options panel (level, acknowledgement, order), shown
// by the options button beside the field (composerOptionsButton) and hidden
// after each send. Empty when the actions cannot send clinical messages.
func (v *ConversationView) composerBar() fyne.CanvasObject {
	if v.clin.bar != nil {
		return v.clin.bar
	}
	if _, ok := v.clinicalActions(); !ok {
		v.clin.bar = container.NewStack()
		return v.clin.bar
	}
	v.clin.urg = widget.NewSelect(levelNames(v.clin.levels), nil)
	v.clin.ack = widget.NewCheck("Ack required", func(bool) { v.syncSending() })
	v.clin.order = widget.NewCheck(app.OrderCheckLabel, func(bool) { v.syncSending() })
	v.clin.orderHint = widget.NewLabel(app.OrderCheckHint)
	v.clin.orderHint.Wrapping = fyne.TextWrapWord
	v.clin.orderHint.SizeName = theme.SizeNameCaptionText
	v.clin.urg.OnChanged = func(string) { v.syncAck(); v.syncSending() }
	v.clin.urg.SetSelectedIndex(0)
	patientButtons, pending := v.patientControls() // patient.go
	v.clin.panel = container.NewVBox(container.NewHBox(v.clin.urg, v.clin.ack), v.clin.order, v.clin.orderHint, patientButtons)
	v.clin.panel.Hide()
	v.clin.bannerBg = canvas.NewRectangle(color.Transparent)
	v.clin.banner = canvas.NewText("", color.White)
	v.clin.banner.TextStyle.Bold = true
	v.clin.bannerBox = container.NewStack(v.clin.bannerBg, container.NewPadded(v.clin.banner))
	v.clin.bannerBox.Hide()
	v.clin.bar = container.NewVBox(v.clin.bannerBox, pending, v.clin.panel)
	return v.clin.bar
}

// composerOptionsButton shows and hides the options panel.
func (v *ConversationView) composerOptionsButton() fyne.CanvasObject {
	if _, ok := v.clinicalActions(); !ok {
		return nil
	}
	v.composerBar()
	v.clin.opts = widget.NewButtonWithIcon("", theme.WarningIcon(), func() {
		v.clin.panel.Hidden = !v.clin.panel.Hidden
		v.Refresh()
	})
	v.clin.opts.Importance = widget.LowImportance
	return v.clin.opts
}

// sendingText is the banner for the options chosen ("" for plain routine).
func (v *ConversationView) sendingText() string {
	if v.clin.urg == nil {
		return ""
	}
	u := v.urgency()
	var parts []string
	if u > app.UrgencyNormal {
		parts = append(parts, strings.ToUpper(v.clin.levels.Name(u)))
	}
	if v.clin.order.Checked {
		parts = append(parts, "ORDER")
	}
	if v.clin.ack.Checked {
		parts = append(parts, "ack required")
	}
	if len(parts) == 0 {
		return ""
	}
	return "Sending: " + strings.Join(parts, " · ")
}

// syncSending makes the chosen urgency unmistakable before sending: the
// banner in the level's colour says it in words, and the send button
// takes the level's colour.
func (v *ConversationView) syncSending() {
	if v.clin.bannerBox == nil {
		return
	}
	u := v.urgency()
	text := v.sendingText()
	shown := v.clin.bannerBox.Visible()
	v.clin.banner.Text = text
	v.clin.bannerBox.Hidden = text == ""
	v.clin.bannerBg.FillColor = theme.Color(urgencyColorName(u))
	v.clin.banner.Color = theme.Color(urgencyOnColorName(u))
	v.clin.bannerBg.Refresh()
	v.clin.banner.Refresh()
	switch {
	case u >= app.UrgencyCritical:
		v.send.Importance = widget.DangerImportance
	case u >= app.UrgencyHigh:
		v.send.Importance = widget.WarningImportance
	default:
		v.send.Importance = widget.HighImportance
	}
	v.send.Refresh()
	if shown != v.clin.bannerBox.Visible() {
		v.Refresh()
	}
}

// syncAck: urgent and STAT always require an acknowledgement, and say so.
func (v *ConversationView) syncAck() {
	if v.clin.ack == nil {
		return
	}
	if app.AckAlways(v.urgency()) {
		v.clin.ack.SetChecked(true)
		v.clin.ack.Disable()
	} else {
		v.clin.ack.Enable()
	}
}

// resetOptions puts the composer back to routine after a send: the next
// message is not STAT by accident, nor about the same patient.
func (v *ConversationView) resetOptions() {
	if v.clin.urg == nil {
		return
	}
	v.clin.urg.SetSelectedIndex(0)
	v.clin.ack.SetChecked(false)
	v.clin.order.SetChecked(false)
	v.clin.panel.Hide()
	v.setPendingPatient(nil) // patient.go
	v.syncSending()
}
