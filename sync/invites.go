package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Invitations to rooms (XEP-0249). Sending one first makes the invitee a
// member, so the members-only room lets them in. Receiving one never joins
// anything: an invitation comes straight from its sender, who may be anyone
// on the network, so the engine keeps it only when its sender is a person
// (not a room occupant, not a server) and its room exists, and the user
// decides (AcceptInvitation, DismissInvitation).

// Invitation is a kept invitation to a room. From and Reason are the
// sender's words; Room was checked to exist when it arrived.
type Invitation struct {
	Room   string    `json:"room"`
	From   string    `json:"from"` // the inviter's bare JID
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"` // when it arrived, by our clock
}

// RoomInvited: an invitation was kept (Invitations lists it).
type RoomInvited struct{ Invitation Invitation }

func (RoomInvited) isEvent() {}

// maxInvitations bounds the invitations kept: a flood of them must not
// grow the store without end, nor push a colleague's out. Over the bound,
// the flood gives way (dropInvitation), not the oldest.
const maxInvitations = 50

const settingInvitations = "sync.invitations"

// InviteToRoom makes user a member of room (unless they already are an
// owner, admin or member: an admin is not demoted) and sends them an
// invitation with reason. We must own or administer the room.
//
// Only once the Session is ready: before setup enabled stream management
// (after the catch-up) the invitation, which is not on the Outbox, would go
// out unmanaged and a cut would lose it after we reported it sent.
func (s *Session) InviteToRoom(ctx context.Context, room, user, reason string) error {
	c := s.readyClient()
	if c == nil {
		return ErrNotConnected
	}
	room, user = xmpp.BareJID(room), xmpp.BareJID(user)
	inv, err := xmpp.NewDirectInvite(user, room, reason)
	if err != nil {
		return err
	}
	affs, err := c.RoomAffiliations(ctx, room)
	if err != nil {
		return roomRefused(err)
	}
	if !slices.ContainsFunc(affs, func(a xmpp.RoomAffiliation) bool { return a.JID == user }) {
		if err := c.SetRoomAffiliation(ctx, room, user, xmpp.AffiliationMember); err != nil {
			return roomRefused(err)
		}
	}
	return c.Send(inv)
}

// onInvitation: a message carrying an invitation (handleMessage, on the
// read loop). The checks that need the network run on their own goroutine.
func (s *Session) onInvitation(m *xmpp.Message, inv *xmpp.DirectInvite) {
	if m.Carbon == xmpp.CarbonSent || m.Type == "groupchat" {
		return // sent by another of our devices, or through a room
	}
	from, err := xmpp.ParseJID(m.From)
	if err != nil || from.Local == "" {
		s.log.Info("sync: invitation not from a person; ignored")
		return
	}
	inviter := from.Bare().String()
	if inviter == s.account || s.isRoom(inviter) || s.isRoom(inv.Room) {
		return // ourselves, a room occupant, or a room we are in
	}
	c := s.currentClient()
	if c == nil {
		return
	}
	at := s.clock.Now()
	go s.checkInvitation(c, Invitation{Room: inv.Room, From: inviter, Reason: inv.Reason, At: at})
}

// checkInvitation keeps inv if its sender is not a room (an occupant's
// private message carries a room's address: the room answers disco#info as
// a conference) and its room exists. A sender's server that will not say
// (Prosody answers disco#info on an account only to its contacts) is a
// person.
func (s *Session) checkInvitation(c *xmpp.Client, inv Invitation) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StepTimeout)
	defer cancel()
	if info, err := c.QueryDiscoInfo(ctx, inv.From); err == nil && info.HasIdentity("conference", "") {
		s.log.Info("sync: invitation from a room occupant; ignored", "room", inv.Room)
		return
	}
	info, err := c.QueryDiscoInfo(ctx, inv.Room)
	if err != nil || !info.HasIdentity("conference", "") {
		s.log.Info("sync: invitation to a room that does not exist; ignored", "room", inv.Room, "err", err)
		return
	}
	if s.isRoom(inv.Room) {
		return // joined meanwhile (the invitation followed a join, or crossed it)
	}
	if err := s.keepInvitation(inv); err != nil {
		s.log.Warn("sync: keeping an invitation", "err", err)
		return
	}
	s.emit(RoomInvited{Invitation: inv})
}

