package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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
	entry := widget.NewMultiLineEntry()
	entry.Wrapping = fyne.TextWrapWord
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
