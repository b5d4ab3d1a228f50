package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// One message row: its measured height (rowMetric, geometry, measure) and its
// widget (messageLayout: bind draws a row's data, Layout places it). Its
// clinical parts are rowclinical.go.

type rowMetric struct {
	h, bubbleW, textW float32
	lines             int
}

// geometry holds the sizes every row shares, from the current theme.
type geometry struct {
	m                     *measurer
	pad, capSize, capH    float32
	dayH, loaderH, tick   float32
	metaW, gap, bubblePad float32
	senderW               map[string]float32
	chipSize, chipTextH   float32 // reaction chips' text (replies.go)
}

func newGeometry() geometry {
	g := geometry{m: bodyMeasurer(), senderW: map[string]float32{}}
	g.pad = theme.Padding()
	g.capSize = theme.CaptionTextSize()
	g.capH = fyne.MeasureText("Ag", g.capSize, fyne.TextStyle{}).Height
	g.tick = g.capH
	g.dayH = g.capH + 4*g.pad
	g.loaderH = widget.NewButton("Load older messages", nil).MinSize().Height + 2*g.pad
	g.metaW = fyne.MeasureText("00:00", g.capSize, fyne.TextStyle{}).Width + g.pad + g.tick
	g.gap = g.pad * 1.5
	g.bubblePad = g.pad
	g.chipSize = theme.TextSize()
	g.chipTextH = fyne.MeasureText("Ag", g.chipSize, fyne.TextStyle{}).Height
	return g
}

func (g *geometry) sender(name string) float32 {
	if w, ok := g.senderW[name]; ok {
		return w
	}
	w := fyne.MeasureText(name, g.capSize, fyne.TextStyle{Bold: true}).Width
	g.senderW[name] = w
	return w
}

func (v *ConversationView) geometry() geometry {
	if v.geo.m == nil || v.geo.m.size != theme.TextSize() {
		v.geo = newGeometry()
	}
	return v.geo
}

// measure computes one row's height and bubble width.
func (v *ConversationView) measure(g *geometry, r app.MessageRow, bubbleMax float32) rowMetric {
	textMax := bubbleMax - g.m.padW
	lines, textW := g.m.wrap(displayText(r.Body), textMax)
	textH := g.m.textHeight(lines)
	if r.Body == "" && len(r.Attachments) > 0 {
		lines, textW, textH = 0, 0, 0 // a file alone: no text line
	}
	attW, attH := v.attachmentSize(g, r, bubbleMax)
	h := textH + attH + g.bubblePad + g.capH + g.bubblePad + g.gap
	w := max(textW+g.m.padW+2, attW) // slack: rounding must not wrap a line that fits
	if v.showSender(r) {
		h += g.capH
		w = max(w, g.sender(v.senderLine(r))+g.m.padW)
	}
	h, w = v.measureClinical(g, r, h, w)
	h, w = v.measureReply(g, r, h, w) // replies.go
	h, w = v.measurePatient(g, r, h, w, bubbleMax)
	if r.DayBreak {
		h += g.dayH
	}
	w = max(w, g.metaW+g.m.padW)
	return rowMetric{h: h, bubbleW: min(w, bubbleMax), textW: textW, lines: lines}
}

func (v *ConversationView) showSender(r app.MessageRow) bool {
	return !r.Notice && ((v.info.IsRoom && !r.Outgoing) || v.badge(r) != "" || r.Forward != nil)
}

// bubbleMaxFor is the widest a bubble may be in a list this wide, in steps of
// 16 so that small resizes do not rebuild the list.
func bubbleMaxFor(width float32) float32 {
	w := width * 0.78
	if w > 560 {
		w = 560
	}
	if w < 120 {
		w = 120
	}
	return float32(int(w/16) * 16)
}

// messageLayout places one row: an optional day separator, then the bubble
// with sender, body and time+tick, left for incoming and right for outgoing.
type messageLayout struct {
	v      *ConversationView
	i      int // row index, -1 for the loader row
	day    *canvas.Text
	dayBg  *canvas.Rectangle
	bg     *canvas.Rectangle
	sender *canvas.Text
	body   *widget.RichText
	when   *canvas.Text
	tick   *tapIcon
	loader *widget.Button
	att    *attachmentBox
	clin   rowClinical
	reply  rowReplies
	tags   rowPatient // patient.go
}

