package ui

import (
	"image/color"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// ReplyActions is what a message's ⋮ menu asks of the app for replies
// (XEP-0461, with a quote other clients show) and reactions (XEP-0444).
// The controller's actions answer it; without it the menu offers neither.
type ReplyActions interface {
	Reply(conv string, to app.MessageID, text string) error
	React(conv string, id app.MessageID, emoji string) error
}

// replyActions are the ⋮ menu's reply and reaction entries for r.
func (v *ConversationView) replyActions(r app.MessageRow) []rowAction {
	ra, ok := v.actions.(ReplyActions)
	if !ok || r.Notice || !r.Recalled.IsZero() || r.Response != "" {
		return nil
	}
	conv := v.info.ID
	out := []rowAction{{"Reply with quote…", func() { v.showQuotedReply(ra, r) }}}
	if len(r.Reactions) > 0 {
		out = append(out, rowAction{"Who reacted", func() { v.showWhoReacted(r) }})
	}
	for _, e := range app.QuickReactions[:2] {
		label := "React " + e
		for _, x := range r.Reactions {
			if x.Emoji == e && x.Mine {
				label = "Take back " + e
			}
		}
		out = append(out, rowAction{label, func() {
			go func() {
				err := ra.React(conv, r.ID, e)
				doUI(func() {
					if err != nil {
						v.showComposerNote("Reaction: " + err.Error())
					}
				})
			}()
		}})
	}
	return out
}

// showQuotedReply asks for the reply's text under the message it answers.
func (v *ConversationView) showQuotedReply(ra ReplyActions, r app.MessageRow) {
	conv := v.info.ID
	entry := newClinicalField()
	entry.SetPlaceHolder("Reply to " + r.Sender)
	status := errorLabel()
	var pop *widget.PopUp
	send := widget.NewButtonWithIcon("Send reply", theme.MailSendIcon(), func() {
		text := entry.Text
		if strings.TrimSpace(text) == "" {
			status.SetText("Write a reply first")
			status.Show()
			return
		}
		pop.Hide()
		go func() {
			err := ra.Reply(conv, r.ID, text)
			doUI(func() {
				if err != nil {
					v.showComposerNote("Reply not sent: " + err.Error())
				}
			})
		}()
	})
	send.Importance = widget.HighImportance
	pop = v.modal(container.NewVBox(
		widget.NewLabelWithStyle("Reply to "+r.Sender, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped("“"+app.Excerpt(r.Body, 120)+"”"), entry, status,
		container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), send)), 440)
}

// A reply draws the message it answers above its text, in a quote block:
// who wrote it and its first line, as the app quotes it (from the message
// stored here; the sender's own quote only when the original is not here,
// marked as theirs). A tap on the block scrolls to the original and
// highlights it, or says it is not on this device. Reactions are chips
// under the bubble: emoji and count, the user's own with a border and in
// bold; a tap toggles the user's, a long press (or right click) says who.

// maxChips bounds the chips drawn under one bubble; the rest are behind a
// "+N" chip that says who gave every reaction.
const maxChips = 6

// quoteBlock is the tappable quote of the message a reply answers.
type quoteBlock struct {
	widget.BaseWidget
	bg      *canvas.Rectangle
	bar     *canvas.Rectangle
	heading *canvas.Text
	text    *canvas.Text
	onTap   func()
}

func newQuoteBlock() *quoteBlock {
	q := &quoteBlock{bg: canvas.NewRectangle(color.Transparent), bar: canvas.NewRectangle(color.Transparent),
		heading: canvas.NewText("", color.Black), text: canvas.NewText("", color.Black)}
	q.bg.CornerRadius = theme.InputRadiusSize()
	q.heading.TextSize = theme.CaptionTextSize()
	q.heading.TextStyle.Bold = true
	q.text.TextSize = theme.CaptionTextSize()
	q.ExtendBaseWidget(q)
	return q
}

