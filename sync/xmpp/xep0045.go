package xmpp

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// XEP-0045 Multi-User Chat: care-team and unit rooms. Joining asks for no
// history (maxstanzas="0"): the engine catches up from the room's MAM archive
// from its own cursor, which dedupes. Room presence and groupchat messages
// still reach Config.OnPresence / OnMessage; JoinRoom only watches for its
// own answer.
const (
	NSMUC      = "http://jabber.org/protocol/muc"
	NSMUCUser  = "http://jabber.org/protocol/muc#user"
	NSMUCOwner = "http://jabber.org/protocol/muc#owner"
)

// MUC status codes (XEP-0045 §15.6) used here.
const (
	mucStatusSelf    = "110" // this presence is about you
	mucStatusCreated = "201" // a new room was created (and is locked)
)

// mucState: joins waiting for the room's answer, and the rooms this client
// joined (XEP-0490 names a room's archive as the stanza-id's "by").
type mucState struct {
	mu    sync.Mutex
	joins map[string][]*mucJoin // room bare JID -> waiters
	rooms map[string]bool
}

type mucJoin struct {
	ch chan mucJoinResult
}

type mucJoinResult struct {
	created bool
	err     error
}

// JoinRoom enters room (a bare JID) as nick and waits for the room's answer:
// our own presence (status 110), or an error presence (returned as
// *StanzaError: conflict for a nick in use, registration-required,
// not-authorized for a password, forbidden for a ban...). A room we just
// created (status 201) is locked; it is unlocked with the default
// configuration (an instant room) so that others can join. Without a deadline
// in ctx, DefaultIQTimeout applies.
func (c *Client) JoinRoom(ctx context.Context, room, nick string) error {
	rj, err := ParseJID(room)
	if err != nil || rj.Local == "" || rj.Resource != "" {
		return fmt.Errorf("xmpp: room %q: want a bare room JID", room)
	}
	if nick == "" {
		return errors.New("xmpp: empty room nick")
	}
	bare := rj.Bare().String()
	if _, err := ParseJID(bare + "/" + nick); err != nil {
		return fmt.Errorf("xmpp: room nick %q: %w", nick, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultIQTimeout)
		defer cancel()
	}
	w := &mucJoin{ch: make(chan mucJoinResult, 1)}
	c.muc.mu.Lock()
	if c.muc.joins == nil {
		c.muc.joins = map[string][]*mucJoin{}
	}
	c.muc.joins[bare] = append(c.muc.joins[bare], w)
	c.muc.mu.Unlock()
	defer c.dropJoin(bare, w)

	p := NewElement(NSClient, "presence", "to", bare+"/"+nick).Append(
		NewElement(NSMUC, "x").Append(NewElement(NSMUC, "history", "maxstanzas", "0")),
		c.capsElement())
	if err := c.Send(p); err != nil {
		return err
	}
	var res mucJoinResult
	select {
	case res = <-w.ch:
	case <-ctx.Done():
		return fmt.Errorf("xmpp: joining %s: %w", bare, ctx.Err())
	}
	if res.err != nil {
		return res.err
	}
	c.muc.mu.Lock()
	if c.muc.rooms == nil {
		c.muc.rooms = map[string]bool{}
	}
	c.muc.rooms[bare] = true
	c.muc.mu.Unlock()
	if res.created {
		// XEP-0045 §10.1.2: accept the default configuration (instant room).
		iq := NewElement(NSClient, "iq", "type", "set", "to", bare).Append(
			NewElement(NSMUCOwner, "query").Append(NewElement(NSDataForm, "x", "type", "submit")))
		if _, err := c.SendIQ(ctx, iq); err != nil {
			return fmt.Errorf("xmpp: unlocking new room %s: %w", bare, err)
		}
		c.log.Info("xmpp: created room", "room", bare)
	}
	return nil
}

func (c *Client) dropJoin(room string, w *mucJoin) {
	c.muc.mu.Lock()
	defer c.muc.mu.Unlock()
	list := c.muc.joins[room]
	for i, x := range list {
		if x == w {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.muc.joins, room)
	} else {
		c.muc.joins[room] = list
	}
}

// LeaveRoom sends unavailable presence to our occupant JID.
func (c *Client) LeaveRoom(room, nick string) error {
	bare := BareJID(room)
	if bare == "" || nick == "" {
		return fmt.Errorf("xmpp: room %q / nick %q", room, nick)
	}
	return c.Send(NewElement(NSClient, "presence", "to", bare+"/"+nick, "type", "unavailable"))
}

// isJoinedRoom reports whether JoinRoom succeeded for room on this client.
func (c *Client) isJoinedRoom(room string) bool {
	c.muc.mu.Lock()
	defer c.muc.mu.Unlock()
	return c.muc.rooms[BareJID(room)]
}

// handleMUCPresence completes a pending JoinRoom. It never consumes the
// presence: the engine's OnPresence sees room presence too.
func (c *Client) handleMUCPresence(st *Element) bool {
	from, err := ParseJID(st.From())
	if err != nil {
		return false
	}
	room := from.Bare().String()
	c.muc.mu.Lock()
	waiters := c.muc.joins[room]
	c.muc.mu.Unlock()
	if len(waiters) == 0 {
		return false
	}
	var res mucJoinResult
	switch {
	case st.Type() == "error":
		se := ParseStanzaError(st)
		if se == nil {
			se = &StanzaError{Type: "cancel", Condition: "undefined-condition"}
		}
		res.err = se
	case from.Resource == "":
		return false
	default:
		codes := mucStatusCodes(st)
		if !codes[mucStatusSelf] {
			return false
		}
		if st.Type() == "unavailable" {
			res.err = fmt.Errorf("%w: room %s removed us while joining", ErrProtocol, room)
		}
		res.created = codes[mucStatusCreated]
	}
	for _, w := range waiters {
		select {
		case w.ch <- res:
		default:
		}
	}
	return false
}

// mucStatusCodes collects the <status code/> values of the muc#user <x/>
// children (a presence may carry several <x/>, matched by namespace).
func mucStatusCodes(st *Element) map[string]bool {
	codes := map[string]bool{}
	for _, x := range st.ChildrenNamed(NSMUCUser, "x") {
		for _, s := range x.ChildrenNamed(NSMUCUser, "status") {
			codes[s.Attr("code")] = true
		}
	}
	return codes
}

// OccupantRealJID is the real JID the room reveals in a presence's muc#user
// <item jid/> (non-anonymous rooms, or to moderators in semi-anonymous ones),
// else "". It is the room's claim: trust it as far as you trust the room.
func OccupantRealJID(p *Presence) string {
	if p == nil || p.Stanza == nil {
		return ""
	}
	for _, x := range p.Stanza.ChildrenNamed(NSMUCUser, "x") {
		if it := x.Child(NSMUCUser, "item"); it != nil {
			if j := it.Attr("jid"); j != "" {
				if _, err := ParseJID(j); err == nil {
					return j
				}
			}
		}
	}
	return ""
}

// NewGroupChat builds a groupchat message to room with a fresh id that is
// also its XEP-0359 origin-id (our reflection carries it back) and markable
// (0333). Groupchat gets no 0184 receipt request (XEP-0184 §5.3).
func NewGroupChat(room, body string) *Element {
	id := randomID()
	msg := NewElement(NSClient, "message", "type", "groupchat", "to", BareJID(room), "id", id)
	msg.Append(NewElement(NSClient, "body").SetText(body))
	msg.Append(NewElement(NSMarkers, "markable"))
	msg.Append(NewElement(NSSID, "origin-id", "id", id))
	return msg
}
