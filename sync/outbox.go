package sync

import (
	"errors"
	"fmt"
	gosync "sync"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// SendOptions carry what a message needs beyond its text.
type SendOptions struct {
	// Urgency: Normal is routine, High urgent, Critical STAT
	// (urn:rounds:urgency:0 with the XEP-0131 header and a fallback prefix).
	Urgency securestore.Urgency
	// AckRequired asks for an explicit acknowledgement; it is forced on for
	// High and Critical.
	AckRequired bool
	// Order marks a clinical order (urn:rounds:order:0). The engine does not
	// check the recipient: the app refuses orders to people not on the
	// specified contact list before calling Send.
	Order bool
	// Role is the role the message was addressed to, already resolved by
	// the app to the conversation it is sent to (urn:rounds:role:0).
	Role string
	// Escalation marks an escalated copy or a ladder notice.
	Escalation *Escalation
	// Plan makes the message a hand-off to the escalation service
	// (escalation.go): sent to the service with the original's text.
	Plan *EscalationPlan
	// OriginID, when set, is the message's origin-id, chosen by the caller
	// so that sending it again is recognisably the same message: Send
	// returns the stored one if this account already stored it in conv, and
	// receivers dedupe a copy sent from another store (escalation service
	// failover). Empty: a fresh id.
	OriginID string
	// ReplyTo makes the message an XEP-0461 reply to this stored message of
	// the same conversation (ErrReplyElsewhere otherwise); ReplyAuthor is
	// the name the quote for other clients gives its author.
	ReplyTo     securestore.MessageID
	ReplyAuthor string
	// Patient tags the message with the patient it is about
	// (urn:rounds:patient:0, patient.go): spaces around each field are
	// dropped, and a tag without MRN, too long or with control characters
	// is refused (ErrPatient) before anything is stored.
	Patient *Patient
	// SBAR makes the message an SBAR handover: the body must be exactly
	// SBARText of these fields (urn:rounds:sbar:0, patient.go).
	SBAR *[4]string
	// Forward makes the message a forward (XEP-0297) of this stored
	// message, whose text it sends exactly (the body given is ignored);
	// ForwardLabel names its author and time in the body other clients
	// show (forward.go).
	Forward      securestore.MessageID
	ForwardLabel string
	// extra carries engine-internal Extra fields (responses, wipe).
	extra map[string]string
}

// Send stores an outgoing message in the Outbox (state queued) and, if the
// Session is connected, puts it on the wire. It returns once the message is
// durable: from then on it will reach the server exactly once as far as
// recipients can tell, across lost sockets, restarts and crashes.
func (s *Session) Send(conv, body string, opts SendOptions) (securestore.Message, error) {
	extra := opts.storedExtra()
	if opts.Forward != 0 {
		orig, x, err := s.forwardExtra(opts.Forward, opts.ForwardLabel, extra)
		if err != nil {
			return securestore.Message{}, err
		}
		body, extra = orig.Body, x
		if opts.Patient == nil {
			opts.Patient = PatientOf(orig) // whom it is about travels with it
		}
	}
	if body == "" {
		return securestore.Message{}, errors.New("sync: empty message")
	}
	if _, err := xmpp.ParseJID(conv); err != nil {
		return securestore.Message{}, fmt.Errorf("sync: conversation %q: %w", conv, err)
	}
	if e := opts.Escalation; e != nil && (e.Of == "" || e.Step < 1) {
		return securestore.Message{}, errors.New("sync: an escalation names the original's origin-id and a step from 1")
	}
	if m, ok, err := s.sendExisting(conv, opts.OriginID); ok || err != nil {
		return m, err
	}
	origin := opts.OriginID
	if origin == "" {
		origin = xmpp.NewID()
	}
	if opts.SBAR != nil && body != SBARText(*opts.SBAR) {
		return securestore.Message{}, errors.New("sync: an SBAR message's body is the text of its four fields")
	}
	var patient Patient
	if opts.Patient != nil {
		var err error
		if patient, err = CheckPatient(*opts.Patient); err != nil {
			return securestore.Message{}, err
		}
	}
	extra = s.ownExtra(extra)
	if opts.Patient != nil {
		setPatient(extra, patient)
	}
	if opts.SBAR != nil {
		extra[ExtraSBAR] = sbarExtra(*opts.SBAR)
	}
	if opts.ReplyTo != 0 {
		var err error
		if extra, err = s.replyExtra(conv, opts.ReplyTo, opts.ReplyAuthor, extra); err != nil {
			return securestore.Message{}, err
		}
	}
	if ms := s.mentionsFor(xmpp.BareJID(conv), body); ms != "" {
		extra[ExtraMentions] = ms // mentions.go
	}
	now := s.clock.Now()
	m, err := s.store.Enqueue(securestore.Message{
		ConversationID: xmpp.BareJID(conv),
		From:           s.account,
		To:             xmpp.BareJID(conv),
		Direction:      securestore.Outgoing,
		Body:           body,
		OriginID:       origin,
		Timestamp:      now,
		ReceivedAt:     now,
		Urgency:        opts.Urgency,
		Extra:          extra,
	})
	if err != nil {
		return securestore.Message{}, err
	}
	s.notePage(m) // textack.go
	s.emit(MessagesAdded{Messages: []securestore.Message{m}})
	if c := s.readyClient(); c != nil {
		s.transmit(c, m)
	}
	return m, nil
}

// stanzaFor builds the wire form of a stored outgoing message. Its id and
// origin-id are the stored OriginID, so a resend is recognisably the same
// message and receipts (which quote the id) find it.
func (s *Session) stanzaFor(m securestore.Message) *xmpp.Element {
	typ := "chat"
	if s.isRoom(m.ConversationID) {
		typ = "groupchat"
	}
	el := xmpp.NewElement(xmpp.NSClient, "message", "type", typ, "to", m.ConversationID, "id", m.OriginID)
	el.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(m.Body))
	if typ == "chat" {
		el.Append(xmpp.NewElement(xmpp.NSReceipts, "request"))
	}
	el.Append(xmpp.NewElement(xmpp.NSMarkers, "markable"))
	el.Append(xmpp.NewElement(xmpp.NSSID, "origin-id", "id", m.OriginID))
	s.decorateAttachment(el, m)
	s.decorateClinical(el, m)
	decoratePatient(el, m)  // patient.go: after the clinical prefix
	decorateSBAR(el, m)     // patient.go
	s.decorateAuto(el, m)   // autoreply.go
	decorateForward(el, m)  // forward.go
	decorateReply(el, m)    // replies.go: last, the quote goes before every prefix
	decorateMentions(el, m) // mentions.go: ranges in the final text
	return el
}

