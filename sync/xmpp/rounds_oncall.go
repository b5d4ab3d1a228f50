package xmpp

import (
	"fmt"
	"strconv"
	"time"
)

// urn:rounds:oncall:0 — the on-call schedule, published by an administrator
// (or a script from the rota's CSV/iCal) as item "current" of node
// urn:rounds:oncall:0. The client resolves a role to whoever holds it at send
// time.
const NSOnCall = "urn:rounds:oncall:0"

// Shift is one <shift/>: who holds a role from From until Until.
type Shift struct {
	Role        string
	JID         string // bare JID of the holder
	From, Until time.Time
	Backup      string // bare JID, optional
	Orders      bool   // the holder may receive orders (specified contact list)
}

const maxShifts = 10000

// ParseSchedule reads a <schedule xmlns='urn:rounds:oncall:0'/>. Any malformed
// shift makes the whole schedule an error naming it (a half-read rota sends
// pages to the wrong physician).
func ParseSchedule(el *Element) ([]Shift, error) {
	out, err := parseSchedule(el)
	if err != nil {
		return nil, fmt.Errorf("xmpp: on-call schedule: %w", err)
	}
	return out, nil
}

func parseSchedule(el *Element) ([]Shift, error) {
	if el == nil || el.Name.Space != NSOnCall || el.Name.Local != "schedule" {
		return nil, &PolicyError{"schedule", "", "not a urn:rounds:oncall:0 <schedule/> element"}
	}
	var out []Shift
	for i, s := range el.ChildrenNamed(NSOnCall, "shift") {
		if i >= maxShifts {
			return nil, &PolicyError{"shift", "", fmt.Sprintf("more than %d shifts", maxShifts)}
		}
		sh, err := parseShift(s)
		if err != nil {
			return nil, fmt.Errorf("shift %d: %w", i+1, err)
		}
		out = append(out, sh)
	}
	return out, nil
}

func parseShift(s *Element) (Shift, error) {
	var sh Shift
	var err error
	if sh.Role, err = textAttr(s, "role"); err != nil {
		return sh, err
	}
	if sh.Role == "" {
		return sh, &PolicyError{"shift", "role", "missing"}
	}
	if sh.JID, err = bareJIDAttr(s, "jid", true); err != nil {
		return sh, err
	}
	if sh.Backup, err = bareJIDAttr(s, "backup", false); err != nil {
		return sh, err
	}
	for _, a := range []struct {
		name string
		t    *time.Time
	}{{"from", &sh.From}, {"until", &sh.Until}} {
		v := s.Attr(a.name)
		if v == "" {
			return sh, &PolicyError{"shift", a.name, "missing"}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return sh, &PolicyError{"shift", a.name, fmt.Sprintf("%s is not an RFC 3339 time", shown(v))}
		}
		*a.t = t.UTC() // one zone, so comparisons and encodings agree
	}
	if !sh.Until.After(sh.From) {
		return sh, &PolicyError{"shift", "until", "is not after from"}
	}
	switch v := s.Attr("orders"); v {
	case "", "false", "0":
	case "true", "1":
		sh.Orders = true
	default:
		return sh, &PolicyError{"shift", "orders", fmt.Sprintf("%s is not true or false", shown(v))}
	}
	return sh, nil
}

// DecodeSchedule parses a schedule document from XML text.
func DecodeSchedule(doc []byte) ([]Shift, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return nil, fmt.Errorf("xmpp: on-call schedule: %w", err)
	}
	return ParseSchedule(el)
}

// ScheduleElement encodes shifts for publishing.
func ScheduleElement(shifts []Shift) *Element {
	el := NewElement(NSOnCall, "schedule")
	for _, s := range shifts {
		e := NewElement(NSOnCall, "shift", "role", s.Role, "jid", s.JID,
			"from", s.From.UTC().Format(time.RFC3339), "until", s.Until.UTC().Format(time.RFC3339), "backup", s.Backup)
		if s.Orders {
			e.SetAttr("orders", strconv.FormatBool(true))
		}
		el.Append(e)
	}
	return el
}
