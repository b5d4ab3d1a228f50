package sync

import (
	"errors"
	"strings"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// onMessage runs on the read loop for every message stanza, live or carbon. It
// stores first and only then answers (receipt) or announces (event): the
// XEP-0198 counter counts the stanza as handled when this returns, so a crash
// before the store commit means the server still owes us the stanza.
func (s *Session) onMessage(m *xmpp.Message) { s.handleMessage(m, nil) }

// handleMessage is onMessage, and the locked inbox merge's step for one
// entry (r non-nil: the message is stored with the merge cursor, at the
// time it arrived, and no receipt is sent, as one went out while locked).
func (s *Session) handleMessage(m *xmpp.Message, r *replayed) {
	switch inv, err := xmpp.ParseDirectInvite(m.Stanza); {
	case m.Type == "error":
		s.onMessageError(m)
		return
	case inv != nil:
		s.onInvitation(m, inv) // invites.go
		return
	case err != nil:
		s.log.Info("sync: malformed invitation ignored", "err", err)
		return
	case m.PubSub != nil:
		s.onNodeEvent(m)
		return
	case m.RetractID != "" || m.ReplaceID != "":
		s.applyEdit(m, time.Time{})
		return
	case m.Reactions != nil:
		s.onReactions(m, time.Time{}, "", "", false) // replies.go
		return
	case m.ReceiptFor != "":
		s.onReceipt(m)
	case m.DisplayedFor != "":
		s.onDisplayed(m)
	case m.Held != "":
		s.onHeld(m) // escalation.go
	}
	if m.Body == "" {
		return
	}
	sm, ok := s.toStored(m, false)
	if !ok {
		return
	}
	var added []securestore.Message
	var err error
	if r != nil {
		sm.ReceivedAt = r.at
		s.stampTime(&sm, m, r.stamp)
		added, err = s.store.AppendFromInbox([]securestore.Message{sm}, r.gen, r.seq)
		r.merged, r.err = err == nil, err
	} else {
		added, err = s.store.AppendMessages([]securestore.Message{sm})
	}
	if err != nil {
		// Not stored, so not acknowledged as delivered: MAM catch-up fetches it
		// again after the next sign-in.
		s.log.Error("sync: storing message", "err", err)
		return
	}
	if len(added) > 0 {
		// A recall or correction that arrived before this message applies
		// now, before the app hears of it.
		if added = s.settleEdits([]string{sm.ConversationID}, added); len(added) > 0 {
			s.applyResponses(added)
			// Merged from the locked inbox, it is late like a catch-up:
			// the alerts it raises wait for the rest of the merge (an
			// acknowledgement from another device) before they ring.
			s.emit(MessagesAdded{Messages: added, CatchUp: r != nil})
			s.afterStored(added)
		}
	} else {
		// Ids only: which copy was dropped, never what it said.
		s.log.Info("sync: duplicate not stored", "conversation", sm.ConversationID,
			"origin_id", sm.OriginID, "stanza_id", sm.StanzaID, "carbon", m.Carbon != xmpp.NotCarbon)
		if sm.Direction == securestore.Outgoing {
			s.learnStanzaID(sm)
		}
	}
	if r == nil && m.ReceiptRequested && m.Carbon == xmpp.NotCarbon && sm.Direction == securestore.Incoming {
		if r := xmpp.NewReceipt(m); r != nil {
			if c := s.currentClient(); c != nil {
				_ = c.Send(r)
			}
		}
	}
}

// toStored turns a wire message into a store message: which conversation,
// which direction, who wrote it (ExtraSender: a bare JID, or a room
// member's stable identity, identity.go), which ids we trust (only the
// stanza-id our own server or the room assigned; catch-up then sets the
// archive's id itself). archived: m came out of an archive.
func (s *Session) toStored(m *xmpp.Message, archived bool) (securestore.Message, bool) {
	now := s.clock.Now()
	sm := securestore.Message{
		From: m.From, To: m.To, Body: m.Body, OriginID: m.OriginID,
		Timestamp: now, ReceivedAt: now,
	}
	if sm.OriginID == "" {
		// Without an origin-id the sender's stanza id is the best stable key a
		// receipt or marker will quote.
		sm.OriginID = m.ID
	}
	if m.Markable {
		sm.Extra = map[string]string{extraMarkable: "1"}
	}
	s.stampTime(&sm, m, time.Time{})
	s.noteAttachments(&sm, m)
	s.noteClinical(&sm, m)
	noteAuto(&sm, m) // autoreply.go
	from := xmpp.BareJID(m.From)
	if s.roomPrivateMessage(m) {
		// A private message through a room (XEP-0045 §7.5: type chat,
		// from or to room@service/nick) is not said in the room: stored
		// under the room's conversation, one occupant could show a single
		// member text, a page or an acknowledgement that the rest of the
		// team never sees. Rounds does not carry them; colleagues write to
		// each other's JIDs (rooms are non-anonymous, docs/ADMIN.md).
		s.log.Warn("sync: private message through a room not stored", "id", m.ID, "from", m.From, "to", m.To)
		return sm, false
	}
	switch {
	case m.Type == "groupchat":
		room := from
		if !s.isRoom(room) {
			return sm, false // not a room we joined: ignore, as XEP-0045 clients do
		}
		sm.ConversationID = room
		sm.StanzaID, sm.StanzaIDBy = m.StanzaIDBy(room), room
		sm.Direction = securestore.Incoming
		author := s.roomAuthor(m, archived)
		edit := m.RetractID != "" || m.ReplaceID != ""
		if s.isOwnAuthor(room, author) || (author == "" && !edit && s.isOwnEcho(m, &sm)) {
			sm.Direction = securestore.Outgoing
			author = s.account
		}
		setSender(&sm, author)
	case m.Carbon == xmpp.CarbonSent || (from == s.account && m.From != ""):
		// Sent by another of our devices.
		sm.ConversationID = xmpp.BareJID(m.To)
		sm.Direction = securestore.Outgoing
		sm.Receipt.State = securestore.ReceiptSent
		sm.Receipt.At[securestore.ReceiptSent] = sm.Timestamp
		sm.StanzaID, sm.StanzaIDBy = m.StanzaIDBy(s.account), s.account
		setSender(&sm, s.account)
	default:
		sm.ConversationID = from
		if thread := s.serviceThread(m); thread != "" {
			sm.ConversationID = thread // the escalation service's notice (escalation.go)
		}
		if sm.ConversationID == "" {
			sm.ConversationID = xmpp.BareJID(s.account) // from our server itself
		}
		sm.Direction = securestore.Incoming
		sm.StanzaID, sm.StanzaIDBy = m.StanzaIDBy(s.account), s.account
		setSender(&sm, from)
	}
	if sm.StanzaID == "" {
		sm.StanzaIDBy = ""
	}
	if sm.ConversationID == "" {
		return sm, false
	}
	if sm.Extra[extraResponseRef] != "" {
		s.resolveResponse(&sm)
	}
	s.settleReply(&sm, m) // replies.go
	if sm.Direction == securestore.Incoming {
		noteMentions(&sm, m) // mentions.go
	}
	sm.ConversationID = s.names.own(sm.ConversationID)
	if v, ok := sm.Extra[securestore.ExtraSender]; ok {
		sm.Extra[securestore.ExtraSender] = s.names.own(v)
	}
	if s.duplicateStep(m, sm) { // escalation.go
		s.log.Info("sync: escalation step already delivered by the ladder's other runner; not stored",
			"conversation", sm.ConversationID, "origin_id", sm.OriginID)
		return sm, false
	}
	return sm, true
}

// names holds one copy of each conversation id and sender the session has
// stored messages under. Those parsed from a stanza are parts of its frame
// (sync/xmpp decodes in place; jid.Bare returns the front of an address
// already folded), and they are kept for the whole session (the store's
// conversation cache, the app's per-conversation maps): kept as they are,
// a 20-byte id would keep a frame of up to 2 MiB alive. Looking up a known
// name allocates nothing; a new one is copied once.
type names struct {
	mu gosync.Mutex
	m  map[string]string
}

// maxNames bounds the table (senders from many addresses cannot grow it
// without end); past it, names are copied each time.
const maxNames = 1 << 14

// own returns a copy of s that shares no memory with s's frame.
func (n *names) own(s string) string {
	if s == "" {
		return s
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.m[s]; ok {
		return c
	}
	c := strings.Clone(s)
	if len(n.m) < maxNames {
		if n.m == nil {
			n.m = map[string]string{}
		}
		n.m[c] = c
	}
	return c
}

// roomPrivateMessage: m is not a groupchat message but comes from, or (ours,
// from another device) goes to, an occupant of a room we joined.
func (s *Session) roomPrivateMessage(m *xmpp.Message) bool {
	if m.Type == "groupchat" {
		return false
	}
	peer := m.From
	if m.Carbon == xmpp.CarbonSent || (xmpp.BareJID(m.From) == s.account && m.From != "") {
		peer = m.To
	}
	j, err := xmpp.ParseJID(peer)
	return err == nil && j.Resource != "" && s.isRoom(j.Bare().String())
}

// ownExtra adds the author (this account) to the Extra of a message we
// send, so its copies (carbon, reflection, archive) dedupe in its scope.
func (s *Session) ownExtra(x map[string]string) map[string]string {
	if x == nil {
		x = map[string]string{}
	}
	x[securestore.ExtraSender] = s.account
	return x
}

// setSender records the author's stable identity ("" = none).
func setSender(sm *securestore.Message, sender string) {
	if sender == "" {
		delete(sm.Extra, securestore.ExtraSender)
		return
	}
	if sm.Extra == nil {
		sm.Extra = map[string]string{}
	}
	sm.Extra[securestore.ExtraSender] = sender
}

// extraMarkable records that the sender asked for XEP-0333 markers.
const extraMarkable = "markable"

// learnStanzaID: our own message came back (MUC reflection, MAM) with the id
// the archive gave it; the store already has it by origin-id. Room members'
// markers quote that stanza-id, so it must be findable.
func (s *Session) learnStanzaID(sm securestore.Message) {
	if sm.StanzaID == "" {
		return
	}
	stored, err := s.store.MessageBySenderOriginID(sm.ConversationID, s.account, sm.OriginID)
	if err != nil {
		return
	}
	if stored.StanzaID == "" {
		if err := s.store.SetStanzaID(stored.ID, sm.StanzaID, sm.StanzaIDBy); err != nil {
			s.log.Warn("sync: recording stanza-id", "err", err)
		}
	}
	if stored.Direction == securestore.Outgoing {
		// The archive has it, so the server received it: off the Outbox,
		// whatever its receipt says. A recipient's receipt can overtake the
		// server's ack (delivered before sent), and an ack lost with a socket
		// leaves such a message queued; resending it would reach the peer twice.
		s.markSent(stored.ID)
		s.ownReplySent(stored.ID) // textack.go
	}
}

// onReceipt: a XEP-0184 receipt from a recipient's device moves our message to
// delivered. It quotes the id we sent, which is our origin-id. In a room
// (groupchat, or a private message through it) one occupant's receipt says
// only that this member's device has it: it counts for that member, named
// by stable identity (identity.go), as read markers do, never for the whole
// message; from our own occupant, or from one the room gives no stable
// identity, it counts for nothing.
func (s *Session) onReceipt(m *xmpp.Message) {
	if m.Carbon == xmpp.CarbonSent {
		return // our other device acknowledged someone else's message
	}
	conv := xmpp.BareJID(m.From)
	member := ""
	if s.isRoom(conv) {
		if member = s.receiptMember(conv, m); member == "" {
			return
		}
	}
	msg, err := s.store.MessageBySenderOriginID(conv, s.account, m.ReceiptFor)
	if err != nil || msg.Direction != securestore.Outgoing {
		return
	}
	s.advance(msg.ID, member, securestore.ReceiptDelivered, "")
}

// receiptMember names the room member whose device sent receipt m, for the
// per-member receipts: the real JID the room vouches for, or, where only an
// occupant-id names the author, the JID now holding it (else that
// occupant-id). "" for our own occupant or one without stable identity.
func (s *Session) receiptMember(room string, m *xmpp.Message) string {
	author := s.roomAuthor(m, false)
	if author == "" || s.isOwnAuthor(room, author) || s.isOwnOccupant(m.From) {
		return ""
	}
	id, isOccupantID := strings.CutPrefix(author, occupantIDPrefix)
	if !isOccupantID {
		return author
	}
	nick := ""
	if j, err := xmpp.ParseJID(m.From); err == nil {
		nick = j.Resource
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rooms[room]; r != nil && r.ids[nick] == id && r.members[nick] != "" {
		return r.members[nick]
	}
	return author
}

// onDisplayed: a XEP-0333 displayed marker. From a peer it moves our message
// to read; in a room it is per member; from our own other device (a sent
// carbon) it means the user read the conversation there.
func (s *Session) onDisplayed(m *xmpp.Message) {
	if m.Carbon == xmpp.CarbonSent {
		conv := xmpp.BareJID(m.To)
		// Our other device read the peer's message: the id it quotes is
		// the peer's (or, for a marker on our own, ours).
		if msg, err := s.referenced(conv, m.DisplayedFor, conv, s.account); err == nil {
			s.markReadLocally(conv, msg.ID)
		}
		return
	}
	conv := xmpp.BareJID(m.From)
	if m.Type == "groupchat" {
		if !s.isRoom(conv) {
			return
		}
		// Our own marker (another of our devices) moves nothing. Without a
		// stable identity the nick decides, which at worst ignores a marker.
		if author := s.roomAuthor(m, false); s.isOwnAuthor(conv, author) || (author == "" && s.isOwnOccupant(m.From)) {
			return
		}
		msg, err := s.store.MessageByStanzaID(conv, m.DisplayedFor)
		if err != nil || msg.Direction != securestore.Outgoing {
			return
		}
		member := s.memberKey(m.From)
		if member == "" {
			return // no real JID for this occupant: nobody to credit
		}
		s.advanceUpTo(msg, member, securestore.ReceiptRead)
		return
	}
	msg, err := s.store.MessageBySenderOriginID(conv, s.account, m.DisplayedFor)
	if err != nil || msg.Direction != securestore.Outgoing {
		return
	}
	s.advanceUpTo(msg, "", securestore.ReceiptRead)
}

// advanceUpTo applies a marker to a message and to the earlier outgoing ones
// of its conversation: XEP-0333 markers mean "everything up to here". The walk
// back stops at the first message already in that state, so each marker costs
// a page at most once; the oldest are advanced first, so whoever sees the
// referenced message advanced can rely on the earlier ones.
func (s *Session) advanceUpTo(msg securestore.Message, member string, st securestore.ReceiptState) {
	var earlier []securestore.MessageID
	cursor := msg.ID
walk:
	for {
		page, err := s.store.Before(msg.ConversationID, cursor, 50)
		if err != nil || len(page) == 0 {
			break
		}
		for i := len(page) - 1; i >= 0; i-- {
			m := page[i]
			if m.Direction != securestore.Outgoing {
				continue
			}
			cur := m.Receipt.State
			if member != "" {
				cur = m.Members[member].State
			}
			if cur >= st && cur != securestore.ReceiptFailed {
				break walk
			}
			earlier = append(earlier, m.ID)
		}
		cursor = page[0].ID
	}
	for i := len(earlier) - 1; i >= 0; i-- {
		s.advance(earlier[i], member, st, "")
	}
	s.advance(msg.ID, member, st, "")
}

// referenced resolves an id that a message of conv quotes, by the id kind
// the XEPs prescribe there: in a room, the stanza-id the room assigned
// (XEP-0424 §4, XEP-0461, XEP-0333 in groupchat, Rounds responses); in a
// chat, the origin-id (or the stanza's id) its sender chose, looked up in
// the scope of each possible sender in turn (the peer, us). A room member
// cannot make a quoted stanza-id name their own message by giving it that
// origin-id, and in a chat an id names only a message of the party given.
func (s *Session) referenced(conv, id string, senders ...string) (securestore.Message, error) {
	if id == "" {
		return securestore.Message{}, securestore.ErrNotFound
	}
	if s.isRoom(conv) {
		return s.store.MessageByStanzaID(conv, id)
	}
	for _, who := range senders {
		m, err := s.store.MessageBySenderOriginID(conv, who, id)
		if !errors.Is(err, securestore.ErrNotFound) {
			return m, err
		}
	}
	return securestore.Message{}, securestore.ErrNotFound
}

// onMessageError: the server or the recipient's server bounced our message.
func (s *Session) onMessageError(m *xmpp.Message) {
	conv := xmpp.BareJID(m.From)
	msg, err := s.store.MessageBySenderOriginID(conv, s.account, m.ID)
	if err != nil || msg.Direction != securestore.Outgoing {
		return
	}
	cond := ""
	if m.Error != nil {
		cond = m.Error.Condition
	}
	room := s.isRoom(conv)
	if room && s.resendAfterRejoin(conv, msg, cond) {
		return // roombounce.go
	}
	reason := "the server could not deliver this message"
	if cond != "" {
		reason = "the server could not deliver this message (" + cond + ")"
	}
	if r := roomBounceReason(cond); room && r != "" {
		reason = r
	}
	if err := s.store.OutboxRemove(msg.ID); err != nil {
		s.log.Warn("sync: outbox remove", "err", err)
	}
	s.advance(msg.ID, "", securestore.ReceiptFailed, reason)
}

// advance moves a receipt forward and tells the app if it moved.
func (s *Session) advance(id securestore.MessageID, member string, st securestore.ReceiptState, reason string) {
	now := s.clock.Now()
	changed, err := s.store.AdvanceReceipt(id, member, st, now, reason)
	if err != nil {
		s.log.Warn("sync: receipt", "err", err)
		return
	}
	if changed {
		s.emit(ReceiptChanged{Message: id, Member: member, State: st, At: now, Reason: reason})
	}
}

func (s *Session) onPresence(p *xmpp.Presence) {
	if s.onRoomPresence(p) {
		return
	}
	switch p.Type {
	case "", "unavailable":
		s.emit(PresenceChanged{From: p.From, Available: p.Type == "", Show: p.Show, Status: p.Status})
	case "subscribe":
		// The requester's address is stamped by their server (and, across
		// servers, checked by ours); whatever else the stanza says is theirs.
		if bare := xmpp.BareJID(p.From); bare != "" && bare != s.account {
			s.emit(PresenceRequested{From: bare})
		}
	}
}

func (s *Session) onRosterPush(it xmpp.RosterItem) {
	release, locked := s.enterHandler()
	defer release()
	if locked != nil {
		return // the unlocked Session's sign-in reads the whole roster
	}
	c := securestore.Contact{JID: xmpp.BareJID(it.JID), Name: it.Name, Subscription: it.Subscription, Groups: it.Groups}
	if it.Subscription == "remove" {
		if err := s.store.DeleteContact(c.JID); err != nil && !errors.Is(err, securestore.ErrNotFound) {
			s.log.Warn("sync: roster remove", "err", err)
		}
		s.emit(RosterChanged{Contact: c, Removed: true})
		return
	}
	if err := s.store.PutContact(c); err != nil {
		s.log.Warn("sync: roster push", "err", err)
		return
	}
	s.emit(RosterChanged{Contact: c})
}
