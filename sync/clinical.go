package sync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// Sender and Thread name the original's sender and conversation on what
	// the escalation service sends (escalation.go); empty from a client.
	Sender, Thread string
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

	// ExtraResponseToID is the local id (decimal securestore.MessageID) of
	// the message a response answers, once the engine resolved the quoted id
	// (referenced): the app reads it rather than looking the id up again.
	ExtraResponseToID = "response-to-id"

	// extraResponseRef is the id a response quotes on the wire (origin-id in
	// chats, stanza-id in rooms).
	extraResponseRef = "response-ref"
)

// storedExtra is the Extra map a message sent with these options starts with.
func (o SendOptions) storedExtra() map[string]string {
	var x map[string]string
	set := func(k, v string) {
		if v == "" {
			return
		}
		if x == nil {
			x = map[string]string{}
		}
		x[k] = v
	}
	for k, v := range o.extra {
		set(k, v)
	}
	if o.AckRequired || o.Urgency >= securestore.UrgencyHigh {
		set(ExtraAck, "required")
	}
	if o.Order {
		set(ExtraOrder, "1")
	}
	set(ExtraRole, o.Role)
	if e := o.Escalation; e != nil {
		set(ExtraEscalationOf, e.Of)
		set(ExtraEscalationStep, strconv.Itoa(e.Step))
		set(ExtraEscalationTo, e.To)
		set(ExtraEscalationRole, e.Role)
		set(ExtraEscalationReason, e.Reason)
		set(ExtraEscalationSender, e.Sender)
		set(ExtraEscalationThread, e.Thread)
	}
	if o.Plan != nil {
		set(ExtraPlan, planExtra(o.Plan))
	}
	return x
}

// Respond sends a quick response to message to of conversation conv: the
// structured kind, and a body other clients show (the kind's label, then the
// free text if any; for ResponseText the text alone). Like Send it returns
// once the response is stored in the Outbox, and the same exactly-once story
// applies. An ack moves the original to acknowledged on the sender's side.
func (s *Session) Respond(ctx context.Context, conv string, to securestore.MessageID, kind ResponseKind, text string) (securestore.Message, error) {
	if !xmpp.ValidResponseKind(string(kind)) {
		return securestore.Message{}, fmt.Errorf("sync: unknown response kind %q", kind)
	}
	text = strings.TrimSpace(text)
	if kind == ResponseText && text == "" {
		return securestore.Message{}, errors.New("sync: a text response needs text")
	}
	orig, err := s.store.Message(to)
	if err != nil {
		return securestore.Message{}, fmt.Errorf("sync: response to message %d: %w", to, err)
	}
	if orig.ConversationID != xmpp.BareJID(conv) {
		return securestore.Message{}, errors.New("sync: message is not in that conversation")
	}
	ref := orig.OriginID
	if s.isRoom(orig.ConversationID) && orig.StanzaID != "" {
		ref = orig.StanzaID // room members quote what the room assigned, as markers do
	}
	if ref == "" {
		return securestore.Message{}, errors.New("sync: that message has no id to respond to")
	}
	body := text
	if kind != ResponseText {
		body = xmpp.ResponseFallbackText(string(kind))
		if text != "" {
			body += ": " + text
		}
	}
	sent, err := s.Send(conv, body, SendOptions{extra: map[string]string{
		ExtraResponse: string(kind), ExtraResponseTo: orig.OriginID, extraResponseRef: ref,
	}})
	if err == nil {
		s.tellService(orig, kind, body) // escalation.go
	}
	return sent, err
}

// Retract recalls one of our own messages: it becomes a tombstone here at
// once (body, history and attachments gone), and an XEP-0424 retraction goes
// to the conversation through the Outbox, so it survives a restart and is
// sent exactly like a message. Every Rounds device of every recipient, and
// our own other devices (carbons, archive), apply it.
func (s *Session) Retract(conv string, id securestore.MessageID) error {
	m, err := s.ownMessage(conv, id)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if err := s.store.QueueRetraction(id, xmpp.NewID(), now); err != nil {
		return fmt.Errorf("sync: recall: %w", err)
	}
	s.emit(MessageRetracted{Conversation: m.ConversationID, Message: id, At: now})
	s.sendNow(id)
	return nil
}

