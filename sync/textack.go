package sync

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Acknowledgement by text reply. A page to someone whose client does not
// speak Rounds (profanity, poezio, Conversations) can never carry
// urn:rounds:response:0, so the page's fallback body ends with a line
// saying which reply counts (decorateClinical), and a plain-text reply that
// is exactly one of the accepted words counts as the acknowledgement, marked
// as given "by text reply" in the page's Extra, its receipt and the audit
// log. The rules, from docs/PROTOCOL.md "Acknowledgement by text reply":
//
//   - only in a 1:1 conversation, from the person the page went to (the
//     conversation's bare JID); rooms are not covered (a room member's
//     identity is the other engine rules' business, and a team page is
//     acknowledged with Rounds);
//   - the whole reply, trimmed, with runs of spaces made one, trailing full
//     stops and exclamation marks dropped and case folded, must equal an
//     accepted word: "not ack", "can't ack" and "ack?" are not acks;
//   - it answers the most recent page of that conversation that asks for an
//     acknowledgement, was sent (the server has it) and is not yet
//     acknowledged, recalled or failed; an XEP-0461 reply answers only the
//     message it names, and its quote is not part of its words;
//   - "after the page" is arrival order on this device (the store's local
//     sequence), never a timestamp the replier's client chose; a page still
//     waiting in the Outbox has not reached anyone, so nothing answers it;
//   - the org policy can switch it off (SetTextAck), and choose the words.
//
// Any other plain-text reply from the addressed person while a page waits
// is reported (ResponseReceived, Kind text, ByText) but changes nothing.
//
// The same rules hold the other way round (ownTextReply): a plain-text
// message of ours (typed on this device, or on another of ours and seen as
// a carbon or in the archive) that is exactly an accepted word
// acknowledges, for us, the most recent page we received in that 1:1
// conversation before it that asks for an acknowledgement and that we have
// not acknowledged yet (or, as an XEP-0461 reply, only the page it names),
// once it has reached the server: ResponseReceived, Kind ack, Own and
// ByText, so the app ends our alert as for the Acknowledge button. It is
// what the page's sender counts as our acknowledgement.

// DefaultAckWords are the replies that acknowledge when the policy names
// none: short, unambiguous, and what the fallback line asks for ("ACK").
// "ok" and "got it" are left out on purpose: they answer many things.
var DefaultAckWords = []string{"ack", "acked", "acknowledged"}

// Extra keys written when a text reply acknowledged a page.
const (
	// ExtraAckBy on the page: how it was acknowledged (AckByTextReply).
	ExtraAckBy = "ack-by"
	// ExtraAckReply on the page: the local id of the reply that counted.
	ExtraAckReply = "ack-reply"
	// ExtraTextAckOf on the reply: origin-id of the page it acknowledged.
	ExtraTextAckOf = "text-ack-of"
)

// Extra keys of an incoming XEP-0461 reply (noteReply): the id it quotes
// and its quote's fallback ranges ("start-end,…" in code points), so the
// reply's own words can be told from the quote.
const (
	ExtraReplyTo       = "reply-to"
	ExtraReplyFallback = "reply-fallback"
)

// AckByTextReply is ExtraAckBy's value for an acknowledgement by text reply.
const AckByTextReply = "text reply"

// AuditTextAck is the audit kind of an acknowledgement by text reply. Its
// detail names ids and the JID, never the reply's text.
const AuditTextAck = "text-ack"

// textAckWindow is how many of the conversation's latest messages are
// searched for the page a reply answers.
const textAckWindow = 200

// TextAckRules say whether a plain-text reply can acknowledge a page, and
// with which words. The zero value counts DefaultAckWords.
type TextAckRules struct {
	Off   bool
	Words []string // nil or empty: DefaultAckWords; none usable (all blank): off
}

// textAck is the normalised form the engine reads.
type textAck struct {
	off   bool
	words map[string]bool
	first string // shown in the fallback line
}

func (r TextAckRules) compile() *textAck {
	t := &textAck{off: r.Off, words: map[string]bool{}}
	words := r.Words
	if len(words) == 0 {
		words = DefaultAckWords
	}
	for _, w := range words {
		if w = NormalizeReply(w); w != "" && !t.words[w] {
			t.words[w] = true
			if t.first == "" {
				t.first = w
			}
		}
	}
	if len(t.words) == 0 {
		t.off = true
	}
	return t
}

