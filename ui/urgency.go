package ui

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// A clinical message must be unmistakable on screen: its level is a badge
// with words and colour (never colour alone), the sender follows its
// acknowledgement live under the bubble, and each quick response shows with
// its time. The decisions (who may receive an order, when an alert stops,
// what a recall removes) are the app's; this file only draws them and
// forwards the user's choice.

// ClinicalActions is what the conversation screen asks of the app for
// urgent messages, orders, quick responses, recall and correction, and
// conversation export. The controller's actions implement it; a screen
// whose actions do not offers none of it.
type ClinicalActions interface {
	SendClinical(conv, text string, o app.ClinicalOptions) (app.Sent, error)
	Respond(conv string, msg app.MessageID, kind app.ResponseKind, text string) error
	Recall(conv string, id app.MessageID) error
	Correct(conv string, id app.MessageID, text string) error
	History(id app.MessageID) ([]app.BodyVersion, error)
	ExportConversation(w io.Writer, conv, format string) error
	// CancelEscalation stops a running escalation ladder (the sender
	// reached someone another way).
	CancelEscalation(conv string, id app.MessageID) error
}

// urgencyLevels are the choices of the composer's picker, lowest first.
var urgencyLevels = []app.Urgency{app.UrgencyNormal, app.UrgencyHigh, app.UrgencyCritical}

// urgencyColorName is the theme colour of a level's badge and bubble
// outline: STAT red, urgent amber, a routine message asking for an
// acknowledgement the primary colour.
func urgencyColorName(u app.Urgency) fyne.ThemeColorName {
	switch {
	case u >= app.UrgencyCritical:
		return theme.ColorNameError
	case u >= app.UrgencyHigh:
		return theme.ColorNameWarning
	}
	return theme.ColorNamePrimary
}

func urgencyOnColorName(u app.Urgency) fyne.ThemeColorName {
	switch {
	case u >= app.UrgencyCritical:
		return theme.ColorNameForegroundOnError
	case u >= app.UrgencyHigh:
		return theme.ColorNameForegroundOnWarning
	}
	return theme.ColorNameForegroundOnPrimary
}

// badgeText is the words on a row's badge ("" when it has none).
func badgeText(levels app.UrgencyLevelNames, r app.MessageRow, mk app.MessageMarks) string {
	var b string
	switch {
	case !r.Recalled.IsZero() || r.Notice:
		return ""
	case r.Urgency != app.UrgencyNormal:
		b = strings.ToUpper(levels.Name(r.Urgency))
	case r.AckRequired:
		b = "ACK REQUESTED"
	}
	if mk.Order {
		if b == "" {
			return "ORDER"
		}
		b += " · ORDER"
	}
	return b
}

// badge is r's badge text with its marks.
func (v *ConversationView) badge(r app.MessageRow) string {
	return badgeText(v.clin.levels, r, r.Marks)
}

// clock is a time as the thread shows it: "14:02", with the day when not today.
func clock(t time.Time) string {
	t = t.Local()
	now := nowFunc().Local()
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}

// responseButton is a quick response as a button says it.
func responseButton(k app.ResponseKind) string {
	switch k {
	case app.ResponseAck:
		return "Acknowledge"
	case app.ResponseDecline:
		return "Decline"
	}
	return app.ResponseLabel(k)
}

// whenText is the meta line's text: the time, "edited" when corrected.
func whenText(r app.MessageRow) string {
	t := r.Timestamp.Local().Format("15:04")
	if r.Corrected && r.Recalled.IsZero() {
		return "edited · " + t
	}
	return t
}

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

func (v *ConversationView) clinicalActions() (ClinicalActions, bool) {
	ca, ok := v.actions.(ClinicalActions)
	return ca, ok
}

// SetLevels sets the urgency levels' display names (the org policy's).
func (v *ConversationView) SetLevels(l app.UrgencyLevelNames) {
	v.clin.levels = l
	if v.clin.urg != nil {
		sel := v.urgency()
		v.clin.urg.Options = levelNames(l)
		v.clin.urg.SetSelectedIndex(levelIndex(sel))
	}
	v.syncAwaiting()
	v.invalidate()
}

