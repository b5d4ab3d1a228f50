package xmpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	NSMUCAdmin = "http://jabber.org/protocol/muc#admin"
)

// MUC status codes (XEP-0045 §15.6) used here.
const (
	mucStatusSelf         = "110" // this presence is about you
	mucStatusNonAnonymous = "100" // every occupant sees real JIDs
	mucStatusCreated      = "201" // a new room was created (and is locked)
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

// ErrRoomNotFound: the room does not exist (disco#info answered
// item-not-found or gone, the room's service does not exist, the address is not a
// room, or joining would have created it). Rounds never creates a room by
// joining it: a room created with the server's defaults is, on Prosody,
// public and open to anyone.
var ErrRoomNotFound = errors.New("xmpp: no such room")

// ErrRoomExists: CreateRoom found the room already there.
var ErrRoomExists = errors.New("xmpp: room already exists")

// JoinRoom enters an existing room (a bare JID) as nick and waits for the
// room's answer: our own presence (status 110), or an error presence
// (returned as *StanzaError: conflict for a nick in use,
// registration-required for a members-only room we are not a member of,
// not-authorized for a password, forbidden for a ban...).
//
// It never creates a room. The room is asked first (XEP-0030 disco#info on
// its JID; item-not-found means it does not exist: ErrRoomNotFound, and no
// presence is sent). If the join still creates it (status 201: the room was
// destroyed between the two, or a server that answers disco for rooms that
// do not exist), we are its owner: the room is destroyed at once and the
// answer is ErrRoomNotFound. Without a deadline in ctx, DefaultIQTimeout
// applies.
func (c *Client) JoinRoom(ctx context.Context, room, nick string) error {
	bare, err := roomOccupant(room, nick)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultIQTimeout)
		defer cancel()
	}
	exists, err := c.roomExists(ctx, bare)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: %s", ErrRoomNotFound, bare)
	}
	created, err := c.enterRoom(ctx, bare, nick)
	if err != nil {
		return err
	}
	if created {
		c.log.Warn("xmpp: joining created a room; destroying it", "room", bare)
		if derr := c.DestroyRoom(ctx, bare, "Created by mistake: the room did not exist."); derr != nil {
			return fmt.Errorf("%w: %s (joining created it, and destroying it failed: %v)", ErrRoomNotFound, bare, derr)
		}
		return fmt.Errorf("%w: %s", ErrRoomNotFound, bare)
	}
	return nil
}

// roomOccupant checks a room JID and nick; it returns the bare room JID.
func roomOccupant(room, nick string) (string, error) {
	rj, err := ParseJID(room)
	if err != nil || rj.Local == "" || rj.Resource != "" {
		return "", fmt.Errorf("xmpp: room %q: want a bare room JID", room)
	}
	if nick == "" {
		return "", errors.New("xmpp: empty room nick")
	}
	bare := rj.Bare().String()
	if _, err := ParseJID(bare + "/" + nick); err != nil {
		return "", fmt.Errorf("xmpp: room nick %q: %w", nick, err)
	}
	return bare, nil
}

// roomExists asks the room itself (disco#info). item-not-found (no such
// room), gone (destroyed: Prosody keeps a tombstone for a while) and
// remote-server-not-found (no such service: a mistyped address) mean it does
// not exist, as does an entity that is not a conference. Any
// other error is returned: whether the room exists is then unknown, and the
// caller must not go on as if it did not.
func (c *Client) roomExists(ctx context.Context, bare string) (bool, error) {
	info, err := c.QueryDiscoInfo(ctx, bare)
	var se *StanzaError
	switch {
	case errors.As(err, &se) && (se.Condition == "item-not-found" || se.Condition == "gone" || se.Condition == "remote-server-not-found"):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("xmpp: asking room %s: %w", bare, err)
	}
	return info.HasIdentity("conference", ""), nil
}

// enterRoom sends our join presence and waits for the room's answer; created
// reports status 201 (the join created the room, which is locked until its
// owner configures it).
func (c *Client) enterRoom(ctx context.Context, bare, nick string) (created bool, err error) {
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
		return false, err
	}
	var res mucJoinResult
	select {
	case res = <-w.ch:
	case <-ctx.Done():
		return false, fmt.Errorf("xmpp: joining %s: %w", bare, ctx.Err())
	}
	if res.err != nil {
		return false, res.err
	}
	c.muc.mu.Lock()
	if c.muc.rooms == nil {
		c.muc.rooms = map[string]bool{}
	}
	c.muc.rooms[bare] = true
	c.muc.mu.Unlock()
	return res.created, nil
}

// RoomConfig is what CreateRoom needs beyond the room's address.
type RoomConfig struct {
	Name    string   // the room's name, shown to members ("" leaves the server's)
	Members []string // bare JIDs to make members (the creator is the owner)
}

