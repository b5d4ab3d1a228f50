package ui

import (
	"time"

	"fyne.io/fyne/v2"
)

// MuteActions is what the conversation header's ⋮ menu asks of the app to
// mute a conversation (routine messages only: urgent and STAT always ring).
// The controller's actions answer it; without it the menu offers no mute.
type MuteActions interface {
	MuteConversation(conv string, until time.Time) error
	UnmuteConversation(conv string) error
	Muted(conv string) (bool, time.Time)
}

// muteItems are the header menu's mute entries for this conversation.
func (v *ConversationView) muteItems() []*fyne.MenuItem {
	ma, ok := v.actions.(MuteActions)
	if !ok {
		return nil
	}
	conv := v.info.ID
	run := func(f func() error) func() {
		return func() {
			go func() {
				err := f()
				doUI(func() {
					if err != nil {
						v.showComposerNote("Mute: " + err.Error())
					}
				})
			}()
		}
	}
	if muted, until := ma.Muted(conv); muted {
		label := "Unmute (muted until you unmute)"
		if !until.IsZero() {
			label = "Unmute (muted until " + until.Local().Format("15:04") + ")"
		}
		return []*fyne.MenuItem{fyne.NewMenuItem(label, run(func() error { return ma.UnmuteConversation(conv) }))}
	}
	return []*fyne.MenuItem{
		fyne.NewMenuItem("Mute routine for 1 hour", run(func() error { return ma.MuteConversation(conv, nowFunc().Add(time.Hour)) })),
		fyne.NewMenuItem("Mute routine until I unmute", run(func() error { return ma.MuteConversation(conv, time.Time{}) })),
	}
}

// DraftActions is what the composer asks of the app to keep the text the
// user leaves unsent, per conversation (sealed in the store; the inbox row
// says "Draft: …"). The controller's actions answer it; without it nothing
// is kept.
type DraftActions interface {
	SaveDraft(conv, text string) error
	Draft(conv string) string
}

// draftDelay: the draft is saved when typing pauses this long (and so
// after leaving the conversation too).
const draftDelay = 400 * time.Millisecond

// initDraft puts the conversation's draft in the composer and keeps it as
// the user types; sending empties the composer and so deletes it.
func (v *ConversationView) initDraft() {
	da, ok := v.actions.(DraftActions)
	if !ok {
		return
	}
	conv := v.info.ID
	if d := da.Draft(conv); d != "" {
		v.composer.SetText(d)
	}
	seq := 0
	v.composer.OnChanged = func(text string) {
		seq++
		mine := seq
		time.AfterFunc(draftDelay, func() {
			doUI(func() {
				if mine != seq {
					return // typed since
				}
				go func() {
					if err := da.SaveDraft(conv, text); err != nil {
						doUI(func() { v.showComposerNote("Draft not kept: " + err.Error()) })
					}
				}()
			})
		})
	}
}
