package sync

import (
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Event is what a Session tells the app. Every event describes something that is
// already in the store: the app may read the store for more and will find it.
type Event interface{ isEvent() }

// MessagesAdded: new messages were stored (live, carbon or catch-up). Duplicates
// never produce this event.
type MessagesAdded struct {
	Messages []securestore.Message
	// CatchUp is true for messages fetched from an archive after being offline,
	// or merged from the locked inbox at unlock, so the app can notify once
	// per batch instead of once per message.
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

// PresenceRequested: someone asks to see this account's presence (RFC 6121
// §3.1). The server delivers a request again at every sign-in until it is
// answered (AnswerPresenceRequest).
type PresenceRequested struct {
	From string // bare JID
}

// ConversationRead: messages up to Message were read (here, or on another of
// our devices through XEP-0490), so alerts for them stop everywhere.
type ConversationRead struct {
	Conversation string
	Message      securestore.MessageID
}

// ResponseReceived: a quick response (urn:rounds:response:0) to an urgent
// message arrived and is stored as Message. To is the local id of the message
// it answers (0 if that message is not in the store). Own is true when one of
// our own devices sent it (carbon or archive); a response sent from this
// device through Session.Respond produces no ResponseReceived. A quick
// response's event comes before the MessagesAdded of the batch that stored
// it, so the app records it before deciding whether that batch alerts.
//
// ByText marks a plain-text reply from a client without Rounds, read as an
// answer to the page it follows (textack.go): Kind is ResponseAck when its
// text is an accepted acknowledgement (the page is then acknowledged "by
// text reply"), ResponseText otherwise.
type ResponseReceived struct {
	Message securestore.Message
	To      securestore.MessageID
	Kind    ResponseKind
	From    string // sender: bare JID in chats, occupant JID in rooms
	At      time.Time
	Own     bool
	ByText  bool
	// Text is a ByText reply's own words (an XEP-0461 reply's quote left
	// out); empty otherwise.
	Text string
}

// Label is what a response of kind k says to clients that do not speak
// Rounds ("✓ Acknowledged"; "" for ResponseText): a response's body is its
// label, then ": " and any text the responder added.
func (k ResponseKind) Label() string { return xmpp.ResponseFallbackText(string(k)) }

// MessageRetracted: a message was recalled by its author (here, on another of
// our devices, or by the peer); the store holds its tombstone.
type MessageRetracted struct {
	Conversation string
	Message      securestore.MessageID
	At           time.Time
}

// MessageCorrected: a message's text was corrected by its author; the store
// holds the new body and the history.
type MessageCorrected struct {
	Conversation string
	Message      securestore.MessageID
}

// PolicyUpdated: the org policy node has a new document in force, parsed
// (pubsub.go): a live notification from the org's pubsub service, or the
// current item fetched after each fresh sign-in (notifications are not stored
// for offline devices). A document that does not parse is not reported.
// Locked: it arrived while the Session is locked; it is also sealed into
// the locked inbox, and the unlock's merge reports it again to be applied.
// It is reported at once so that what the device must stop doing (keeping
// the listen ticket) does not wait for the unlock.
type PolicyUpdated struct {
	Policy OrgPolicy
	Locked bool
}

// OnCallUpdated: the on-call node has a new schedule in force, parsed; it
// arrives like PolicyUpdated.
type OnCallUpdated struct {
	Shifts []Shift
}

// WipeRequested: a wipe directive arrived (live, offline store or archive).
// The engine does not judge it: the app checks From against the policy's
// admins and the directive's time against this device's sign-in.
type WipeRequested struct {
	From   string // bare JID of the sender
	ID     string
	Issued time.Time
	// Locked: it arrived while the Session was locked (Lock). It is
	// sealed in the locked inbox like any message (so the unlocked
	// Session reports it again at the merge), and reported now so that
	// a genuine wipe need not wait for an unlock that never comes.
	Locked bool
}

// RoomUnavailable: a remembered room could not be joined after sign-in. The
// Session came online without it. Gone: the room no longer exists (destroyed,
// or it never did: joining did not create it); the Session forgot it, its
// messages stay in the store. Otherwise the room refused us (Condition is the
// server's, e.g. registration-required when our membership was revoked,
// forbidden when banned) or did not answer, and the next sign-in tries again.
type RoomUnavailable struct {
	Room      string
	Gone      bool
	Condition string
}

func (MessagesAdded) isEvent()     {}
func (RoomUnavailable) isEvent()   {}
func (ResponseReceived) isEvent()  {}
func (MessageRetracted) isEvent()  {}
func (MessageCorrected) isEvent()  {}
func (PolicyUpdated) isEvent()     {}
func (OnCallUpdated) isEvent()     {}
func (WipeRequested) isEvent()     {}
func (ReceiptChanged) isEvent()    {}
func (ConnectionChanged) isEvent() {}
func (RosterChanged) isEvent()     {}
func (PresenceChanged) isEvent()   {}
func (PresenceRequested) isEvent() {}
func (ConversationRead) isEvent()  {}
