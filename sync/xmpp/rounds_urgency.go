package xmpp

import (
	"strings"
	"unicode/utf8"
)

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

// Acknowledgement instructions: the last line of the fallback body of a
// message that asks for an acknowledgement, for readers whose client does
// not know <urgency ack='required'/> (profanity, poezio, Conversations). It
// is an XEP-0428 range for NSUrgency, so Rounds clients strip it and show
// exactly what the sender typed.

// AckInstruction is the line that tells a reader which reply counts as an
// acknowledgement: word is the sender's first accepted reply word, shown in
// capitals ("Reply \"ACK\" to acknowledge.").
func AckInstruction(word string) string {
	return `Reply "` + strings.ToUpper(word) + `" to acknowledge.`
}

// AckInstructionNoText is the line used when the sender's policy does not
// count text replies: the reader has to acknowledge in Rounds.
const AckInstructionNoText = "Acknowledge this message in Rounds; a text reply does not count."

// AckInstructionSuffix is what follows a body of bodyRunes code points
// (prefix included) to add instruction as its last line, and the fallback
// element marking it (the line break with it, so stripping leaves the body
// as typed).
func AckInstructionSuffix(bodyRunes int, instruction string) (string, *Element) {
	suffix := "\n" + instruction
	return suffix, NewFallback(NSUrgency, bodyRunes, bodyRunes+prefixLen(suffix))
}

// ClinicalFallbacksExact says whether every range the sender marked as the
// fallback for NSUrgency or NSOrder holds exactly a text Rounds generates
// for it: "[URGENT] " or "[STAT] ", "[ORDER] ", or the acknowledgement line
// with its line break. The ranges are the sender's: one over "NOT " would
// otherwise take the word out of "Do NOT give…". A whole-body range is
// never stripped (StripFallback), so it passes here.
func ClinicalFallbacksExact(body string, fbs []Fallback) bool {
	rs := []rune(body)
	for _, f := range fbs {
		if f.For != NSUrgency && f.For != NSOrder {
			continue
		}
		for _, r := range f.Ranges {
			if r.End > len(rs) || r.End <= r.Start {
				return false
			}
			if !clinicalFallbackText(f.For, string(rs[r.Start:r.End])) {
				return false
			}
		}
	}
	return true
}

func clinicalFallbackText(ns, text string) bool {
	if ns == NSOrder {
		return text == OrderPrefix
	}
	if text == UrgencyPrefix(UrgencyUrgent) || text == UrgencyPrefix(UrgencySTAT) || text == "\n"+AckInstructionNoText {
		return true
	}
	word, ok := strings.CutPrefix(text, "\nReply \"")
	word, ok2 := strings.CutSuffix(word, "\" to acknowledge.")
	return ok && ok2 && word != "" && !strings.ContainsAny(word, "\"\n")
}
