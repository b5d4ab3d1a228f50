package securestore

import "time"

// MessageID is the store's local id for a message: unique within one store,
// assigned on append, never reused. It is not a protocol id (see OriginID,
// StanzaID) and never leaves the device.
type MessageID uint64

// Direction says whether a message was received or sent by this account;
// only incoming messages count as unread.
type Direction uint8

const (
	Incoming Direction = iota
	Outgoing
)

// Urgency is the clinical urgency of a message (urn:rounds:urgency:0, with
// the XEP-0131 SHIM header as fallback). It drives alerting and escalation.
type Urgency uint8

const (
	UrgencyNormal Urgency = iota
	UrgencyHigh
	UrgencyCritical
)

// ReceiptState is where an outgoing message is in its delivery story. States
// only move forward (docs/ARCHITECTURE.md, "Receipt states"); the Joint
// Commission asks for each one with its date and time, so each keeps a
// timestamp.
type ReceiptState uint8

const (
	ReceiptNone         ReceiptState = iota // incoming messages, or not yet tracked
	ReceiptQueued                           // in the store, not yet acked by the server
	ReceiptSent                             // server acked (XEP-0198)
	ReceiptDelivered                        // a recipient device confirmed (XEP-0184)
	ReceiptRead                             // displayed (XEP-0333)
	ReceiptAcknowledged                     // explicit clinical acknowledgement
	ReceiptFailed                           // gave up; Reason says why
	numReceiptStates
)

var receiptNames = [...]string{"none", "queued", "sent", "delivered", "read", "acknowledged", "failed"}

func (s ReceiptState) String() string {
	if int(s) < len(receiptNames) {
		return receiptNames[s]
	}
	return "unknown"
}

// Receipt is the receipt state of a message (or of one room member's copy).
type Receipt struct {
	State ReceiptState
	// At holds the time each state was reached, indexed by ReceiptState, so an
	// export can show queued/sent/delivered/read/acknowledged times side by side.
	At [numReceiptStates]time.Time
	// Reason is set when State is ReceiptFailed: something the user can act on.
	Reason string
}

// advance moves r forward to s. Forward-only: a late "delivered" after "read"
// (receipts race on flaky networks) is ignored. Failed is reachable only before
// delivery, and is final. It reports whether anything changed.
func (r *Receipt) advance(s ReceiptState, at time.Time, reason string) bool {
	if s == ReceiptNone || s >= numReceiptStates || r.State == ReceiptFailed {
		return false
	}
	if s == ReceiptFailed {
		if r.State >= ReceiptDelivered {
			return false
		}
	} else if s <= r.State {
		return false
	} else {
		// A state skipped over is implied by the later one (a recipient's
		// receipt can overtake the server's ack): record it at the time we
		// learned it, the earliest moment we know it was reached, so an
		// export never shows "delivered" without "sent".
		for k := max(r.State+1, ReceiptSent); k < s; k++ {
			if r.At[k].IsZero() {
				r.At[k] = at
			}
		}
	}
	r.State = s
	r.At[s] = at
	if s == ReceiptFailed {
		r.Reason = reason
	}
	return true
}

// ExtraSender is the Extra key holding a message's author as the sync
// engine names it stably (an account's bare JID, or a room's identifier for
// one of its members): opaque to the store, which scopes the ids an author
// chose (origin-ids) to it. Absent when the author has no stable identity.
const ExtraSender = "sender"

// Extra keys of the patient a message is about (the sender's tag, written
// by the sync engine; docs/PROTOCOL.md "Patient context"): the store
// indexes them in memory for a search by patient, like the body. Sealed
// with the message like every Extra field.
const (
	ExtraPatientMRN  = "patient-mrn"
	ExtraPatientName = "patient-name"
	ExtraPatientBed  = "patient-bed"
)

// Message is one chat or room message, incoming or outgoing.
type Message struct {
	ID             MessageID // assigned by the store
	ConversationID string    // peer bare JID (chat) or room bare JID
	From, To       string    // full JIDs allowed (room occupant, sending device)
	Direction      Direction
	Body           string
	// OriginID (XEP-0359) is chosen by the sender and survives carbons and MAM:
	// the dedupe key for our own echoes and the id receipts reference.
	OriginID string
	// StanzaID (XEP-0359) is assigned by the archive named in StanzaIDBy; it is
	// the MAM paging key and the dedupe key across live/carbon/MAM delivery.
	StanzaID   string
	StanzaIDBy string
	// Timestamp is server time (XEP-0203 delay or the archive's), used for
	// ordering and retention. ReceivedAt is local time of arrival.
	Timestamp  time.Time
	ReceivedAt time.Time
	Receipt    Receipt
	// Members holds per-member receipts in rooms, keyed by member bare JID.
	Members map[string]Receipt
	Urgency Urgency
	// Extra holds small fields added by later features (correction of, retracted,
	// reply-to, attachment refs) without a format change.
	Extra map[string]string
}

// ConversationKind distinguishes one-to-one chats from rooms (XEP-0045).
type ConversationKind uint8

const (
	KindChat ConversationKind = iota
	KindRoom
)

// Conversation is one row of the inbox.
type Conversation struct {
	ID           string // peer bare JID or room JID
	Kind         ConversationKind
	Title        string
	LastActivity time.Time // newest message timestamp; the inbox sort key
	Unread       int       // incoming messages after LastReadID
	LastReadID   MessageID // newest message the user has seen
	lastReadKey  []byte    // ordering key of LastReadID (internal)
}

// Contact is a roster item (RFC 6121).
type Contact struct {
	JID          string
	Name         string
	Subscription string // none, to, from, both
	Groups       []string
}

// Credentials hold what is needed to sign in again without the password:
// SCRAM's SaltedPassword (or ClientKey/ServerKey) for the server's salt and
// iteration count. The clear password is never stored, with one exception:
// PlainPassword, used only for a server that offers nothing but PLAIN (over
// TLS), and left empty otherwise.
type Credentials struct {
	Mechanism      string // e.g. SCRAM-SHA-256
	Salt           []byte
	Iterations     int
	SaltedPassword []byte
	ClientKey      []byte
	ServerKey      []byte
	PlainPassword  string
}

// Account is the signed-in identity of this store (one store per account).
type Account struct {
	JID          string // bare JID
	WebSocketURL string // override; empty means XEP-0156 discovery
	Resource     string
	Credentials  Credentials
}

// Attachment is the metadata of a file shared in a message (XEP-0363 upload,
// XEP-0454 aesgcm:// URL). The key material lets us decrypt the download, so it
// is sealed under the message's retention period and shredded with it.
type Attachment struct {
	ID        string
	MessageID MessageID
	Name      string
	MIME      string
	Size      int64
	URL       string
	Key       []byte // AES-GCM key+IV from the aesgcm:// fragment
	SHA256    []byte
}
