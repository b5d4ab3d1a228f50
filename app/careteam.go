package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Rooms as care teams: who is on the team (the room's member list, not who
// happens to be online), invitations, and who has read a message.

// Room roles as the screens name them.
const (
	RoomRoleOwner  = "Owner"
	RoomRoleAdmin  = "Admin"
	RoomRoleMember = "Member"
)

// ErrRoomRefused: the room does not let this account do that (only the
// room's owners and admins manage its members).
var ErrRoomRefused = errors.New("the room does not allow this: only its owners and admins manage members")

// ErrNeedsConnection: the action asks the server and there is no connection.
var ErrNeedsConnection = errors.New("not connected: try again when back online")

// Audit kinds of care-team changes: detail is the room and the member's
// address.
const (
	AuditRoomMemberAdded   = "room-member-added"
	AuditRoomMemberRemoved = "room-member-removed"
	AuditRoomAdminMade     = "room-admin-made"
)

// RoomMemberRow is one member of a care team.
type RoomMemberRow struct {
	Address string // bare JID
	Name    string // as People names them ("You" for this account)
	Role    string // RoomRoleOwner, RoomRoleAdmin or RoomRoleMember
	Self    bool
}

// RoomMembers lists the care team of room: owners first, then admins, then
// members, each by name. It asks the room (needs a connection).
func (cc *conversations) RoomMembers(room string) ([]RoomMemberRow, error) {
	st, s, err := cc.host.sess()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	ms, err := s.RoomMembers(ctx, jid.Bare(room))
	if err != nil {
		return nil, teamErr(err)
	}
	names, _ := loadContacts(st)
	self := cc.host.Account()
	rows := make([]RoomMemberRow, 0, len(ms))
	for _, m := range ms {
		r := RoomMemberRow{Address: m.JID, Name: memberName(st, m.JID, names), Self: m.JID == self}
		switch m.Affiliation {
		case sync.AffiliationOwner:
			r.Role = RoomRoleOwner
		case sync.AffiliationAdmin:
			r.Role = RoomRoleAdmin
		default:
			r.Role = RoomRoleMember
		}
		rows = append(rows, r)
	}
	rank := map[string]int{RoomRoleOwner: 0, RoomRoleAdmin: 1, RoomRoleMember: 2}
	slices.SortStableFunc(rows, func(a, b RoomMemberRow) int {
		if d := rank[a.Role] - rank[b.Role]; d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return rows, nil
}

// CanManageRoom: in rows (from RoomMembers), this account is an owner or
// admin, so the screen offers add, remove and make admin.
func CanManageRoom(rows []RoomMemberRow) bool {
	return slices.ContainsFunc(rows, func(r RoomMemberRow) bool {
		return r.Self && (r.Role == RoomRoleOwner || r.Role == RoomRoleAdmin)
	})
}

// AddRoomMember adds address to the care team of room and invites them
// (XEP-0249): their devices show the invitation and they decide to join.
func (cc *conversations) AddRoomMember(room, address string) error {
	bare, err := chatJID(address)
	if err != nil {
		return err
	}
	if j, _ := jid.Parse(bare); j.Local == "" {
		return ErrInvalidAddress
	}
	return cc.teamAction(room, AuditRoomMemberAdded, bare, func(ctx context.Context, s *sync.Session, room string) error {
		return s.InviteToRoom(ctx, room, bare, "")
	})
}

// RemoveRoomMember takes address off the care team of room; the room
// removes them if they are in it.
func (cc *conversations) RemoveRoomMember(room, address string) error {
	bare := jid.Bare(address)
	return cc.teamAction(room, AuditRoomMemberRemoved, bare, func(ctx context.Context, s *sync.Session, room string) error {
		return s.SetRoomMember(ctx, room, bare, sync.AffiliationNone)
	})
}

// MakeRoomAdmin lets address manage the care team of room.
func (cc *conversations) MakeRoomAdmin(room, address string) error {
	bare := jid.Bare(address)
	return cc.teamAction(room, AuditRoomAdminMade, bare, func(ctx context.Context, s *sync.Session, room string) error {
		return s.SetRoomMember(ctx, room, bare, sync.AffiliationAdmin)
	})
}

func (cc *conversations) teamAction(room, kind, member string, do func(context.Context, *sync.Session, string) error) error {
	st, s, err := cc.host.sess()
	if err != nil {
		return err
	}
	cc.host.Touch()
	room = jid.Bare(room)
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if err := do(ctx, s, room); err != nil {
		return teamErr(err)
	}
	cc.host.auditWith(st, kind, room+" "+member)
	cc.changes.push(Change{Kind: ConversationChanged, Conversation: room})
	return nil
}

// teamErr maps the engine's care-team errors to the app's.
func teamErr(err error) error {
	switch {
	case errors.Is(err, sync.ErrRoomRefused):
		return ErrRoomRefused
	case errors.Is(err, sync.ErrNotConnected):
		return ErrNeedsConnection
	}
	return roomErr(err)
}

// InvitationRow is an invitation to a room waiting for the user's answer.
// From and Reason are the inviter's words; the room was checked to exist.
type InvitationRow struct {
	Room     string
	Title    string // the room's local part
	From     string // inviter's bare JID
	FromName string // the contact's name, else the whole address
	Reason   string
	At       time.Time
	Caution  string // InvitationNotAContact, or "" for a contact
}

// InvitationNotAContact: the inviter is not among the user's contacts.
// Anyone on the network may send an invitation, under any name; the screen
// shows their whole address with these words so a lookalike
// (dr.patel@another-server) does not pass for a colleague.
const InvitationNotAContact = "Not in your contacts: check the address"

// Invitations lists the invitations waiting, newest first.
func (cc *conversations) Invitations() ([]InvitationRow, error) {
	st, s, err := cc.host.sess()
	if err != nil {
		return nil, err
	}
	list, err := s.Invitations()
	if err != nil {
		return nil, mapErr(err)
	}
	names, _ := loadContacts(st)
	out := make([]InvitationRow, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		inv := list[i]
		row := InvitationRow{Room: inv.Room, Title: localPart(inv.Room), From: inv.From,
			FromName: inv.From, Reason: inv.Reason, At: inv.At, Caution: InvitationNotAContact}
		if ct, ok := lookupContact(st, names, inv.From); ok {
			row.Caution = ""
			if n := strings.TrimSpace(ct.Name); n != "" {
				row.FromName = n
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// AcceptInvitation joins the room of a waiting invitation under our
// address's local part and returns the conversation.
func (cc *conversations) AcceptInvitation(room string) (string, error) {
	_, s, err := cc.host.sess()
	if err != nil {
		return "", err
	}
	room = jid.Bare(room)
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if err := s.AcceptInvitation(ctx, room, cc.roomNick("")); err != nil {
		return "", roomErr(err)
	}
	cc.host.roomRejoined(room)
	cc.changes.push(Change{Kind: InboxChanged})
	return room, nil
}

// DeclineInvitation forgets a waiting invitation (the inviter is not told).
func (cc *conversations) DeclineInvitation(room string) error {
	_, s, err := cc.host.sess()
	if err != nil {
		return err
	}
	if err := s.DismissInvitation(jid.Bare(room)); err != nil {
		return mapErr(err)
	}
	cc.changes.push(Change{Kind: InboxChanged})
	return nil
}

// ReadByRow is one care-team member for one of our messages: whether and
// when (by this device's clock, when the marker arrived) they displayed it.
type ReadByRow struct {
	Address string
	Name    string
	Read    bool
	At      time.Time
}

// ReadBy lists, for our message id in room, who has read it (with times,
// earliest first) and who has not yet (by name). Only markers from members
// the room names by real JID count (sync); a marker for a later message
// counts for this one. The team comes from the room's member list when
// connected; offline, only the readers known are listed.
func (cc *conversations) ReadBy(room string, id securestore.MessageID) ([]ReadByRow, error) {
	st, s, err := cc.host.sess()
	if err != nil {
		return nil, err
	}
	m, err := st.Message(id)
	if err != nil {
		return nil, mapErr(err)
	}
	room = jid.Bare(room)
	if m.ConversationID != room || m.Direction != securestore.Outgoing {
		return nil, securestore.ErrNotFound
	}
	names, _ := loadContacts(st)
	self := cc.host.Account()
	seen := map[string]bool{self: true}
	var read, unread []ReadByRow
	for who, rc := range m.Members {
		if !strings.Contains(who, "@") || seen[who] {
			continue
		}
		seen[who] = true
		if rc.State >= securestore.ReceiptRead && rc.State != securestore.ReceiptFailed {
			read = append(read, ReadByRow{Address: who, Name: memberName(st, who, names), Read: true, At: rc.At[securestore.ReceiptRead]})
		} else {
			unread = append(unread, ReadByRow{Address: who, Name: memberName(st, who, names)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if team, err := s.RoomMembers(ctx, room); err == nil {
		for _, t := range team {
			if !seen[t.JID] {
				seen[t.JID] = true
				unread = append(unread, ReadByRow{Address: t.JID, Name: memberName(st, t.JID, names)})
			}
		}
	} else {
		cc.log.Info("app: read-by without the member list", "err", err)
	}
	slices.SortFunc(read, func(a, b ReadByRow) int { return a.At.Compare(b.At) })
	slices.SortFunc(unread, func(a, b ReadByRow) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return append(read, unread...), nil
}
