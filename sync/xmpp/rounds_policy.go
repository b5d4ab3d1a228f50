package xmpp

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// urn:rounds:policy:0 — the organisation's policy, published by an
// administrator as item "current" of node urn:rounds:policy:0 on the server's
// pubsub service. Every field is optional (zero means "the policy says
// nothing"); the app merges it with the user's settings, strictest wins.
const NSPolicy = "urn:rounds:policy:0"

// PolicyItemID is the item that holds the policy in force.
const PolicyItemID = "current"

// OrgPolicy is a parsed <policy/>.
type OrgPolicy struct {
	Version             int
	RetentionDays       int   // <retention days/>: 1..3650
	LockMaxSeconds      int   // <lock max-seconds/>: 10..86400
	PINMinLength        int   // <pin min-length/>: 4..64
	KeyringAllowed      *bool // <keyring allowed/>; nil: not said
	NotificationPreview string
	UrgentRepeatSeconds int // <urgent repeat-seconds/>: 10..3600
	UrgentRepeatCount   int // <urgent repeat-count/>: 1..100
	Escalation          EscalationPolicy
	Admins              []string // bare JIDs allowed to wipe devices
	OrderRecipients     []string // the specified contact list for orders
	LevelNames          LevelNames
	TextAck             *TextAckPolicy // <text-ack/>; nil: not said
	// ShiftKeepHours is <shift-end keep-hours/>: 0..168, how long a shared
	// device keeps a profile locked after its owner ends their shift (0:
	// removed at once); nil: not said.
	ShiftKeepHours *int
	// LockedNameAllowed is <locked-name allowed='true|false'/>: whether a
	// locked device's content-free notification may name the person it is
	// for ("STAT message for nurse.kim"); nil: not said.
	LockedNameAllowed *bool
	DND               *DNDPolicy // <dnd/>; nil: not said
	// LockedRoutineNotify is <locked routine-notify='true|false'/>: whether
	// routine messages arriving while the app is locked notify (without
	// sender or text); nil: not said.
	LockedRoutineNotify *bool
	// ColdStartListen is <cold-start listen='true|false'/>: whether a
	// desktop keeps, under a key in its OS keyring, what lets it sign in
	// and listen locked after a restart, before the first unlock; nil:
	// not said.
	ColdStartListen *bool
}

// DNDPolicy is <dnd urgent='ring|silent' stat='ring|silent'/>: which urgent
// levels ring through a user's do-not-disturb (routine never does). An
// attribute left out rings.
type DNDPolicy struct{ Urgent, STAT bool }

// TextAckPolicy is <text-ack allowed='true|false'><word>ack</word>…</text-ack>:
// whether a plain-text reply from a client without Rounds may acknowledge a
// page (docs/PROTOCOL.md, "Acknowledgement by text reply"), and which
// replies count (none listed: the client's defaults).
type TextAckPolicy struct {
	Allowed bool
	Words   []string
}

// Bounds of <text-ack/>: a handful of short words.
const (
	maxTextAckWords   = 20
	maxTextAckWordLen = 40
)

// EscalationPolicy is the default ladder.
type EscalationPolicy struct {
	AfterSeconds int // 30..86400; 0: no default ladder
	Steps        []EscalationStep
	// Service is the bare JID of the hospital's escalation service
	// (<escalation service='…'/>, cmd/rounds-escalation): devices hand
	// ladders to it and accept its notices from this JID only. "": none,
	// every ladder runs on the sender's device.
	Service string
}

// EscalationStep names exactly one target: a person, a role or a room.
type EscalationStep struct{ To, Role, Room string }

// LevelNames are the display names of the urgency levels ("" = default).
type LevelNames struct{ Routine, Urgent, STAT string }

// Notification preview values.
const (
	PreviewSender  = "sender"
	PreviewNone    = "none"
	PreviewContent = "content"
)

// Bounds of a policy document (beyond them it is refused, not clipped: an
// admin who typed 3000 seconds for a lock wants to hear about it).
const (
	maxPolicyList  = 200
	maxPolicyText  = 200
	maxLadderSteps = 20
)

// Bounds of the clinical payloads on messages. Anyone can send them, and
// what they carry is stored, drawn ("To you as …") and audited, so an
// element whose id, role or reason is longer is ignored like a malformed
// one (the body still shows). Ids we make are 16-32 characters.
const (
	maxClinicalID     = 256
	maxClinicalReason = 500
	maxJIDBytes       = 3 * 1023 // RFC 7622: each part at most 1023 bytes
)

