package sync

import (
	"time"

	"rounds/securestore"
)

// Event is what a Session tells the app. Every event describes something that is
// already in the store: the app may read the store for more and will find it.
type Event interface{ isEvent() }

// MessagesAdded: new messages were stored (live, carbon or catch-up). Duplicates
// never produce this event.
type MessagesAdded struct {
	Messages []securestore.Message
	// CatchUp is true for messages fetched from an archive after being offline,
	// so the app can notify once per batch instead of once per message.
	CatchUp bool
}

// ReceiptChanged: an outgoing message moved forward (sent, delivered, read,
// acknowledged) or failed. Member is the room member's bare JID or nick for
// per-member receipts in rooms, empty for the message as a whole.
type ReceiptChanged struct {
	Message securestore.MessageID
	Member  string
	State   securestore.ReceiptState
	At      time.Time
	Reason  string
}

// ConnectionChanged: the visible connection state changed.
type ConnectionChanged struct{ State ConnState }

// RosterChanged: a contact was added, changed or removed.
type RosterChanged struct {
	Contact securestore.Contact
	Removed bool
}

// PresenceChanged: a contact's device came online, went away or left.
type PresenceChanged struct {
	From      string // full JID
	Available bool
	Show      string // "", away, dnd, xa, chat
	Status    string // e.g. "In surgery"
}

// ConversationRead: messages up to Message were read (here, or on another of
// our devices through XEP-0490), so alerts for them stop everywhere.
type ConversationRead struct {
	Conversation string
	Message      securestore.MessageID
}

func (MessagesAdded) isEvent()     {}
func (ReceiptChanged) isEvent()    {}
func (ConnectionChanged) isEvent() {}
func (RosterChanged) isEvent()     {}
func (PresenceChanged) isEvent()   {}
func (ConversationRead) isEvent()  {}