func (s *Session) keepInvitation(inv Invitation) error {
	s.roomRecordsMu.Lock()
	defer s.roomRecordsMu.Unlock()
	list, err := s.loadInvitations()
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(x Invitation) bool { return x.Room == inv.Room })
	list = append(list, inv)
	for len(list) > maxInvitations {
		list = dropInvitation(list)
	}
	return s.saveInvitations(list)
}

// dropInvitation removes one invitation from a list over the bound: the
// oldest of the sender holding the most, within the sender domain holding
// the most. Anyone can send invitations to real rooms (their own), from one
// account or many on their own server; the flood is then what gives way,
// and a colleague's single invitation stays. Ties go to the oldest, so the
// newest (last) is never the one dropped.
func dropInvitation(list []Invitation) []Invitation {
	domain := func(from string) string { return from[strings.LastIndexByte(from, '@')+1:] }
	byDomain, bySender := map[string]int{}, map[string]int{}
	for _, x := range list {
		byDomain[domain(x.From)]++
		bySender[x.From]++
	}
	drop := -1
	for i, x := range list {
		if drop < 0 {
			drop = i
			continue
		}
		d := list[drop]
		if c, cd := byDomain[domain(x.From)], byDomain[domain(d.From)]; c != cd {
			if c > cd {
				drop = i
			}
			continue
		}
		if bySender[x.From] > bySender[d.From] {
			drop = i
		}
	}
	return slices.Delete(list, drop, drop+1)
}

// Invitations lists the invitations kept, oldest first.
func (s *Session) Invitations() ([]Invitation, error) {
	s.roomRecordsMu.Lock()
	defer s.roomRecordsMu.Unlock()
	return s.loadInvitations()
}

// DismissInvitation forgets the invitation to room (declined, or joined).
func (s *Session) DismissInvitation(room string) error {
	room = xmpp.BareJID(room)
	s.roomRecordsMu.Lock()
	defer s.roomRecordsMu.Unlock()
	list, err := s.loadInvitations()
	if err != nil {
		return err
	}
	n := len(list)
	list = slices.DeleteFunc(list, func(x Invitation) bool { return x.Room == room })
	if len(list) == n {
		return nil
	}
	return s.saveInvitations(list)
}

// AcceptInvitation joins the room of a kept invitation under nick and
// forgets the invitation. An invitation not kept is securestore.ErrNotFound:
// only what the checks let through may be joined this way.
func (s *Session) AcceptInvitation(ctx context.Context, room, nick string) error {
	room = xmpp.BareJID(room)
	list, err := s.Invitations()
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(x Invitation) bool { return x.Room == room }) {
		return fmt.Errorf("sync: no invitation to %s: %w", room, securestore.ErrNotFound)
	}
	if err := s.JoinRoom(ctx, room, nick); err != nil {
		return err
	}
	return s.DismissInvitation(room)
}

func (s *Session) loadInvitations() ([]Invitation, error) {
	b, err := s.store.Setting(settingInvitations)
	if errors.Is(err, securestore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Invitation
	if err := json.Unmarshal(b, &list); err != nil {
		// Our own record, sealed: unreadable means a bug, not an attack.
		// Start again rather than never keep another.
		s.log.Warn("sync: invitations record unreadable; starting afresh", "err", err)
		return nil, nil
	}
	return list, nil
}

func (s *Session) saveInvitations(list []Invitation) error {
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return s.store.SetSetting(settingInvitations, b)
}