func (l *messageLayout) bind(i int) {
	l.i = i
	v := l.v
	if i < 0 {
		for _, o := range []fyne.CanvasObject{l.day, l.dayBg, l.bg, l.sender, l.body, l.when, l.tick, l.att} {
			o.Hide()
		}
		l.clin.hide()
		l.reply.hide()
		l.tags.hide()
		l.loader.OnTapped = v.requestOlder
		l.loader.Show()
		return
	}
	l.loader.Hide()
	r := v.rows[i]
	fg := theme.Color(theme.ColorNameForeground)
	if r.DayBreak {
		l.day.Text = app.DayLabel(nowFunc(), r.Timestamp.Local())
		l.day.Color = fg
		l.day.Show()
		l.dayBg.FillColor = theme.Color(theme.ColorNameInputBackground)
		l.dayBg.Show()
		l.day.Refresh()
	} else {
		l.day.Hide()
		l.dayBg.Hide()
	}
	if r.Outgoing {
		p := theme.Color(theme.ColorNamePrimary)
		pr, pg, pb, _ := p.RGBA()
		l.bg.FillColor = color.NRGBA{R: uint8(pr >> 8), G: uint8(pg >> 8), B: uint8(pb >> 8), A: 0x38}
	} else {
		l.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	}
	if r.Urgency != app.UrgencyNormal {
		l.bg.StrokeColor = theme.Color(theme.ColorNameError)
		l.bg.StrokeWidth = 2
	} else {
		l.bg.StrokeWidth = 0
	}
	l.bg.Show()
	l.bg.Refresh()
	if v.showSender(r) {
		l.sender.Color = theme.Color(theme.ColorNamePrimary)
		l.sender.Text = v.senderLine(r)
		l.sender.Show()
		l.sender.Refresh()
	} else {
		l.sender.Hide()
	}
	l.body.Segments = mentionSegments(bodySegments(r.Body), r.MentionsMe) // replies.go
	l.bindClinical(r)
	l.bindReplies(r)
	l.bindPatient(r) // patient.go
	l.body.Show()
	l.body.Refresh()
	l.att.bind(r)
	l.when.Text = whenText(r)
	l.when.Color = fg
	l.when.Show()
	l.when.Refresh()
	if r.Outgoing {
		if res := tickIcon(r.Receipt.State); res != nil {
			l.tick.setResource(res)
			l.tick.onTap = func() { v.showReceipt(v.rows[l.i]) }
			l.tick.Show()
		} else {
			l.tick.Hide()
		}
	} else {
		l.tick.Hide()
	}
	l.bindHighlight(r)
}

func (l *messageLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(100, 10)
}

func (l *messageLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	v := l.v
	g := v.geo
	if l.i < 0 {
		ms := l.loader.MinSize()
		l.loader.Resize(ms)
		l.loader.Move(fyne.NewPos((size.Width-ms.Width)/2, g.pad))
		return
	}
	if l.i >= len(v.rows) || l.i >= len(v.metrics) || g.m == nil {
		return
	}
	r, m := v.rows[l.i], v.metrics[l.i]
	y := float32(0)
	if r.DayBreak {
		tw := fyne.MeasureText(l.day.Text, l.day.TextSize, l.day.TextStyle)
		l.dayBg.Resize(fyne.NewSize(tw.Width+4*g.pad, g.capH+2*g.pad))
		l.dayBg.Move(fyne.NewPos((size.Width-tw.Width)/2-2*g.pad, g.pad))
		l.day.Resize(tw)
		l.day.Move(fyne.NewPos((size.Width-tw.Width)/2, 2*g.pad))
		y += g.dayH
	}
	side := 2 * g.pad
	x := side
	if r.Outgoing {
		x = size.Width - side - m.bubbleW
	}
	if r.Notice {
		x = (size.Width - m.bubbleW) / 2 // a system row: centred
	}
	bubbleH := size.Height - y - g.gap - g.chipH(r)
	l.bg.Move(fyne.NewPos(x, y))
	l.bg.Resize(fyne.NewSize(m.bubbleW, bubbleH))
	inner := g.m.padW / 2
	y += g.bubblePad
	if v.showSender(r) {
		sx := l.layoutBadge(x+inner, y)
		l.sender.Move(fyne.NewPos(sx, y))
		l.sender.Resize(fyne.NewSize(m.bubbleW-2*inner, g.capH))
		y += g.capH
	}
	y = l.layoutQuote(x+inner, y, m.bubbleW-2*inner) // replies.go
	y = l.layoutPatient(x+inner, y, m.bubbleW-2*inner, r)
	bodyH := g.m.textHeight(m.lines)
	if m.lines == 0 {
		bodyH = inner / 2 // a file alone (see measure)
	}
	l.body.Move(fyne.NewPos(x, y-inner/2))
	l.body.Resize(fyne.NewSize(m.bubbleW, bodyH))
	y += bodyH - inner/2
	if l.att.Visible() {
		_, attH := v.attachmentSize(&g, r, v.bubbleMax)
		l.att.Move(fyne.NewPos(x+inner, y))
		l.att.Resize(fyne.NewSize(m.bubbleW-2*inner, attH))
		l.att.place(&g, m.bubbleW-2*inner)
		y += attH
	}
	y = l.layoutStatus(x+inner, y, m.bubbleW-2*inner)
	tw := fyne.MeasureText(l.when.Text, l.when.TextSize, l.when.TextStyle).Width
	right := x + m.bubbleW - inner
	if l.tick.Visible() {
		l.tick.Resize(fyne.NewSize(g.tick, g.tick))
		l.tick.Move(fyne.NewPos(right-g.tick, y))
		right -= g.tick + g.pad
	}
	right = l.layoutMore(right, y)
	l.when.Move(fyne.NewPos(right-tw, y))
	l.when.Resize(fyne.NewSize(tw, g.capH))
	if g.chipH(r) > 0 {
		l.layoutChips(x, x+m.bubbleW, l.bg.Position().Y+bubbleH+g.pad/2, r.Outgoing)
	}
}

// tapIcon is an icon that can be tapped (the receipt tick).
type tapIcon struct {
	widget.BaseWidget
	img   *canvas.Image
	onTap func()
}

func newTapIcon(res fyne.Resource, onTap func()) *tapIcon {
	t := &tapIcon{img: canvas.NewImageFromResource(res), onTap: onTap}
	t.img.FillMode = canvas.ImageFillContain
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapIcon) setResource(res fyne.Resource) {
	if t.img.Resource != res {
		t.img.Resource = res
		t.img.Refresh()
	}
}

func (t *tapIcon) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.img) }

func (t *tapIcon) MinSize() fyne.Size {
	s := theme.CaptionTextSize() + 2
	return fyne.NewSize(s, s)
}

func (t *tapIcon) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}
