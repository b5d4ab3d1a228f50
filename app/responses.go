package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// A quick response answers an urgent message in one tap, from the alert or
// the message: Acknowledge, Decline, Call me, 5 minutes, or free text. It
// travels as its own message (urn:rounds:response:0) so non-Rounds clients
// still read it, and the sender sees each one with its time. Only
// Acknowledge counts as the acknowledgement the escalation ladder waits for.

// extraResponses is the app's own key on an urgent message: the responses
// it received, so a view needs no scan of the thread.
const extraResponses = "app-responses"

// auditAck records an acknowledgement given on this device (issue #5's
// audit list: "urgent acks").
const auditAck = "urgent-ack"

var (
	// ErrCannotRespond: quick responses answer someone else's message.
	ErrCannotRespond = errors.New("you can respond only to a message someone sent you")
	// ErrUnknownResponse: not one of the quick responses.
	ErrUnknownResponse = errors.New("unknown response")
	// ErrNoSuchMessage: the message is not in this conversation (or gone).
	ErrNoSuchMessage = errors.New("this message is no longer here")
)

// ResponseRow is one response to a message, as the sender's live view and
// the recipient's thread show it.
type ResponseRow struct {
	From string // display name; "You" for this account
	Kind ResponseKind
	Text string // free text (kind text), or what the responder added
	At   time.Time
	Own  bool // sent by this account (from any of its devices)
	// ByText: a plain-text reply from a client without Rounds, read as an
	// answer to the page; with Kind ResponseAck it acknowledged the page
	// "by text reply" (docs/PROTOCOL.md).
	ByText bool
}

// storedResponse is a ResponseRow as kept on the referenced message.
type storedResponse struct {
	ID   securestore.MessageID `json:"id"` // the response message (dedupe)
	From string                `json:"from"`
	Own  bool                  `json:"own,omitempty"`
	Kind ResponseKind          `json:"kind"`
	Text string                `json:"text,omitempty"`
	At   time.Time             `json:"at"`
	// ByText: read from a plain-text reply (sync.ResponseReceived.ByText).
	ByText bool `json:"by_text,omitempty"`
	// byPageAuthor: the response came from whoever wrote the page it
	// answers (not kept: it only decides whether it ends our alert).
	byPageAuthor bool
}

func validResponse(k ResponseKind) bool {
	switch k {
	case ResponseAck, ResponseDecline, ResponseCallMe, ResponseFiveMinutes, ResponseText:
		return true
	}
	return false
}

// respond is Client.Respond.
func (cl *clinical) respond(conv string, msg securestore.MessageID, kind ResponseKind, text string) error {
	if !validResponse(kind) {
		return fmt.Errorf("%w: %q", ErrUnknownResponse, kind)
	}
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	if kind == ResponseText && text == "" {
		return ErrEmptyMessage
	}
	if utf8.RuneCountInString(text) > MaxMessageRunes {
		return ErrMessageTooLong
	}
	st, s, err := cl.host.sess()
	if err != nil {
		return err
	}
	conv = jid.Bare(conv)
	m, err := st.Message(msg)
	if errors.Is(err, securestore.ErrNotFound) || (err == nil && m.ConversationID != conv) {
		return ErrNoSuchMessage
	} else if err != nil {
		return mapErr(err)
	}
	if m.Direction != securestore.Incoming {
		return ErrCannotRespond
	}
	if m.Extra[extraRetracted] != "" {
		return ErrRecalled
	}
	cl.host.Touch()
	cl.markRespondedShown(conv, msg)
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	r, err := s.Respond(ctx, conv, msg, kind, text)
	if err != nil {
		return mapErr(err)
	}
	if kind == ResponseAck {
		cl.host.auditWith(st, auditAck, fmt.Sprintf("acknowledged message %d (origin-id %s)", msg, m.OriginID))
	}
	at := r.Timestamp
	if at.IsZero() {
		at = cl.clock.Now()
	}
	cl.noteResponse(st, m, storedResponse{ID: r.ID, From: cl.host.Account(), Own: true, Kind: kind, Text: text, At: at})
	return nil
}

// markRespondedShown marks conv shown up to msg when msg is the
// conversation's first unread message: answering it (from the alert or the
// thread) means the user has read it, so the inbox badge drops, the sender
// gets the read receipt and the user's other devices stop counting it. It
// runs before the response is sent, so the sender sees "read" no later than
// "acknowledged". When earlier incoming messages are still unread, nothing
// is marked: the user answered the page without having seen those, and
// marking up to msg would hide them (the display marker covers everything
// before it). A failed mark is logged; the response still goes out.
func (cl *clinical) markRespondedShown(conv string, msg securestore.MessageID) {
	first, ok := cl.host.FirstUnread(conv)
	if !ok || first != msg {
		return
	}
	if err := cl.host.MarkShown(conv, msg); err != nil {
		cl.log.Warn("app: marking an answered message shown", "err", err)
	}
}

// responseOf is a stored response message as recorded on the message it
// answers.
func responseOf(m securestore.Message) storedResponse {
	r := storedResponse{ID: m.ID, From: m.From, Own: m.Direction == securestore.Outgoing,
		Kind: ResponseKind(m.Extra[extraResponse]), Text: m.Body, At: m.Timestamp}
	if r.Kind == "" {
		r.Kind = ResponseText
	}
	// The body is the kind's label for other clients, then any text the
	// responder added ("✗ Declined: in theatre"): keep only the text.
	if r.Kind != ResponseText {
		label := r.Kind.Label()
		r.Text = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(r.Text, label), ":"))
	}
	if r.Own {
		r.From = jid.Bare(m.From)
	}
	return r
}

