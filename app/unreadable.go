package app

import (
	"rounds/securestore"
	"rounds/sync"
)

// A message the engine could not read is stored as a placeholder with no
// body and the reason in its Extra (sync/unreadable.go). The app gives it
// words, so the row is never blank and the reader knows to ask the sender.

// unreadableText is what a placeholder says, or "" for any other message.
func unreadableText(m securestore.Message, sender string) string {
	reason := m.Extra[sync.ExtraUnreadable]
	if reason == "" {
		return ""
	}
	why := "it could not be read"
	switch reason {
	case sync.UnreadableTooLarge:
		why = "too large"
	case sync.UnreadableTooDeep, sync.UnreadableTooManyAttrs, sync.UnreadableTooMany:
		why = "too complex"
	case sync.UnreadableMalformed, sync.UnreadableBadUTF8:
		why = "damaged in transit"
	}
	if m.Direction == securestore.Outgoing {
		return "A message you sent from another device could not be shown here (" + why + ")."
	}
	return "A message from " + sender + " could not be shown (" + why + "). Ask them to send it again, or in shorter parts."
}

// unreadableRow makes a placeholder's row a notice that says so.
func unreadableRow(m securestore.Message, r *MessageRow) {
	if t := unreadableText(m, r.Sender); t != "" {
		r.Body, r.Notice = t, true
	}
}