// outgoing is one stanza for a stored message: the message itself, or its
// pending retraction or correction (securestore.PendingEdit), which travel
// through the Outbox like messages so they survive restarts.
type outgoing struct {
	el  *xmpp.Element
	key string // origin-id of the stanza: what the server's ack names
	f   inflight
}

func (s *Session) wireFor(m securestore.Message) []outgoing {
	kind, editID := securestore.PendingEdit(m)
	if kind == "" {
		return []outgoing{{s.stanzaFor(m), m.OriginID, inflight{id: m.ID}}}
	}
	var out []outgoing
	if kind == "correct" && m.Receipt.State < securestore.ReceiptSent {
		// The original may never have reached the server: send it before
		// the correction, and keep it on the Outbox until the correction is
		// acknowledged too. It goes with the text first sent under its id,
		// never the new one: it may have arrived already (its ack raced
		// this send, or the socket was cut before the ack), and receivers
		// take a copy with the same id as the same message only when it
		// says the same thing; the correction then changes the text.
		first := m
		if h := securestore.History(m); len(h) > 0 {
			first.Body = h[0].Body
		}
		out = append(out, outgoing{s.stanzaFor(first), m.OriginID, inflight{id: m.ID, keep: true}})
	}
	return append(out, outgoing{s.editStanza(m, kind, editID), editID, inflight{id: m.ID, edit: editID}})
}

// transmit hands a message to the client once per XMPP session. Errors are not
// returned: the message stays in the Outbox and the next sign-in sends it.
func (s *Session) transmit(c *xmpp.Client, m securestore.Message) {
	for _, o := range s.wireFor(m) {
		if !s.transmitOne(c, o) {
			return
		}
	}
}

// transmitOne hands one stanza to the client unless it went out on this
// XMPP session already; false when the client refused it.
func (s *Session) transmitOne(c *xmpp.Client, o outgoing) bool {
	s.mu.Lock()
	if f, ok := s.inflight[o.key]; ok && f.gen == s.gen {
		s.mu.Unlock()
		return true
	}
	o.f.gen = s.gen
	s.inflight[o.key] = o.f
	s.mu.Unlock()
	if err := c.Send(o.el); err != nil {
		s.log.Info("sync: message waits in outbox", "err", err)
		s.mu.Lock()
		delete(s.inflight, o.key)
		s.mu.Unlock()
		return false
	}
	return true
}

// flushOutbox sends, in order, every message the server has not acknowledged.
// It runs after catch-up, which already removed those the archive shows the
// server had received.
func (s *Session) flushOutbox(c *xmpp.Client) error {
	if s.Locked() {
		return nil // the unlocked Session flushes it
	}
	resent := s.resendUnarchived(c) // acked.go: they went out before what is queued
	pending, err := s.store.Outbox()
	if err != nil {
		return err
	}
	if s.flushListed != nil {
		s.flushListed(c, pending)
	}
	for _, m := range pending {
		if resent[m.ID] {
			continue
		}
		s.transmit(c, m)
	}
	return nil
}

