package xmpp

import (
	"context"
	"fmt"
	"slices"
)

// XEP-0045 affiliations (§9, §10): who belongs to a room, whatever their
// presence. A members-only room admits only its owners, admins and members,
// so the member list is the care team; occupants come and go.

// Affiliations a room member may hold, highest first. "none" removes the
// member; "outcast" (banned) is not managed here.
const (
	AffiliationOwner  = "owner"
	AffiliationAdmin  = "admin"
	AffiliationMember = "member"
	AffiliationNone   = "none"
)

// RoomAffiliation is one entry of a room's member lists: a bare JID and its
// affiliation, as the room states it.
type RoomAffiliation struct {
	JID         string
	Affiliation string
	Nick        string // the nick reserved for it, if the room says
}

// maxRoomAffiliations bounds one list the room sends.
const maxRoomAffiliations = 5000

// RoomAffiliations lists a room's owners, admins and members (one
// muc#admin query per affiliation, as XEP-0045 §9.5 and §10.5 ask them;
// Prosody answers only the first affiliation of a combined query). A room
// that refuses one list (an ordinary member may not read the admin lists on
// some servers) fails the whole call: a partial list would show a care team
// without its owners. Entries without a user JID are skipped.
func (c *Client) RoomAffiliations(ctx context.Context, room string) ([]RoomAffiliation, error) {
	bare := BareJID(room)
	if bare == "" {
		return nil, fmt.Errorf("xmpp: room %q", room)
	}
	var out []RoomAffiliation
	seen := map[string]bool{}
	for _, aff := range []string{AffiliationOwner, AffiliationAdmin, AffiliationMember} {
		res, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "get", "to", bare).Append(
			NewElement(NSMUCAdmin, "query").Append(NewElement(NSMUCAdmin, "item", "affiliation", aff))))
		if err != nil {
			return nil, fmt.Errorf("xmpp: %s list of %s: %w", aff, bare, err)
		}
		for _, it := range res.Child(NSMUCAdmin, "query").ChildrenNamed(NSMUCAdmin, "item") {
			if len(out) >= maxRoomAffiliations {
				break
			}
			j, err := ParseJID(it.Attr("jid"))
			if err != nil || j.Local == "" {
				continue
			}
			b := j.Bare().String()
			// The list asked for decides: a room that puts another
			// affiliation into it is not believed for that entry.
			if got := it.Attr("affiliation"); got != "" && got != aff {
				continue
			}
			if seen[b] {
				continue
			}
			seen[b] = true
			out = append(out, RoomAffiliation{JID: b, Affiliation: aff, Nick: it.Attr("nick")})
		}
	}
	return out, nil
}

// SetRoomAffiliation gives user (a bare JID) an affiliation in a room we own
// or administer (XEP-0045 §9.3, §9.4, §10.3, §10.6): member to add them to
// a members-only room, admin to let them manage its members, none to remove
// them (an occupant who is no longer a member of a members-only room is
// removed from it by the room).
func (c *Client) SetRoomAffiliation(ctx context.Context, room, user, affiliation string) error {
	bare := BareJID(room)
	if bare == "" {
		return fmt.Errorf("xmpp: room %q", room)
	}
	j, err := ParseJID(user)
	if err != nil || j.Local == "" {
		return fmt.Errorf("xmpp: room member %q: want user@domain", user)
	}
	if !slices.Contains([]string{AffiliationOwner, AffiliationAdmin, AffiliationMember, AffiliationNone}, affiliation) {
		return fmt.Errorf("xmpp: affiliation %q", affiliation)
	}
	if _, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set", "to", bare).Append(
		NewElement(NSMUCAdmin, "query").Append(NewElement(NSMUCAdmin, "item", "affiliation", affiliation, "jid", j.Bare().String())))); err != nil {
		return fmt.Errorf("xmpp: making %s %s of %s: %w", j.Bare(), affiliation, bare, err)
	}
	return nil
}