// Correct replaces the text of one of our own messages (XEP-0308); the prior
// text stays in the message's history. Like Retract it goes through the
// Outbox.
func (s *Session) Correct(conv string, id securestore.MessageID, newBody string) error {
	if strings.TrimSpace(newBody) == "" {
		return errors.New("sync: empty correction")
	}
	m, err := s.ownMessage(conv, id)
	if err != nil {
		return err
	}
	if IsForward(m) {
		return ErrForwardNotCorrectable // forward.go
	}
	if m.Body == newBody {
		return nil
	}
	if err := s.store.QueueCorrection(id, xmpp.NewID(), newBody, s.clock.Now()); err != nil {
		return fmt.Errorf("sync: correction: %w", err)
	}
	s.emit(MessageCorrected{Conversation: m.ConversationID, Message: id})
	s.sendNow(id)
	return nil
}

func (s *Session) ownMessage(conv string, id securestore.MessageID) (securestore.Message, error) {
	m, err := s.store.Message(id)
	if err != nil {
		return m, fmt.Errorf("sync: message %d: %w", id, err)
	}
	if m.ConversationID != xmpp.BareJID(conv) {
		return m, errors.New("sync: message is not in that conversation")
	}
	if m.Direction != securestore.Outgoing {
		return m, errors.New("sync: only your own messages can be recalled or corrected")
	}
	return m, nil
}

// sendNow puts a stored message (or its pending edit) on the wire if the
// Session is ready; otherwise the Outbox flush after sign-in does.
func (s *Session) sendNow(id securestore.MessageID) {
	c := s.readyClient()
	if c == nil {
		return
	}
	m, err := s.store.Message(id)
	if err != nil {
		return
	}
	s.transmit(c, m)
}

// SendWipe sends a remote wipe directive to the account to (admin tool). It
// is an ordinary chat message with a body, stored and sent through the
// Outbox, so the server archives it and keeps it for a device that is off.
// Whether it wipes anything is the receiving app's decision.
func (s *Session) SendWipe(ctx context.Context, to string) error {
	j, err := xmpp.ParseJID(to)
	if err != nil || j.Local == "" {
		return fmt.Errorf("sync: wipe target %q: want user@domain", to)
	}
	if s.isRoom(j.Bare().String()) {
		return errors.New("sync: a wipe directive goes to a person, not a room")
	}
	_, err = s.Send(j.Bare().String(), xmpp.WipeFallback, SendOptions{extra: map[string]string{
		ExtraWipe: xmpp.NewID(), ExtraWipeIssued: s.clock.Now().UTC().Format(time.RFC3339),
	}})
	return err
}

// urgencyLevel maps the stored urgency to the wire level.
func urgencyLevel(u securestore.Urgency) string {
	switch {
	case u >= securestore.UrgencyCritical:
		return xmpp.UrgencySTAT
	case u == securestore.UrgencyHigh:
		return xmpp.UrgencyUrgent
	}
	return xmpp.UrgencyRoutine
}

func storedUrgency(level string) securestore.Urgency {
	switch level {
	case xmpp.UrgencySTAT:
		return securestore.UrgencyCritical
	case xmpp.UrgencyUrgent:
		return securestore.UrgencyHigh
	}
	return securestore.UrgencyNormal
}

