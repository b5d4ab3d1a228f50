package app

import (
	"context"

	"rounds/securestore"
	"rounds/sync"
)

// The clinical layer's only contact with the sync engine's clinical API
// (urgency, responses, escalation, retraction, correction): one place to
// follow it as it changes.

// ResponseKind is a quick response's kind (urn:rounds:response:0).
type ResponseKind = sync.ResponseKind

// The quick responses.
const (
	ResponseAck         = sync.ResponseAck
	ResponseDecline     = sync.ResponseDecline
	ResponseCallMe      = sync.ResponseCallMe
	ResponseFiveMinutes = sync.ResponseFiveMinutes
	ResponseText        = sync.ResponseText
)

// Stored Extra keys the engine writes (docs/PROTOCOL.md).
const (
	extraAck              = sync.ExtraAck
	extraResponse         = sync.ExtraResponse
	extraResponseTo       = sync.ExtraResponseTo
	extraRetracted        = sync.ExtraRetracted
	extraCorrected        = sync.ExtraCorrected
	extraHistory          = sync.ExtraHistory
	extraEscalationOf     = sync.ExtraEscalationOf
	extraEscalStep        = sync.ExtraEscalationStep
	extraEscalationReason = sync.ExtraEscalationReason
)

// escalationTag marks a message as a ladder's escalated copy or notice.
type escalationTag = sync.Escalation

type clinicalSend struct {
	Urgency     securestore.Urgency
	AckRequired bool
	Order       bool
	Role        string
	Escalation  *escalationTag
}

func sendClinical(s *sync.Session, conv, body string, o clinicalSend) (securestore.Message, error) {
	return s.Send(conv, body, sync.SendOptions{Urgency: o.Urgency, AckRequired: o.AckRequired, Order: o.Order,
		Role: o.Role, Escalation: o.Escalation})
}

func respondOn(ctx context.Context, s *sync.Session, conv string, to securestore.MessageID, kind ResponseKind, text string) (securestore.Message, error) {
	return s.Respond(ctx, conv, to, kind, text)
}

func retractOn(s *sync.Session, conv string, id securestore.MessageID) error {
	return s.Retract(conv, id)
}

func correctOn(s *sync.Session, conv string, id securestore.MessageID, body string) error {
	return s.Correct(conv, id, body)
}

// handleClinical handles the engine's clinical events; false if e is not one.
func (c *Client) handleClinical(st *securestore.Store, e sync.Event) bool {
	switch e := e.(type) {
	case sync.ResponseReceived:
		c.onResponseReceived(st, e.Message, e.To, e.Kind, e.From, e.At, e.Own)
	case sync.MessageRetracted:
		_, s, _ := c.sess()
		c.afterRecall(st, s, e.Message)
	case sync.MessageCorrected:
		c.changes.push(Change{Kind: ConversationChanged, Conversation: e.Conversation})
		c.changes.push(Change{Kind: InboxChanged})
	default:
		return false
	}
	return true
}