func levelNames(l app.UrgencyLevelNames) []string {
	out := make([]string, len(urgencyLevels))
	for i, u := range urgencyLevels {
		out[i] = l.Name(u)
	}
	return out
}

func levelIndex(u app.Urgency) int {
	for i, x := range urgencyLevels {
		if x == u {
			return i
		}
	}
	return 0
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

// sendText sends the composer's text: a plain message, or a clinical one
// when a level, an acknowledgement or an order is chosen. The error (an
// order refused, say) is shown under the composer and the text is kept.
func (v *ConversationView) sendText(text string) error {
	ca, ok := v.clinicalActions()
	u := v.urgency()
	if !ok || v.clin.ack == nil || (u == app.UrgencyNormal && !v.clin.ack.Checked && !v.clin.order.Checked && v.pat.tag == nil) {
		return v.actions.Send(v.info.ID, text)
	}
	o := app.ClinicalOptions{Urgency: u, AckRequired: v.clin.ack.Checked || app.AckAlways(u), Order: v.clin.order.Checked,
		Patient: v.pat.tag}
	if _, err := ca.SendClinical(v.info.ID, text, o); err != nil {
		return err
	}
	v.resetOptions()
	return nil
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

// showComposerNote shows a line under the composer (a refusal, a failed
// response, an export's outcome) and lays the screen out again for it.
func (v *ConversationView) showComposerNote(text string) {
	v.sendErr.SetText(text)
	v.sendErr.Show()
	v.Refresh()
	v.Refresh() // a wrapped label knows its height once it has its width
}

// sendErrorText is the line under the composer for a refused send.
func sendErrorText(err error) string {
	if errors.Is(err, app.ErrNotOrderRecipient) {
		return "Order not sent: " + err.Error()
	}
	return "Not sent: " + err.Error()
}

// headerMenu is the conversation header's ⋮ button (export).
func (v *ConversationView) headerMenu() fyne.CanvasObject {
	if _, ok := v.clinicalActions(); !ok {
		return nil
	}
	v.clin.menu = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), func() {
		c := fyne.CurrentApp().Driver().CanvasForObject(v)
		if c == nil {
			return
		}
		m := fyne.NewMenu("", append(append(v.careTeamItems(), v.muteItems()...), // careteam.go, mute.go
			fyne.NewMenuItem("Export conversation (JSON)", func() { v.exportConversation("json") }),
			fyne.NewMenuItem("Export conversation (CSV)", func() { v.exportConversation("csv") }))...)
		// Opened below the button (an anchor of no height under it).
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(v.clin.menu)
		showMenu(c, m, pos.Add(fyne.NewPos(0, v.clin.menu.Size().Height)), fyne.NewSize(v.clin.menu.Size().Width, 0))
	})
	v.clin.menu.Importance = widget.LowImportance
	return v.clin.menu
}

// exportConversation asks where to save and lets the app write (and audit)
// the export.
func (v *ConversationView) exportConversation(format string) {
	ca, ok := v.clinicalActions()
	if !ok {
		return
	}
	conv := v.info.ID
	saveExport(v, "conversation-"+safeFileName(conv)+"."+format, func(w io.Writer) error {
		return ca.ExportConversation(w, conv, format)
	}, func(msg string, err error) {
		if err != nil {
			v.showComposerNote("Export failed: " + err.Error())
		} else {
			v.showComposerNote(msg)
		}
	})
}

// rowClinical is a message row's clinical drawing: the level badge, the
// status lines and the ⋮ actions button.
type rowClinical struct {
	badgeBg *canvas.Rectangle
	badge   *canvas.Text
	status  []*canvas.Text
	more    *tapIcon
}

// maxStatusLines bounds the lines under one bubble; the rest are in the
// message's details.
const maxStatusLines = 6

