// Package jid holds the XMPP address (RFC 7622) every room of Rounds names
// people and rooms by: the app keys conversations by bare JID, sync compares
// senders with it, sync/xmpp routes by it. It is a leaf: it imports nothing
// of ours, so every package may use it without reaching past a door
// (docs/ARCHITECTURE.md).
package jid

import (
	"errors"
	"strings"
)

// JID is an XMPP address split into its parts. Comparison uses a simple case
// fold of localpart and domain; full PRECIS profiles are not applied (see
// docs/PROTOCOL.md), which is safe for comparing a server's echo of our own
// address and for routing, the two uses here.
type JID struct {
	Local, Domain, Resource string
}

// Parse splits s. It rejects empty domains and parts longer than 1023 bytes.
func Parse(s string) (JID, error) {
	var j JID
	rest := s
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		j.Resource = rest[i+1:]
		rest = rest[:i]
		if j.Resource == "" {
			return JID{}, errors.New("jid: empty resource")
		}
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		j.Local = rest[:i]
		rest = rest[i+1:]
		if j.Local == "" {
			return JID{}, errors.New("jid: empty localpart")
		}
	}
	j.Domain = strings.TrimSuffix(rest, ".")
	if j.Domain == "" || strings.ContainsAny(j.Domain, "@/ ") {
		return JID{}, errors.New("jid: bad domain")
	}
	if len(j.Local) > 1023 || len(j.Domain) > 1023 || len(j.Resource) > 1023 {
		return JID{}, errors.New("jid: part too long")
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

// Bare returns the bare form of s, or "" if s does not parse.
func Bare(s string) string {
	j, err := Parse(s)
	if err != nil {
		return ""
	}
	// Most addresses arrive already folded: then the bare form is the
	// front of s, and building it anew would allocate for every stanza
	// (several per archived message during a catch-up).
	head := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		head = s[:i]
	}
	if j.Local == "" && head == j.Domain ||
		len(head) == len(j.Local)+1+len(j.Domain) && head[:len(j.Local)] == j.Local &&
			head[len(j.Local)] == '@' && head[len(j.Local)+1:] == j.Domain {
		return head
	}
	return j.Bare().String()
}

// SameBare reports whether a and b parse and name the same bare JID.
func SameBare(a, b string) bool {
	x, y := Bare(a), Bare(b)
	return x != "" && x == y
}
