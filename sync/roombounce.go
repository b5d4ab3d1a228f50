package sync

import (
	"context"
	"errors"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// maxRoomResends bounds how often one message is sent again after its room
// bounced it: a room that keeps dropping us right after every rejoin must
// not keep a message (and the stream) busy forever.
const maxRoomResends = 3

// notInRoom reports whether a groupchat bounce means "you were not in the
// room when this arrived" rather than "you may not post here". Prosody 0.12
// answers not-acceptable ("You are not currently connected to this chat")
// once the room has dropped the occupant, e.g. after a restart, when a
// message it passed to the occupant's old session bounced (status 333). The
// rest are the routing errors a room or its server gives while it is away or
// being reloaded; item-not-found may also mean the room is gone, which the
// rejoin then says.
func notInRoom(condition string) bool {
	switch condition {
	case "not-acceptable", "service-unavailable", "recipient-unavailable", "item-not-found",
		"remote-server-not-found", "remote-server-timeout", "internal-server-error", "resource-constraint":
		return true
	}
	return false
}

// resendAfterRejoin keeps a room message the room bounced on the Outbox
// (same origin-id, so the room and its members dedupe a copy that did get
// through) and rejoins the room, which sends it again. It reports false when
// the bounce is final: a refusal such as forbidden (no voice), or a message
// that bounced maxRoomResends times already.
func (s *Session) resendAfterRejoin(conv string, msg securestore.Message, condition string) bool {
	if !notInRoom(condition) {
		return false
	}
	s.mu.Lock()
	r := s.rooms[conv]
	c := s.client
	if r == nil || c == nil || r.resends[msg.OriginID] >= maxRoomResends {
		s.mu.Unlock()
		return false
	}
	if r.resends == nil {
		r.resends = map[string]int{}
	}
	r.resends[msg.OriginID]++
	delete(s.inflight, msg.OriginID)
	r.joined = false
	start := !r.rejoining
	r.rejoining = true
	gen := s.gen
	s.mu.Unlock()
	// The server may have acknowledged the stanza before the bounce came:
	// then it left the Outbox already.
	if err := s.store.Requeue(msg.ID); err != nil {
		s.log.Warn("sync: requeue of a bounced room message", "id", msg.ID, "err", err)
	}
	s.log.Info("sync: room bounced a message; rejoining to send it again", "room", conv, "origin_id", msg.OriginID, "condition", condition)
	if start {
		go s.rejoinBounced(c, r, gen)
	}
	return true
}

// rejoinBounced rejoins a room that bounced our messages, reads its archive
// (which takes off the Outbox what the room did keep) and sends the room's
// queued messages again. A room that is gone or no longer has us as a
// member fails them with a reason the user can act on; a lost connection
// leaves them queued for the next sign-in, which rejoins and flushes.
func (s *Session) rejoinBounced(c *xmpp.Client, r *room, gen int) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StepTimeout)
	defer cancel()
	err := c.JoinRoom(ctx, r.jid, r.nick)
	s.mu.Lock()
	r.rejoining = false
	current := s.gen == gen && s.client == c && s.rooms[r.jid] == r
	if err == nil && current {
		r.joined = true
	}
	s.mu.Unlock()
	if !current {
		return
	}
	if err != nil {
		if errors.Is(err, xmpp.ErrClosed) || isDone(c) {
			return
		}
		reason := roomRefusal(err)
		s.log.Warn("sync: room not rejoined after a bounce", "room", r.jid, "err", err)
		ev := RoomUnavailable{Room: r.jid, Gone: errors.Is(err, xmpp.ErrRoomNotFound)}
		var se *xmpp.StanzaError
		if errors.As(err, &se) {
			ev.Condition = se.Condition
		}
		s.emit(ev)
		if reason == "" {
			return // transient: the next sign-in rejoins and sends them
		}
		s.failQueued(r.jid, reason)
		return
	}
	if err := s.catchUpArchive(ctx, c, r.jid); err != nil {
		s.log.Info("sync: room catch-up after rejoin", "room", r.jid, "err", err)
	}
	if s.readyClient() != c {
		return // setup has not finished; its flush sends them
	}
	pending, err := s.store.Outbox()
	if err != nil {
		s.log.Warn("sync: outbox", "err", err)
		return
	}
	for _, m := range pending {
		if m.ConversationID == r.jid {
			s.transmit(c, m)
		}
	}
}

// roomRefusal words a failed rejoin that will not change by trying again,
// or is "" for one that might.
func roomRefusal(err error) string {
	if errors.Is(err, xmpp.ErrRoomNotFound) {
		return "not sent: the room no longer exists"
	}
	var se *xmpp.StanzaError
	if errors.As(err, &se) {
		switch se.Condition {
		case "registration-required", "forbidden", "not-authorized":
			return "not sent: you are no longer a member of this room (" + se.Condition + ")"
		case "gone":
			return "not sent: the room no longer exists"
		}
	}
	return ""
}

// failQueued fails every queued message of conv that is not on the wire.
func (s *Session) failQueued(conv, reason string) {
	pending, err := s.store.Outbox()
	if err != nil {
		s.log.Warn("sync: outbox", "err", err)
		return
	}
	for _, m := range pending {
		if m.ConversationID != conv {
			continue
		}
		s.mu.Lock()
		_, onWire := s.inflight[m.OriginID]
		s.mu.Unlock()
		if onWire {
			continue
		}
		if err := s.store.OutboxRemove(m.ID); err != nil {
			s.log.Warn("sync: outbox remove", "err", err)
		}
		s.advance(m.ID, "", securestore.ReceiptFailed, reason)
	}
}

// roomBounceReason words a final bounce from a room so the user knows what
// to do; "" leaves the general wording.
func roomBounceReason(condition string) string {
	switch condition {
	case "gone":
		return "not sent: the room no longer exists"
	case "registration-required", "not-authorized":
		return "not sent: you are no longer a member of this room (" + condition + ")"
	case "forbidden":
		return "not sent: you may not post in this room (forbidden)"
	}
	return ""
}