func newRowClinical() rowClinical {
	rc := rowClinical{badgeBg: canvas.NewRectangle(color.Transparent), badge: canvas.NewText("", color.White)}
	rc.badgeBg.CornerRadius = theme.InputRadiusSize()
	rc.badge.TextSize = theme.CaptionTextSize()
	rc.badge.TextStyle.Bold = true
	rc.status = make([]*canvas.Text, maxStatusLines)
	for i := range rc.status {
		t := canvas.NewText("", theme.Color(theme.ColorNameForeground))
		t.TextSize = theme.CaptionTextSize()
		rc.status[i] = t
	}
	rc.more = newTapIcon(theme.MoreVerticalIcon(), nil)
	return rc
}

func (rc *rowClinical) objects() []fyne.CanvasObject {
	out := []fyne.CanvasObject{rc.badgeBg, rc.badge, rc.more}
	for _, t := range rc.status {
		out = append(out, t)
	}
	return out
}

func (rc *rowClinical) hide() {
	for _, o := range rc.objects() {
		o.Hide()
	}
}

// rowStatus is the row's status lines bounded to what a bubble draws.
func (v *ConversationView) rowStatus(r app.MessageRow) []string {
	lines := r.Status
	if len(lines) > maxStatusLines {
		more := len(lines) - maxStatusLines + 1
		lines = append(lines[:maxStatusLines-1], fmt.Sprintf("and %d more: ⋮ Details", more))
	}
	return lines
}

// statusStrong says whether line i of r's drawn status lines (rowStatus)
// is bold: those the app marks as saying the message was acknowledged.
func statusStrong(r app.MessageRow, i int) bool {
	if len(r.Status) > maxStatusLines && i >= maxStatusLines-1 {
		return false // "and N more"
	}
	return i < len(r.StatusAck) && r.StatusAck[i]
}

// fitStatus shortens r's drawn status lines wider than the bubble's text
// width with "…" (the message's details have them whole).
func (v *ConversationView) fitStatus(r app.MessageRow, lines []string) []string {
	g := v.geo
	if g.m == nil || v.bubbleMax <= 0 {
		return lines
	}
	maxW := v.bubbleMax - g.m.padW
	out := lines[:0:0]
	for i, s := range lines {
		style := fyne.TextStyle{Bold: statusStrong(r, i)}
		if fyne.MeasureText(s, g.capSize, style).Width > maxW {
			rs := []rune(s)
			for len(rs) > 1 && fyne.MeasureText(string(rs)+"…", g.capSize, style).Width > maxW {
				rs = rs[:len(rs)-1]
			}
			s = strings.TrimRight(string(rs), " ") + "…"
		}
		out = append(out, s)
	}
	return out
}

// bindClinical draws r's badge, status lines and actions button.
func (l *messageLayout) bindClinical(r app.MessageRow) {
	v, rc := l.v, &l.clin
	if b := v.badge(r); b != "" {
		rc.badge.Text = b
		rc.badge.Color = theme.Color(urgencyOnColorName(r.Urgency))
		rc.badgeBg.FillColor = theme.Color(urgencyColorName(r.Urgency))
		rc.badge.Show()
		rc.badgeBg.Show()
		rc.badge.Refresh()
		rc.badgeBg.Refresh()
	} else {
		rc.badge.Hide()
		rc.badgeBg.Hide()
	}
	lines := v.fitStatus(r, v.rowStatus(r))
	fg := theme.Color(theme.ColorNameForeground)
	for i, t := range rc.status {
		if i < len(lines) {
			t.Text = lines[i]
			t.Color = fg
			t.TextStyle.Bold = statusStrong(r, i)
			t.Show()
			t.Refresh()
		} else {
			t.Hide()
		}
	}
	if len(v.rowActions(r)) > 0 {
		rc.more.onTap = func() { v.showRowMenu(v.rows[l.i], rc.more) }
		rc.more.Show()
	} else {
		rc.more.Hide()
	}
	if r.Notice {
		w := theme.Color(theme.ColorNameWarning)
		cr, cg, cb, _ := w.RGBA()
		l.bg.FillColor = color.NRGBA{R: uint8(cr >> 8), G: uint8(cg >> 8), B: uint8(cb >> 8), A: 0x30}
		l.bg.StrokeWidth = 0
	} else if r.Recalled.IsZero() && (r.Urgency != app.UrgencyNormal || r.AckRequired) {
		l.bg.StrokeColor = theme.Color(urgencyColorName(r.Urgency))
		l.bg.StrokeWidth = 2
	} else {
		l.bg.StrokeWidth = 0
	}
	l.bg.Refresh()
	if !r.Recalled.IsZero() {
		l.body.Segments = []widget.RichTextSegment{&widget.TextSegment{Text: r.Body,
			Style: widget.RichTextStyle{Inline: true, ColorName: theme.ColorNamePlaceHolder, TextStyle: fyne.TextStyle{Italic: true}}}}
	}
}