// Room configuration fields (XEP-0045 §15.5.3) CreateRoom sets.
const (
	roomFieldMembersOnly = "muc#roomconfig_membersonly"
	roomFieldWhois       = "muc#roomconfig_whois"
	roomFieldPersistent  = "muc#roomconfig_persistentroom"
	roomFieldPublic      = "muc#roomconfig_publicroom"
	roomFieldName        = "muc#roomconfig_roomname"
)

// roomArchiveFields switch the room's archive (XEP-0313) on: Prosody's
// mod_muc_mam, ejabberd's mod_mam. Whichever the form offers is set.
var roomArchiveFields = []string{"muc#roomconfig_enablearchiving", "mam", "muc#roomconfig_mam"}

// Room features (XEP-0045 §15.2) a room made by CreateRoom must show.
var safeRoomFeatures = []string{"muc_membersonly", "muc_nonanonymous", "muc_persistent", "muc_hidden", NSMAM}

// CreateRoom creates room on purpose, with the configuration a hospital room
// needs: members-only (cfg.Members are made members; nobody else gets in),
// non-anonymous (every occupant sees real JIDs, so identity does not rest on
// nicknames), persistent, hidden from the room directory, and archived
// (XEP-0313, so every device catches up). The configuration goes through the
// owner form (XEP-0045 §10.1.3) while the new room is still locked, and the
// room's disco#info is checked afterwards; if anything did not apply, the
// room is destroyed and the error returned. A room that already exists is
// ErrRoomExists (nothing changed). We stay in the room as nick, its owner.
func (c *Client) CreateRoom(ctx context.Context, room, nick string, cfg RoomConfig) error {
	bare, err := roomOccupant(room, nick)
	if err != nil {
		return err
	}
	members := make([]string, 0, len(cfg.Members))
	for _, m := range cfg.Members {
		j, err := ParseJID(m)
		if err != nil || j.Local == "" {
			return fmt.Errorf("xmpp: room member %q: want user@domain", m)
		}
		members = append(members, j.Bare().String())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultIQTimeout)
		defer cancel()
	}
	exists, err := c.roomExists(ctx, bare)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("%w: %s", ErrRoomExists, bare)
	}
	created, err := c.enterRoom(ctx, bare, nick)
	if err != nil {
		return err
	}
	if !created {
		// Someone else created it meanwhile: not ours to configure.
		c.forgetRoom(bare)
		_ = c.LeaveRoom(bare, nick)
		return fmt.Errorf("%w: %s", ErrRoomExists, bare)
	}
	if err := c.configureRoom(ctx, bare, cfg.Name, members); err != nil {
		if derr := c.DestroyRoom(ctx, bare, "Configuration failed."); derr != nil {
			c.log.Warn("xmpp: destroying a room whose configuration failed", "room", bare, "err", derr)
		}
		return fmt.Errorf("xmpp: configuring new room %s: %w", bare, err)
	}
	c.log.Info("xmpp: created room", "room", bare, "members", len(members))
	return nil
}

func (c *Client) configureRoom(ctx context.Context, bare, name string, members []string) error {
	res, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "get", "to", bare).Append(NewElement(NSMUCOwner, "query")))
	if err != nil {
		return err
	}
	var form *Element
	if q := res.Child(NSMUCOwner, "query"); q != nil {
		form = q.Child(NSDataForm, "x")
	}
	if form == nil {
		return fmt.Errorf("%w: no configuration form", ErrProtocol)
	}
	offered := map[string]bool{}
	for _, f := range form.ChildrenNamed(NSDataForm, "field") {
		offered[f.Attr("var")] = true
	}
	for _, f := range []string{roomFieldMembersOnly, roomFieldWhois, roomFieldPersistent, roomFieldPublic} {
		if !offered[f] {
			return fmt.Errorf("%w: the room's form has no %s", ErrProtocol, f)
		}
	}
	submit := dataForm("http://jabber.org/protocol/muc#roomconfig").Append(
		formField(roomFieldMembersOnly, "1"),
		formField(roomFieldWhois, "anyone"),
		formField(roomFieldPersistent, "1"),
		formField(roomFieldPublic, "0"))
	for _, f := range roomArchiveFields {
		if offered[f] {
			submit.Append(formField(f, "1"))
		}
	}
	if name != "" && offered[roomFieldName] {
		submit.Append(formField(roomFieldName, name))
	}
	if _, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set", "to", bare).Append(
		NewElement(NSMUCOwner, "query").Append(submit))); err != nil {
		return err
	}
	// One item per request: Prosody 0.12 applies only the first item of a
	// muc#admin set.
	for _, m := range members {
		if _, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set", "to", bare).Append(
			NewElement(NSMUCAdmin, "query").Append(NewElement(NSMUCAdmin, "item", "affiliation", "member", "jid", m)))); err != nil {
			return fmt.Errorf("adding a member: %w", err)
		}
	}
	info, err := c.QueryDiscoInfo(ctx, bare)
	if err != nil {
		return err
	}
	for _, f := range safeRoomFeatures {
		if !info.Has(f) {
			return fmt.Errorf("%w: the room does not show %s after configuration", ErrProtocol, f)
		}
	}
	return nil
}

