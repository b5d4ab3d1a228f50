package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// The engine's part of server-side escalation (docs/PROTOCOL.md, "Server-side
// escalation"): a ladder handed to the hospital's escalation service rides on
// a stored copy of the page (SendOptions.Plan), the service confirms with
// <held/> (SendHeld, LadderHeld), and its notices are filed into the thread
// they are about — but only when they come from the service the org policy
// names (SetEscalationService). Anyone else's <escalation/> stays a plain
// message in its sender's own conversation.

type (
	// EscalationPlan is a ladder handed to the escalation service: the
	// original's origin-id (ID), its conversation (To), the wait before each
	// step and the steps (none: the service's policy ladder).
	EscalationPlan = xmpp.EscalationPlan
	// EscalationStep is one target of a ladder: a person, a role or a room.
	EscalationStep = xmpp.EscalationStep
	// EscalationPolicy is the org policy's <escalation/>: the default
	// ladder and the service's JID.
	EscalationPolicy = xmpp.EscalationPolicy
)

// Extra keys of the hand-off.
const (
	// ExtraPlan is the plan of a hand-off (JSON of EscalationPlan), on the
	// copy sent to the service and on the service's received copy.
	ExtraPlan = "escalation-plan"
	// ExtraPlanError says why a received plan was refused by the decoder
	// (the service then refuses the hand-off).
	ExtraPlanError = "escalation-plan-error"
	// ExtraEscalationSender is the original's sender named on an escalated
	// copy or notice the service sent.
	ExtraEscalationSender = "escalation-sender"
	// ExtraEscalationThread is the original's conversation (the sender's
	// view) named on what the service sent.
	ExtraEscalationThread = "escalation-thread"
)

// LadderHeld: the escalation service the policy names confirmed that it
// holds the ladder of our message with origin-id Of.
type LadderHeld struct {
	From string // the service's bare JID
	Of   string
}

func (LadderHeld) isEvent() {}

// SetEscalationService sets the bare JID of the escalation service the org
// policy names ("" none): only its <held/> is reported and only its notices
// are filed into the thread they name.
func (s *Session) SetEscalationService(j string) {
	j = strings.ToLower(xmpp.BareJID(j))
	s.escService.Store(&j)
}

// EscalationService is the service set by SetEscalationService.
func (s *Session) EscalationService() string {
	if p := s.escService.Load(); p != nil {
		return *p
	}
	return ""
}

// fromService: m comes from the escalation service the policy names.
func (s *Session) fromService(m *xmpp.Message) bool {
	svc := s.EscalationService()
	return svc != "" && m.Type != "groupchat" && strings.EqualFold(xmpp.BareJID(m.From), svc)
}

// serviceThread is the conversation a notice from the escalation service
// belongs in ("" when it is not one, or not from the service): the thread
// between the original's sender and its recipient, seen from this account.
func (s *Session) serviceThread(m *xmpp.Message) string {
	e := m.Escalation
	if e == nil || e.Sender == "" || e.Thread == "" || !s.fromService(m) || m.Urgency != nil {
		return "" // an escalated copy (it asks for an ack) stays in the service's conversation
	}
	switch {
	case strings.EqualFold(xmpp.BareJID(e.Sender), s.account):
		return xmpp.BareJID(e.Thread)
	case strings.EqualFold(xmpp.BareJID(e.Thread), s.account):
		return xmpp.BareJID(e.Sender)
	case s.isRoom(xmpp.BareJID(e.Thread)):
		return xmpp.BareJID(e.Thread)
	}
	return ""
}

// EscalationOriginID is the origin-id of one message of a ladder, named by
// what ("copy 2", "step 2 to bob@h", "closed to kim@h", "exhausted to
// bob@h"): derived from the original's sender (bare JID), its origin-id and
// what. The escalation service (every instance, every restart) and the
// sender's own device derive the same id for the same step, so a receiver
// keeps one copy when both fire it (duplicateStep).
func EscalationOriginID(sender, of, what string) string {
	h := sha256.Sum256([]byte("rounds-escalation\x00" + strings.ToLower(xmpp.BareJID(sender)) + " " + of + "\x00" + what))
	return "esc-" + hex.EncodeToString(h[:12])
}