// set draws quote q, its text cut to fit width.
func (q *quoteBlock) set(v app.QuotedView, fit func(string, fyne.TextStyle) string) {
	fg := theme.Color(theme.ColorNameForeground)
	q.heading.Text = fit(v.Heading(), fyne.TextStyle{Bold: true})
	q.heading.Color = theme.Color(theme.ColorNamePrimary)
	q.text.Text = fit(v.Text(), fyne.TextStyle{Italic: v.FromSender})
	q.text.TextStyle.Italic = v.FromSender // the sender's words, not ours
	q.text.Color = fg
	bar := theme.ColorNamePrimary
	if v.FromSender {
		bar = theme.ColorNameWarning
		q.heading.Color = fg
	}
	q.bar.FillColor = theme.Color(bar)
	q.bg.FillColor = theme.Color(theme.ColorNameHover)
	q.Refresh()
}

func (q *quoteBlock) Tapped(*fyne.PointEvent) {
	if q.onTap != nil {
		q.onTap()
	}
}

func (q *quoteBlock) CreateRenderer() fyne.WidgetRenderer {
	return &quoteRenderer{q: q, objs: []fyne.CanvasObject{q.bg, q.bar, q.heading, q.text}}
}

type quoteRenderer struct {
	q    *quoteBlock
	objs []fyne.CanvasObject
}

func (r *quoteRenderer) Layout(size fyne.Size) {
	pad := theme.Padding()
	capH := fyne.MeasureText("Ag", theme.CaptionTextSize(), fyne.TextStyle{}).Height
	r.q.bg.Resize(size)
	r.q.bar.Resize(fyne.NewSize(3, size.Height))
	r.q.heading.Move(fyne.NewPos(3+pad, pad/2))
	r.q.heading.Resize(fyne.NewSize(size.Width-3-2*pad, capH))
	r.q.text.Move(fyne.NewPos(3+pad, pad/2+capH))
	r.q.text.Resize(fyne.NewSize(size.Width-3-2*pad, capH))
}

func (r *quoteRenderer) MinSize() fyne.Size {
	capH := fyne.MeasureText("Ag", theme.CaptionTextSize(), fyne.TextStyle{}).Height
	return fyne.NewSize(40, 2*capH+theme.Padding())
}
func (r *quoteRenderer) Refresh() {
	for _, o := range r.objs {
		o.Refresh()
	}
}
func (r *quoteRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *quoteRenderer) Destroy()                     {}

// reactionChip is one emoji under a bubble with its count.
type reactionChip struct {
	widget.BaseWidget
	bg    *canvas.Rectangle
	label *canvas.Text
	onTap func()
	onWho func()
	// who names those who gave it ("👍 Dr Osei, You"), shown while the
	// pointer rests on the chip (desktop); tip is that label's pop-up.
	who string
	tip *widget.PopUp
}

func newReactionChip() *reactionChip {
	c := &reactionChip{bg: canvas.NewRectangle(color.Transparent), label: canvas.NewText("", color.Black)}
	c.bg.CornerRadius = theme.InputRadiusSize() * 2
	c.label.TextSize = theme.TextSize() // an emoji at caption size is a smudge
	c.label.Alignment = fyne.TextAlignCenter
	c.ExtendBaseWidget(c)
	return c
}

// set draws reaction x (mine: a border and bold, not colour alone).
func (c *reactionChip) set(text string, mine bool) {
	c.label.Text = text
	c.label.TextStyle.Bold = mine
	c.label.Color = theme.Color(theme.ColorNameForeground)
	c.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	c.bg.StrokeWidth = 0
	if mine {
		p := theme.Color(theme.ColorNamePrimary)
		pr, pg, pb, _ := p.RGBA()
		c.bg.FillColor = color.NRGBA{R: uint8(pr >> 8), G: uint8(pg >> 8), B: uint8(pb >> 8), A: 0x40}
		c.bg.StrokeColor = p
		c.bg.StrokeWidth = 1.5
	}
	c.Refresh()
}

