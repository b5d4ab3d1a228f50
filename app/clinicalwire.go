package app

import (
	"rounds/securestore"
	"rounds/sync"
)

// The clinical layer's names for the sync engine's clinical API (responses,
// stored Extra keys) and its handling of the engine's clinical events.

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

// handleClinical handles the engine's clinical events; false if e is not one.
func (c *Client) handleClinical(st *securestore.Store, e sync.Event) bool {
	switch e := e.(type) {
	case sync.ResponseReceived:
		c.clin.onResponseReceived(st, e)
	case sync.LadderHeld:
		c.clin.ladderHeld(e)
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
