package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	// TZIDs resolve the same on every platform (Windows and slim servers
	// have no zoneinfo of their own): a rota must not read differently on
	// the machine that publishes it.
	_ "time/tzdata"
)

// parseScheduleICal reads an on-call schedule from an iCalendar file (RFC
// 5545), as rota systems export them. Each VEVENT is one shift:
//
//	SUMMARY        the role ("Cardiology on call")
//	DTSTART/DTEND  UTC (…Z) or with a TZID from the IANA database
//	X-ROUNDS-JID   the holder's address; otherwise the single ATTENDEE's mailto:
//	X-ROUNDS-BACKUP, X-ROUNDS-ORDERS (TRUE/FALSE)  optional
//
// It is strict on purpose: recurrence rules, floating times, all-day dates
// and DURATION are refused with the line that has them, because a schedule
// that is silently read differently from what the rota system meant pages the
// wrong doctor. Events with STATUS:CANCELLED are not shifts and are skipped.
func parseScheduleICal(data []byte) ([]shift, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8 text")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines, err := unfoldICal(string(data))
	if err != nil {
		return nil, err
	}
	var (
		shifts    []shift
		stack     []string // open components
		ev        *icalEvent
		sawCal    bool
		calClosed bool
	)
	for _, l := range lines {
		if calClosed {
			return nil, fmt.Errorf("line %d: content after END:VCALENDAR", l.n)
		}
		p, err := parseICalLine(l)
		if err != nil {
			return nil, err
		}
		switch p.name {
		case "BEGIN":
			comp := strings.ToUpper(p.value)
			if len(stack) == 0 && comp != "VCALENDAR" {
				return nil, fmt.Errorf("line %d: file must start with BEGIN:VCALENDAR", l.n)
			}
			if len(stack) == 0 {
				if sawCal {
					return nil, fmt.Errorf("line %d: a second VCALENDAR", l.n)
				}
				sawCal = true
			}
			if comp == "VEVENT" {
				if len(stack) != 1 {
					return nil, fmt.Errorf("line %d: VEVENT inside %s", l.n, stack[len(stack)-1])
				}
				ev = &icalEvent{line: l.n}
			}
			stack = append(stack, comp)
			if len(stack) > 8 {
				return nil, fmt.Errorf("line %d: components nested too deep", l.n)
			}
			continue
		case "END":
			comp := strings.ToUpper(p.value)
			if len(stack) == 0 || stack[len(stack)-1] != comp {
				return nil, fmt.Errorf("line %d: END:%s does not close the open component", l.n, p.value)
			}
			stack = stack[:len(stack)-1]
			if comp == "VEVENT" {
				s, keep, err := ev.shift()
				if err != nil {
					return nil, err
				}
				if keep {
					shifts = append(shifts, s)
					if len(shifts) > maxScheduleShifts {
						return nil, fmt.Errorf("more than %d shifts", maxScheduleShifts)
					}
				}
				ev = nil
			}
			if len(stack) == 0 {
				calClosed = true
			}
			continue
		}
		if len(stack) == 0 {
			return nil, fmt.Errorf("line %d: file must start with BEGIN:VCALENDAR", l.n)
		}
		// Properties of the event itself; nested components (VALARM) and
		// the calendar's own properties do not describe the shift.
		if ev != nil && len(stack) == 2 {
			if err := ev.add(p); err != nil {
				return nil, err
			}
		}
	}
	if !sawCal {
		return nil, errors.New("no BEGIN:VCALENDAR")
	}
	if !calClosed {
		return nil, errors.New("END:VCALENDAR missing (file cut short?)")
	}
	return shifts, nil
}

type icalLine struct {
	n    int // line number of the first physical line
	text string
}

// unfoldICal splits content lines and joins folded ones (a line starting with
// a space or tab continues the previous one, RFC 5545 §3.1).
func unfoldICal(s string) ([]icalLine, error) {
	var out []icalLine
	n := 0
	for len(s) > 0 {
		n++
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: continuation line with nothing to continue", n)
			}
			out[len(out)-1].text += line[1:]
			if len(out[len(out)-1].text) > 1<<16 {
				return nil, fmt.Errorf("line %d: content line longer than 64 KiB", out[len(out)-1].n)
			}
			continue
		}
		out = append(out, icalLine{n: n, text: line})
	}
	return out, nil
}

type icalProp struct {
	n      int
	name   string
	params map[string]string
	value  string
}

// parseICalLine splits NAME;PARAM=VALUE;...:value, honouring quoted
// parameter values (which may contain ':' and ';').
func parseICalLine(l icalLine) (icalProp, error) {
	p := icalProp{n: l.n, params: map[string]string{}}
	t := l.text
	i := strings.IndexAny(t, ";:")
	if i <= 0 {
		return p, fmt.Errorf("line %d: not a NAME:value line", l.n)
	}
	p.name = strings.ToUpper(t[:i])
	for _, r := range p.name {
		if !(r == '-' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return p, fmt.Errorf("line %d: bad property name %q", l.n, t[:i])
		}
	}
	t = t[i:]
	for strings.HasPrefix(t, ";") {
		t = t[1:]
		eq := strings.IndexByte(t, '=')
		if eq <= 0 {
			return p, fmt.Errorf("line %d: parameter without a value", l.n)
		}
		key := strings.ToUpper(t[:eq])
		t = t[eq+1:]
		var val string
		if strings.HasPrefix(t, `"`) {
			end := strings.IndexByte(t[1:], '"')
			if end < 0 {
				return p, fmt.Errorf("line %d: unterminated quoted parameter", l.n)
			}
			val, t = t[1:1+end], t[2+end:]
		} else {
			end := strings.IndexAny(t, ";:")
			if end < 0 {
				return p, fmt.Errorf("line %d: no ':' before the value", l.n)
			}
			val, t = t[:end], t[end:]
		}
		p.params[key] = val
	}
	if !strings.HasPrefix(t, ":") {
		return p, fmt.Errorf("line %d: no ':' before the value", l.n)
	}
	p.value = t[1:]
	return p, nil
}

