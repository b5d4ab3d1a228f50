package app

import (
	"errors"
	"fmt"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Forwarding a message the user chooses to another conversation or room
// (XEP-0297, sync/forward.go). The original's text goes exactly as stored,
// with its author and time; the urgency is the forwarder's choice
// (routine unless they pick another: forwarding a STAT page does not page
// anyone again by itself). Each forward is audited by ids.

// AuditForward is the audit kind of a message the user forwarded.
const AuditForward = "message.forward"

// ErrNotForwardable: the message has no text to forward (a file, a recalled
// message, a quick response).
var ErrNotForwardable = errors.New("only a message with text can be forwarded")

// CanForward: the thread offers "Forward…" for r.
func CanForward(r MessageRow) bool {
	return !r.Notice && r.Recalled.IsZero() && r.Response == "" && r.Body != "" && len(r.Attachments) == 0
}

// Forward passes message id on to conversation to (a chat or a room) at the
// urgency o names. The receiver sees it as from the user, "originally from"
// the author at the original's time.
func (cc *conversations) Forward(id MessageID, to string, o ClinicalOptions) (Sent, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return Sent{}, err
	}
	orig, err := st.Message(id)
	if err != nil {
		return Sent{}, mapErr(err)
	}
	if !sync.Forwardable(orig) {
		return Sent{}, ErrNotForwardable
	}
	cv, err := st.Conversation(orig.ConversationID)
	if err != nil {
		cv = securestore.Conversation{ID: orig.ConversationID}
	}
	names, _ := loadContacts(st)
	author := senderName(st, cv, orig, names)
	switch {
	case orig.Direction == securestore.Outgoing:
		author = memberName(st, cc.host.Account(), names)
	case cv.Kind != securestore.KindRoom:
		author = memberName(st, orig.ConversationID, names) // a name, or the address's local part
	}
	o.forward = id
	o.forwardLabel = author + ", " + cc.clockTime(orig.Timestamp)
	o.ReplyTo = 0
	sent, err := cc.clin.send(jid.Bare(to), orig.Body, o)
	if err != nil {
		if errors.Is(err, sync.ErrNotForwardable) {
			return Sent{}, ErrNotForwardable
		}
		return Sent{}, err
	}
	cc.host.audit(AuditForward, fmt.Sprintf("message %d of %s forwarded to %s as message %d (%s)",
		id, orig.ConversationID, sent.Conversation, sent.ID, cc.host.effectivePolicy().Levels.Name(o.Urgency)))
	return sent, nil
}
