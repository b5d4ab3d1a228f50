package sync

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Replies (XEP-0461) and reactions (XEP-0444).
//
// A reply names the message it answers by the id its XEP prescribes (in a
// room the room's stanza-id, in a chat the origin-id its author chose), and
// carries a quote of it for other clients, marked as the reply's XEP-0428
// fallback. Rounds stores the typed text as the body, the answered message
// by local id (ExtraReplyToID), and draws the quote itself; a reply whose
// id does not name a message of the same conversation keeps its body as it
// came, quote and all, and answers nothing.
//
// A reaction set is the author's whole set; the store keeps the latest per
// author (securestore.SetReaction). It is believed only from someone in the
// conversation: in a chat the peer or our own account, in a room a member
// the room names stably (real JID or occupant-id); others are dropped.

const (
	// ExtraReplyToID is the local id (decimal) of the message a reply
	// answers, set only when it was found in the same conversation.
	ExtraReplyToID = "reply-to-id"
	// ExtraReplyQuote (outgoing replies) is the quote sent before the typed
	// text for other clients; the body holds only the typed text.
	ExtraReplyQuote = "reply-quote"
	// ExtraReplyAuthor (outgoing replies) is the <reply to/> address: the
	// answered message's author.
	ExtraReplyAuthor = "reply-author"
)

// ErrReplyElsewhere: a reply or reaction named a message of another
// conversation, or one the server has not numbered yet (a room message
// without its stanza-id), so no other client could find it.
var ErrReplyElsewhere = errors.New("sync: that message cannot be referred to from this conversation")

// ErrReactionOffline: the reaction is stored here but was not sent.
var ErrReactionOffline = errors.New("sync: not connected; the reaction is kept here and was not sent")

// wireRef is the id other clients find message t by, in conv, and its
// author's address for <reply to/>.
func (s *Session) wireRef(conv string, t securestore.Message) (id, author string, err error) {
	if t.ConversationID != conv {
		return "", "", ErrReplyElsewhere
	}
	if s.isRoom(conv) {
		if t.StanzaID == "" {
			return "", "", ErrReplyElsewhere
		}
		return t.StanzaID, t.From, nil
	}
	if t.OriginID == "" {
		return "", "", ErrReplyElsewhere
	}
	if t.Direction == securestore.Outgoing {
		return t.OriginID, s.account, nil
	}
	return t.OriginID, conv, nil
}

// replyExtra fills the Extra of an outgoing reply to message to, quoted
// under author's name.
func (s *Session) replyExtra(conv string, to securestore.MessageID, author string, x map[string]string) (map[string]string, error) {
	t, err := s.store.Message(to)
	if err != nil {
		return nil, err
	}
	ref, addr, err := s.wireRef(xmpp.BareJID(conv), t)
	if err != nil {
		return nil, err
	}
	if x == nil {
		x = map[string]string{}
	}
	x[ExtraReplyTo] = ref
	x[ExtraReplyToID] = strconv.FormatUint(uint64(t.ID), 10)
	x[ExtraReplyAuthor] = addr
	x[ExtraReplyQuote] = xmpp.ReplyQuote(author, t.Body)
	return x, nil
}

// decorateReply puts an outgoing reply's quote before the body, moves the
// body's other fallback ranges (urgency prefix, acknowledgement line) past
// it, and adds <reply/> and the quote's fallback.
func decorateReply(el *xmpp.Element, m securestore.Message) {
	quote := m.Extra[ExtraReplyQuote]
	b := el.Child(xmpp.NSClient, "body")
	if quote == "" || b == nil || m.Extra[ExtraReplyTo] == "" {
		return
	}
	n := utf8.RuneCountInString(quote)
	xmpp.ShiftFallbacks(el, n)
	b.SetText(quote + b.Text)
	el.Append(xmpp.Reply{To: m.Extra[ExtraReplyAuthor], ID: m.Extra[ExtraReplyTo]}.Element(), xmpp.NewFallback(xmpp.NSReply, 0, n))
}

// settleReply resolves an incoming reply (noteReply recorded its id) within
// sm's conversation and, when found and its quote is only quoted lines,
// stores the body without the quote (clinical prefixes stripped too, in
// the same pass over the text as received).
func (s *Session) settleReply(sm *securestore.Message, m *xmpp.Message) {
	ref := sm.Extra[ExtraReplyTo]
	if ref == "" || s.Locked() {
		return // locked: the store is closed (the merge resolves it)
	}
	peer := sm.ConversationID
	first, second := peer, s.account
	if r := xmpp.ParseReply(m.Stanza); r != nil && xmpp.BareJID(r.To) == s.account {
		first, second = s.account, peer
	}
	t, err := s.referenced(sm.ConversationID, ref, first, second)
	if err != nil || t.ConversationID != sm.ConversationID {
		return
	}
	sm.Extra[ExtraReplyToID] = strconv.FormatUint(uint64(t.ID), 10)
	n := xmpp.ReplyQuoteRunes(m.Body, m.Fallbacks)
	if n == 0 {
		return
	}
	strip := clinicalFallbacks(m) // patient.go
	if sm.Body != xmpp.StripFallback(m.Body, m.Fallbacks, strip) {
		return // the body was rewritten for another reason (a forward): leave it
	}
	body := xmpp.StripFallback(m.Body, m.Fallbacks, func(ns string) bool { return strip(ns) || ns == xmpp.NSReply })
	if body == "" {
		return
	}
	sm.Body = body
	delete(sm.Extra, ExtraReplyFallback) // the body holds no quote now
}

