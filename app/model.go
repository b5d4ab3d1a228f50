package app

import (
	"image"
	"image/color"
	"time"

	"rounds/securestore"
)

// ConversationRow is one line of the inbox.
type ConversationRow struct {
	ID           string // peer bare JID or room JID
	Title        string // contact name, room name, or the JID when nothing better is known
	IsRoom       bool
	LastActivity time.Time
	Unread       int
	// Preview is the last message's text, shortened; empty while the app is
	// locked. The inbox shows it; notifications never do by default.
	Preview string
	// Presence of the peer (chats only): "" unknown/offline, "available",
	// "away", "dnd", "xa".
	Presence string
	// Urgent pins the row on top (the clinical layer sets it for unacknowledged
	// urgent messages).
	Urgent bool
	// UrgentLevel is the highest level among what pins the row (open alerts
	// and our messages awaiting acknowledgement), so the row names it with
	// the policy's name ("STAT"); routine when only a routine message asked
	// for an acknowledgement. Meaningless when Urgent is false.
	UrgentLevel securestore.Urgency
	// Unavailable says why this room could not be rejoined at the last
	// sign-in ("" when it was, or for chats): it no longer exists, or it no
	// longer lets us in. Nothing from the room arrives while it is set.
	Unavailable string
	// Avatar of a chat's peer (empty for rooms): initials on the
	// address's XEP-0392 colour, and what their card says they do.
	Avatar Avatar
	Role   string
	// Muted: routine messages here do not notify (mute.go); urgent ones do.
	Muted bool
	// Draft is the first line of the unsent text the user left here
	// (mute.go), "" when none; the inbox shows it in place of the preview
	// unless an urgent alert speaks for the conversation.
	Draft string
}

// Avatar is what stands for a person: their picture (XEP-0084) when they
// publish one that passed its checks, else up to two initials on a colour
// derived from their address (XEP-0392), the same in every XMPP client
// that follows it. Initials and Colour are always set for a person.
type Avatar struct {
	Initials string
	Colour   color.NRGBA
	// Picture is their picture, decoded and at most 128 px a side; nil
	// when there is none. The same person gets the same Picture value
	// until pictures change.
	Picture image.Image
}

// MessageRow is one message as a conversation view draws it.
type MessageRow struct {
	ID        securestore.MessageID
	Outgoing  bool
	Sender    string // display name (rooms: the member; chats: the peer or "You")
	Body      string // untrusted plain text: draw as text, never as markup
	Timestamp time.Time
	// Receipt is the message's state with every time it reached (outgoing).
	Receipt securestore.Receipt
	// Members holds per-member receipts in rooms, by member display name.
	Members map[string]securestore.Receipt
	Urgency securestore.Urgency
	// DayBreak is true for the first message of a calendar day (local time), so
	// the view draws a day separator above it.
	DayBreak bool

	// Clinical (alerts.go, responses.go, escalation.go, recall.go).

	// AckRequired: the sender asked for an explicit acknowledgement.
	AckRequired bool
	// Alerting (outgoing, ack required): the message reached the recipient's
	// device, where it is alerting until acknowledged.
	Alerting bool
	// Responses are the quick responses to this message, oldest first, each
	// with its time (the sender's live view; the recipient's own too).
	Responses []ResponseRow
	// Response is set when this message is itself a quick response.
	Response ResponseKind
	// Recalled is when the sender recalled the message (zero if not); Body
	// is then the tombstone "Message recalled at 14:02".
	Recalled time.Time
	// Corrected: the text was corrected (Client.History has the earlier
	// texts); CorrectedAt is the last correction.
	Corrected   bool
	CorrectedAt time.Time
	// Escalation is the message's escalation ladder (outgoing ack-required
	// messages sent from this device), nil if none.
	Escalation *EscalationView
	// Notice: an escalation notice posted into the thread ("Escalated to Dr
	// Osei (Cardiology on call): not acknowledged in 5 min"); EscalationStep
	// is the step of a notice or of an escalated copy (0 otherwise).
	Notice         bool
	EscalationStep int

	// Attachments are the files the message shares (attachments.go); Body
	// is then empty (the link carries the file's key and is never shown).
	Attachments []AttachmentRow

	// Marks say whether the message is an order and which on-call role it
	// was addressed to.
	Marks MessageMarks

	// Automatic: the sender's client wrote it by itself (a do-not-disturb
	// reply or notice, a forward to the cover); Forward is set for a
	// forward (dnd.go). The Status lines say so in words.
	Automatic bool
	Forward   *ForwardView

	// ReplyTo is the message this one answers (XEP-0461), as the thread
	// quotes it above the text; tapping it opens that message. Nil when the
	// message answers none found in this conversation.
	ReplyTo *QuotedView
	// MentionsMe are the words ("@kim") by which the message mentions the
	// user (XEP-0372), for the thread to mark wherever they stand in Body.
	MentionsMe []string
	// Reactions are the reactions to the message (XEP-0444), one per
	// emoji, in the order first given.
	Reactions []ReactionView

	// Patient is the patient the sender tagged the message with (a chip
	// that says whose claim it is), nil if none; SBAR is set for an SBAR
	// handover whose text is exactly its four fields (a card), nil
	// otherwise (patient.go).
	Patient *PatientView
	SBAR    *SBARView

	// Status are the lines drawn under the message's text, in words with
	// their times (status.go): whom a message to a role reached, the
	// sender's live view of an acknowledgement ("Read 14:03 · alerting until
	// acknowledged"), each quick response, the escalation ladder's state.
	Status []string
	// StatusAck marks, parallel to Status (nil when none does), the lines
	// that say the message was acknowledged: screens draw them strong.
	StatusAck []bool
}

