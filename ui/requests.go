package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// PresenceRequestActions is what the inbox's request rows ask of the app.
// Screens built over actions without it (a preview, a test's fake) show
// no requests.
type PresenceRequestActions interface {
	AnswerPresenceRequest(from string, allow bool) error
}

// requestsBar lists, above the conversations, the people asking to see
// when this account is available: their face, the app's line ("Dr Ama
// Osei wants to see when you are available"), Allow and Refuse. Hidden
// while nobody asks.
type requestsBar struct {
	widget.BaseWidget
	actions PresenceRequestActions
	box     *fyne.Container
	err     *widget.Label
}

func newRequestsBar(a PresenceRequestActions) *requestsBar {
	b := &requestsBar{actions: a, box: container.NewVBox(), err: widget.NewLabel("")}
	b.err.Importance = widget.DangerImportance
	b.err.Wrapping = fyne.TextWrapWord
	b.err.Hide()
	b.ExtendBaseWidget(b)
	b.Hide()
	return b
}

// set shows the oldest of reqs and how many more wait (none: the bar
// hides). One at a time: anyone who can reach the account may ask, and a
// row per request would push the conversations, urgent ones too, off the
// screen; the next shows once this one is answered.
func (b *requestsBar) set(reqs []app.PresenceRequest) {
	b.box.RemoveAll()
	if len(reqs) > 0 {
		b.box.Add(b.row(reqs[0]))
	}
	if n := len(reqs) - 1; n > 0 {
		more := widget.NewLabel(fmt.Sprintf("%d more people are asking", n))
		if n == 1 {
			more.SetText("1 more person is asking")
		}
		more.TextStyle.Italic = true
		b.box.Add(more)
	}
	if len(reqs) == 0 {
		b.err.Hide()
		b.Hide()
	} else {
		b.Show()
	}
	b.Refresh()
}

func (b *requestsBar) row(r app.PresenceRequest) fyne.CanvasObject {
	face := newAvatar(themedPerson)
	face.set(r.Avatar, themedPerson)
	side := theme.IconInlineSize() * 1.6
	line := widget.NewLabel(r.Text)
	line.Wrapping = fyne.TextWrapWord
	answer := func(allow bool) func() {
		return func() {
			if err := b.actions.AnswerPresenceRequest(r.Address, allow); err != nil {
				b.err.SetText(err.Error())
				b.err.Show()
				return
			}
			b.err.Hide()
		}
	}
	allow := widget.NewButtonWithIcon("Allow", theme.ConfirmIcon(), answer(true))
	allow.Importance = widget.HighImportance
	refuse := widget.NewButtonWithIcon("Refuse", theme.CancelIcon(), answer(false))
	return container.NewVBox(
		container.NewBorder(nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSize(side, side), face)), nil, line),
		container.NewHBox(layout.NewSpacer(), refuse, allow))
}

func (b *requestsBar) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewVBox(b.box, b.err, widget.NewSeparator()))
}