func (c *reactionChip) Tapped(*fyne.PointEvent) {
	if c.onTap != nil {
		c.onTap()
	}
}

// TappedSecondary (a long press on a phone, a right click on a desktop)
// says who gave the reactions.
func (c *reactionChip) TappedSecondary(*fyne.PointEvent) {
	if c.onWho != nil {
		c.onWho()
	}
}

// MouseIn shows who gave the reaction under the chip (desktop hover).
func (c *reactionChip) MouseIn(*desktop.MouseEvent) {
	cv := fyne.CurrentApp().Driver().CanvasForObject(c)
	if c.who == "" || cv == nil {
		return
	}
	lb := widget.NewLabel(c.who)
	lb.SizeName = theme.SizeNameCaptionText
	c.tip = widget.NewPopUp(lb, cv)
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c)
	c.tip.ShowAtPosition(pos.Add(fyne.NewPos(0, c.Size().Height+2)))
}

func (c *reactionChip) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides who gave the reaction.
func (c *reactionChip) MouseOut() {
	if c.tip != nil {
		c.tip.Hide()
		c.tip = nil
	}
}

func (c *reactionChip) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(c.bg, c.label))
}

// chipWidth is the width of a chip saying text.
func (g *geometry) chipWidth(text string, mine bool) float32 {
	return fyne.MeasureText(text, g.chipSize, fyne.TextStyle{Bold: mine}).Width + 3*g.pad
}

// chipH is the height of the chips' line under a bubble (0 without).
func (g *geometry) chipH(r app.MessageRow) float32 {
	if len(r.Reactions) == 0 {
		return 0
	}
	return g.chipTextH + g.pad + g.pad/2
}

// chipTexts are the chips drawn for r within width: each reaction's label,
// and "+N" for those that do not fit (or pass maxChips).
func (g *geometry) chipTexts(r app.MessageRow, width float32) (labels []string, mine []bool) {
	x := float32(0)
	for i, e := range r.Reactions {
		w := g.chipWidth(e.Label(), e.Mine)
		rest := len(r.Reactions) - i
		more := "+" + strconv.Itoa(rest)
		if i == maxChips || x+w > width || (rest > 1 && x+w+g.pad+g.chipWidth(more, false) > width && i == maxChips-1) {
			return append(labels, more), append(mine, false)
		}
		labels, mine = append(labels, e.Label()), append(mine, e.Mine)
		x += w + g.pad
	}
	return labels, mine
}

// quoteH is the height of r's quote block with the gap below it (0
// without).
func (g *geometry) quoteH(r app.MessageRow) float32 {
	if r.ReplyTo == nil {
		return 0
	}
	return 2*g.capH + g.pad + g.pad
}

