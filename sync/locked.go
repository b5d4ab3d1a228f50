package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	gosync "sync"
	"sync/atomic"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Locked but listening (docs/STORE.md, "Locked inbox"; docs/PROTOCOL.md,
// "While locked"). When the app locks, the Session does not stop: Lock hands
// it the store's locked inbox, and from then on it never touches the store
// (which the app closes). Every message stanza is sealed into the inbox as
// it arrived, and only when that is on disk does the handler return (so the
// XEP-0198 ack follows the fsync) and a delivery receipt go out. A read
// marker never goes out: nothing can be displayed. The app hears only
// ArrivedLocked: a level, no sender, no text.
//
// Catch-up from the archives waits for the unlock: a fresh sign-in while
// locked (the socket was cut and could not be resumed) joins the rooms the
// Session knows and announces presence, but leaves the store's archive
// cursors where they were, so the unlocked Session's catch-up fetches
// whatever the gap held. Nothing is lost either way; what was sealed and is
// fetched again is deduplicated at the merge.
//
// At unlock the app starts a new Session on the reopened store, which merges
// the inbox (MergeLockedInbox) through the same path live messages take,
// before it signs in.

// lockedListen is the Session's locked state. handling is held for reading
// by every handler that may write the store, and for writing by Lock, so
// that once Lock returns no handler is still inside the store.
type lockedListen struct {
	handling gosync.RWMutex
	state    atomic.Pointer[lockedState]
}

type lockedState struct {
	inbox *securestore.Inbox
	// creds are the SCRAM keys (and what the app passed) read from the
	// store before it closed, to sign in again while locked.
	creds xmpp.Credentials
	mu    gosync.Mutex
	seen  map[string]bool // who|id of messages announced while locked
	// pages are the messages announced while locked that ask for
	// acknowledgement, by conversation|the id a response quotes, so
	// that an acknowledgement from another device (or, in a room, from
	// the team) ends their alert while locked too.
	pages map[string]lockedPage
	// answer is the app's do-not-disturb decision, given each message
	// someone else wrote to us once it is sealed (LockAnswering).
	answer func(m securestore.Message, room bool)
	// sent are the origin-ids of automatic messages sent while locked.
	sent map[string]bool
}

type lockedPage struct {
	arrived ArrivedLocked
	from    string // the full JID that sent it (a room occupant)
}

// LockedAnswered: a message announced by ArrivedLocked was acknowledged
// (or, by the user, declined) elsewhere while locked: on another of the
// user's devices, or, in a room, by a member other than its author. It
// carries what ArrivedLocked carried, so the app can take it off the
// count and stop ringing for it.
type LockedAnswered struct {
	Urgency     securestore.Urgency
	AckRequired bool
}

func (LockedAnswered) isEvent() {}

// ArrivedLocked: a message arrived while locked and is sealed in the locked
// inbox; it is in the store only after the unlock. It carries what a
// content-free notification needs and nothing else: the level.
type ArrivedLocked struct {
	Urgency     securestore.Urgency
	AckRequired bool
}

func (ArrivedLocked) isEvent() {}

// Lock puts a running Session into locked mode: from its return on, the
// Session does not use its store, and incoming messages go to inbox. The
// caller closes the store afterwards. A Session once locked stays locked
// until it ends (the unlock starts a new one).
func (s *Session) Lock(inbox *securestore.Inbox) { s.LockAnswering(inbox, nil) }

// LockAnswering is Lock, and while locked it hands answer each chat
// message someone else wrote to us, after it is sealed, as the unlocked
// path would store it (room: its conversation is a room), so that do not
// disturb answers and forwards while locked: answer may call SendAuto and
// Forward, which send on the wire and seal our copy into the inbox (the
// merge stores it, and finds the same derived origin-id already stored
// when the unlocked path decides again). answer runs on the read loop.
func (s *Session) LockAnswering(inbox *securestore.Inbox, answer func(m securestore.Message, room bool)) {
	creds := s.credentials(s.cfg.XMPP.Credentials)
	s.lk.handling.Lock()
	// The server's acks still waiting to be written (MarkSentSoon) are
	// written now, and what follows them (our own text acknowledgement,
	// repliesSent) done, while the store is still ours: no handler runs
	// to queue more, and after Lock the app closes the store.
	if err := s.store.FlushSent(); err != nil {
		s.log.Warn("sync: marking sent", "err", err)
	}
	s.repliesSent.wait()
	s.lk.state.Store(&lockedState{inbox: inbox, creds: creds, seen: map[string]bool{}, pages: map[string]lockedPage{},
		answer: answer, sent: map[string]bool{}})
	s.lk.handling.Unlock()
	s.log.Info("sync: locked; listening into the locked inbox")
}

// Locked reports whether Lock was called.
func (s *Session) Locked() bool { return s.lk.state.Load() != nil }

// enterHandler holds off Lock while a handler that may write the store
// runs; locked says the store is not to be used.
func (s *Session) enterHandler() (release func(), locked *lockedState) {
	s.lk.handling.RLock()
	return s.lk.handling.RUnlock, s.lk.state.Load()
}

// lockedEntry is one inbox entry: the message as it arrived and what this
// device knew about it then. Encoded as JSON inside the sealed box.
type lockedEntry struct {
	V int `json:"v"`
	// Stanza is the message element (the inner one of a carbon),
	// re-serialised; Carbon is the carbon direction the client validated.
	Stanza []byte `json:"stanza,omitempty"`
	Carbon int    `json:"carbon,omitempty"`
	// Unreadable is the part known of a message that could not be decoded.
	Unreadable *lockedUnreadable `json:"unreadable,omitempty"`
	// At is this device's clock at arrival; Stamp the time stampTime
	// chose then (a <delay/> is believed or not by who held the stream).
	At    time.Time `json:"at"`
	Stamp time.Time `json:"stamp"`
	// Receipt: a delivery receipt was sent for it.
	Receipt bool `json:"receipt,omitempty"`
	// SentLocked: our own automatic message, sent by this device while
	// locked (the merge marks the stored copy ExtraSentLocked).
	SentLocked bool `json:"sent_locked,omitempty"`
}

type lockedUnreadable struct {
	ID, From, To, Type, OriginID string
	StanzaIDs                    []xmpp.StanzaID
	Reason                       string
	Size                         int64
}

const lockedEntryVersion = 1

// maxLockedSeen bounds the ids remembered while locked (to announce a
// message resent after a cut socket once): a flood cannot grow memory
// without end; past it, a resent message may be announced twice.
const maxLockedSeen = 20000

// sealArrival is onWireMessage while locked.
func (s *Session) sealArrival(ls *lockedState, m *xmpp.Message) {
	now := s.clock.Now()
	e := lockedEntry{V: lockedEntryVersion, At: now, Carbon: int(m.Carbon)}
	var sm securestore.Message
	sm.Timestamp = now
	s.stampTime(&sm, m, time.Time{})
	e.Stamp = sm.Timestamp
	if u := m.Unreadable; u != nil {
		e.Unreadable = &lockedUnreadable{ID: m.ID, From: m.From, To: m.To, Type: m.Type, OriginID: m.OriginID,
			StanzaIDs: m.StanzaIDs, Reason: u.Reason, Size: u.Size}
	} else if m.Stanza != nil {
		e.Stanza = m.Stanza.AppendXML(nil)
	} else {
		return
	}
	incoming := m.Unreadable == nil && s.lockedIncoming(m)
	e.Receipt = incoming && m.ReceiptRequested && m.Carbon == xmpp.NotCarbon
	b, err := json.Marshal(e)
	if err != nil {
		s.log.Error("sync: encoding a locked inbox entry", "err", err)
		return
	}
	err = ls.inbox.Put(b)
	clear(b)
	clear(e.Stanza)
	if err != nil {
		// Not sealed, so no receipt: the unlocked Session's catch-up
		// fetches it from the archive.
		s.log.Error("sync: sealing a message while locked", "err", err)
		if !errors.Is(err, securestore.ErrInboxFull) {
			return
		}
		// A full inbox (a flood) must not silence a STAT page that
		// comes after it: it is still announced by its level.
		e.Receipt = false
	}
	if e.Receipt {
		if r := xmpp.NewReceipt(m); r != nil {
			if c := s.currentClient(); c != nil {
				_ = c.Send(r)
			}
		}
	}
	if m.Unreadable == nil {
		s.lockedAnswer(ls, m)
	}
	if !incoming {
		return
	}
	if m.Wipe != nil {
		// The directive the unlocked path would report, by its rule
		// (wipeRequest on the message as it would be stored).
		if sm, ok := s.toStored(m, false); ok {
			if w, ok := s.wipeRequest(sm); ok {
				w.Locked = true
				s.emit(w)
			}
		}
	}
	key := xmpp.BareJID(m.From) + "|" + m.StanzaIDBy(s.account)
	if m.Type == "groupchat" {
		key = xmpp.BareJID(m.From) + "|" + m.StanzaIDBy(xmpp.BareJID(m.From))
	}
	if m.OriginID != "" {
		key += "|" + m.OriginID
	} else {
		key += "|" + m.ID
	}
	ls.mu.Lock()
	dup := ls.seen[key]
	if len(ls.seen) < maxLockedSeen {
		ls.seen[key] = true
	}
	ls.mu.Unlock()
	if dup {
		s.log.Info("sync: duplicate arrived while locked; sealed, not announced")
		return
	}
	var clin securestore.Message
	s.noteClinical(&clin, m)
	a := ArrivedLocked{Urgency: clin.Urgency, AckRequired: clin.Extra[ExtraAck] == "required"}
	if a.AckRequired || a.Urgency >= securestore.UrgencyHigh {
		// The id a response to it quotes (Respond): the room's
		// stanza-id in a room, the sender's origin-id (else id) in a chat.
		ref := m.OriginID
		if ref == "" {
			ref = m.ID
		}
		if m.Type == "groupchat" {
			ref = m.StanzaIDBy(xmpp.BareJID(m.From))
		}
		if ref != "" {
			ls.mu.Lock()
			if len(ls.pages) < maxLockedSeen {
				ls.pages[xmpp.BareJID(m.From)+"|"+ref] = lockedPage{arrived: a, from: m.From}
			}
			ls.mu.Unlock()
		}
	}
	s.emit(a)
	if ls.answer != nil && m.Type != "groupchat" && plainMessage(m) {
		if sm, ok := s.toStored(m, false); ok && sm.Direction == securestore.Incoming {
			sm.Timestamp = e.Stamp
			ls.answer(sm, s.isRoom(sm.ConversationID))
		}
	}
}

// sendLocked is SendAuto while locked: the store is closed, so the message
// goes on the wire at once (not through the Outbox) and, once sent, our
// copy is sealed into the locked inbox; the merge stores it as sent. Not
// connected: not sent (an error), and the unlocked path decides again
// after the merge. A crash between the send and the seal sends it again
// after the unlock with the same origin-id, which receivers dedupe.
func (s *Session) sendLocked(ls *lockedState, conv, body string, opts SendOptions) (securestore.Message, error) {
	if body == "" {
		return securestore.Message{}, errors.New("sync: empty message")
	}
	if _, err := xmpp.ParseJID(conv); err != nil {
		return securestore.Message{}, fmt.Errorf("sync: conversation %q: %w", conv, err)
	}
	ls.mu.Lock()
	dup := ls.sent[opts.OriginID]
	ls.mu.Unlock()
	if dup {
		return securestore.Message{}, ErrAlreadySent
	}
	now := s.clock.Now()
	m := securestore.Message{
		ConversationID: xmpp.BareJID(conv), From: s.account, To: xmpp.BareJID(conv),
		Direction: securestore.Outgoing, Body: body, OriginID: opts.OriginID,
		Timestamp: now, ReceivedAt: now, Urgency: opts.Urgency,
		Extra: s.ownExtra(opts.storedExtra()),
	}
	el := s.stanzaFor(m)
	c := s.currentClient()
	if c == nil {
		return securestore.Message{}, errors.New("sync: not connected while locked")
	}
	if err := c.Send(el); err != nil {
		return securestore.Message{}, err
	}
	ls.mu.Lock()
	if len(ls.sent) < maxLockedSeen {
		ls.sent[opts.OriginID] = true
	}
	ls.mu.Unlock()
	e := lockedEntry{V: lockedEntryVersion, At: now, Stamp: now, Carbon: int(xmpp.CarbonSent), SentLocked: true,
		Stanza: el.AppendXML(nil)}
	b, err := json.Marshal(e)
	if err == nil {
		err = ls.inbox.Put(b)
		clear(b)
	}
	clear(e.Stanza)
	if err != nil {
		// Sent but not sealed: after the unlock it is sent again, with
		// the same origin-id (receivers keep one copy).
		s.log.Error("sync: sealing an automatic message sent while locked", "err", err)
	}
	return m, nil
}

// lockedAnswer: m, sealed while locked, acknowledges a page announced
// while locked: the user's own response from another device (a carbon, or
// our occupant in a room: an ack or a decline), or in a room an ack from a
// member other than the page's author. Then LockedAnswered.
func (s *Session) lockedAnswer(ls *lockedState, m *xmpp.Message) {
	r := m.Response
	if r == nil || m.Type == "error" {
		return
	}
	var conv string
	var own bool
	switch {
	case m.Type == "groupchat":
		if !s.isRoom(m.From) {
			return
		}
		conv, own = xmpp.BareJID(m.From), s.isOwnOccupant(m.From)
	case m.Carbon == xmpp.CarbonSent:
		conv, own = xmpp.BareJID(m.To), true
	default:
		return
	}
	key := conv + "|" + r.ID
	ls.mu.Lock()
	p, ok := ls.pages[key]
	ends := ok && ((r.Kind == xmpp.ResponseAck && (own || m.From != p.from)) || (own && r.Kind == xmpp.ResponseDecline))
	if ends {
		delete(ls.pages, key)
	}
	ls.mu.Unlock()
	if ends {
		s.emit(LockedAnswered(p.arrived))
	}
}

// setupLocked is the rest of setup after a fresh sign-in while locked:
// presence and the rooms the Session knows. No roster, no catch-up, no org
// nodes, no outbox: they read or write the store, and the unlocked
// Session's sign-in does them (its catch-up starts from the cursors the
// store kept, so the gap a cut socket left is fetched then).
func (s *Session) setupLocked(ctx context.Context, c *xmpp.Client) error {
	s.mu.Lock()
	show, status, active := s.show, s.status, s.active
	s.mu.Unlock()
	if err := c.SetPresence(show, status); err != nil {
		return err
	}
	if !active {
		_ = c.SetActive(false)
	}
	for _, r := range s.roomList() {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		err := c.JoinRoom(sctx, r.jid, r.nick)
		cancel()
		s.setJoined(r.jid, err == nil)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, xmpp.ErrClosed) || isDone(c) {
				return err
			}
			s.log.Warn("sync: room not joined while locked", "room", r.jid, "err", err)
		}
	}
	return nil
}