// duplicateStep: m (incoming, stored as sm) is a ladder message the other
// party running the same ladder has already delivered here with the same
// derived origin-id (EscalationOriginID). A ladder is run by the sender's
// device or by the escalation service, and by both when the device takes it
// back (the service fell silent, or never confirmed in time, or confirmed
// too late): each step's copy and notice then come twice, from two JIDs,
// into two conversations (the service's copy stays in its own). The second
// is dropped, so the step's target is paged once.
//
// Who chose what: the origin-id is the sender's choice. A copy from the
// service is matched only against one the original's sender (whom the
// service names, trusted as the policy's service) sent; a message from
// anyone else only against the service's. So a stranger cannot suppress a
// step; the original's sender could suppress the service's copy of a step
// only by paging its target itself with the same id.
func (s *Session) duplicateStep(m *xmpp.Message, sm securestore.Message) bool {
	svc, e := s.EscalationService(), m.Escalation
	if svc == "" || e == nil || e.ID == "" || m.OriginID == "" || m.Type == "groupchat" || sm.Direction != securestore.Incoming {
		return false
	}
	from := xmpp.BareJID(m.From)
	other, convs := svc, []string{svc, sm.ConversationID}
	if s.fromService(m) {
		other = xmpp.BareJID(e.Sender)
		convs = []string{other}
	}
	if other == "" || strings.EqualFold(other, from) {
		return false
	}
	for _, c := range convs {
		prev, err := s.store.MessageBySenderOriginID(c, other, m.OriginID)
		if err != nil || prev.Extra[ExtraEscalationOf] != e.ID {
			continue
		}
		// The service's message must name this sender as the original's.
		if other == svc && !strings.EqualFold(prev.Extra[ExtraEscalationSender], from) {
			continue
		}
		return true
	}
	return false
}

// onHeld reports the service's confirmation of a hand-off.
func (s *Session) onHeld(m *xmpp.Message) {
	if m.Carbon != xmpp.NotCarbon || !s.fromService(m) {
		if m.Held != "" {
			s.log.Info("sync: <held/> not from the escalation service ignored", "from", m.From)
		}
		return
	}
	s.emit(LadderHeld{From: xmpp.BareJID(m.From), Of: m.Held})
}

// SendHeld tells the sender of a hand-off that this account (the escalation
// service) holds the ladder of its message of origin-id of. It is not
// stored: a sender that is gone by then has nothing to stop.
func (s *Session) SendHeld(to, of string) error {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return ErrNotConnected
	}
	el := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", xmpp.BareJID(to), "id", xmpp.NewID())
	el.Append(xmpp.NewHeld(of))
	el.Append(xmpp.NewElement("urn:xmpp:hints", "no-store"))
	return c.Send(el)
}

// planExtra stores a plan on a message (outgoing hand-off or received).
func planExtra(p *xmpp.EscalationPlan) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// PlanOf reads the plan a stored message carries (nil when none or unreadable).
func PlanOf(m securestore.Message) *EscalationPlan {
	raw := m.Extra[ExtraPlan]
	if raw == "" {
		return nil
	}
	var p EscalationPlan
	if json.Unmarshal([]byte(raw), &p) != nil || p.ID == "" {
		return nil
	}
	return &p
}

// decoratePlan adds <escalation-plan/> to a hand-off's stanza.
func decoratePlan(el *xmpp.Element, m securestore.Message) {
	if p := PlanOf(m); p != nil {
		el.Append(p.Element())
	}
}

// sendExisting: a caller-chosen origin-id (SendOptions.OriginID) that is
// already stored in conv is that message: Send returns it instead of storing
// a second one (the escalation service re-running a step after a restart).
func (s *Session) sendExisting(conv, originID string) (securestore.Message, bool, error) {
	if originID == "" {
		return securestore.Message{}, false, nil
	}
	m, err := s.store.MessageBySenderOriginID(xmpp.BareJID(conv), s.account, originID)
	switch {
	case err == nil:
		return m, true, nil
	case errors.Is(err, securestore.ErrNotFound):
		return securestore.Message{}, false, nil
	}
	return securestore.Message{}, false, err
}