// MessageMarks are stored facts about a message that a thread shows beside
// its text: that it is a clinical order, and the on-call role it was
// addressed to (so the thread says "To Cardiology on call" and whom that
// reached).
type MessageMarks struct {
	Order bool
	Role  string
}

// ContactRow is one entry of the directory.
type ContactRow struct {
	JID      string
	Name     string
	Groups   []string
	Presence string
	Status   string // e.g. "In surgery"
	// Roles are the on-call roles the contact holds now ("Cardiology on call").
	Roles []string
	// From their own card (XEP-0292), as they claim them; Claimed says
	// Name comes from it too (no roster name).
	Role, Unit, Phone string
	Claimed           bool
	Avatar            Avatar
}

// Connection is what the status bar shows: the engine's connection state,
// as the app's own type so the screens need nothing below app/.
type Connection struct {
	Connectivity Connectivity
	// Reason is the last error while Offline or AuthFailed
	// (SignInErrorText says it in words).
	Reason error
	Since  time.Time
	// Attempt counts consecutive failed attempts (0 when online).
	Attempt int
	// RetryAt is when the next attempt starts, while Offline.
	RetryAt time.Time
}

// Notification is what the OS shows for new messages. By default it carries
// no PHI: the sender or room name only, never the message text.
type Notification struct {
	ConversationID string
	Title          string // "Rounds"
	Body           string // "New message from Dr Osei" / "New message in ICU team"
	Urgent         bool
	// Level is the urgency level's display name (policy Levels: "STAT",
	// "Urgent") when Urgent, so the title can say which level it is.
	Level string
	// Message and AckRequired are set for urgent alerts, so the notification
	// can offer quick responses (Client.Respond).
	Message     securestore.MessageID
	AckRequired bool
}

// Notifier shows and withdraws OS notifications (implemented in ui/ per
// platform). Clear is called when a conversation is read on any device.
type Notifier interface {
	Notify(Notification)
	Clear(conversationID string)
}

// Sound plays the new-message sound (implemented in ui/).
type Sound interface {
	NewMessage(urgent bool)
}

// Clock is injected so lock timeouts are tested without sleeping.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is the part of *time.Timer the app uses.
type Timer interface{ Stop() bool }

// PreviewLevel says how much a notification may reveal (org policy).
type PreviewLevel int

const (
	PreviewSender  PreviewLevel = iota // "New message from Dr Osei" (default)
	PreviewNone                        // "New message"
	PreviewContent                     // sender and text: only where policy allows
)

// Policy is what the hospital's IT sets: configured on the device
// (Config.Policy) and published on the org policy node (policy.go merges the
// two, strictest wins); zero values mean the defaults in the comments.
type Policy struct {
	LockAfter    time.Duration // idle time before auto-lock; default 5 min
	MaxWrongPINs int           // then the store wipes itself; default 10
	Preview      PreviewLevel  // notification content; default PreviewSender
	AllowKeyring bool          // may the OS keyring unlock the store without PIN
	MinPINLength int           // default 4
	// Retention is how long messages stay on this device (crypto-shredded
	// after); 0 keeps them.
	Retention time.Duration
	// UrgentRepeat and UrgentRepeatCount: how often an unread (unacknowledged)
	// urgent alert repeats; default every 2 min, 10 times.
	UrgentRepeat      time.Duration
	UrgentRepeatCount int
	// Escalation is the default ladder for ack-required messages (default:
	// after 5 min, no steps unless the org policy names them).
	Escalation EscalationPolicy
	// Admins may wipe this device remotely (bare JIDs).
	Admins []string
	// OrderRecipients is the specified contact list: who may receive orders
	// (besides holders of an on-call shift marked orders='true').
	OrderRecipients []string
	// Levels are the urgency levels' display names.
	Levels UrgencyLevelNames
	// TextAck: whether a plain-text reply from a client without Rounds may
	// acknowledge a page, and which replies count (docs/PROTOCOL.md,
	// "Acknowledgement by text reply"). The zero value allows it with the
	// engine's default words.
	TextAck TextAckPolicy
	// ShiftKeep is how long a shared device keeps a profile, locked, after
	// its owner ends their shift (for the same person's next shift); 0
	// removes the profile and its data at the end of the shift (profiles.go,
	// shift.go).
	ShiftKeep time.Duration
	// NameWhileLocked lets the content-free notification of a locked
	// device name the person it is for ("STAT message for nurse.kim —
	// unlock Rounds"), so whoever holds a shared phone knows whom to hand
	// it to; off by default.
	NameWhileLocked bool
	// DND says which urgent levels ring through do not disturb (dnd.go);
	// the zero value lets urgent and STAT through.
	DND DNDPolicy
	// QuietRoutineWhileLocked: routine messages that arrive while the app
	// is locked raise no notification (urgent and STAT always do, without
	// sender or text). The zero value notifies ("New message — unlock
	// Rounds").
	QuietRoutineWhileLocked bool
	// DeafAfterRestart: do not keep what lets a restarted desktop listen
	// locked before its first unlock (coldstart.go). The zero value keeps
	// it, under a key in the OS keyring, so a nurse-station desktop that
	// rebooted rings for a STAT at its lock screen.
	DeafAfterRestart bool
	// Version is the org policy's version in force (0: none received).
	Version int
}
