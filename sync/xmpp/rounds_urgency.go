package xmpp

import "unicode/utf8"

// urn:rounds:urgency:0 — the clinical urgency of a message (docs/PROTOCOL.md,
// "Rounds extensions"). Urgent and STAT messages also carry the XEP-0131
// Urgency header and an XEP-0428 fallback prefix in the body, so that other
// clients show "[URGENT] ..." and SHIM-aware ones raise it.
const NSUrgency = "urn:rounds:urgency:0"

// Urgency levels on the wire.
const (
	UrgencyRoutine = "routine"
	UrgencyUrgent  = "urgent"
	UrgencySTAT    = "stat"
)

// Urgency is a parsed <urgency/>.
type Urgency struct {
	Level       string // routine, urgent or stat
	AckRequired bool   // ack='required'
}

// NewUrgency builds <urgency/>.
func NewUrgency(level string, ackRequired bool) *Element {
	u := NewElement(NSUrgency, "urgency", "level", level)
	if ackRequired {
		u.SetAttr("ack", "required")
	}
	return u
}

// ParseUrgency reads <urgency/>; an unknown level reads as urgent (a sender
// that marked something urgent in a newer version wants attention, not less),
// a missing level as routine.
func ParseUrgency(st *Element) *Urgency {
	u := st.Child(NSUrgency, "urgency")
	if u == nil {
		return nil
	}
	out := &Urgency{Level: u.Attr("level"), AckRequired: u.Attr("ack") == "required"}
	switch out.Level {
	case UrgencyRoutine, UrgencyUrgent, UrgencySTAT:
	case "":
		out.Level = UrgencyRoutine
	default:
		out.Level = UrgencyUrgent
	}
	return out
}

// UrgencyPrefix is the XEP-0428 fallback prefix of a level's body ("" for
// routine).
func UrgencyPrefix(level string) string {
	switch level {
	case UrgencyUrgent:
		return "[URGENT] "
	case UrgencySTAT:
		return "[STAT] "
	}
	return ""
}

// UrgencyHeader is the XEP-0131 Urgency value of a level ("" for routine:
// no header).
func UrgencyHeader(level string) string {
	if level == UrgencyUrgent || level == UrgencySTAT {
		return "high"
	}
	return ""
}

// prefixLen is a prefix's length in code points (XEP-0428 counts those).
func prefixLen(p string) int { return utf8.RuneCountInString(p) }
