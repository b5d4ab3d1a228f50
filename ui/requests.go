package ui

import (
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

// set shows reqs (none: the bar hides).
func (b *requestsBar) set(reqs []app.PresenceRequest) {
	b.box.RemoveAll()
	for _, r := range reqs {
		b.box.Add(b.row(r))
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