// fitCaption cuts s with "…" to maxW in the caption size.
func (g *geometry) fitCaption(s string, style fyne.TextStyle, maxW float32) string {
	if fyne.MeasureText(s, g.capSize, style).Width <= maxW {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 && fyne.MeasureText(string(rs)+"…", g.capSize, style).Width > maxW {
		rs = rs[:len(rs)-1]
	}
	return strings.TrimRight(string(rs), " ") + "…"
}

// measureReply adds r's quote block to a row's height h and bubble width w,
// and the chips' line below the bubble.
func (v *ConversationView) measureReply(g *geometry, r app.MessageRow, h, w float32) (float32, float32) {
	if q := r.ReplyTo; q != nil {
		h += g.quoteH(r)
		maxW := v.bubbleMax - g.m.padW - 3 - 2*g.pad
		tw := max(fyne.MeasureText(g.fitCaption(q.Heading(), fyne.TextStyle{Bold: true}, maxW), g.capSize, fyne.TextStyle{Bold: true}).Width,
			fyne.MeasureText(g.fitCaption(q.Text(), fyne.TextStyle{Italic: q.FromSender}, maxW), g.capSize, fyne.TextStyle{Italic: q.FromSender}).Width)
		w = max(w, tw+g.m.padW+3+2*g.pad+2)
	}
	h += g.chipH(r)
	return h, w
}

// rowReplies is a message row's reply drawing: its quote and its chips.
type rowReplies struct {
	quote *quoteBlock
	chips []*reactionChip
}

func newRowReplies() rowReplies {
	rr := rowReplies{quote: newQuoteBlock(), chips: make([]*reactionChip, maxChips+1)}
	for i := range rr.chips {
		rr.chips[i] = newReactionChip()
	}
	return rr
}

func (rr *rowReplies) objects() []fyne.CanvasObject {
	out := []fyne.CanvasObject{rr.quote}
	for _, c := range rr.chips {
		out = append(out, c)
	}
	return out
}

func (rr *rowReplies) hide() {
	for _, o := range rr.objects() {
		o.Hide()
	}
}

// bindReplies draws r's quote and chips.
func (l *messageLayout) bindReplies(r app.MessageRow) {
	v, rr := l.v, &l.reply
	g := v.geo
	if q := r.ReplyTo; q != nil && g.m != nil {
		maxW := v.bubbleMax - g.m.padW - 3 - 2*g.pad
		rr.quote.set(*q, func(s string, st fyne.TextStyle) string { return g.fitCaption(s, st, maxW) })
		rr.quote.onTap = func() { v.openQuoted(v.rows[l.i]) }
		rr.quote.Show()
	} else {
		rr.quote.Hide()
	}
	var labels []string
	var mine []bool
	if g.m != nil {
		labels, mine = g.chipTexts(r, v.bubbleMax)
	}
	for i, c := range rr.chips {
		if i >= len(labels) {
			c.Hide()
			continue
		}
		c.set(labels[i], mine[i])
		c.onWho = func() { v.showWhoReacted(v.rows[l.i]) }
		c.who = ""
		if i < len(r.Reactions) && labels[i] == r.Reactions[i].Label() {
			e := r.Reactions[i].Emoji
			c.onTap = func() { v.react(v.rows[l.i], e) }
			c.who = r.Reactions[i].WhoLine()
		} else {
			c.onTap = c.onWho // "+N"
		}
		c.Show()
	}
}

// layoutQuote places the quote block at y and returns the y below it.
func (l *messageLayout) layoutQuote(x, y, width float32) float32 {
	if !l.reply.quote.Visible() {
		return y
	}
	g := l.v.geo
	h := 2*g.capH + g.pad
	l.reply.quote.Move(fyne.NewPos(x, y))
	l.reply.quote.Resize(fyne.NewSize(width, h))
	return y + h + g.pad
}

// layoutChips places the chips on the line at y under a bubble from left to
// right (incoming) or ending at its right edge (outgoing).
func (l *messageLayout) layoutChips(left, right, y float32, outgoing bool) {
	g := l.v.geo
	var ws []float32
	total := float32(0)
	for _, c := range l.reply.chips {
		if !c.Visible() {
			break
		}
		w := g.chipWidth(c.label.Text, c.label.TextStyle.Bold)
		ws = append(ws, w)
		total += w + g.pad
	}
	x := left
	if outgoing {
		x = right - total + g.pad
	}
	for i, w := range ws {
		c := l.reply.chips[i]
		c.Move(fyne.NewPos(x, y))
		c.Resize(fyne.NewSize(w, g.chipTextH+g.pad))
		x += w + g.pad
	}
}

// react toggles the user's emoji on r.
func (v *ConversationView) react(r app.MessageRow, emoji string) {
	ra, ok := v.actions.(ReplyActions)
	if !ok {
		return
	}
	conv := v.info.ID
	go func() {
		err := ra.React(conv, r.ID, emoji)
		doUI(func() {
			if err != nil {
				v.showComposerNote("Reaction: " + err.Error())
			}
		})
	}()
}

// showWhoReacted lists who gave each of r's reactions.
func (v *ConversationView) showWhoReacted(r app.MessageRow) {
	box := container.NewVBox(widget.NewLabelWithStyle("Reactions", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	for _, e := range r.Reactions {
		box.Add(wrapped(e.WhoLine()))
	}
	var pop *widget.PopUp
	box.Add(widget.NewButton("Close", func() { pop.Hide() }))
	pop = v.modal(box, 360)
}

// openQuoted scrolls to the message r quotes and highlights it, reaching
// back for it when it is not among the rows drawn; or says it is not on
// this device.
func (v *ConversationView) openQuoted(r app.MessageRow) {
	q := r.ReplyTo
	if q == nil {
		return
	}
	if q.ID == 0 {
		v.showComposerNote(app.OriginalNotHere)
		return
	}
	if _, ok := v.index[q.ID]; ok {
		v.ScrollToMessage(q.ID)
		return
	}
	if sa, ok := v.actions.(SearchActions); ok {
		sa.OpenAt(v.info.ID, q.ID) // a new view, scrolled to it and highlighted
		return
	}
	v.showComposerNote(app.OriginalNotHere)
}

// highlightFor is how long a message scrolled to stays highlighted.
const highlightFor = 2500 * time.Millisecond

// highlight marks message id for a moment (a quote or a search hit
// opened it).
func (v *ConversationView) highlight(id app.MessageID) {
	v.lit = id
	if i, ok := v.index[id]; ok && v.list != nil {
		v.list.RefreshItem(i + v.offset())
	}
	time.AfterFunc(highlightFor, func() {
		doUI(func() {
			if v.lit != id {
				return
			}
			v.lit = 0
			if i, ok := v.index[id]; ok && v.list != nil {
				v.list.RefreshItem(i + v.offset())
			}
		})
	})
}

// Highlighted is the message highlighted now (0: none), for tests.
func (v *ConversationView) Highlighted() app.MessageID { return v.lit }

// bindHighlight draws the highlight over the bubble's other marks: a
// thick outline in the primary colour.
func (l *messageLayout) bindHighlight(r app.MessageRow) {
	if r.ID == 0 || r.ID != l.v.lit {
		return
	}
	l.bg.StrokeColor = theme.Color(theme.ColorNamePrimary)
	l.bg.StrokeWidth = 3
	l.bg.Refresh()
}

// mentionSegments marks the words by which a message mentions the user in
// its text segments: bold in the primary colour (not by colour alone). A
// RichText cannot draw a background behind a run of text and still wrap
// it with the rest, so the mark is the weight and the colour.
func mentionSegments(segs []widget.RichTextSegment, words []string) []widget.RichTextSegment {
	if len(words) == 0 {
		return segs
	}
	var out []widget.RichTextSegment
	for _, s := range segs {
		ts, ok := s.(*widget.TextSegment)
		if !ok {
			out = append(out, s)
			continue
		}
		rest := ts.Text
		for {
			at, w := nextMention(rest, words)
			if at < 0 {
				break
			}
			if at > 0 {
				out = append(out, &widget.TextSegment{Style: ts.Style, Text: rest[:at]})
			}
			style := ts.Style
			style.ColorName = theme.ColorNamePrimary
			style.TextStyle.Bold = true
			out = append(out, &widget.TextSegment{Style: style, Text: rest[at : at+len(w)]})
			rest = rest[at+len(w):]
		}
		if rest != "" || len(out) == 0 {
			out = append(out, &widget.TextSegment{Style: ts.Style, Text: rest})
		}
	}
	return out
}

// nextMention is where the first of words stands in s as a whole word
// (not inside "@alice2" or "x@alice"), and which; -1 when none.
func nextMention(s string, words []string) (int, string) {
	best, which := -1, ""
	for _, w := range words {
		from := 0
		for {
			i := strings.Index(s[from:], w)
			if i < 0 {
				break
			}
			i += from
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[i+len(w):])
			if (i == 0 || !wordRune(before)) && (i+len(w) == len(s) || !wordRune(after)) {
				if best < 0 || i < best {
					best, which = i, w
				}
				break
			}
			from = i + len(w)
		}
	}
	return best, which
}

func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@' || r == '-'
}