// decorateClinical adds the clinical payloads of a stored message to its
// stanza: urgency (+ SHIM header), order, role, escalation, response, wipe,
// and the fallback prefix with its XEP-0428 ranges.
func (s *Session) decorateClinical(el *xmpp.Element, m securestore.Message) {
	level := urgencyLevel(m.Urgency)
	ack := m.Extra[ExtraAck] == "required"
	order := m.Extra[ExtraOrder] != ""
	if level != xmpp.UrgencyRoutine || ack {
		el.Append(xmpp.NewUrgency(level, ack))
	}
	if h := xmpp.UrgencyHeader(level); h != "" {
		el.Append(xmpp.NewHeaders(xmpp.HeaderUrgency, h))
	}
	if order {
		el.Append(xmpp.NewOrder())
	}
	if r := m.Extra[ExtraRole]; r != "" {
		el.Append(xmpp.NewAddressed(r))
	}
	if of := m.Extra[ExtraEscalationOf]; of != "" {
		step, _ := strconv.Atoi(m.Extra[ExtraEscalationStep])
		el.Append(xmpp.Escalation{ID: of, Step: max(step, 1), To: m.Extra[ExtraEscalationTo],
			Role: m.Extra[ExtraEscalationRole], Reason: m.Extra[ExtraEscalationReason],
			Sender: m.Extra[ExtraEscalationSender], Thread: m.Extra[ExtraEscalationThread]}.Element())
	}
	decoratePlan(el, m)
	if kind := m.Extra[ExtraResponse]; kind != "" {
		ref := m.Extra[extraResponseRef]
		if ref == "" {
			ref = m.Extra[ExtraResponseTo]
		}
		el.Append(xmpp.NewResponse(ref, kind))
		if kind != xmpp.ResponseText && m.Body == xmpp.ResponseFallbackText(kind) {
			el.Append(xmpp.NewFallback(xmpp.NSResponse, 0, 0))
		}
	}
	if id := m.Extra[ExtraWipe]; id != "" {
		issued, _ := time.Parse(time.RFC3339, m.Extra[ExtraWipeIssued])
		if issued.IsZero() {
			issued = m.Timestamp
		}
		el.Append(xmpp.NewWipe(id, issued), xmpp.NewFallback(xmpp.NSWipe, 0, 0), xmpp.NewStoreHint())
	}
	prefix, fbs := xmpp.ClinicalPrefix(level, order)
	if prefix != "" {
		if b := el.Child(xmpp.NSClient, "body"); b != nil {
			b.SetText(prefix + b.Text)
		}
		el.Append(fbs...)
	}
	if ack {
		s.appendAckInstruction(el, m.ConversationID)
	}
}

// appendAckInstruction ends the body of a message that asks for an
// acknowledgement with the line telling other clients' readers how to give
// it (textack.go), marked as fallback.
func (s *Session) appendAckInstruction(el *xmpp.Element, conv string) {
	line := s.ackInstruction(conv)
	b := el.Child(xmpp.NSClient, "body")
	if line == "" || b == nil {
		return
	}
	suffix, fb := xmpp.AckInstructionSuffix(utf8.RuneCountInString(b.Text), line)
	b.SetText(b.Text + suffix)
	el.Append(fb)
}

// editStanza is the wire form of a pending retraction or correction of m.
func (s *Session) editStanza(m securestore.Message, kind, editID string) *xmpp.Element {
	typ := "chat"
	room := s.isRoom(m.ConversationID)
	if room {
		typ = "groupchat"
	}
	el := xmpp.NewElement(xmpp.NSClient, "message", "type", typ, "to", m.ConversationID, "id", editID)
	switch kind {
	case "retract":
		ref := m.OriginID
		if room && m.StanzaID != "" {
			ref = m.StanzaID // XEP-0424 §4: in a room, the id the room assigned
		}
		el.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(xmpp.RetractFallback),
			xmpp.NewRetract(ref), xmpp.NewFallback(xmpp.NSRetract, 0, 0))
	default:
		prefix, fbs := xmpp.ClinicalPrefix(urgencyLevel(m.Urgency), m.Extra[ExtraOrder] != "")
		el.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(prefix+m.Body), xmpp.NewReplace(m.OriginID))
		el.Append(fbs...)
		if m.Extra[ExtraAck] == "required" {
			s.appendAckInstruction(el, m.ConversationID)
		}
		decoratePatient(el, m) // the corrected text keeps its patient line for other clients
	}
	el.Append(xmpp.NewStoreHint(), xmpp.NewElement(xmpp.NSSID, "origin-id", "id", editID))
	return el
}