// DestroyRoom destroys a room we own (XEP-0045 §10.9); its occupants are
// told reason.
func (c *Client) DestroyRoom(ctx context.Context, room, reason string) error {
	bare := BareJID(room)
	if bare == "" {
		return fmt.Errorf("xmpp: room %q", room)
	}
	d := NewElement(NSMUCOwner, "destroy")
	if reason != "" {
		d.Append(NewElement(NSMUCOwner, "reason").SetText(reason))
	}
	if _, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set", "to", bare).Append(
		NewElement(NSMUCOwner, "query").Append(d))); err != nil {
		return fmt.Errorf("xmpp: destroying room %s: %w", bare, err)
	}
	c.forgetRoom(bare)
	return nil
}

// forgetRoom: we are no longer in room.
func (c *Client) forgetRoom(bare string) {
	c.muc.mu.Lock()
	delete(c.muc.rooms, bare)
	c.muc.mu.Unlock()
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

// IsSelfPresence reports whether a room presence is about us (status 110).
func IsSelfPresence(p *Presence) bool {
	return p != nil && p.Stanza != nil && mucStatusCodes(p.Stanza)[mucStatusSelf]
}

// IsNonAnonymousRoom reports whether a room presence says that every
// occupant sees real JIDs (status 100, sent with our own presence).
func IsNonAnonymousRoom(p *Presence) bool {
	return p != nil && p.Stanza != nil && mucStatusCodes(p.Stanza)[mucStatusNonAnonymous]
}

// messageRealJID is the real JID a room put on a groupchat message
// (non-anonymous rooms add a muc#user <item jid/> to archived messages), or
// "". A sender can put such an element into its own message; the room adds
// its own after the sender's, so the last one is the room's.
func messageRealJID(st *Element) string {
	real := ""
	for _, x := range st.ChildrenNamed(NSMUCUser, "x") {
		for _, it := range x.ChildrenNamed(NSMUCUser, "item") {
			if j, err := ParseJID(it.Attr("jid")); err == nil && j.Local != "" {
				real = j.Bare().String()
			}
		}
	}
	return real
}

// RoomDefaults reports the configuration a server gives a new room before its
// owner changes anything: what any other client creating a room by joining
// it gets. It creates room (which must not exist yet), reads the owner form,
// and destroys the room again. Each form field maps to its value (several
// values joined by ","). An admin's server check uses it; Rounds itself
// always configures the rooms it creates.
func (c *Client) RoomDefaults(ctx context.Context, room, nick string) (map[string]string, error) {
	bare := BareJID(room)
	if bare == "" {
		return nil, fmt.Errorf("xmpp: room %q", room)
	}
	created, err := c.enterRoom(ctx, bare, nick)
	if err != nil {
		return nil, err
	}
	if !created {
		_ = c.LeaveRoom(bare, nick)
		return nil, fmt.Errorf("xmpp: room %s already exists", bare)
	}
	defer func() { _ = c.DestroyRoom(context.WithoutCancel(ctx), bare, "server check") }()
	return c.roomForm(ctx, bare)
}

// RoomConfiguration reads a room's configuration as the room itself states
// it in its owner form (XEP-0045 §10.2): each field maps to its value
// (several values joined by ","). Only an owner may read it. Tests and the
// server check use it to see which settings really applied, beyond what
// disco#info shows.
func (c *Client) RoomConfiguration(ctx context.Context, room string) (map[string]string, error) {
	bare := BareJID(room)
	if bare == "" {
		return nil, fmt.Errorf("xmpp: room %q", room)
	}
	return c.roomForm(ctx, bare)
}

func (c *Client) roomForm(ctx context.Context, bare string) (map[string]string, error) {
	res, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "get", "to", bare).Append(NewElement(NSMUCOwner, "query")))
	if err != nil {
		return nil, err
	}
	form := res.Child(NSMUCOwner, "query").Child(NSDataForm, "x")
	if form == nil {
		return nil, fmt.Errorf("%w: no configuration form", ErrProtocol)
	}
	fields := map[string]string{}
	for _, f := range form.ChildrenNamed(NSDataForm, "field") {
		var vals []string
		for _, v := range f.ChildrenNamed(NSDataForm, "value") {
			vals = append(vals, v.Text)
		}
		if name := f.Attr("var"); name != "" {
			fields[name] = strings.Join(vals, ",")
		}
	}
	return fields, nil
}