// SetTextAck replaces the text-acknowledgement rules (the app calls it with
// the policy in force at sign-in and whenever the policy changes). It
// applies to replies stored from now on and to pages put on the wire from
// now on.
func (s *Session) SetTextAck(r TextAckRules) { s.textAck.Store(r.compile()) }

func (s *Session) textAckRules() *textAck {
	if t := s.textAck.Load(); t != nil {
		return t
	}
	return defaultTextAck
}

var defaultTextAck = TextAckRules{}.compile()

// NormalizeReply is the form a reply (or an accepted word) is compared in:
// trimmed, inner white space made single spaces, trailing "." and "!"
// dropped, lower case. Anything else (a question mark, a negation, a
// quote) stays and so does not match.
func NormalizeReply(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimRightFunc(s, func(r rune) bool { return r == '.' || r == '!' || unicode.IsSpace(r) })
	return strings.ToLower(s)
}

// Accepts reports whether a reply's whole text is an accepted word.
func (t *textAck) accepts(body string) bool {
	return !t.off && t.words[NormalizeReply(body)]
}

// ackInstruction is the fallback line for a page to conv, "" for none
// (rooms: a text reply there is not counted).
func (s *Session) ackInstruction(conv string) string {
	if s.isRoom(conv) {
		return ""
	}
	t := s.textAckRules()
	if t.off {
		return xmpp.AckInstructionNoText
	}
	return xmpp.AckInstruction(t.first)
}

// noteReply records what an XEP-0461 reply (Conversations' swipe-to-reply)
// quotes: the answered message's id and the ranges of the quote.
func noteReply(sm *securestore.Message, m *xmpp.Message) {
	r := xmpp.ParseReply(m.Stanza)
	if r == nil {
		return
	}
	var ranges []string
	for _, f := range m.Fallbacks {
		if f.For != xmpp.NSReply {
			continue
		}
		for _, rg := range f.Ranges {
			ranges = append(ranges, strconv.Itoa(rg.Start)+"-"+strconv.Itoa(rg.End))
		}
	}
	if sm.Extra == nil {
		sm.Extra = map[string]string{}
	}
	sm.Extra[ExtraReplyTo] = r.ID
	if len(ranges) > 0 {
		sm.Extra[ExtraReplyFallback] = strings.Join(ranges, ",")
	}
}

// ownWords is the reply's text without the quote of an XEP-0461 reply.
func ownWords(m securestore.Message) string {
	fb, ok := replyFallback(m)
	if !ok {
		return m.Body
	}
	return xmpp.StripFallback(m.Body, []xmpp.Fallback{fb}, func(string) bool { return true })
}

// replyFallback is the reply fallback noteReply kept for m.
func replyFallback(m securestore.Message) (xmpp.Fallback, bool) {
	raw := m.Extra[ExtraReplyFallback]
	if raw == "" {
		return xmpp.Fallback{}, false
	}
	fb := xmpp.Fallback{For: xmpp.NSReply}
	for _, part := range strings.Split(raw, ",") {
		a, b, ok := strings.Cut(part, "-")
		start, err1 := strconv.Atoi(a)
		end, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		fb.Ranges = append(fb.Ranges, xmpp.FallbackRange{Start: start, End: end})
	}
	return fb, len(fb.Ranges) > 0
}

// SenderQuote splits a received XEP-0461 reply into the quote its sender
// marked as the reply's fallback (noteReply kept the ranges) and the rest,
// their own words. The quote is the sender's claim of what they answered:
// the thread shows it as theirs only where the answered message is not on
// this device. Only a quote that can be set apart safely is (as when the
// original is here, xmpp.ReplyQuoteRunes: one range from the start, every
// line quoted with ">"); else no quote and the whole text, so no word the
// sender wrote moves into a quote block drawn as theirs and cut short.
func SenderQuote(m securestore.Message) (quote, own string) {
	fb, ok := replyFallback(m)
	if !ok {
		return "", m.Body
	}
	n := xmpp.ReplyQuoteRunes(m.Body, []xmpp.Fallback{fb})
	if n == 0 {
		return "", m.Body
	}
	rs := []rune(m.Body)
	return string(rs[:n]), string(rs[n:])
}