// shown quotes a refused value for an error message, cut to 64 bytes: the
// error is logged on every device and printed by admin tools, and the value
// can be as long as a stanza.
func shown(v string) string {
	const max = 64
	if len(v) <= max {
		return strconv.Quote(v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + fmt.Sprintf("… (%d bytes)", len(v))
}

// boundedAttr is el's attribute, or ok=false if it is longer than max.
func boundedAttr(el *Element, attr string, max int) (string, bool) {
	v := el.Attr(attr)
	return v, len(v) <= max
}

// PolicyError says which part of a policy or schedule is wrong.
type PolicyError struct {
	Element, Attr string
	Reason        string
}

func (e *PolicyError) Error() string {
	if e.Attr == "" {
		return fmt.Sprintf("<%s>: %s", e.Element, e.Reason)
	}
	return fmt.Sprintf("<%s %s>: %s", e.Element, e.Attr, e.Reason)
}

func intAttr(el *Element, attr string, lo, hi int) (int, error) {
	s := el.Attr(attr)
	if s == "" {
		return 0, &PolicyError{el.Name.Local, attr, "missing"}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, &PolicyError{el.Name.Local, attr, fmt.Sprintf("%s is not a whole number", shown(s))}
	}
	if v < lo || v > hi {
		return 0, &PolicyError{el.Name.Local, attr, fmt.Sprintf("%d is outside %d..%d", v, lo, hi)}
	}
	return v, nil
}

func bareJIDAttr(el *Element, attr string, required bool) (string, error) {
	s := el.Attr(attr)
	if s == "" {
		if required {
			return "", &PolicyError{el.Name.Local, attr, "missing"}
		}
		return "", nil
	}
	j, err := ParseJID(s)
	if err != nil || j.Resource != "" || j.Local == "" || j.Domain == "" {
		return "", &PolicyError{el.Name.Local, attr, fmt.Sprintf("%s is not a bare JID like name@hospital.org", shown(s))}
	}
	return j.Bare().String(), nil
}

func textAttr(el *Element, attr string) (string, error) {
	s := el.Attr(attr)
	if len(s) > maxPolicyText {
		return "", &PolicyError{el.Name.Local, attr, "too long"}
	}
	return s, nil
}

// ParseOrgPolicy reads a <policy xmlns='urn:rounds:policy:0'/> element.
// Unknown children are ignored (a newer admin tool may add some); a known
// child given twice, a value out of bounds or a malformed JID is an error
// naming the element, and nothing of the document applies.
func ParseOrgPolicy(el *Element) (OrgPolicy, error) {
	p, err := parseOrgPolicy(el)
	if err != nil {
		return OrgPolicy{}, fmt.Errorf("xmpp: org policy: %w", err)
	}
	return p, nil
}

func parseOrgPolicy(el *Element) (OrgPolicy, error) {
	var p OrgPolicy
	if el == nil || el.Name.Space != NSPolicy || el.Name.Local != "policy" {
		return p, &PolicyError{"policy", "", "not a urn:rounds:policy:0 <policy/> element"}
	}
	if el.Attr("version") != "" {
		v, err := intAttr(el, "version", 0, 1<<30)
		if err != nil {
			return OrgPolicy{}, err
		}
		p.Version = v
	}
	seen := map[string]bool{}
	once := func(c *Element) error {
		if seen[c.Name.Local] {
			return &PolicyError{c.Name.Local, "", "given twice"}
		}
		seen[c.Name.Local] = true
		return nil
	}
	var err error
	for _, c := range el.Children {
		if c.Name.Space != NSPolicy {
			continue
		}
		switch c.Name.Local {
		case "retention":
			if err = once(c); err == nil {
				p.RetentionDays, err = intAttr(c, "days", 1, 3650)
			}
		case "lock":
			if err = once(c); err == nil {
				p.LockMaxSeconds, err = intAttr(c, "max-seconds", 10, 86400)
			}
		case "pin":
			if err = once(c); err == nil {
				p.PINMinLength, err = intAttr(c, "min-length", 4, 64)
			}
		case "keyring":
			if err = once(c); err == nil {
				switch c.Attr("allowed") {
				case "true", "1":
					t := true
					p.KeyringAllowed = &t
				case "false", "0":
					f := false
					p.KeyringAllowed = &f
				default:
					err = &PolicyError{"keyring", "allowed", fmt.Sprintf("%s is not true or false", shown(c.Attr("allowed")))}
				}
			}
		case "locked":
			if err = once(c); err == nil {
				switch c.Attr("routine-notify") {
				case "true", "1":
					t := true
					p.LockedRoutineNotify = &t
				case "false", "0":
					f := false
					p.LockedRoutineNotify = &f
				default:
					err = &PolicyError{"locked", "routine-notify", fmt.Sprintf("%s is not true or false", shown(c.Attr("routine-notify")))}
				}
			}
		case "notifications":
			if err = once(c); err == nil {
				switch v := c.Attr("preview"); v {
				case PreviewSender, PreviewNone, PreviewContent:
					p.NotificationPreview = v
				default:
					err = &PolicyError{"notifications", "preview", fmt.Sprintf("%s is not sender, none or content", shown(v))}
				}
			}
		case "urgent":
			if err = once(c); err == nil {
				if p.UrgentRepeatSeconds, err = intAttr(c, "repeat-seconds", 10, 3600); err == nil {
					p.UrgentRepeatCount, err = intAttr(c, "repeat-count", 1, 100)
				}
			}
		case "escalation":
			if err = once(c); err == nil {
				p.Escalation, err = parseLadder(c)
			}
		case "admin":
			var j string
			if j, err = bareJIDAttr(c, "jid", true); err == nil {
				if len(p.Admins) >= maxPolicyList {
					err = &PolicyError{"admin", "", "too many"}
				}
				p.Admins = append(p.Admins, j)
			}
		case "order-recipient":
			var j string
			if j, err = bareJIDAttr(c, "jid", true); err == nil {
				if len(p.OrderRecipients) >= maxPolicyList {
					err = &PolicyError{"order-recipient", "", "too many"}
				}
				p.OrderRecipients = append(p.OrderRecipients, j)
			}
		case "text-ack":
			if err = once(c); err == nil {
				p.TextAck, err = parseTextAck(c)
			}
		case "cold-start":
			if err = once(c); err == nil {
				switch c.Attr("listen") {
				case "true", "1":
					t := true
					p.ColdStartListen = &t
				case "false", "0":
					f := false
					p.ColdStartListen = &f
				default:
					err = &PolicyError{"cold-start", "listen", fmt.Sprintf("%s is not true or false", shown(c.Attr("listen")))}
				}
			}
		case "locked-name":
			if err = once(c); err == nil {
				switch c.Attr("allowed") {
				case "true", "1":
					t := true
					p.LockedNameAllowed = &t
				case "false", "0":
					f := false
					p.LockedNameAllowed = &f
				default:
					err = &PolicyError{"locked-name", "allowed", fmt.Sprintf("%s is not true or false", shown(c.Attr("allowed")))}
				}
			}
		case "shift-end":
			if err = once(c); err == nil {
				var h int
				if h, err = intAttr(c, "keep-hours", 0, 168); err == nil {
					p.ShiftKeepHours = &h
				}
			}
		case "dnd":
			if err = once(c); err == nil {
				p.DND, err = parseDNDPolicy(c)
			}
		case "levels":
			if err = once(c); err == nil {
				if p.LevelNames.Routine, err = textAttr(c, "routine"); err == nil {
					if p.LevelNames.Urgent, err = textAttr(c, "urgent"); err == nil {
						p.LevelNames.STAT, err = textAttr(c, "stat")
					}
				}
			}
		}
		if err != nil {
			return OrgPolicy{}, err
		}
	}
	return p, nil
}

func parseDNDPolicy(c *Element) (*DNDPolicy, error) {
	ring := func(attr string) (bool, error) {
		switch v := c.Attr(attr); v {
		case "", "ring":
			return true, nil
		case "silent":
			return false, nil
		default:
			return false, &PolicyError{"dnd", attr, fmt.Sprintf("%s is not ring or silent", shown(v))}
		}
	}
	var d DNDPolicy
	var err error
	if d.Urgent, err = ring("urgent"); err != nil {
		return nil, err
	}
	if d.STAT, err = ring("stat"); err != nil {
		return nil, err
	}
	return &d, nil
}

func parseTextAck(c *Element) (*TextAckPolicy, error) {
	t := &TextAckPolicy{}
	switch c.Attr("allowed") {
	case "true", "1":
		t.Allowed = true
	case "false", "0":
	default:
		return nil, &PolicyError{"text-ack", "allowed", fmt.Sprintf("%s is not true or false", shown(c.Attr("allowed")))}
	}
	for _, w := range c.ChildrenNamed(NSPolicy, "word") {
		if len(t.Words) >= maxTextAckWords {
			return nil, &PolicyError{"word", "", fmt.Sprintf("more than %d words", maxTextAckWords)}
		}
		word := strings.TrimSpace(w.Text)
		switch {
		case word == "":
			return nil, &PolicyError{"word", "", "empty"}
		case utf8.RuneCountInString(word) > maxTextAckWordLen:
			return nil, &PolicyError{"word", "", fmt.Sprintf("%s is longer than %d characters", shown(word), maxTextAckWordLen)}
		case strings.IndexFunc(word, unicode.IsControl) >= 0:
			return nil, &PolicyError{"word", "", fmt.Sprintf("%s holds a control character", shown(word))}
		}
		t.Words = append(t.Words, word)
	}
	return t, nil
}

func parseLadder(c *Element) (EscalationPolicy, error) {
	var e EscalationPolicy
	var err error
	if e.AfterSeconds, err = intAttr(c, "after-seconds", 30, 86400); err != nil {
		return EscalationPolicy{}, err
	}
	if e.Service, err = bareJIDAttr(c, "service", false); err != nil {
		return EscalationPolicy{}, err
	}
	for _, s := range c.ChildrenNamed(NSPolicy, "step") {
		if len(e.Steps) >= maxLadderSteps {
			return EscalationPolicy{}, &PolicyError{"step", "", fmt.Sprintf("more than %d steps", maxLadderSteps)}
		}
		st, err := parseStep(s)
		if err != nil {
			return EscalationPolicy{}, err
		}
		e.Steps = append(e.Steps, st)
	}
	return e, nil
}

// parseStep reads a ladder's <step/> (the policy's and a hand-off's).
func parseStep(s *Element) (EscalationStep, error) {
	var st EscalationStep
	var err error
	if st.To, err = bareJIDAttr(s, "to", false); err != nil {
		return EscalationStep{}, err
	}
	if st.Room, err = bareJIDAttr(s, "room", false); err != nil {
		return EscalationStep{}, err
	}
	if st.Role, err = textAttr(s, "role"); err != nil {
		return EscalationStep{}, err
	}
	n := 0
	for _, v := range []string{st.To, st.Room, st.Role} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return EscalationStep{}, &PolicyError{"step", "", "needs exactly one of to, role, room"}
	}
	return st, nil
}

// DecodeOrgPolicy parses a policy document from XML text (admin tools, fixtures).
func DecodeOrgPolicy(doc []byte) (OrgPolicy, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return OrgPolicy{}, fmt.Errorf("xmpp: org policy: %w", err)
	}
	return ParseOrgPolicy(el)
}