// ReactionsChanged: a message's reactions changed (someone reacted, here,
// on another of our devices, or withdrew).
type ReactionsChanged struct {
	Conversation string
	Message      securestore.MessageID
}

func (ReactionsChanged) isEvent() {}

// onReactions stores a reaction set from someone in the conversation to a
// message of that conversation; anything else is dropped (ids only in the
// log). at is when the set was given: zero for a live one (now), the
// archive's time for one read in catch-up (the user's server or the room
// stamped it, as it does the edits read there), so an older set read again
// from an archive never replaces a newer one. by and id name the archive
// row it was read from ("" live: the stanza-id our server, or the room,
// put on it): a reaction stanza is applied once, however often it is read
// (securestore, applied.go). newest: the caller knows it is its author's
// newest set in the archive's order (the look-back, archivetail.go), so
// the stamps do not decide.
func (s *Session) onReactions(m *xmpp.Message, at time.Time, by, id string, newest bool) {
	r := m.Reactions
	var conv, author string
	switch {
	case m.Type == "groupchat":
		conv = xmpp.BareJID(m.From)
		if !s.isRoom(conv) {
			return
		}
		author = s.reactionAuthor(conv, m, !at.IsZero())
	case s.roomPrivateMessage(m):
		return
	case m.Carbon == xmpp.CarbonSent || (xmpp.BareJID(m.From) == s.account && m.From != ""):
		conv, author = xmpp.BareJID(m.To), s.account
	default:
		conv = xmpp.BareJID(m.From)
		author = conv
	}
	if conv == "" || author == "" {
		s.log.Info("sync: reaction from no stable member dropped", "conversation", conv, "id", m.ID)
		return
	}
	t, err := s.referenced(conv, r.ID, conv, s.account)
	if err != nil || t.ConversationID != conv {
		s.log.Info("sync: reaction to no message of its conversation dropped", "conversation", conv, "id", m.ID)
		return
	}
	if at.IsZero() {
		at = s.clock.Now()
	}
	if id == "" {
		by = s.account
		if m.Type == "groupchat" {
			by = conv
		}
		id = m.StanzaIDBy(by)
	}
	if changed, err := s.store.SetReactionOnce(t.ID, author, r.Reactions, at, by, id, newest); err != nil {
		s.log.Warn("sync: storing reaction", "err", err)
	} else if changed {
		s.emit(ReactionsChanged{Conversation: conv, Message: t.ID})
	}
}

// reactionAuthor names who gave a room reaction, as the key its set is
// kept under, so a later set (live or archived) from the same person
// replaces it: this account for our own; else the real JID the room
// vouches for, so the screens can name them: live, the JID now holding
// the occupant-id it came under, archived, the one the room's archive put
// on it (never whoever holds the nick now: mallory's archived reaction
// under the nick "bob" is not bob's); else the occupant-id; "" for none.
func (s *Session) reactionAuthor(room string, m *xmpp.Message, archived bool) string {
	author := s.roomAuthor(m, archived)
	if s.isOwnAuthor(room, author) {
		return s.account
	}
	id, isOccupantID := strings.CutPrefix(author, occupantIDPrefix)
	if !isOccupantID {
		return author
	}
	j, err := xmpp.ParseJID(m.From)
	if err != nil {
		return author
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	switch {
	case r == nil:
	case archived:
		if r.nonAnonymous && m.RealJID != "" {
			return xmpp.BareJID(m.RealJID)
		}
	case r.ids[j.Resource] == id && r.members[j.Resource] != "":
		return r.members[j.Resource]
	}
	return author
}

// React sets this account's reactions to message id of conv (empty:
// withdraws them): stored first, then sent if online. A reaction is not
// queued: offline, it is kept here and ErrOffline says the others do not
// see it.
func (s *Session) React(conv string, id securestore.MessageID, values []string) error {
	conv = xmpp.BareJID(conv)
	t, err := s.store.Message(id)
	if err != nil {
		return err
	}
	ref, _, err := s.wireRef(conv, t)
	if err != nil {
		return err
	}
	set := xmpp.Reactions{ID: ref, Reactions: values}
	if _, err := xmpp.ReadReactions(xmpp.NewElement(xmpp.NSClient, "message").Append(set.Element())); err != nil {
		return err
	}
	changed, err := s.store.SetReaction(id, s.account, values, s.clock.Now())
	if err != nil {
		return err
	}
	if changed {
		s.emit(ReactionsChanged{Conversation: conv, Message: id})
	}
	c := s.readyClient()
	if c == nil {
		return ErrReactionOffline
	}
	typ := "chat"
	if s.isRoom(conv) {
		typ = "groupchat"
	}
	return c.Send(xmpp.NewReactions(conv, typ, xmpp.NewID(), set))
}
