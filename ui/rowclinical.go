package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// A message row's clinical drawing: the level badge beside the sender, the
// status lines under the bubble (who has it, who acknowledged) and the ⋮
// actions button; measured, bound and laid out with the row
// (messagerow.go's messageLayout).

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
