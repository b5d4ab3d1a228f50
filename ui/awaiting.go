package ui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// An urgent or ack-required message that waits for this user's response
// stays in sight under the conversation's header, with Acknowledge one tap
// away: put aside on the alert ("5 minutes", "Call me", a reply) it must
// not hide behind the message's ⋮ menu.

// awaitingBar is the strip under the header (hidden when nothing waits).
type awaitingBar struct {
	box    *fyne.Container
	stripe *canvas.Rectangle
	text   *widget.Label
	ack    *widget.Button
	msg    app.MessageID
}

func (v *ConversationView) initAwaiting() {
	b := &v.await
	b.stripe = canvas.NewRectangle(color.Transparent)
	b.stripe.SetMinSize(fyne.NewSize(theme.Padding(), 0))
	b.text = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	b.text.Truncation = fyne.TextTruncateEllipsis
	b.ack = widget.NewButtonWithIcon(responseButton(app.ResponseAck), theme.ConfirmIcon(), func() {
		if ca, ok := v.clinicalActions(); ok && b.msg != 0 {
			v.respond(ca, b.msg, app.ResponseAck, "")
		}
	})
	b.ack.Importance = widget.HighImportance
	b.box = container.New(layout.NewCustomPaddedLayout(0, theme.Padding(), theme.Padding(), theme.Padding()),
		container.NewBorder(nil, nil, b.stripe, container.NewCenter(b.ack), b.text))
	b.box.Hide()
}

// syncAwaiting shows the newest message still waiting for this user's
// acknowledgement, and how many wait.
func (v *ConversationView) syncAwaiting() {
	b := &v.await
	if b.box == nil {
		return
	}
	var waiting []app.MessageRow
	if _, ok := v.clinicalActions(); ok {
		for _, r := range v.rows {
			if canRespond(r) {
				waiting = append(waiting, r)
			}
		}
	}
	// The header's height changes with the strip: lay the view out again
	// (once it has a size), keeping the newest message in sight.
	shown, atEnd := b.box.Visible(), v.list == nil || v.atEnd()
	defer func() {
		if b.box.Visible() != shown && !v.Size().IsZero() {
			v.scrollEnd = v.scrollEnd || atEnd
			v.Refresh()
		}
	}()
	if len(waiting) == 0 {
		b.msg = 0
		b.box.Hide()
		return
	}
	r := waiting[len(waiting)-1]
	b.msg = r.ID
	level := "Ack requested"
	if r.Urgency > app.UrgencyNormal {
		level = v.clin.levels.Name(r.Urgency)
	}
	what := firstLine(r.Body)
	if v.info.IsRoom && r.Sender != "" {
		what = r.Sender + ": " + what
	}
	text := fmt.Sprintf("%s %s · %s", level, clock(r.Timestamp), what)
	if len(waiting) > 1 {
		text = fmt.Sprintf("%d waiting · ", len(waiting)) + text
	}
	b.text.SetText(text)
	b.stripe.FillColor = theme.Color(urgencyColorName(r.Urgency))
	b.stripe.Refresh()
	b.box.Show()
}