// SentWithOrigin reports whether a message with originID from this account
// is stored in conv (and which).
func (s *Session) SentWithOrigin(conv, originID string) (securestore.Message, bool) {
	m, ok, _ := s.sendExisting(conv, originID)
	return m, ok
}

// tellService addresses a response to the escalation service as well,
// so a ladder it holds for the page ends (ack) or moves on (decline) while
// the sender's device is off: an ack or decline of an incoming 1:1 page
// that asks for one, when the policy names a service and the page is not
// the service's own copy (a response to that reaches it anyway).
func (s *Session) tellService(orig securestore.Message, kind ResponseKind, body string) {
	svc := s.EscalationService()
	if svc == "" || (kind != ResponseAck && kind != ResponseDecline) || orig.Direction != securestore.Incoming ||
		orig.Extra[ExtraAck] != "required" || s.isRoom(orig.ConversationID) || strings.EqualFold(orig.ConversationID, svc) {
		return
	}
	if _, err := s.Send(svc, body, SendOptions{extra: map[string]string{
		ExtraResponse: string(kind), ExtraResponseTo: orig.OriginID, extraResponseRef: orig.OriginID,
	}}); err != nil {
		s.log.Warn("sync: response not addressed to the escalation service", "err", err)
	}
}

// ReadLease reads the escalation service's lease from its own account's
// PEP node (holder "" when none was ever written). Only the account itself
// can read or write it.
func (s *Session) ReadLease(ctx context.Context) (holder string, until time.Time, err error) {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return "", time.Time{}, ErrNotConnected
	}
	items, err := c.GetItems(ctx, s.account, xmpp.NodeEscalationLease)
	var se *xmpp.StanzaError
	if errors.As(err, &se) && se.Condition == "item-not-found" {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sync: reading the lease: %w", err)
	}
	for _, it := range items {
		if h, u, ok := xmpp.ParseLease(it.Payload); ok {
			return h, u, nil
		}
	}
	return "", time.Time{}, nil
}

// WriteLease writes the lease (holder until until), creating the node on
// first use: whitelist access (the account only), one persistent item.
func (s *Session) WriteLease(ctx context.Context, holder string, until time.Time) error {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return ErrNotConnected
	}
	if err := c.CreateNode(ctx, s.account, xmpp.NodeEscalationLease, map[string]string{
		"pubsub#access_model": "whitelist", "pubsub#persist_items": "true", "pubsub#max_items": "1",
	}); err != nil {
		// Publishing creates it with the server's defaults.
		s.log.Info("sync: lease node not created", "err", err)
	}
	if err := c.Publish(ctx, s.account, xmpp.NodeEscalationLease, "lease", xmpp.NewLease(holder, until)); err != nil {
		return fmt.Errorf("sync: writing the lease: %w", err)
	}
	return nil
}

// StopHandOff tells the escalation service svc that the sender ended the
// ladder of its message of origin-id of: cancelled (ackedBy ""), or
// acknowledged by ackedBy (a bare JID) as the sender saw it (a text reply
// from a client without Rounds reaches only the sender). It is a quick
// response from the sender quoting the original, which the service reads as
// "stop" and announces to everyone it reached; an acknowledgement also
// carries <escalation reason='acknowledged' to='ackedBy'/>, so the
// service's audit says who acknowledged (as the sender reports it) rather
// than that the sender cancelled.
func (s *Session) StopHandOff(svc, of, ackedBy string) error {
	if svc == "" || of == "" {
		return errors.New("sync: no escalation service or message to stop")
	}
	body, o := "The sender stopped the escalation.", SendOptions{extra: map[string]string{
		ExtraResponse: string(ResponseAck), ExtraResponseTo: of, extraResponseRef: of,
	}}
	if ackedBy = xmpp.BareJID(ackedBy); ackedBy != "" {
		body = "Acknowledged by " + ackedBy + " (the sender saw the acknowledgement)."
		o.Escalation = &Escalation{Of: of, Step: 1, To: ackedBy, Reason: StopAcknowledged}
	}
	_, err := s.Send(svc, body, o)
	return err
}

// StopAcknowledged is the reason StopHandOff names when the sender saw an
// acknowledgement.
const StopAcknowledged = "acknowledged"
