package sync

import (
	"context"
	"errors"
	"strings"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// room is a remembered XEP-0045 room: care teams and units.
type room struct {
	jid  string // bare room JID
	nick string
	// members maps occupant nick to real bare JID where the room reveals it
	// (non-anonymous rooms, which hospital rooms should be), so per-member
	// receipts name people, not nicknames. An occupant who leaves is
	// forgotten: the next holder of the nick is someone else.
	members map[string]string
	// joined: the room let us in on the current sign-in (catch-up reads
	// only these rooms' archives).
	joined bool
	// ids maps occupant nick to XEP-0421 occupant-id; selfID is ours. A room
	// that stamped our own presence with one stamps (and de-forges) messages
	// too, so then the occupant-id names authors (identity.go).
	ids    map[string]string
	selfID string
	// nonAnonymous: the room said (status 100) that every occupant sees real
	// JIDs, so the real JID on its archived messages is the room's word.
	nonAnonymous bool
	// rejoining: a bounce started a rejoin (roombounce.go); resends counts,
	// per origin-id, how often the room bounced that message since the
	// sign-in.
	rejoining bool
	resends   map[string]int
}

// ErrRoomNotFound: there is no room at that address. Joining never creates
// one (a room created by a join has the server's defaults: on Prosody,
// public and open to anyone); CreateRoom does, on purpose.
var ErrRoomNotFound = xmpp.ErrRoomNotFound

// ErrRoomExists: CreateRoom found a room already at that address.
var ErrRoomExists = xmpp.ErrRoomExists

// JoinRoom joins an existing room (without the server's history: catch-up
// reads the room's archive from our cursor instead, which dedupes) and
// remembers it, so it is rejoined after every fresh sign-in. A room that does
// not exist is ErrRoomNotFound and is not remembered (nothing is created on
// the server either). While offline the room is only remembered; the next
// sign-in joins it or reports RoomUnavailable.
func (s *Session) JoinRoom(ctx context.Context, roomJID, nick string) error {
	roomJID = xmpp.BareJID(roomJID)
	c := s.currentClient()
	if c == nil {
		s.mu.Lock()
		s.rooms[roomJID] = &room{jid: roomJID, nick: nick, members: map[string]string{}}
		s.mu.Unlock()
		if err := s.store.SetConversation(roomJID, securestore.KindRoom, ""); err != nil {
			return err
		}
		if s.cfg.FollowBookmarks {
			s.noteLeaving(roomJID, false) // published at the next sign-in
		}
		return s.saveRooms() // joined on the next sign-in
	}
	if err := s.enterRoom(ctx, c, roomJID, nick, func(ctx context.Context) error {
		return c.JoinRoom(ctx, roomJID, nick)
	}); err != nil {
		return err
	}
	s.joinedHere(ctx, c, roomJID, nick)
	return nil
}

// joinedHere: the user joined or created room on this device. Their other
// devices follow (bookmarks.go) and an invitation to it is done with.
func (s *Session) joinedHere(ctx context.Context, c *xmpp.Client, roomJID, nick string) {
	s.publishBookmark(ctx, c, roomJID, nick)
	if err := s.DismissInvitation(roomJID); err != nil {
		s.log.Warn("sync: forgetting an invitation", "err", err)
	}
}

// CreateRoom creates a room on purpose, configured as hospital rooms must be
// (members-only with members as its members, non-anonymous, persistent,
// hidden, archived; see xmpp.Client.CreateRoom), joins it as its owner under
// nick and remembers it like JoinRoom. It needs a connection. A room already
// at that address is ErrRoomExists. Like InviteToRoom, whose invitations
// usually follow, only once the Session is ready: not a room made during
// setup whose invitations could not go out.
func (s *Session) CreateRoom(ctx context.Context, roomJID, nick, name string, members []string) error {
	roomJID = xmpp.BareJID(roomJID)
	c := s.readyClient()
	if c == nil {
		return ErrNotConnected
	}
	if err := s.enterRoom(ctx, c, roomJID, nick, func(ctx context.Context) error {
		return c.CreateRoom(ctx, roomJID, nick, xmpp.RoomConfig{Name: name, Members: members})
	}); err != nil {
		return err
	}
	s.joinedHere(ctx, c, roomJID, nick)
	return nil
}

// enterRoom runs join with the room known to the Session (its presences
// and messages arrive while join waits), remembers the room once join
// succeeded and reads its archive; a failed join leaves the Session as it
// was.
func (s *Session) enterRoom(ctx context.Context, c *xmpp.Client, roomJID, nick string, join func(context.Context) error) error {
	s.mu.Lock()
	prev := s.rooms[roomJID]
	r := &room{jid: roomJID, nick: nick, members: map[string]string{}}
	s.rooms[roomJID] = r
	s.mu.Unlock()
	if err := join(ctx); err != nil {
		s.mu.Lock()
		if s.rooms[roomJID] == r {
			if prev != nil {
				s.rooms[roomJID] = prev
			} else {
				delete(s.rooms, roomJID)
			}
		}
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	r.joined = true
	s.mu.Unlock()
	if err := s.store.SetConversation(roomJID, securestore.KindRoom, ""); err != nil {
		return err
	}
	if err := s.saveRooms(); err != nil {
		return err
	}
	return s.catchUpArchive(ctx, c, roomJID)
}

// LeaveRoom leaves a room and forgets it; its messages stay in the store.
// Our other devices leave it too (its bookmark is retracted).
func (s *Session) LeaveRoom(ctx context.Context, roomJID string) error {
	roomJID = xmpp.BareJID(roomJID)
	s.mu.Lock()
	r := s.rooms[roomJID]
	delete(s.rooms, roomJID)
	s.mu.Unlock()
	if err := s.saveRooms(); err != nil {
		return err
	}
	c := s.currentClient()
	s.retractBookmark(ctx, c, roomJID)
	if c != nil && r != nil {
		return c.LeaveRoom(roomJID, r.nick)
	}
	return nil
}

// rejoinRooms joins the remembered rooms after a fresh sign-in. One room
// that refuses us or no longer exists must not keep the Session offline (a
// failed setup reconnects, and would meet the same room again, forever): it
// is skipped and reported (RoomUnavailable), and a room that no longer
// exists is forgotten (its messages stay). Only a dead connection fails the
// setup.
func (s *Session) rejoinRooms(ctx context.Context, c *xmpp.Client) error {
	if err := s.loadRooms(); err != nil {
		return err
	}
	gone := false
	for _, r := range s.roomList() {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		err := c.JoinRoom(sctx, r.jid, r.nick)
		cancel()
		if err == nil {
			s.setJoined(r.jid, true)
			continue
		}
		if ctx.Err() != nil || errors.Is(err, xmpp.ErrClosed) || isDone(c) {
			return err
		}
		s.setJoined(r.jid, false)
		ev := RoomUnavailable{Room: r.jid, Gone: errors.Is(err, xmpp.ErrRoomNotFound)}
		var se *xmpp.StanzaError
		if errors.As(err, &se) {
			ev.Condition = se.Condition
		}
		if ev.Gone {
			s.mu.Lock()
			delete(s.rooms, r.jid)
			s.mu.Unlock()
			gone = true
		}
		s.log.Warn("sync: room not joined; going on without it", "room", r.jid, "gone", ev.Gone, "err", err)
		s.emit(ev)
	}
	if gone {
		return s.saveRooms()
	}
	return nil
}

func isDone(c *xmpp.Client) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func (s *Session) setJoined(roomJID string, joined bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rooms[roomJID]; r != nil {
		r.joined = joined
	}
}

// InRoom reports whether room is remembered and was joined on the current
// (or, while offline, the last) sign-in.
func (s *Session) InRoom(roomJID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[xmpp.BareJID(roomJID)]
	return r != nil && r.joined
}

// joinedRooms lists the rooms joined on this sign-in.
func (s *Session) joinedRooms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.rooms))
	for _, r := range s.rooms {
		if r.joined {
			out = append(out, r.jid)
		}
	}
	return out
}