// noteClinical copies the clinical payloads of a received message (live,
// carbon or archived: all three come through toStored) into the store form,
// and strips the urgency and order fallback prefixes from the body.
func (s *Session) noteClinical(sm *securestore.Message, m *xmpp.Message) {
	set := func(k, v string) {
		if v == "" {
			return
		}
		if sm.Extra == nil {
			sm.Extra = map[string]string{}
		}
		sm.Extra[k] = v
	}
	switch {
	case m.Urgency != nil:
		sm.Urgency = storedUrgency(m.Urgency.Level)
		if m.Urgency.AckRequired || sm.Urgency >= securestore.UrgencyHigh {
			set(ExtraAck, "required")
		}
	case m.Headers[xmpp.HeaderUrgency] == "high":
		// Another client's urgent message: raise it, without asking for a
		// Rounds acknowledgement that client cannot send.
		sm.Urgency = securestore.UrgencyHigh
	}
	if m.Order {
		set(ExtraOrder, "1")
	}
	set(ExtraRole, m.Role)
	if e := m.Escalation; e != nil {
		set(ExtraEscalationOf, e.ID)
		set(ExtraEscalationStep, strconv.Itoa(e.Step))
		set(ExtraEscalationTo, e.To)
		set(ExtraEscalationRole, e.Role)
		set(ExtraEscalationReason, e.Reason)
		set(ExtraEscalationSender, e.Sender)
		set(ExtraEscalationThread, e.Thread)
	}
	if m.Plan != nil {
		set(ExtraPlan, planExtra(m.Plan))
	} else if m.PlanErr != nil {
		set(ExtraPlanError, m.PlanErr.Error())
	}
	if r := m.Response; r != nil {
		set(ExtraResponse, r.Kind)
		set(ExtraResponseTo, r.ID)
		set(extraResponseRef, r.ID)
	}
	if w := m.Wipe; w != nil && m.Type != "groupchat" {
		set(ExtraWipe, w.ID)
		if !w.Issued.IsZero() {
			set(ExtraWipeIssued, w.Issued.UTC().Format(time.RFC3339))
		}
	}
	notePatientSBAR(sm, m) // patient.go
	noteReply(sm, m)       // textack.go
	if len(m.Fallbacks) > 0 {
		if b := xmpp.StripFallback(sm.Body, m.Fallbacks, clinicalFallbacks(m)); b != "" {
			sm.Body = b
		}
	}
}

// resolveResponse names the answered message by its origin-id and local id
// when it is already stored (in rooms the wire quotes its stanza-id).
func (s *Session) resolveResponse(sm *securestore.Message) {
	ref := sm.Extra[extraResponseRef]
	if ref == "" || s.Locked() {
		return // locked: the store is closed (the merge resolves it)
	}
	if t, err := s.responseTarget(*sm, ref); err == nil && t.OriginID != "" {
		sm.Extra[ExtraResponseTo] = t.OriginID
		sm.Extra[ExtraResponseToID] = strconv.FormatUint(uint64(t.ID), 10)
	}
}

// responseTarget resolves the id a response quotes: in a room the room's
// stanza-id; in a chat a message of the other party first (a response
// answers someone else's message), then the responder's own.
func (s *Session) responseTarget(sm securestore.Message, ref string) (securestore.Message, error) {
	peer := sm.ConversationID
	if sm.Direction == securestore.Outgoing {
		return s.referenced(sm.ConversationID, ref, peer, s.account)
	}
	return s.referenced(sm.ConversationID, ref, s.account, peer)
}

// applyResponses resolves each quick response among newly stored messages
// to the message it answers, once, here: an acknowledgement moves that
// message's receipt, and ResponseReceived names the message (To) for the
// app, which records it from the event and resolves nothing itself. It runs
// before the batch's MessagesAdded is emitted, so the app has recorded a
// batch's responses before it decides whether the batch's pages alert (a
// catch-up after another device acknowledged raises no alert).
func (s *Session) applyResponses(added []securestore.Message) {
	for _, sm := range added {
		if sm.Extra[ExtraResponse] != "" {
			s.applyResponse(sm)
		}
	}
	s.ownTextReplies(added) // textack.go
}

// afterStored applies what newly stored messages mean beyond their text and
// their responses (applyResponses): wipe directives, and plain text replies
// to a page (textack.go).
func (s *Session) afterStored(added []securestore.Message) {
	for _, sm := range added {
		if w, ok := s.wipeRequest(sm); ok {
			s.emit(w)
		}
	}
	s.textReplies(added)
}

