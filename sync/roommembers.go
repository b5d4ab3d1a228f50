package sync

import (
	"context"
	"errors"
	"fmt"

	"rounds/sync/xmpp"
)

// A care team is a room's member list (XEP-0045 affiliations), not its
// occupants: a members-only room admits only its owners, admins and
// members, whether or not they are online now.

// RoomMember is one entry of a room's member list as the room states it.
type RoomMember struct {
	JID         string // bare JID
	Affiliation string // AffiliationOwner, AffiliationAdmin or AffiliationMember
}

// Affiliations a room member may hold (XEP-0045), and none: not a member.
const (
	AffiliationOwner  = xmpp.AffiliationOwner
	AffiliationAdmin  = xmpp.AffiliationAdmin
	AffiliationMember = xmpp.AffiliationMember
	AffiliationNone   = xmpp.AffiliationNone
)

// RoomMembers asks the room for its owners, admins and members. It needs a
// connection; a room that will not tell us (not a member, or a server that
// shows the lists to admins only) is its error.
func (s *Session) RoomMembers(ctx context.Context, room string) ([]RoomMember, error) {
	c := s.currentClient()
	if c == nil {
		return nil, ErrNotConnected
	}
	affs, err := c.RoomAffiliations(ctx, xmpp.BareJID(room))
	if err != nil {
		return nil, roomRefused(err)
	}
	out := make([]RoomMember, 0, len(affs))
	for _, a := range affs {
		out = append(out, RoomMember{JID: a.JID, Affiliation: a.Affiliation})
	}
	return out, nil
}

// SetRoomMember gives user an affiliation in room: AffiliationMember adds
// them to the care team, AffiliationAdmin lets them manage it,
// AffiliationNone removes them (the room then removes them if present). Only
// an owner or admin may; the room's refusal is the error.
func (s *Session) SetRoomMember(ctx context.Context, room, user, affiliation string) error {
	c := s.currentClient()
	if c == nil {
		return ErrNotConnected
	}
	bare := xmpp.BareJID(user)
	if bare == s.account && affiliation == AffiliationNone {
		return fmt.Errorf("sync: removing ourselves from %s: leave the room instead", xmpp.BareJID(room))
	}
	return roomRefused(c.SetRoomAffiliation(ctx, xmpp.BareJID(room), bare, affiliation))
}

// ErrRoomRefused: the room does not let us do that (we are not its owner or
// admin, or, for the member list, not a member).
var ErrRoomRefused = errors.New("sync: the room refused")

// roomRefused wraps the room's refusals (forbidden, not-allowed,
// not-authorized) as ErrRoomRefused, keeping the stanza error.
func roomRefused(err error) error {
	var se *xmpp.StanzaError
	if errors.As(err, &se) {
		switch se.Condition {
		case "forbidden", "not-allowed", "not-authorized":
			return fmt.Errorf("%w: %w", ErrRoomRefused, err)
		}
	}
	return err
}