// senderLine is the sender shown beside the badge (rooms, incoming urgent).
func (v *ConversationView) senderLine(r app.MessageRow) string {
	if f := r.Forward; f != nil && f.Header != "" {
		// The small "Forwarded · from Y · 14:02" header; in a room after
		// the member who forwarded it.
		if v.info.IsRoom && !r.Outgoing {
			return r.Sender + " · " + f.Header
		}
		return f.Header
	}
	if r.Outgoing {
		if v.badge(r) != "" {
			return "" // the badge alone
		}
		return r.Sender
	}
	return r.Sender
}

// badgeWidth is the width of r's badge with its padding (0 when none).
func (g *geometry) badgeWidth(text string) float32 {
	if text == "" {
		return 0
	}
	return fyne.MeasureText(text, g.capSize, fyne.TextStyle{Bold: true}).Width + 2*g.pad
}

func (g *geometry) caption(s string) float32 {
	return fyne.MeasureText(s, g.capSize, fyne.TextStyle{}).Width
}

// measureClinical adds r's badge, status lines, edited marker and actions
// button to a row's height h and bubble width w.
func (v *ConversationView) measureClinical(g *geometry, r app.MessageRow, h, w float32) (float32, float32) {
	lines := v.fitStatus(r, v.rowStatus(r))
	for i, s := range lines {
		h += g.capH
		w = max(w, fyne.MeasureText(s, g.capSize, fyne.TextStyle{Bold: statusStrong(r, i)}).Width+g.m.padW)
	}
	if v.showSender(r) {
		bw := g.badgeWidth(v.badge(r))
		if bw > 0 {
			w = max(w, bw+g.pad+g.sender(v.senderLine(r))+g.m.padW)
		}
	}
	meta := g.metaW
	if r.Corrected && r.Recalled.IsZero() {
		meta += g.caption("edited · ")
	}
	if len(v.rowActions(r)) > 0 {
		meta += g.tick + g.pad
	}
	w = max(w, meta+g.m.padW)
	return h, w
}

// layoutClinical places the badge at the sender line (returning where the
// sender's name starts) — see layoutStatus for the lines under the text.
func (l *messageLayout) layoutBadge(x, y float32) float32 {
	g := l.v.geo
	if !l.clin.badge.Visible() {
		return x
	}
	tw := fyne.MeasureText(l.clin.badge.Text, l.clin.badge.TextSize, l.clin.badge.TextStyle)
	l.clin.badgeBg.Move(fyne.NewPos(x, y))
	l.clin.badgeBg.Resize(fyne.NewSize(tw.Width+2*g.pad, g.capH))
	l.clin.badge.Move(fyne.NewPos(x+g.pad, y))
	l.clin.badge.Resize(fyne.NewSize(tw.Width, g.capH))
	return x + tw.Width + 3*g.pad
}

// layoutStatus places the status lines from y and returns the y below them.
func (l *messageLayout) layoutStatus(x, y, width float32) float32 {
	g := l.v.geo
	for _, t := range l.clin.status {
		if !t.Visible() {
			continue
		}
		t.Move(fyne.NewPos(x, y))
		t.Resize(fyne.NewSize(width, g.capH))
		y += g.capH
	}
	return y
}

// layoutMore places the actions button left of right on the meta line and
// returns the new right edge.
func (l *messageLayout) layoutMore(right, y float32) float32 {
	g := l.v.geo
	if !l.clin.more.Visible() {
		return right
	}
	l.clin.more.Resize(fyne.NewSize(g.tick, g.tick))
	l.clin.more.Move(fyne.NewPos(right-g.tick, y))
	return right - g.tick - g.pad
}
