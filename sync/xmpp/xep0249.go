package xmpp

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// XEP-0249 Direct MUC Invitations: a message from the inviter to the
// invitee naming the room. The room cannot vouch for it (it never passes
// through the room), so the receiver decides whether to believe it: the
// engine checks who sent it and that the room exists, and the user decides
// whether to join.
//
//	<message to='bob@hospital.org'>
//	  <x xmlns='jabber:x:conference' jid='icu-team@conference.hospital.org'
//	     reason='ICU care team'/>
//	</message>
const NSDirectInvite = "jabber:x:conference"

// DirectInvite is a parsed invitation: the room (a bare JID) and the
// inviter's reason, as the inviter wrote them.
type DirectInvite struct {
	Room, Reason string
}

// MaxInviteReasonRunes bounds an invitation's reason: a line, not a letter.
const MaxInviteReasonRunes = 200

// NewDirectInvite builds the invitation message to invitee.
func NewDirectInvite(invitee, room, reason string) (*Element, error) {
	to, err := ParseJID(invitee)
	if err != nil || to.Local == "" {
		return nil, fmt.Errorf("xmpp: invitee %q: want user@domain", invitee)
	}
	r, err := ParseJID(room)
	if err != nil || r.Local == "" || r.Resource != "" {
		return nil, fmt.Errorf("xmpp: room %q: want a bare room JID", room)
	}
	x := NewElement(NSDirectInvite, "x", "jid", r.String())
	if reason = strings.TrimSpace(reason); reason != "" {
		x.SetAttr("reason", reason)
	}
	return NewElement(NSClient, "message", "to", to.Bare().String(), "id", randomID()).Append(x), nil
}

// ParseDirectInvite reads the invitation of a message, or nil when it has
// none. An invitation whose room is not a bare JID with a local part is
// an error; a reason that is too long, not UTF-8 or holds control
// characters is dropped (the invitation stands without it).
func ParseDirectInvite(st *Element) (*DirectInvite, error) {
	x := st.Child(NSDirectInvite, "x")
	if x == nil {
		return nil, nil
	}
	r, err := ParseJID(x.Attr("jid"))
	if err != nil || r.Local == "" || r.Resource != "" {
		return nil, fmt.Errorf("%w: invitation to %s, not a room JID", ErrProtocol, shown(x.Attr("jid")))
	}
	inv := &DirectInvite{Room: r.String()}
	reason := strings.TrimSpace(x.Attr("reason"))
	if utf8.ValidString(reason) && utf8.RuneCountInString(reason) <= MaxInviteReasonRunes &&
		strings.IndexFunc(reason, unicode.IsControl) < 0 {
		inv.Reason = reason
	}
	return inv, nil
}