func (s *Session) roomList() []room {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]room, 0, len(s.rooms))
	for _, r := range s.rooms {
		out = append(out, room{jid: r.jid, nick: r.nick})
	}
	return out
}

func (s *Session) isRoom(jid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.rooms[xmpp.BareJID(jid)]
	return ok
}

// isOwnOccupant: the occupant JID room@service/nick carries our nick in that
// room. A nick is not an identity (anyone may take it once we leave): this
// never decides authorship (identity.go), only whether to ignore a marker.
func (s *Session) isOwnOccupant(occupant string) bool {
	j, err := xmpp.ParseJID(occupant)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[j.Bare().String()]
	return ok && r.nick == j.Resource
}

// memberKey names a room member for per-member receipts: the real bare JID
// the room told us for that occupant (non-anonymous rooms), else "": a nick
// alone names nobody (anyone may take it once its holder leaves), so a
// marker from such an occupant must not say who read a message.
func (s *Session) memberKey(occupant string) string {
	j, err := xmpp.ParseJID(occupant)
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rooms[j.Bare().String()]; ok {
		return r.members[j.Resource]
	}
	return ""
}

// responder names the room member who sent stored response sm, for the
// page's per-member receipts: its stable author (Extra sender, identity.go)
// when that is a JID, or the JID of whoever holds that occupant-id now;
// otherwise the nick it was sent under, never mapped through today's
// occupants. A response read from the archive may be older than today's
// nick holder: mapped through the current occupants, an acknowledgement
// that mallory gave under the nick "bob" would be recorded as bob's.
func (s *Session) responder(sm securestore.Message) string {
	j, err := xmpp.ParseJID(sm.From)
	if err != nil {
		return sm.From
	}
	author := sm.Extra[securestore.ExtraSender]
	id, isOccupantID := strings.CutPrefix(author, occupantIDPrefix)
	switch {
	case author == "":
		return j.Resource
	case !isOccupantID:
		return author
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rooms[j.Bare().String()]; r != nil {
		for nick, oid := range r.ids {
			if oid == id && r.members[nick] != "" {
				return r.members[nick]
			}
		}
	}
	return j.Resource
}

// onRoomPresence tracks occupants of joined rooms; it reports whether the
// presence was a room's.
func (s *Session) onRoomPresence(p *xmpp.Presence) bool {
	j, err := xmpp.ParseJID(p.From)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[j.Bare().String()]
	if !ok {
		return false
	}
	nick := j.Resource
	if nick == "" {
		return true
	}
	if p.Type == "unavailable" {
		delete(r.members, nick)
		delete(r.ids, nick)
		return true
	}
	if p.Type != "" {
		return true
	}
	if real := xmpp.OccupantRealJID(p); real != "" {
		r.members[nick] = xmpp.BareJID(real)
	} else {
		delete(r.members, nick)
	}
	oid := xmpp.OccupantID(p.Stanza)
	if r.ids == nil {
		r.ids = map[string]string{}
	}
	if oid != "" {
		r.ids[nick] = oid
	} else {
		delete(r.ids, nick)
	}
	if xmpp.IsSelfPresence(p) {
		r.selfID = oid
		r.nonAnonymous = xmpp.IsNonAnonymousRoom(p)
	}
	return true
}

// Joined rooms are a setting so that a restart rejoins them.
const settingRooms = "sync.rooms"

func (s *Session) saveRooms() error {
	var b []byte
	for _, r := range s.roomList() {
		b = append(b, r.jid...)
		b = append(b, 0)
		b = append(b, r.nick...)
		b = append(b, 0)
	}
	return s.store.SetSetting(settingRooms, b)
}

func (s *Session) loadRooms() error {
	b, err := s.store.Setting(settingRooms)
	if err != nil {
		if err == securestore.ErrNotFound {
			return nil
		}
		return err
	}
	var parts []string
	start := 0
	for i, c := range b {
		if c == 0 {
			parts = append(parts, string(b[start:i]))
			start = i + 1
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i+1 < len(parts); i += 2 {
		if _, ok := s.rooms[parts[i]]; !ok {
			s.rooms[parts[i]] = &room{jid: parts[i], nick: parts[i+1], members: map[string]string{}}
		}
	}
	return nil
}