// Element encodes the policy for publishing (admin tools, demo seeding).
func (p OrgPolicy) Element() *Element {
	el := NewElement(NSPolicy, "policy", "version", strconv.Itoa(p.Version))
	add := func(local string, attrs ...string) { el.Append(NewElement(NSPolicy, local, attrs...)) }
	if p.RetentionDays > 0 {
		add("retention", "days", strconv.Itoa(p.RetentionDays))
	}
	if p.LockMaxSeconds > 0 {
		add("lock", "max-seconds", strconv.Itoa(p.LockMaxSeconds))
	}
	if p.PINMinLength > 0 {
		add("pin", "min-length", strconv.Itoa(p.PINMinLength))
	}
	if p.KeyringAllowed != nil {
		add("keyring", "allowed", strconv.FormatBool(*p.KeyringAllowed))
	}
	if p.NotificationPreview != "" {
		add("notifications", "preview", p.NotificationPreview)
	}
	if p.LockedRoutineNotify != nil {
		add("locked", "routine-notify", strconv.FormatBool(*p.LockedRoutineNotify))
	}
	if p.UrgentRepeatSeconds > 0 || p.UrgentRepeatCount > 0 {
		add("urgent", "repeat-seconds", strconv.Itoa(p.UrgentRepeatSeconds), "repeat-count", strconv.Itoa(p.UrgentRepeatCount))
	}
	if p.Escalation.AfterSeconds > 0 {
		e := NewElement(NSPolicy, "escalation", "after-seconds", strconv.Itoa(p.Escalation.AfterSeconds), "service", p.Escalation.Service)
		for _, s := range p.Escalation.Steps {
			e.Append(NewElement(NSPolicy, "step", "to", s.To, "role", s.Role, "room", s.Room))
		}
		el.Append(e)
	}
	for _, a := range p.Admins {
		add("admin", "jid", a)
	}
	for _, o := range p.OrderRecipients {
		add("order-recipient", "jid", o)
	}
	if t := p.TextAck; t != nil {
		e := NewElement(NSPolicy, "text-ack", "allowed", strconv.FormatBool(t.Allowed))
		for _, w := range t.Words {
			e.Append(NewElement(NSPolicy, "word").SetText(w))
		}
		el.Append(e)
	}
	if p.ColdStartListen != nil {
		add("cold-start", "listen", strconv.FormatBool(*p.ColdStartListen))
	}
	if p.LockedNameAllowed != nil {
		add("locked-name", "allowed", strconv.FormatBool(*p.LockedNameAllowed))
	}
	if p.ShiftKeepHours != nil {
		add("shift-end", "keep-hours", strconv.Itoa(*p.ShiftKeepHours))
	}
	if d := p.DND; d != nil {
		word := func(ring bool) string {
			if ring {
				return "ring"
			}
			return "silent"
		}
		add("dnd", "urgent", word(d.Urgent), "stat", word(d.STAT))
	}
	if p.LevelNames != (LevelNames{}) {
		add("levels", "routine", p.LevelNames.Routine, "urgent", p.LevelNames.Urgent, "stat", p.LevelNames.STAT)
	}
	return el
}
