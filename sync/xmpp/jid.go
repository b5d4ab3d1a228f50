package xmpp

import (
	"errors"
	"strings"
)

// JID is an XMPP address (RFC 7622) split into its parts. Comparison uses a
// simple case fold of localpart and domain; full PRECIS profiles are not applied
// (see docs/PROTOCOL.md), which is safe for comparing a server's echo of our own
// address and for routing, the two uses here.
type JID struct {
	Local, Domain, Resource string
}

// ParseJID splits s. It rejects empty domains and parts longer than 1023 bytes.
func ParseJID(s string) (JID, error) {
	var j JID
	rest := s
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		j.Resource = rest[i+1:]
		rest = rest[:i]
		if j.Resource == "" {
			return JID{}, errors.New("xmpp: empty resource in JID")
		}
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		j.Local = rest[:i]
		rest = rest[i+1:]
		if j.Local == "" {
			return JID{}, errors.New("xmpp: empty localpart in JID")
		}
	}
	j.Domain = strings.TrimSuffix(rest, ".")
	if j.Domain == "" || strings.ContainsAny(j.Domain, "@/ ") {
		return JID{}, errors.New("xmpp: bad domain in JID")
	}
	if len(j.Local) > 1023 || len(j.Domain) > 1023 || len(j.Resource) > 1023 {
		return JID{}, errors.New("xmpp: JID part too long")
	}
	j.Local = strings.ToLower(j.Local)
	j.Domain = strings.ToLower(j.Domain)
	return j, nil
}

// Bare drops the resource.
func (j JID) Bare() JID { return JID{Local: j.Local, Domain: j.Domain} }

// String is local@domain/resource.
func (j JID) String() string {
	s := j.Domain
	if j.Local != "" {
		s = j.Local + "@" + s
	}
	if j.Resource != "" {
		s += "/" + j.Resource
	}
	return s
}

// IsZero reports an unset JID.
func (j JID) IsZero() bool { return j.Domain == "" }

// BareJID returns the bare form of s, or "" if s does not parse.
func BareJID(s string) string {
	j, err := ParseJID(s)
	if err != nil {
		return ""
	}
	return j.Bare().String()
}

// SameBare reports whether a and b parse and name the same bare JID.
func SameBare(a, b string) bool {
	x, y := BareJID(a), BareJID(b)
	return x != "" && x == y
}
