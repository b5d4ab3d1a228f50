package sync

import (
	"context"
	"errors"
	"strconv"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// The clinical layer on the wire: urgency, orders, roles, quick responses,
// escalation steps, recall (XEP-0424), correction (XEP-0308) and remote wipe.
// What the extensions look like is specified in docs/PROTOCOL.md, "Rounds
// extensions"; what the app does with them (alerts, ladders, policy) is the
// app's business.

// ResponseKind is a quick response to an urgent message.
type ResponseKind string

const (
	ResponseAck         ResponseKind = xmpp.ResponseAck
	ResponseDecline     ResponseKind = xmpp.ResponseDecline
	ResponseCallMe      ResponseKind = xmpp.ResponseCallMe
	ResponseFiveMinutes ResponseKind = xmpp.ResponseFiveMinutes
	ResponseText        ResponseKind = xmpp.ResponseText
)

// Escalation says that a message is a step of an escalation ladder: the
// escalated copy sent to the next target, or the notice posted into the
// original thread.
type Escalation struct {
	Of     string // origin-id of the original message
	Step   int    // 1 for the first escalation
	To     string // the JID the step went to
	Role   string // the role it was resolved from, if any
	Reason string // e.g. "not acknowledged in 5 min"
}

// Extra keys of stored messages (securestore.Message.Extra) written by the
// clinical layer.
const (
	ExtraAck              = "ack"           // "required"
	ExtraOrder            = "order"         // "1"
	ExtraRole             = "role"          // role name the message was addressed to
	ExtraResponseTo       = "response-to"   // origin-id of the message a response answers
	ExtraResponse         = "response"      // ResponseKind
	ExtraEscalationOf     = "escalation-of" // origin-id of the escalated original
	ExtraEscalationStep   = "escalation-step"
	ExtraEscalationTo     = "escalation-to"
	ExtraEscalationRole   = "escalation-role"
	ExtraEscalationReason = "escalation-reason"
	ExtraRetracted        = securestore.ExtraRetracted // RFC 3339 time of the recall
	ExtraCorrected        = securestore.ExtraCorrected // RFC 3339 time of the last correction
	ExtraHistory          = securestore.ExtraHistory   // JSON [{"body","at"}] of prior bodies
	ExtraWipe             = "wipe"                     // wipe directive id
	ExtraWipeIssued       = "wipe-issued"              // RFC 3339 time the directive was issued

	// extraResponseRef is the id a response quotes on the wire (origin-id in
	// chats, stanza-id in rooms).
	extraResponseRef = "response-ref"
)

// storedExtra is the Extra map a message sent with these options starts with.
func (o SendOptions) storedExtra() map[string]string {
	x := map[string]string{}
	for k, v := range o.extra {
		x[k] = v
	}
	if o.AckRequired || o.Urgency >= securestore.UrgencyHigh {
		x[ExtraAck] = "required"
	}
	if o.Order {
		x[ExtraOrder] = "1"
	}
	if o.Role != "" {
		x[ExtraRole] = o.Role
	}
	if e := o.Escalation; e != nil {
		x[ExtraEscalationOf] = e.Of
		x[ExtraEscalationStep] = strconv.Itoa(e.Step)
		x[ExtraEscalationTo] = e.To
		x[ExtraEscalationRole] = e.Role
		x[ExtraEscalationReason] = e.Reason
		for k, v := range x {
			if v == "" {
				delete(x, k)
			}
		}
	}
	if len(x) == 0 {
		return nil
	}
	return x
}

// Respond sends a quick response to message to of conversation conv. Like
// Send, it returns once the response is stored in the Outbox.
func (s *Session) Respond(ctx context.Context, conv string, to securestore.MessageID, kind ResponseKind, text string) (securestore.Message, error) {
	return securestore.Message{}, errors.New("sync: Respond not implemented yet")
}

// Retract recalls one of our own messages.
func (s *Session) Retract(conv string, id securestore.MessageID) error {
	return errors.New("sync: Retract not implemented yet")
}

// Correct replaces the text of one of our own messages.
func (s *Session) Correct(conv string, id securestore.MessageID, newBody string) error {
	return errors.New("sync: Correct not implemented yet")
}

// SendWipe sends a remote wipe directive to the account to.
func (s *Session) SendWipe(ctx context.Context, to string) error {
	return errors.New("sync: SendWipe not implemented yet")
}