// icalEvent collects one VEVENT's properties.
type icalEvent struct {
	line                      int
	uid, summary, jid, backup string
	orders                    string
	attendees                 []string
	start, end                *icalProp
	cancelled                 bool
	seen                      map[string]bool
}

func (e *icalEvent) where() string {
	if e.uid != "" {
		return fmt.Sprintf("event at line %d (UID %s)", e.line, e.uid)
	}
	return fmt.Sprintf("event at line %d", e.line)
}

func (e *icalEvent) add(p icalProp) error {
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	single := map[string]bool{"UID": true, "SUMMARY": true, "DTSTART": true, "DTEND": true,
		"X-ROUNDS-JID": true, "X-ROUNDS-BACKUP": true, "X-ROUNDS-ORDERS": true}
	if single[p.name] && e.seen[p.name] {
		return fmt.Errorf("line %d: %s twice in one event", p.n, p.name)
	}
	e.seen[p.name] = true
	switch p.name {
	case "UID":
		e.uid = p.value
	case "SUMMARY":
		e.summary = icalText(p.value)
	case "X-ROUNDS-JID":
		e.jid = p.value
	case "X-ROUNDS-BACKUP":
		e.backup = p.value
	case "X-ROUNDS-ORDERS":
		e.orders = p.value
	case "ATTENDEE":
		e.attendees = append(e.attendees, p.value)
	case "DTSTART":
		e.start = &p
	case "DTEND":
		e.end = &p
	case "STATUS":
		e.cancelled = strings.EqualFold(p.value, "CANCELLED")
	case "RRULE", "RDATE", "EXDATE", "EXRULE":
		return fmt.Errorf("line %d: %s (recurring events) is not supported: export the rota with each shift as its own event", p.n, p.name)
	case "DURATION":
		return fmt.Errorf("line %d: DURATION is not supported: give DTEND", p.n)
	case "RECURRENCE-ID":
		return fmt.Errorf("line %d: RECURRENCE-ID (an exception to a recurring event) is not supported", p.n)
	}
	return nil
}

// shift turns the event into a shift; keep is false for cancelled events.
func (e *icalEvent) shift() (shift, bool, error) {
	if e.cancelled {
		return shift{}, false, nil
	}
	s := shift{Role: e.summary, Backup: e.backup, where: e.where()}
	switch {
	case e.jid != "":
		s.JID = e.jid
	case len(e.attendees) == 1:
		addr := e.attendees[0]
		if len(addr) < 7 || !strings.EqualFold(addr[:7], "mailto:") {
			return s, false, fmt.Errorf("%s: ATTENDEE %q is not a mailto: address", s.where, addr)
		}
		s.JID = addr[7:]
	case len(e.attendees) > 1:
		return s, false, fmt.Errorf("%s: %d attendees; name the holder with X-ROUNDS-JID", s.where, len(e.attendees))
	default:
		return s, false, fmt.Errorf("%s: no holder (X-ROUNDS-JID or ATTENDEE)", s.where)
	}
	var err error
	if e.start == nil || e.end == nil {
		return s, false, fmt.Errorf("%s: needs DTSTART and DTEND", s.where)
	}
	if s.From, err = icalTime(*e.start); err != nil {
		return s, false, fmt.Errorf("%s: %v", s.where, err)
	}
	if s.Until, err = icalTime(*e.end); err != nil {
		return s, false, fmt.Errorf("%s: %v", s.where, err)
	}
	if s.Orders, err = parseYesNo(e.orders); err != nil {
		return s, false, fmt.Errorf("%s: X-ROUNDS-ORDERS: %v", s.where, err)
	}
	return s, true, nil
}

// icalTime reads a DATE-TIME in UTC or with a TZID.
func icalTime(p icalProp) (time.Time, error) {
	if v, ok := p.params["VALUE"]; ok && !strings.EqualFold(v, "DATE-TIME") {
		return time.Time{}, fmt.Errorf("line %d: %s is a %s; a shift needs a date and time", p.n, p.name, v)
	}
	v := p.value
	if strings.HasSuffix(v, "Z") {
		if _, ok := p.params["TZID"]; ok {
			return time.Time{}, fmt.Errorf("line %d: %s has both TZID and Z", p.n, p.name)
		}
		t, err := time.Parse("20060102T150405Z", v)
		if err != nil {
			return time.Time{}, fmt.Errorf("line %d: %s %q: want YYYYMMDDTHHMMSSZ", p.n, p.name, v)
		}
		return t, nil
	}
	tz, ok := p.params["TZID"]
	if !ok {
		if len(v) == 8 {
			return time.Time{}, fmt.Errorf("line %d: %s %q is a date without a time", p.n, p.name, v)
		}
		return time.Time{}, fmt.Errorf("line %d: %s %q is a floating time (no Z, no TZID): it would mean a different moment in every time zone", p.n, p.name, v)
	}
	loc, err := time.LoadLocation(strings.TrimPrefix(tz, "/"))
	if err != nil {
		return time.Time{}, fmt.Errorf("line %d: TZID %q is not in the time zone database", p.n, tz)
	}
	t, err := time.ParseInLocation("20060102T150405", v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("line %d: %s %q: want YYYYMMDDTHHMMSS", p.n, p.name, v)
	}
	return t, nil
}

// icalText undoes TEXT escaping (\\ \; \, \n).
func icalText(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
