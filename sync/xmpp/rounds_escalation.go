package xmpp

import (
	"fmt"
	"strconv"
	"time"
)

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
	// Sender and Thread are set on what the escalation service sends: the
	// original's sender and the conversation it went to (the sender's view),
	// so a client that trusts the service files a notice into that thread.
	Sender, Thread string
}

// Element builds <escalation/>.
func (e Escalation) Element() *Element {
	return NewElement(NSEscalation, "escalation", "id", e.ID, "step", strconv.Itoa(e.Step),
		"to", e.To, "role", e.Role, "reason", e.Reason, "sender", e.Sender, "thread", e.Thread)
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
	}{{"id", maxClinicalID}, {"to", maxJIDBytes}, {"role", maxPolicyText}, {"reason", maxClinicalReason},
		{"sender", maxJIDBytes}, {"thread", maxJIDBytes}} {
		if _, ok := boundedAttr(el, b.attr, b.max); !ok {
			return nil
		}
	}
	return &Escalation{ID: el.Attr("id"), Step: step, To: el.Attr("to"), Role: el.Attr("role"), Reason: el.Attr("reason"),
		Sender: el.Attr("sender"), Thread: el.Attr("thread")}
}

// EscalationPlan is <escalation-plan/>: the hand-off of a ladder to the
// escalation service. It rides on a copy of the original (same text and
// urgency) sent to the service: ID is the original's origin-id, To the
// conversation it went to, AfterSeconds the wait before each step, Steps
// the ladder (none: the service uses the org policy's).
type EscalationPlan struct {
	ID           string
	To           string
	AfterSeconds int
	Steps        []EscalationStep
}

// Element builds <escalation-plan/>.
func (p EscalationPlan) Element() *Element {
	el := NewElement(NSEscalation, "escalation-plan", "id", p.ID, "to", p.To)
	if p.AfterSeconds > 0 {
		el.SetAttr("after-seconds", strconv.Itoa(p.AfterSeconds))
	}
	for _, s := range p.Steps {
		el.Append(NewElement(NSEscalation, "step", "to", s.To, "role", s.Role, "room", s.Room))
	}
	return el
}

// ParseEscalationPlan reads <escalation-plan/>. Nil when absent; an error
// names what is wrong (the service refuses the plan and says why in its
// log): no id, no bare to, a wait outside 30..86400 s, more than 20 steps,
// or a step that is not exactly one of to, role, room.
func ParseEscalationPlan(st *Element) (*EscalationPlan, error) {
	el := st.Child(NSEscalation, "escalation-plan")
	if el == nil {
		return nil, nil
	}
	p, err := parsePlan(el)
	if err != nil {
		return nil, fmt.Errorf("xmpp: escalation plan: %w", err)
	}
	return &p, nil
}

// DecodeEscalationPlan parses an <escalation-plan/> document (fixtures).
func DecodeEscalationPlan(doc []byte) (EscalationPlan, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return EscalationPlan{}, fmt.Errorf("xmpp: escalation plan: %w", err)
	}
	if el.Name.Space != NSEscalation || el.Name.Local != "escalation-plan" {
		return EscalationPlan{}, fmt.Errorf("xmpp: escalation plan: %w", &PolicyError{"escalation-plan", "", "not a urn:rounds:escalation:0 <escalation-plan/> element"})
	}
	p, err := parsePlan(el)
	if err != nil {
		return EscalationPlan{}, fmt.Errorf("xmpp: escalation plan: %w", err)
	}
	return p, nil
}

func parsePlan(el *Element) (EscalationPlan, error) {
	id, ok := boundedAttr(el, "id", maxClinicalID)
	if !ok || id == "" {
		return EscalationPlan{}, &PolicyError{"escalation-plan", "id", "missing or too long"}
	}
	to, err := bareJIDAttr(el, "to", true)
	if err != nil {
		return EscalationPlan{}, err
	}
	p := EscalationPlan{ID: id, To: to}
	if el.Attr("after-seconds") != "" {
		if p.AfterSeconds, err = intAttr(el, "after-seconds", 30, 86400); err != nil {
			return EscalationPlan{}, err
		}
	}
	for _, s := range el.Children {
		if s.Name.Space != NSEscalation || s.Name.Local != "step" {
			continue
		}
		if len(p.Steps) >= maxLadderSteps {
			return EscalationPlan{}, &PolicyError{"step", "", fmt.Sprintf("more than %d steps", maxLadderSteps)}
		}
		st, err := parseStep(s)
		if err != nil {
			return EscalationPlan{}, err
		}
		p.Steps = append(p.Steps, st)
	}
	return p, nil
}

// Held is <held xmlns='urn:rounds:escalation:0' id='…'/>: the escalation
// service's answer to a hand-off, saying it holds the ladder of the message
// whose origin-id is id. Without it the sender's device keeps its own ladder.
func NewHeld(id string) *Element { return NewElement(NSEscalation, "held", "id", id) }

// ParseHeld reads <held/>: the origin-id, or "" when absent or malformed.
func ParseHeld(st *Element) string {
	id, ok := boundedAttr(st.Child(NSEscalation, "held"), "id", maxClinicalID)
	if !ok {
		return ""
	}
	return id
}

// NodeEscalationLease is the PEP node (on the escalation service's own
// account) whose one item holds the lease of the instance that fires steps.
const NodeEscalationLease = NSEscalation + "#lease"

// NewLease builds <lease holder='…' until='…'/>.
func NewLease(holder string, until time.Time) *Element {
	return NewElement(NSEscalation, "lease", "holder", holder, "until", until.UTC().Format(time.RFC3339Nano))
}

// ParseLease reads <lease/>; ok is false when it is absent or malformed.
func ParseLease(el *Element) (holder string, until time.Time, ok bool) {
	if el == nil || el.Name.Space != NSEscalation || el.Name.Local != "lease" {
		return "", time.Time{}, false
	}
	holder, okH := boundedAttr(el, "holder", maxJIDBytes)
	until, err := time.Parse(time.RFC3339Nano, el.Attr("until"))
	if !okH || holder == "" || err != nil {
		return "", time.Time{}, false
	}
	return holder, until, true
}
