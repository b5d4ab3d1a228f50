package sync

import (
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Who wrote a room message. A nick is whatever the occupant typed at join;
// when one member leaves, anyone can take the nick. So authorship (whose
// message this is, whether it is ours, who may recall or correct it) is
// decided by a stable identity the room vouches for, never by the nick:
//   - XEP-0421 occupant-id, where the room stamps them: stable per real
//     account in that room, on live and archived messages, forged ones
//     removed by the room. A room that stamped our own presence does this.
//   - else the real JID: live, the one the room's presence gave for the nick
//     (non-anonymous rooms, or to moderators); archived, the one the room put
//     on the message (non-anonymous rooms).
//   - else none: the message is stored as someone else's, and no one may
//     edit it through the room.
// Rounds rooms are members-only and non-anonymous (docs/ADMIN.md).

// occupantIDPrefix marks an author named by XEP-0421 occupant-id (bare JIDs
// name the rest; the two cannot collide, as a JID has no "occupant-id:").
const occupantIDPrefix = "occupant-id:"

// roomAuthor names the author of groupchat message m, or "" if the room
// gives no stable identity. archived: m came out of the room's archive.
func (s *Session) roomAuthor(m *xmpp.Message, archived bool) string {
	j, err := xmpp.ParseJID(m.From)
	if err != nil || j.Resource == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[j.Bare().String()]
	switch {
	case r == nil:
		return ""
	case r.selfID != "":
		if m.OccupantID == "" {
			return ""
		}
		return occupantIDPrefix + m.OccupantID
	case archived:
		if r.nonAnonymous {
			return m.RealJID
		}
		return ""
	default:
		return r.members[j.Resource]
	}
}

// isOwnAuthor: author (from roomAuthor) is this account in room.
func (s *Session) isOwnAuthor(room, author string) bool {
	if author == "" {
		return false
	}
	if author == s.account {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	return r != nil && r.selfID != "" && author == occupantIDPrefix+r.selfID
}

// isOwnEcho: in a room that gives no stable identity, a groupchat message
// under our nick is our own only if it is the room's copy of a message we
// sent: it carries the origin-id of one of our messages in that room and
// the same text. A nick-holder who is not us gains nothing from that: the
// message is already ours, word for word.
func (s *Session) isOwnEcho(m *xmpp.Message, sm *securestore.Message) bool {
	j, err := xmpp.ParseJID(m.From)
	if err != nil || sm.OriginID == "" {
		return false
	}
	s.mu.Lock()
	r := s.rooms[j.Bare().String()]
	ours := r != nil && r.nick == j.Resource
	s.mu.Unlock()
	if !ours {
		return false
	}
	mine, err := s.store.MessageBySenderOriginID(sm.ConversationID, s.account, sm.OriginID)
	return err == nil && mine.Direction == securestore.Outgoing && mine.Body == sm.Body
}