// lockedIncoming: m is a message someone else wrote to us that the
// unlocked path would store as incoming (not our own copy, not an edit, a
// receipt or a marker only, not a room we are not in).
func (s *Session) lockedIncoming(m *xmpp.Message) bool {
	switch {
	case m.Type == "error", m.PubSub != nil, m.Body == "", m.RetractID != "", m.ReplaceID != "":
		return false
	case m.Carbon == xmpp.CarbonSent, xmpp.BareJID(m.From) == s.account:
		return false
	case s.roomPrivateMessage(m):
		return false
	case m.Type == "groupchat":
		return s.isRoom(m.From) && !s.isOwnOccupant(m.From)
	}
	return true
}

// mergeBatch is how many plain messages one merge transaction stores (a
// catch-up page's size).
const mergeBatch = 250

// plainMessage: m is a message with a body and nothing else the live path
// handles apart (an edit, a receipt or marker, an error, a node event).
func plainMessage(m *xmpp.Message) bool {
	return m.Unreadable == nil && m.Body != "" && m.Type != "error" && m.PubSub == nil &&
		m.RetractID == "" && m.ReplaceID == "" && m.ReceiptFor == "" && m.DisplayedFor == ""
}

// decodeLockedEntry reads an inbox entry back into the wire message it
// was. It never panics on damaged input.
func decodeLockedEntry(b []byte) (*xmpp.Message, lockedEntry, error) {
	var e lockedEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, e, fmt.Errorf("sync: locked inbox entry: %w", err)
	}
	if e.V != lockedEntryVersion {
		return nil, e, fmt.Errorf("sync: locked inbox entry version %d", e.V)
	}
	if e.Carbon < int(xmpp.NotCarbon) || e.Carbon > int(xmpp.CarbonSent) {
		return nil, e, errors.New("sync: locked inbox entry: bad carbon direction")
	}
	if u := e.Unreadable; u != nil {
		if len(e.Stanza) != 0 {
			return nil, e, errors.New("sync: locked inbox entry: both a stanza and an unreadable message")
		}
		m := &xmpp.Message{ID: u.ID, From: u.From, To: u.To, Type: u.Type, OriginID: u.OriginID, StanzaIDs: u.StanzaIDs,
			Carbon: xmpp.CarbonDirection(e.Carbon), Unreadable: &xmpp.Unreadable{Reason: u.Reason, Size: u.Size}}
		return m, e, nil
	}
	el, err := xmpp.DecodeElement(e.Stanza, xmpp.Limits{})
	if err != nil {
		return nil, e, fmt.Errorf("sync: locked inbox entry: %w", err)
	}
	if el.Name.Local != "message" || el.Name.Space != xmpp.NSClient {
		return nil, e, fmt.Errorf("sync: locked inbox entry is a %q, not a message", el.Name.Local)
	}
	m := xmpp.ParseMessage(el)
	m.Carbon = xmpp.CarbonDirection(e.Carbon)
	return m, e, nil
}