// plainReply: an incoming message that is only text, the kind of answer a
// client without Rounds sends (no quick response, file, wipe or page of its
// own). A forward is not: its words are someone else's, quoted.
func plainReply(m securestore.Message) bool {
	if m.Direction != securestore.Incoming || strings.TrimSpace(m.Body) == "" {
		return false
	}
	for _, k := range []string{ExtraResponse, ExtraWipe, ExtraAttachmentURL, ExtraAttachment,
		ExtraEscalationOf, ExtraAck, ExtraOrder, ExtraRetracted, ExtraForwardedFrom} {
		if m.Extra[k] != "" {
			return false
		}
	}
	return true
}

// ownPlainReply: a message of ours that is only text (ownTextReply).
func ownPlainReply(m securestore.Message) bool {
	if m.Direction != securestore.Outgoing || strings.TrimSpace(m.Body) == "" {
		return false
	}
	for _, k := range []string{ExtraResponse, ExtraWipe, ExtraAttachmentURL, ExtraAttachment,
		ExtraEscalationOf, ExtraAck, ExtraOrder, ExtraRetracted, ExtraUnreadable, ExtraTextAckOf, ExtraForwardedFrom} {
		if m.Extra[k] != "" {
			return false
		}
	}
	return true
}

// onServer: our message m reached the server (a copy from another of our
// devices always has); one still in the Outbox, or failed, has reached no
// one and acknowledges nothing.
func onServer(m securestore.Message) bool {
	switch m.Receipt.State {
	case securestore.ReceiptNone, securestore.ReceiptQueued, securestore.ReceiptFailed:
		return false
	}
	return true
}

// ownTextReplies applies the text-acknowledgement rules to newly stored
// messages of ours that are on the server already (carbons and archive
// copies of our other devices' sends). It runs with the quick responses
// (applyResponses), before the batch's MessagesAdded, so a catch-up that
// holds both a page and our "ack" to it raises no alert. Our sends from
// this device are taken when the server has them (ownReplySent).
func (s *Session) ownTextReplies(added []securestore.Message) {
	for _, m := range added {
		if ownPlainReply(m) && onServer(m) {
			s.ownTextReply(m)
		}
	}
}

// ownReplySent: our message id (sent from this device) reached the server
// (its ack, or its copy in the archive; either may come more than once:
// a reply already counted is marked and not taken again).
func (s *Session) ownReplySent(id securestore.MessageID) {
	if s.textAckRules().off {
		return
	}
	if m, err := s.store.Message(id); err == nil && ownPlainReply(m) && onServer(m) {
		s.ownTextReply(m)
	}
}

// ownTextReply: our plain-text reply, if its words are accepted, is our
// acknowledgement of the page it answers (the rules at the top of this
// file, with the roles swapped): the reply is marked (ExtraTextAckOf) and
// ResponseReceived (Own, ByText) tells the app.
func (s *Session) ownTextReply(reply securestore.Message) {
	conv := reply.ConversationID
	if s.isRoom(conv) || conv == s.account {
		return
	}
	words := ownWords(reply)
	if !s.textAckRules().accepts(words) {
		return
	}
	s.textAckMu.Lock()
	page, ok := s.ownPendingPage(reply)
	if ok {
		if err := s.store.UpdateExtra(reply.ID, map[string]string{ExtraTextAckOf: page.OriginID}); err != nil {
			s.log.Warn("sync: marking our text reply as an acknowledgement", "err", err)
		}
	}
	s.textAckMu.Unlock()
	if !ok {
		return
	}
	s.emit(ResponseReceived{Message: reply, To: page.ID, Kind: ResponseAck, From: s.account, At: reply.Timestamp,
		Own: true, ByText: true, Text: words})
}

