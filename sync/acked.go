package sync

import (
	"fmt"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// A message the server acknowledged (XEP-0198) and then lost. Once a server
// acknowledged a message Rounds marks it sent and forgets it: the Outbox is
// for what the server has not confirmed. ejabberd 23.01 (Mnesia, a cluster)
// once acknowledged a message in the moment before it was SIGKILLed and
// never stored or routed it: the recipient never got it, live or from the
// archive, and the sender's tick stayed at "sent" (docs/ADMIN.md).
//
// The loss shows in the sender's own archive, which holds what the account
// sent: every message acknowledged on the lost stream was archived after
// the cursor that stream's setup left (setup reads the archive before the
// stream carries a single message of ours: flushes and live sends come
// after the catch-up). From that cursor on, our archive is read by the tail
// reads during the session (archivetail.go: they move the cursor past
// messages sent on the stream) and by the catch-up after the next fresh
// sign-in; the origin-ids of ours that any of these reads saw are kept
// together (noteArchivedOwn) until checkAcked, after that catch-up, uses
// and clears them. So each acknowledged message was seen by one of the
// reads, unless the server lost it (TestAckedReadByTailReadNotResent: reset
// at each catch-up, they were sent again). What the catch-up sees is matched by origin-id, which we chose,
// on messages our own server archived as sent by this account (a sender
// cannot make our server archive something as ours); the archive's
// stanza-ids are our server's and need no matching here.
//
// checkAcked, run after the catch-up of our archive, takes as candidates the
// 1:1 messages acknowledged on the stream that was cut, in the last
// ackedWindow before the cut (at most ackedKeep): those still at "sent" (no
// receipt, no read marker; the catch-up applied what the archive held) that
// the archive does not show are sent again at the flush, with the same
// origin-id, which Rounds recipients de-duplicate (same sender, same text),
// and stay on the Outbox until the server acknowledges the copy.
// The check needs evidence that this server archives what we send: at least
// one message acknowledged on this device is in what the catch-up read. A
// server that archives no outgoing messages, or no archive at all, therefore
// never causes a resend; nor does a lone message with no neighbour (the
// evidence is missing then, and it stays at "sent", as before).
//
// Left out: rooms (a room archives our message in the room's archive, and
// the room reflects it back to us live; a message the room never reflected
// is not looked for), recalled messages, messages corrected on the stream
// that was cut (resendable), and a restart of the app between the cut and
// the sign-in (what was acknowledged is kept in memory only). A message
// corrected after the cut goes again with its first text, then the
// correction.

// ackedWindow and ackedKeep bound the candidates: a server loses an
// acknowledged message only in the moment before it dies, and a dead socket
// is noticed within KeepAlive+PingTimeout (80 s by default).
const (
	ackedWindow = 2 * time.Minute
	ackedKeep   = 32
)

// AuditResentUnarchived is the audit kind of a message sent again because
// the server acknowledged it but its archive, read after a fresh sign-in,
// did not have it (ids only).
const AuditResentUnarchived = "resent-unarchived"

type ackedRecord struct {
	id     securestore.MessageID
	origin string
	gen    int // the XMPP session (Session.gen) whose stream acknowledged it
	at     time.Time
}

// ackedWatch is the Session's memory of recent acknowledgements.
type ackedWatch struct {
	mu       gosync.Mutex
	recent   []ackedRecord // the last ackedKeep acknowledged 1:1 messages, oldest first
	cutAt    time.Time     // when the last stream was found cut (zero: none since the last check)
	cutGen   int
	archived map[string]bool // origin-ids of our messages the catch-up read in our archive
	lost     []securestore.MessageID
}

// noteAcked remembers a 1:1 message the server acknowledged (onAcked).
func (s *Session) noteAcked(el *xmpp.Element, id securestore.MessageID, origin string) {
	if el.Attr("type") != "chat" || origin == "" {
		return
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	w := &s.acked
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, r := range w.recent {
		if r.id == id { // sent again: the newest acknowledgement counts
			w.recent = append(w.recent[:i], w.recent[i+1:]...)
			break
		}
	}
	if len(w.recent) == ackedKeep {
		w.recent = w.recent[1:]
	}
	w.recent = append(w.recent, ackedRecord{id: id, origin: origin, gen: gen, at: s.clock.Now()})
}

// noteCut records that the stream of the current XMPP session was lost
// (Run, when online returns).
func (s *Session) noteCut() {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	w := &s.acked
	w.mu.Lock()
	w.cutAt, w.cutGen = s.clock.Now(), gen
	w.mu.Unlock()
}

// noteArchivedOwn records the origin-ids of our own messages in a page of
// our own archive (storePage).
func (s *Session) noteArchivedOwn(key string, batch []securestore.Message) {
	if key != s.cursorKey("") {
		return
	}
	w := &s.acked
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range batch {
		if m.Direction != securestore.Outgoing || m.OriginID == "" {
			continue
		}
		if w.archived == nil {
			w.archived = map[string]bool{}
		}
		w.archived[m.OriginID] = true
	}
}

// checkAcked runs when the catch-up of our own archive has finished after a
// fresh sign-in: it picks the acknowledged messages the archive lost, for
// the flush to send again.
func (s *Session) checkAcked() {
	w := &s.acked
	w.mu.Lock()
	archived, cutAt, cutGen := w.archived, w.cutAt, w.cutGen
	w.archived, w.cutAt = nil, time.Time{}
	var cands []ackedRecord
	evidence, checked := false, 0
	if !cutAt.IsZero() {
		for _, r := range w.recent {
			inWindow := r.gen == cutGen && !r.at.Before(cutAt.Add(-ackedWindow))
			if inWindow {
				checked++
			}
			if archived[r.origin] {
				evidence = true
				continue
			}
			if inWindow {
				cands = append(cands, r)
			}
		}
	}
	w.mu.Unlock()
	if checked > 0 {
		s.log.Info("sync: acknowledged messages checked against the archive", "checked", checked, "not_archived", len(cands), "evidence", evidence)
	}
	if len(cands) == 0 || !evidence {
		return
	}
	// Acks still waiting to be written (securestore.MarkSentSoon) are
	// written first: their messages are "sent" like the others.
	if err := s.store.FlushSent(); err != nil {
		s.log.Warn("sync: marking sent", "err", err)
	}
	var lost []securestore.MessageID
	for _, r := range cands {
		m, err := s.store.Message(r.id)
		if err != nil || m.Receipt.State != securestore.ReceiptSent || !resendable(m) {
			continue
		}
		// Back on the Outbox, at its state, until the server acknowledges
		// the copy: a cut before that ack, or the app killed, must not lose
		// it again (the copy is handed back unacknowledged to nobody), and
		// the next catch-up takes it off if the archive shows it after all.
		if err := s.store.Requeue(r.id); err != nil {
			s.log.Warn("sync: requeue", "err", err)
		}
		lost = append(lost, r.id)
	}
	if len(lost) == 0 {
		return
	}
	w.mu.Lock()
	w.lost = append(w.lost, lost...)
	w.mu.Unlock()
}

// resendable: a message that may go out again exactly as first sent: one
// never edited, or one whose correction is still to be sent (made after
// the cut: the Outbox sends it right after the copy, which carries the text
// first sent, as wireFor does for a message corrected before its ack).
// Left out: a recalled message, and one corrected on the stream that was
// cut (that correction may be lost too, and the first text alone would then
// stand as the last word).
func resendable(m securestore.Message) bool {
	if m.Extra[securestore.ExtraRetracted] != "" {
		return false
	}
	kind, _ := securestore.PendingEdit(m)
	n := len(securestore.History(m)) // the first text is the oldest version
	return kind == "correct" && n > 0 || kind == "" && n == 0
}

// resendUnarchived sends again, before the Outbox flush, what checkAcked
// found lost (and put back on the Outbox, where the flush skips it on this
// stream). The message keeps its state ("sent"): the user sees nothing
// new, and the next acknowledgement takes it off the Outbox.
//
// It returns the messages it sent whole, which the flush that follows must
// skip: their copy's ack can come before the flush reaches them, and the
// ack ends what stops a second copy on this stream (the in-flight entry)
// while the Outbox read before it still lists them.
func (s *Session) resendUnarchived(c *xmpp.Client) map[securestore.MessageID]bool {
	w := &s.acked
	w.mu.Lock()
	lost := w.lost
	w.lost = nil
	w.mu.Unlock()
	var sent map[securestore.MessageID]bool
	for _, id := range lost {
		m, err := s.store.Message(id)
		if err != nil || m.Receipt.State != securestore.ReceiptSent || !resendable(m) {
			continue
		}
		s.log.Warn("sync: the server acknowledged a message its archive does not have; sending it again with the same origin-id", "message", m.ID, "origin_id", m.OriginID)
		if err := s.store.Audit(AuditResentUnarchived, fmt.Sprintf("message %d (origin-id %s) acknowledged by the server but missing from the account's archive after a fresh sign-in; sent again with the same origin-id", m.ID, m.OriginID)); err != nil {
			s.log.Warn("sync: audit", "err", err)
		}
		if kind, _ := securestore.PendingEdit(m); kind == "correct" {
			// The text first sent under its id, never the new one: receivers
			// take a copy with the same id as the same message only when it
			// says the same thing; the correction, next in the Outbox, then
			// changes the text (wireFor).
			first := m
			first.Body = securestore.History(m)[0].Body
			s.transmitOne(c, outgoing{s.stanzaFor(first), m.OriginID, inflight{id: m.ID, keep: true}})
			continue
		}
		s.transmit(c, m)
		if sent == nil {
			sent = map[securestore.MessageID]bool{}
		}
		sent[m.ID] = true
	}
	return sent
}
