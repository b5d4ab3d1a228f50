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