// replayed says that a message comes from the locked inbox: when it
// arrived, the time stampTime chose then, which entry it was, and whether
// the merge stored it (moving the merge cursor with it).
type replayed struct {
	at, stamp time.Time
	gen       string
	seq       uint64
	merged    bool
	err       error // storing failed: the merge stops here
}

// MergeLockedInbox stores what arrived while the app was locked: every
// entry of the store's locked inbox, in arrival order, through the path a
// live message takes (dedupe, edits, receipts, clinical), each stored with
// the inbox's merge cursor in one transaction, and then removes the inbox.
// Call it on a new Session before Run: it sends nothing (the receipts went
// out while locked). It returns how many entries it merged.
func (s *Session) MergeLockedInbox() (int, error) {
	gen, entries, damaged, err := s.store.LockedInbox()
	if err != nil {
		return 0, err
	}
	if gen == "" {
		return 0, nil
	}
	if damaged > 0 {
		s.log.Warn("sync: locked inbox entries that do not open were skipped", "count", damaged)
	}
	if err := s.loadRooms(); err != nil {
		s.log.Warn("sync: rooms not loaded before the locked inbox merge", "err", err)
	}
	// Plain messages are stored in batches (one transaction, the cursor
	// at the batch's last entry), as a catch-up page is: one commit per
	// entry would keep a STAT at the end of a long queue from its alert
	// for seconds. Anything else (receipts, markers, edits, errors, node
	// events, unreadable messages) flushes the batch and takes the live
	// path, in arrival order.
	var (
		batch  []securestore.Message
		last   uint64 // the last entry handled
		stored uint64 // the last entry the cursor is past
	)
	flush := func() error {
		if last == stored {
			return nil
		}
		added, err := s.store.AppendFromInbox(batch, gen, last)
		if err != nil {
			return fmt.Errorf("sync: locked inbox merge: %w", err)
		}
		stored = last
		convs := map[string]bool{}
		var list []string
		for _, m := range batch {
			if !convs[m.ConversationID] {
				convs[m.ConversationID] = true
				list = append(list, m.ConversationID)
			}
		}
		if added = s.settleEdits(list, added); len(added) > 0 {
			s.applyResponses(added)
			s.emit(MessagesAdded{Messages: added, CatchUp: true})
			s.afterStored(added)
		}
		if len(added) < len(batch) {
			s.reconcileOwn(batch, added)
		}
		batch = batch[:0]
		return nil
	}
	for _, en := range entries {
		m, e, err := decodeLockedEntry(en.Data)
		clear(en.Data)
		if err != nil {
			s.log.Warn("sync: locked inbox entry skipped", "seq", en.Seq, "err", err)
			last = en.Seq
			continue
		}
		if plainMessage(m) {
			if sm, ok := s.toStored(m, false); ok {
				if e.SentLocked && sm.Direction == securestore.Outgoing {
					if sm.Extra == nil {
						sm.Extra = map[string]string{}
					}
					sm.Extra[ExtraSentLocked] = "1"
				}
				sm.ReceivedAt = e.At
				s.stampTime(&sm, m, e.Stamp)
				batch = append(batch, sm)
			}
			last = en.Seq
			if len(batch) >= mergeBatch {
				if err := flush(); err != nil {
					return 0, err
				}
			}
			continue
		}
		if err := flush(); err != nil {
			return 0, err
		}
		r := &replayed{gen: gen, seq: en.Seq, at: e.At, stamp: e.Stamp}
		if m.Unreadable != nil {
			s.onUnreadable(m)
		} else {
			s.handleMessage(m, r)
		}
		if r.err != nil {
			return 0, fmt.Errorf("sync: locked inbox merge: %w", r.err)
		}
		last = en.Seq
		if r.merged {
			stored = en.Seq
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := s.store.DiscardLockedInbox(gen); err != nil {
		s.log.Warn("sync: merged locked inbox not removed", "err", err)
	}
	s.log.Info("sync: locked inbox merged", "entries", len(entries))
	return len(entries), nil
}
