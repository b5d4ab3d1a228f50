package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// ForwardActions is what "Forward…" asks of the app: the conversations a
// message may go to, and the forward itself at the urgency the user picks
// (routine unless they choose another). Without it the menu does not offer
// it.
type ForwardActions interface {
	ForwardTargets() ([]app.ConversationRow, error)
	Forward(id app.MessageID, to string, urgency app.Urgency) error
}

// forwardAction is the ⋮ menu's "Forward…" entry for r.
func (v *ConversationView) forwardAction(r app.MessageRow) []rowAction {
	fa, ok := v.actions.(ForwardActions)
	if !ok || !app.CanForward(r) {
		return nil
	}
	return []rowAction{{"Forward…", func() { v.showForward(fa, r) }}}
}

// showForward is the picker: the message quoted, the conversations to
// choose from (filtered as typed), the urgency, and Forward.
func (v *ConversationView) showForward(fa ForwardActions, r app.MessageRow) {
	targets, err := fa.ForwardTargets()
	if err != nil {
		v.showComposerNote("Forward: " + err.Error())
		return
	}
	status := errorLabel()
	chosen := ""
	list := container.NewVBox()
	var fill func(filter string)
	fill = func(filter string) {
		list.RemoveAll()
		f := strings.ToLower(strings.TrimSpace(filter))
		for _, t := range targets {
			if f != "" && !strings.Contains(strings.ToLower(t.Title), f) && !strings.Contains(strings.ToLower(t.ID), f) {
				continue
			}
			var icon fyne.Resource = themedPerson
			if t.IsRoom {
				icon = themedPeople
			}
			b := widget.NewButtonWithIcon(t.Title, icon, nil)
			b.Alignment = widget.ButtonAlignLeading
			if t.ID == chosen {
				b.Importance = widget.HighImportance
			}
			id := t.ID
			b.OnTapped = func() {
				chosen = id
				fill(filter)
			}
			list.Add(b)
		}
		if len(list.Objects) == 0 {
			list.Add(widget.NewLabel("No conversation matches"))
		}
		list.Refresh()
	}
	search := newField()
	search.SetPlaceHolder("Search conversations")
	search.OnChanged = fill
	fill("")
	scroll := container.NewVScroll(list)
	scroll.SetMinSize(fyne.NewSize(0, 220))
	levels := levelNames(v.clin.levels)
	urg := widget.NewRadioGroup(levels, nil)
	urg.Horizontal = true
	urg.Required = true
	urg.SetSelected(levels[0]) // routine: forwarding a page pages no one by itself
	var pop *widget.PopUp
	send := widget.NewButtonWithIcon("Forward", theme.MailForwardIcon(), func() {
		if chosen == "" {
			status.SetText("Choose a conversation first")
			status.Show()
			return
		}
		u := urgencyLevels[max(0, indexOf(levels, urg.Selected))]
		pop.Hide()
		go func() {
			err := fa.Forward(r.ID, chosen, u)
			doUI(func() {
				if err != nil {
					v.showComposerNote("Not forwarded: " + err.Error())
				}
			})
		}()
	})
	send.Importance = widget.HighImportance
	pop = v.modal(container.NewVBox(
		widget.NewLabelWithStyle("Forward message from "+r.Sender, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapped("“"+app.Excerpt(r.Body, 120)+"”"), search, scroll,
		widget.NewLabel("Urgency"), urg, status,
		container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), send)), 440)
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}