// ownPendingPage is the page our reply answers: the one an XEP-0461 reply
// names, else the latest of the conversation's textAckWindow latest
// messages stored before the reply; either way a page we received, that
// asks for an acknowledgement, is not recalled and that none of our
// messages in that window acknowledged yet (a quick response, or a text
// reply counted before). s.textAckMu is held.
func (s *Session) ownPendingPage(reply securestore.Message) (securestore.Message, bool) {
	conv := reply.ConversationID
	recent, err := s.store.Latest(conv, textAckWindow)
	if err != nil {
		s.log.Warn("sync: looking for the page our reply answers", "err", err)
		return securestore.Message{}, false
	}
	acked := map[string]bool{}
	for _, m := range recent {
		if m.Direction != securestore.Outgoing {
			continue
		}
		if m.Extra[ExtraResponse] == string(ResponseAck) && m.Extra[ExtraResponseTo] != "" {
			acked[m.Extra[ExtraResponseTo]] = true
		}
		if of := m.Extra[ExtraTextAckOf]; of != "" {
			acked[of] = true
		}
	}
	answerable := func(p securestore.Message) bool {
		return p.ID < reply.ID && p.ConversationID == conv && p.Direction == securestore.Incoming &&
			p.Extra[ExtraAck] == "required" && p.Extra[ExtraRetracted] == "" && p.Extra[ExtraResponseTo] == "" &&
			p.OriginID != "" && !acked[p.OriginID]
	}
	if ref := reply.Extra[ExtraReplyTo]; ref != "" {
		// An XEP-0461 reply names what it answers: that message, if it
		// is a page we may still acknowledge, and nothing else.
		var p securestore.Message
		if id, err := strconv.ParseUint(reply.Extra[ExtraReplyToID], 10, 64); err == nil {
			p, err = s.store.Message(securestore.MessageID(id))
			if err != nil {
				return securestore.Message{}, false
			}
		} else if p, err = s.referenced(conv, ref, conv, s.account); err != nil {
			return securestore.Message{}, false
		}
		return p, answerable(p)
	}
	for i := len(recent) - 1; i >= 0; i-- {
		if answerable(recent[i]) {
			return recent[i], true
		}
	}
	return securestore.Message{}, false
}

// textReplies applies the text-acknowledgement rules to newly stored
// messages (live, carbon or archive, in arrival order).
func (s *Session) textReplies(added []securestore.Message) {
	for _, m := range added {
		switch {
		case m.Direction == securestore.Outgoing:
			s.notePage(m) // our page from another device (carbon, archive)
		case plainReply(m):
			s.textReply(m)
		}
	}
}

// The pages that may still be answered are kept per conversation in memory
// (Session.pages), read from the store the first time a reply arrives in
// that conversation in this session and kept up to date by Send and
// textReplies: a plain message then costs no store read at all when no page
// waits, which is almost every message of a catch-up.

// isPage: m asks for an acknowledgement, as a page a text reply can answer.
func isPage(m securestore.Message) bool {
	return m.Direction == securestore.Outgoing && m.Extra[ExtraAck] == "required"
}

// settled: m can never again be answered (acknowledged, failed, recalled).
func settled(m securestore.Message) bool {
	return m.Receipt.State == securestore.ReceiptAcknowledged || m.Receipt.State == securestore.ReceiptFailed ||
		m.Extra[ExtraRetracted] != ""
}

// notePage adds a newly stored page to its conversation's list, if that
// list was read already (otherwise the first read finds it).
func (s *Session) notePage(m securestore.Message) {
	if !isPage(m) {
		return
	}
	s.textAckMu.Lock()
	defer s.textAckMu.Unlock()
	if ids, ok := s.pages[m.ConversationID]; ok && !slices.Contains(ids, m.ID) {
		s.pages[m.ConversationID] = append(ids, m.ID)
		slices.Sort(s.pages[m.ConversationID])
	}
}

func (s *Session) textReply(reply securestore.Message) {
	conv := reply.ConversationID
	if s.isRoom(conv) || xmpp.BareJID(reply.From) != conv || conv == s.account {
		return
	}
	// Live messages and catch-up pages are stored by different goroutines:
	// two replies must not both find the same page pending.
	s.textAckMu.Lock()
	var page securestore.Message
	ok := false
	if ref := reply.Extra[ExtraReplyTo]; ref != "" {
		// An XEP-0461 reply names what it answers: that message, if it
		// is a pending page, and nothing else.
		if t, err := s.referenced(conv, ref, s.account); err == nil && pending(t, reply.ID) {
			page, ok = t, true
		}
	} else {
		page, ok = s.pendingPage(conv, reply.ID)
	}
	if !ok {
		s.textAckMu.Unlock()
		return
	}
	words := ownWords(reply)
	ev := ResponseReceived{Message: reply, To: page.ID, Kind: ResponseText, From: conv, At: reply.Timestamp, ByText: true, Text: words}
	if s.textAckRules().accepts(words) && s.ackByText(page, reply) {
		ev.Kind = ResponseAck
	}
	s.textAckMu.Unlock()
	s.emit(ev)
}

