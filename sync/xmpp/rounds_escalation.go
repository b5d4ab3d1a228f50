package xmpp

import "strconv"

// urn:rounds:escalation:0 — a step of an escalation ladder. It rides (a) on
// the notice posted into the original thread and (b) on the escalated copy
// sent to the next target, so every client can link both to the original
// (by its origin-id).
const NSEscalation = "urn:rounds:escalation:0"

// Escalation is a parsed <escalation/>.
type Escalation struct {
	ID     string // origin-id of the original message
	Step   int    // 1 for the first escalation
	To     string // the JID the step went to (a person or a room)
	Role   string // the role it was resolved from, if any
	Reason string // e.g. "not acknowledged in 5 min"
}

// Element builds <escalation/>.
func (e Escalation) Element() *Element {
	return NewElement(NSEscalation, "escalation", "id", e.ID, "step", strconv.Itoa(e.Step),
		"to", e.To, "role", e.Role, "reason", e.Reason)
}

// ParseEscalation reads <escalation/>; without an id or with a step that is
// not a positive number it is nil.
func ParseEscalation(st *Element) *Escalation {
	el := st.Child(NSEscalation, "escalation")
	if el == nil || el.Attr("id") == "" {
		return nil
	}
	step, err := strconv.Atoi(el.Attr("step"))
	if err != nil || step < 1 || step > 1000 {
		return nil
	}
	for _, b := range []struct {
		attr string
		max  int
	}{{"id", maxClinicalID}, {"to", maxJIDBytes}, {"role", maxPolicyText}, {"reason", maxClinicalReason}} {
		if _, ok := boundedAttr(el, b.attr, b.max); !ok {
			return nil
		}
	}
	return &Escalation{ID: el.Attr("id"), Step: step, To: el.Attr("to"), Role: el.Attr("role"), Reason: el.Attr("reason")}
}
