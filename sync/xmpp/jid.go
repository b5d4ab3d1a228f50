package xmpp

import "rounds/jid"

// The JID type lives in the leaf package rounds/jid, which every layer may
// use; these names keep the wire's callers (and sync's) as they were. jid is
// the one package of ours sync/xmpp imports (doc.go).

// JID is an XMPP address (RFC 7622) split into its parts: jid.JID.
type JID = jid.JID

// ParseJID splits s (jid.Parse).
func ParseJID(s string) (JID, error) { return jid.Parse(s) }

// BareJID returns the bare form of s, or "" if s does not parse (jid.Bare).
func BareJID(s string) string { return jid.Bare(s) }

// SameBare reports whether a and b parse and name the same bare JID.
func SameBare(a, b string) bool { return jid.SameBare(a, b) }