// wipeRequest is the one rule for which message is reported as a wipe
// directive, stored (afterStored) or sealed while locked (sealArrival): a
// <wipe/> in a chat someone else sent to this account, not in a room or
// through one. Whether it is genuine is the app's to judge.
func (s *Session) wipeRequest(sm securestore.Message) (WipeRequested, bool) {
	id := sm.Extra[ExtraWipe]
	if id == "" || sm.Direction != securestore.Incoming || s.isRoom(sm.ConversationID) {
		return WipeRequested{}, false
	}
	issued, _ := time.Parse(time.RFC3339, sm.Extra[ExtraWipeIssued])
	return WipeRequested{From: xmpp.BareJID(sm.From), ID: id, Issued: issued}, true
}

func (s *Session) applyResponse(sm securestore.Message) {
	kind := ResponseKind(sm.Extra[ExtraResponse])
	ref := sm.Extra[extraResponseRef]
	if ref == "" {
		ref = sm.Extra[ExtraResponseTo]
	}
	room := s.isRoom(sm.ConversationID)
	own := sm.Direction == securestore.Outgoing
	ev := ResponseReceived{Message: sm, Kind: kind, From: sm.From, At: sm.Timestamp, Own: own}
	if !room {
		ev.From = xmpp.BareJID(sm.From)
		if own {
			ev.From = s.account
		}
	}
	if target, err := s.responseTarget(sm, ref); err == nil {
		ev.To = target.ID
		if kind == ResponseAck && !own && target.Direction == securestore.Outgoing {
			member := ""
			if room {
				member = s.responder(sm)
			}
			s.advance(target.ID, member, securestore.ReceiptAcknowledged, "")
		}
	}
	s.emit(ev)
}

// applyEdit takes a received retraction or correction (live or carbon):
// it is recorded in the store first, so an error or a crash before it is
// applied cannot lose it (edits.go retries it), then applied.
func (s *Session) applyEdit(m *xmpp.Message, at time.Time) {
	e, ok := s.receivedEdit(m, at)
	if !ok {
		return
	}
	rec, err := s.store.RecordEdits([]securestore.ReceivedEdit{e})
	if err != nil {
		// Not recorded: like a message that could not be stored, catch-up
		// reads it from the archive again after the next sign-in.
		s.log.Error("sync: recording an edit", "err", err)
		return
	}
	if len(rec) == 0 {
		return // recorded before (securestore, applied.go): applied once
	}
	s.settleEdit(rec[0])
}

// receivedEdit turns a wire retraction or correction into its store record
// (who sent it, its id, a correction's text, when it was made).
func (s *Session) receivedEdit(m *xmpp.Message, at time.Time) (securestore.ReceivedEdit, bool) {
	sm, ok := s.toStored(m, !at.IsZero())
	if !ok {
		return securestore.ReceivedEdit{}, false
	}
	if !at.IsZero() {
		s.stampTime(&sm, m, at)
	}
	e := securestore.ReceivedEdit{Kind: securestore.EditRetract, Ref: m.RetractID, Edit: sm}
	if m.RetractID == "" {
		if sm.Body == "" || m.ReplaceID == "" {
			return e, false
		}
		e.Kind, e.Ref = securestore.EditCorrect, m.ReplaceID
	}
	return e, true
}

