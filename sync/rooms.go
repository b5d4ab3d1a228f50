package sync

import (
	"context"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// room is a joined XEP-0045 room: care teams and units.
type room struct {
	jid  string // bare room JID
	nick string
	// members maps occupant nick to real bare JID where the room reveals it
	// (non-anonymous rooms, which hospital rooms should be), so per-member
	// receipts name people, not nicknames.
	members map[string]string
}

// JoinRoom joins a room (without the server's history: catch-up reads the
// room's archive from our cursor instead, which dedupes) and remembers it, so
// it is rejoined after every fresh sign-in.
func (s *Session) JoinRoom(ctx context.Context, roomJID, nick string) error {
	roomJID = xmpp.BareJID(roomJID)
	s.mu.Lock()
	s.rooms[roomJID] = &room{jid: roomJID, nick: nick, members: map[string]string{}}
	s.mu.Unlock()
	if err := s.store.SetConversation(roomJID, securestore.KindRoom, ""); err != nil {
		return err
	}
	if err := s.saveRooms(); err != nil {
		return err
	}
	c := s.currentClient()
	if c == nil {
		return nil // joined on the next sign-in
	}
	if err := c.JoinRoom(ctx, roomJID, nick); err != nil {
		return err
	}
	return s.catchUpArchive(ctx, c, roomJID)
}

// LeaveRoom leaves a room and forgets it; its messages stay in the store.
func (s *Session) LeaveRoom(ctx context.Context, roomJID string) error {
	roomJID = xmpp.BareJID(roomJID)
	s.mu.Lock()
	r := s.rooms[roomJID]
	delete(s.rooms, roomJID)
	s.mu.Unlock()
	if err := s.saveRooms(); err != nil {
		return err
	}
	if c := s.currentClient(); c != nil && r != nil {
		return c.LeaveRoom(roomJID, r.nick)
	}
	return nil
}

func (s *Session) rejoinRooms(ctx context.Context, c *xmpp.Client) error {
	if err := s.loadRooms(); err != nil {
		return err
	}
	for _, r := range s.roomList() {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		err := c.JoinRoom(sctx, r.jid, r.nick)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
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

// isOwnOccupant: the occupant JID room@service/nick is us in that room.
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

// memberKey names a room member for per-member receipts: the real bare JID if
// the room told us, else the nick.
func (s *Session) memberKey(occupant string) string {
	j, err := xmpp.ParseJID(occupant)
	if err != nil {
		return occupant
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rooms[j.Bare().String()]; ok {
		if real := r.members[j.Resource]; real != "" {
			return real
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
	if real := xmpp.OccupantRealJID(p); real != "" {
		r.members[j.Resource] = xmpp.BareJID(real)
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