// onResponseReceived records a response from the engine's event: the
// engine resolved which message it answers (To), once; the app does not
// look it up again.
func (cl *clinical) onResponseReceived(st *securestore.Store, e sync.ResponseReceived) {
	resp, to, kind, from, at, own := e.Message, e.To, e.Kind, e.From, e.At, e.Own
	orig, err := st.Message(to)
	if err != nil {
		return
	}
	r := responseOf(resp)
	r.Kind, r.Own, r.ByText = kind, own, e.ByText
	if e.ByText {
		r.Text = e.Text // the reply's own words, without a quote of the page
	}
	if from != "" && !own {
		r.From = from
	}
	if !at.IsZero() {
		r.At = at
	}
	cv, err := st.Conversation(orig.ConversationID)
	room := err != nil || cv.Kind == securestore.KindRoom // unsure: as a room, by stable identity
	r.byPageAuthor = !own && byPageAuthor(room, orig, resp)
	cl.noteResponse(st, orig, r)
}

// byPageAuthor: response resp to page orig was written by the page's own
// author, who is not the one it asks to acknowledge. In a chat, the peer's
// response to the peer's own page; in a room, the same member by stable
// identity (Extra sender), or, where either has none, under the same nick:
// unsure means the alert keeps ringing. Our own pages have no alert here.
func byPageAuthor(room bool, orig, resp securestore.Message) bool {
	if orig.Direction != securestore.Incoming || resp.Direction != securestore.Incoming {
		return false
	}
	if !room {
		return jid.Bare(resp.From) == jid.Bare(orig.From)
	}
	a, b := orig.Extra[securestore.ExtraSender], resp.Extra[securestore.ExtraSender]
	if a != "" && b != "" {
		return a == b
	}
	return resp.From == orig.From
}

// noteResponse records r on orig (once) and applies it: alerts end or
// snooze, a ladder ends on an acknowledgement.
func (cl *clinical) noteResponse(st *securestore.Store, orig securestore.Message, r storedResponse) {
	if !cl.follow(st) {
		return
	}
	added := cl.recordResponse(st, orig.ID, r)
	switch {
	case r.Kind == ResponseAck:
		// Ours (any device) ends our alert; in a room someone else's ack
		// means the team's page is taken. The page's author cannot
		// acknowledge their own page for us: only the addressed end it.
		if !r.byPageAuthor {
			cl.alertAcknowledged(orig.ID)
		}
		if !r.Own {
			cl.ladderAcknowledged(st, orig.ID, r.From, r.At)
		}
	case r.Own && r.Kind == ResponseDecline:
		cl.alertAcknowledged(orig.ID)
	case r.Own:
		wait, _ := cl.urgentRepeat()
		if r.Kind == ResponseFiveMinutes {
			wait = 5 * time.Minute
		}
		cl.snoozeAlert(orig.ID, wait)
	}
	if added {
		cl.changes.push(Change{Kind: ConversationChanged, Conversation: orig.ConversationID})
	}
}

// recordResponse appends r to orig's responses unless already there.
func (cl *clinical) recordResponse(st *securestore.Store, orig securestore.MessageID, r storedResponse) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	m, err := st.Message(orig)
	if err != nil {
		return false
	}
	rs := parseResponses(m.Extra[extraResponses])
	for _, x := range rs {
		if x.ID == r.ID {
			return false
		}
	}
	rs = append(rs, r)
	slices.SortStableFunc(rs, func(a, b storedResponse) int { return a.At.Compare(b.At) })
	b, _ := json.Marshal(rs)
	if err := st.UpdateExtra(orig, map[string]string{extraResponses: string(b)}); err != nil {
		cl.log.Warn("app: recording a response", "err", err)
		return false
	}
	return true
}

func parseResponses(s string) []storedResponse {
	if s == "" {
		return nil
	}
	var rs []storedResponse
	if json.Unmarshal([]byte(s), &rs) != nil {
		return nil
	}
	return rs
}

// declined: someone declined m (in a chat: the recipient, whose device
// stopped alerting).
func declined(m securestore.Message) bool {
	for _, r := range parseResponses(m.Extra[extraResponses]) {
		if r.Kind == ResponseDecline && !r.Own {
			return true
		}
	}
	return false
}

// acknowledged: m has an acknowledgement recorded (ours from any device,
// or, in a room, anyone's).
func acknowledged(m securestore.Message) bool {
	for _, r := range parseResponses(m.Extra[extraResponses]) {
		if r.Kind == ResponseAck {
			return true
		}
	}
	return false
}

// snoozeAlert moves an alert's next sounding to wait from now.
func (cl *clinical) snoozeAlert(id securestore.MessageID, wait time.Duration) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	a := cl.alerts[id]
	if a == nil || a.NextAt.IsZero() {
		return
	}
	a.NextAt = cl.clock.Now().Add(wait)
	cl.scheduleAlertLocked(a, wait, cl.gen)
	cl.saveAlertsLocked()
}

// responseRows turns a message's recorded responses into view rows.
func responseRows(st *securestore.Store, cv securestore.Conversation, m securestore.Message, names contactNames) []ResponseRow {
	rs := parseResponses(m.Extra[extraResponses])
	if len(rs) == 0 {
		return nil
	}
	out := make([]ResponseRow, len(rs))
	for i, r := range rs {
		row := ResponseRow{Kind: r.Kind, Text: r.Text, At: r.At, Own: r.Own, ByText: r.ByText}
		switch {
		case r.Own:
			row.From = "You"
		case cv.Kind == securestore.KindRoom:
			if j, err := jid.Parse(r.From); err == nil && j.Resource != "" {
				row.From = j.Resource
			} else {
				row.From = memberName(st, r.From, names)
			}
		default:
			row.From = memberName(st, r.From, names)
		}
		out[i] = row
	}
	return out
}
