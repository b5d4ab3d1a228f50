package ui

import (
	"io"

	"rounds/app"
)

// What the conversation screen asks of the app. The controller's actions
// (controller.go) implement both interfaces; a screen whose actions do not
// implement ClinicalActions offers no clinical controls.

// ClinicalActions is what the conversation screen asks of the app for
// urgent messages, orders, quick responses, recall and correction, and
// conversation export. The controller's actions implement it; a screen
// whose actions do not offers none of it.
type ClinicalActions interface {
	SendClinical(conv, text string, o app.ClinicalOptions) (app.Sent, error)
	Respond(conv string, msg app.MessageID, kind app.ResponseKind, text string) error
	Recall(conv string, id app.MessageID) error
	Correct(conv string, id app.MessageID, text string) error
	History(id app.MessageID) ([]app.BodyVersion, error)
	ExportConversation(w io.Writer, conv, format string) error
	// CancelEscalation stops a running escalation ladder (the sender
	// reached someone another way).
	CancelEscalation(conv string, id app.MessageID) error
}

func (v *ConversationView) clinicalActions() (ClinicalActions, bool) {
	ca, ok := v.actions.(ClinicalActions)
	return ca, ok
}

// ConversationActions is what the conversation screen asks of the app.
//
// Send is called on the UI goroutine and should return quickly (persist, then
// queue); its error is shown under the composer and the text is kept.
// MarkShown and LoadOlder are called on their own goroutines; deliver the older
// page with fyne.Do(func() { view.Prepend(older, hasMore) }).
type ConversationActions interface {
	Send(conv, text string) error
	// MarkShown says the user has seen the conversation up to and including
	// message upTo (the newest incoming message drawn on screen).
	MarkShown(conv string, upTo app.MessageID)
	// LoadOlder asks for the page of messages before message before.
	LoadOlder(conv string, before app.MessageID)
	// Reading says the user scrolled the conversation: reading is use, and
	// defers auto-lock. Called on the UI goroutine; it must be cheap.
	Reading(conv string)
}