// settleEdit applies a recorded edit to its target, if the target is
// stored; otherwise the edit waits for it (edits.go). Only the author may
// edit a message: the edit must come from the same side (our devices for our
// messages), from the same peer (the lookup is within the conversation) and
// in rooms from the same member by stable identity (identity.go), never by
// nick (editAuthorised). Anything else is dropped. It reports whether the
// target changed.
func (s *Session) settleEdit(e securestore.ReceivedEdit) (securestore.MessageID, bool) {
	sm := e.Edit
	target, err := s.editTarget(e)
	if errors.Is(err, securestore.ErrNotFound) {
		return 0, false // applied when its target arrives
	}
	if errors.Is(err, errNoStableAuthor) {
		s.log.Warn("sync: ignoring an edit from an occupant without a stable identity", "edit_id", sm.OriginID)
		if err := s.store.DropReceivedEdit(e); err != nil {
			s.log.Warn("sync: dropping a refused edit", "err", err)
		}
		return 0, false
	}
	if err != nil {
		s.log.Warn("sync: edit kept for a retry", "err", err)
		return 0, false
	}
	room := s.isRoom(sm.ConversationID)
	if !editAuthorised(room, sm, target) {
		if room && target.Direction == securestore.Outgoing {
			// A room without stable identities: the echo of our own edit is
			// known by its id alone. It marks the edit sent, nothing more.
			s.ownEditSeen(target, sm.OriginID)
		}
		s.log.Warn("sync: ignoring an edit of a message by someone else", "conversation_is_room", room,
			"edit_id", sm.OriginID, "target", target.ID)
		if err := s.store.DropReceivedEdit(e); err != nil {
			s.log.Warn("sync: dropping a refused edit", "err", err)
		}
		return 0, false
	}
	if e.Kind == securestore.EditCorrect && IsForward(target) {
		// Another client (or a forger) rewriting a forward would put new
		// words under the original author's name (forward.go); a recall of
		// it still applies.
		s.log.Warn("sync: ignoring a correction of a forwarded message", "edit_id", sm.OriginID, "target", target.ID)
		if err := s.store.DropReceivedEdit(e); err != nil {
			s.log.Warn("sync: dropping a refused edit", "err", err)
		}
		return 0, false
	}
	var changed bool
	if s.applyEditFault != nil {
		err = s.applyEditFault(e)
	}
	if err == nil {
		changed, err = s.store.ApplyReceivedEdit(e, target.ID)
	}
	if err != nil {
		s.log.Warn("sync: edit kept for a retry", "kind", e.Kind, "err", err)
		return 0, false
	}
	s.ownEditSeen(target, sm.OriginID)
	if !changed {
		return 0, false
	}
	if e.Kind == securestore.EditRetract {
		s.emit(MessageRetracted{Conversation: target.ConversationID, Message: target.ID, At: sm.Timestamp})
	} else {
		s.emit(MessageCorrected{Conversation: target.ConversationID, Message: target.ID})
	}
	return target.ID, true
}

// errNoStableAuthor: an edit from someone the room names by nick only.
var errNoStableAuthor = errors.New("sync: edit without a stable author")

// editTarget resolves the message an edit names. A retraction in a room
// quotes the room's stanza-id (XEP-0424 §4); in a chat, the origin-id of
// the editor's own message. A correction quotes the id of the editor's own
// message (XEP-0308), in rooms too. The editor's scope is its stable
// identity (Extra sender): an edit without one finds nothing of anyone's.
func (s *Session) editTarget(e securestore.ReceivedEdit) (securestore.Message, error) {
	sm := e.Edit
	if e.Kind == securestore.EditRetract && s.isRoom(sm.ConversationID) {
		return s.store.MessageByStanzaID(sm.ConversationID, e.Ref)
	}
	sender := sm.Extra[securestore.ExtraSender]
	if sender == "" {
		return securestore.Message{}, errNoStableAuthor
	}
	return s.store.MessageBySenderOriginID(sm.ConversationID, sender, e.Ref)
}

// editAuthorised: edit (a stored form of a retraction or correction) comes
// from the author of target. In a chat the lookup is within the peer's
// conversation, so the same direction is the same author; in a room an
// incoming edit must come from the same member by stable identity, and one
// without a stable identity edits nothing.
func editAuthorised(room bool, edit, target securestore.Message) bool {
	if target.Direction != edit.Direction {
		return false
	}
	if !room || edit.Direction == securestore.Outgoing {
		return true
	}
	sender := edit.Extra[securestore.ExtraSender]
	return sender != "" && sender == target.Extra[securestore.ExtraSender]
}

// ownEditSeen: our own pending edit came back (room reflection, archive), so
// the server has it and it need not be sent again.
func (s *Session) ownEditSeen(target securestore.Message, editID string) {
	if _, pending := securestore.PendingEdit(target); pending == "" || pending != editID {
		return
	}
	if changed, err := s.store.EditSent(target.ID, editID, s.clock.Now()); err == nil && changed {
		s.emit(ReceiptChanged{Message: target.ID, State: securestore.ReceiptSent, At: s.clock.Now()})
	}
}