// pendingPage is the page a reply with local id before answers: the latest
// outgoing message of conv stored before it that asks for an acknowledgement,
// reached the server, and is not acknowledged, failed or recalled.
// s.textAckMu is held.
func (s *Session) pendingPage(conv string, before securestore.MessageID) (securestore.Message, bool) {
	ids, ok := s.pages[conv]
	if !ok {
		msgs, err := s.store.Latest(conv, textAckWindow)
		if err != nil {
			s.log.Warn("sync: looking for the page a reply answers", "err", err)
			return securestore.Message{}, false
		}
		ids = []securestore.MessageID{}
		for _, m := range msgs {
			if isPage(m) && !settled(m) {
				ids = append(ids, m.ID)
			}
		}
		slices.Sort(ids)
		if s.pages == nil {
			s.pages = map[string][]securestore.MessageID{}
		}
	}
	var found securestore.Message
	keep := ids[:0:0]
	for i := len(ids) - 1; i >= 0; i-- {
		if ids[i] >= before || found.ID != 0 {
			keep = append(keep, ids[i])
			continue
		}
		m, err := s.store.Message(ids[i])
		if err != nil || settled(m) {
			continue // purged, or never answerable again: forget it
		}
		keep = append(keep, ids[i])
		if pending(m, before) {
			found = m
		}
	}
	slices.Reverse(keep)
	s.pages[conv] = keep
	return found, found.ID != 0
}

// pending: m is a page a reply stored as local id before can answer: ours,
// asking for an acknowledgement, stored earlier, on the server, and not
// acknowledged, failed or recalled.
func pending(m securestore.Message, before securestore.MessageID) bool {
	if m.ID >= before || m.Direction != securestore.Outgoing || m.Extra[ExtraAck] != "required" || m.Extra[ExtraRetracted] != "" {
		return false
	}
	switch m.Receipt.State {
	case securestore.ReceiptNone, securestore.ReceiptQueued, securestore.ReceiptAcknowledged, securestore.ReceiptFailed:
		return false
	}
	return true
}

// ackByText records that reply acknowledged page: the marks first (so
// whoever reads the page on ReceiptChanged sees how), then the receipt,
// then the audit entry. False if the page was acknowledged meanwhile.
func (s *Session) ackByText(page, reply securestore.Message) bool {
	if err := s.store.UpdateExtra(page.ID, map[string]string{
		ExtraAckBy: AckByTextReply, ExtraAckReply: strconv.FormatUint(uint64(reply.ID), 10)}); err != nil {
		s.log.Warn("sync: marking an acknowledgement by text reply", "err", err)
		return false
	}
	now := s.clock.Now()
	changed, err := s.store.AdvanceReceipt(page.ID, "", securestore.ReceiptAcknowledged, now, "")
	if err != nil || !changed {
		if err != nil {
			s.log.Warn("sync: receipt", "err", err)
		}
		_ = s.store.UpdateExtra(page.ID, map[string]string{ExtraAckBy: "", ExtraAckReply: ""})
		return false
	}
	if err := s.store.UpdateExtra(reply.ID, map[string]string{ExtraTextAckOf: page.OriginID}); err != nil {
		s.log.Warn("sync: marking a text reply as an acknowledgement", "err", err)
	}
	if err := s.store.Audit(AuditTextAck, fmt.Sprintf("message %d (origin-id %s) to %s acknowledged by text reply (message %d)",
		page.ID, page.OriginID, page.ConversationID, reply.ID)); err != nil {
		s.log.Warn("sync: audit", "kind", AuditTextAck, "err", err)
	}
	s.log.Info("sync: acknowledged by text reply", "message", page.ID, "reply", reply.ID)
	s.emit(ReceiptChanged{Message: page.ID, State: securestore.ReceiptAcknowledged, At: now})
	return true
}