// onAcked runs on the read loop when the server acknowledged a stanza
// (XEP-0198): only now is a message "sent".
func (s *Session) onAcked(el *xmpp.Element) {
	if el.Name.Local != "message" {
		return
	}
	release, locked := s.enterHandler()
	defer release()
	if locked != nil {
		// Locked: the store is closed. The message stays on the Outbox
		// and the unlocked Session sends it again (the receiver dedupes).
		return
	}
	origin := el.ID()
	if o := el.Child(xmpp.NSSID, "origin-id"); o != nil {
		origin = o.Attr("id")
	}
	s.mu.Lock()
	f, ok := s.inflight[origin]
	if ok && !f.acked {
		s.noteAckedOnStream(origin, f)
	}
	s.mu.Unlock()
	if !ok || f.acked {
		return // a receipt, marker or other message we do not track
	}
	switch {
	case f.edit != "":
		now := s.clock.Now()
		if changed, err := s.store.EditSent(f.id, f.edit, now); err != nil {
			s.log.Warn("sync: marking edit sent", "err", err)
		} else if changed {
			s.emit(ReceiptChanged{Message: f.id, State: securestore.ReceiptSent, At: now})
		}
	case f.keep:
		s.advance(f.id, "", securestore.ReceiptSent, "")
		s.ownReplySent(f.id)          // textack.go
		s.noteAcked(el, f.id, origin) // acked.go
	default:
		s.markSentSoon(f.id)
		s.noteAcked(el, f.id, origin) // acked.go
	}
}

// ackedOnStreamKeep bounds the acknowledged entries one stream keeps.
const ackedOnStreamKeep = 4096

// noteAckedOnStream keeps the in-flight entry of a stanza the server
// acknowledged, marked acked, for the rest of its stream (s.mu held): the
// message stays on the Outbox until its sent mark is written, and a flush
// that listed it, or lists it before then, must not send it a second time
// on this stream. A deliberate resend on the stream (a room's bounce)
// deletes the entry; the next fresh sign-in drops them all (setup).
func (s *Session) noteAckedOnStream(key string, f inflight) {
	f.acked = true
	s.inflight[key] = f
	s.ackedKeys = append(s.ackedKeys, key)
	if len(s.ackedKeys) > ackedOnStreamKeep {
		old := s.ackedKeys[0]
		s.ackedKeys = s.ackedKeys[1:]
		if g, ok := s.inflight[old]; ok && g.acked {
			delete(s.inflight, old)
		}
	}
}

// markSentSoon is markSent for the server's ack: the store writes it with
// its next write transaction (securestore.MarkSentSoon), so an ack costs no
// commit of its own; ReceiptChanged and the text-acknowledgement rules
// (ownReplySent) follow once it is written. The message stays on the Outbox
// until then: a crash before resends it, and receivers drop the copy.
//
// The store reports the mark on the goroutine of whichever write carried
// it, with that caller's locks held: one made under textAckMu (textReply,
// ownTextReply) would deadlock ownReplySent, which takes it. So only the
// event (a push that never blocks, emitted before the carrier's own, such
// as a delivery receipt's) is sent there; ownReplySent runs on a goroutine
// of its own, in the order the marks were written (repliesSent).
func (s *Session) markSentSoon(id securestore.MessageID) {
	now := s.clock.Now()
	s.store.MarkSentSoon(id, now, func(changed bool, err error) {
		if err != nil {
			s.log.Warn("sync: marking sent", "err", err)
			return
		}
		if changed {
			s.emit(ReceiptChanged{Message: id, State: securestore.ReceiptSent, At: now})
		}
		if !s.textAckRules().off {
			s.repliesSent.run(func() { s.ownReplySent(id) }) // textack.go
		}
	})
}

// inOrder runs functions one at a time, in the order given, on a goroutine
// that lives only while some are waiting (none is left behind when idle).
type inOrder struct {
	mu      gosync.Mutex
	waiting []func()
	running bool
	idle    chan struct{} // closed when the running goroutine ends
}

// wait returns once nothing is waiting or running.
func (q *inOrder) wait() {
	q.mu.Lock()
	running, idle := q.running, q.idle
	q.mu.Unlock()
	if running {
		<-idle
	}
}

func (q *inOrder) run(f func()) {
	q.mu.Lock()
	q.waiting = append(q.waiting, f)
	start := !q.running
	if start {
		q.running = true
		q.idle = make(chan struct{})
	}
	q.mu.Unlock()
	if !start {
		return
	}
	go func() {
		for {
			q.mu.Lock()
			if len(q.waiting) == 0 {
				q.running = false
				q.waiting = nil
				close(q.idle)
				q.mu.Unlock()
				return
			}
			f := q.waiting[0]
			q.waiting[0] = nil
			q.waiting = q.waiting[1:]
			q.mu.Unlock()
			f()
		}
	}()
}

// markSent advances a message to sent and takes it out of the Outbox.
func (s *Session) markSent(id securestore.MessageID) {
	now := s.clock.Now()
	// A recall or correction may have been queued since the message went on
	// the wire; it keeps the message on the Outbox until its own ack.
	changed, err := s.store.MarkSentKeepingEdits(id, now)
	if err != nil {
		s.log.Warn("sync: marking sent", "err", err)
		return
	}
	if changed {
		s.emit(ReceiptChanged{Message: id, State: securestore.ReceiptSent, At: now})
	}
}
