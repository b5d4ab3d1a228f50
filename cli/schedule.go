package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"rounds/app"
)

// Limits on a schedule file: a hospital's month of shifts is a few thousand
// rows; anything far larger is the wrong file.
const (
	maxScheduleBytes  = 4 << 20
	maxScheduleShifts = 10000 // sync/xmpp's count limit; the item's size binds first (app.CheckScheduleDocument: about 1500 shifts)
	maxRoleLength     = 100
)

// shift is one row of an on-call schedule: who holds a role from when until
// when, who backs them up, and whether they may receive orders (the Joint
// Commission's "specified contact list").
type shift struct {
	Role   string
	JID    string
	From   time.Time
	Until  time.Time
	Backup string
	Orders bool
	// where names the row or event in the source file for error messages.
	where string
}

// readSchedule parses a CSV (.csv) or iCalendar (.ics) file by its extension
// and checks the whole schedule; nothing is published unless every shift is
// valid.
func readSchedule(name string, r io.Reader) ([]shift, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxScheduleBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxScheduleBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxScheduleBytes>>20)
	}
	var shifts []shift
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		shifts, err = parseScheduleCSV(data)
	case ".ics", ".ical", ".ifb":
		shifts, err = parseScheduleICal(data)
	default:
		return nil, fmt.Errorf("%s: want a .csv or .ics file", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkSchedule(shifts); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return shifts, nil
}

// checkField validates one shift on its own.
func (s *shift) check() error {
	s.Role = strings.TrimSpace(s.Role)
	switch {
	case s.Role == "":
		return fmt.Errorf("%s: no role", s.where)
	case len(s.Role) > maxRoleLength:
		return fmt.Errorf("%s: role longer than %d characters", s.where, maxRoleLength)
	case strings.ContainsFunc(s.Role, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%s: role contains control characters", s.where)
	}
	j, err := checkPerson(s.JID)
	if err != nil {
		return fmt.Errorf("%s: holder %q: %v", s.where, s.JID, err)
	}
	s.JID = j
	if strings.TrimSpace(s.Backup) != "" {
		b, err := checkPerson(s.Backup)
		if err != nil {
			return fmt.Errorf("%s: backup %q: %v", s.where, s.Backup, err)
		}
		if b == s.JID {
			return fmt.Errorf("%s: backup is the holder", s.where)
		}
		s.Backup = b
	}
	if s.From.IsZero() || s.Until.IsZero() {
		return fmt.Errorf("%s: needs a start and an end", s.where)
	}
	if !s.Until.After(s.From) {
		return fmt.Errorf("%s: ends (%s) before it starts (%s)", s.where, s.Until.Format(time.RFC3339), s.From.Format(time.RFC3339))
	}
	s.From, s.Until = s.From.UTC(), s.Until.UTC()
	return nil
}

// checkPerson accepts a bare user@domain JID and returns it normalised.
func checkPerson(s string) (string, error) { return app.CheckPerson(s) }

// checkSchedule validates every shift, then refuses two shifts of the same
// role that overlap: at any moment a role has one holder, or "page the
// cardiologist on call" would be a guess.
func checkSchedule(shifts []shift) error {
	if len(shifts) == 0 {
		return fmt.Errorf("no shifts")
	}
	if len(shifts) > maxScheduleShifts {
		return fmt.Errorf("%d shifts; at most %d per schedule", len(shifts), maxScheduleShifts)
	}
	for i := range shifts {
		if err := shifts[i].check(); err != nil {
			return err
		}
	}
	byRole := map[string][]int{}
	for i, s := range shifts {
		k := strings.ToLower(s.Role)
		byRole[k] = append(byRole[k], i)
	}
	for _, idx := range byRole {
		sort.Slice(idx, func(a, b int) bool { return shifts[idx[a]].From.Before(shifts[idx[b]].From) })
		for k := 1; k < len(idx); k++ {
			prev, cur := shifts[idx[k-1]], shifts[idx[k]]
			if cur.From.Before(prev.Until) {
				return fmt.Errorf("%s overlaps %s: %q has two holders from %s", cur.where, prev.where, cur.Role, cur.From.Format(time.RFC3339))
			}
		}
	}
	return nil
}

// scheduleElement is the payload of the on-call node's item "current"
// (app.ScheduleDocument), shifts in start order.
func scheduleElement(shifts []shift) *app.Document {
	out := make([]app.Shift, len(shifts))
	for i, s := range shifts {
		out[i] = app.Shift{Role: s.Role, JID: s.JID, From: s.From, Until: s.Until, Backup: s.Backup, Orders: s.Orders}
	}
	return app.ScheduleDocument(out)
}

// Node names (docs/PROTOCOL.md, "Rounds extensions").
const (
	nsOnCall    = app.OnCallNode
	nsPolicy    = app.PolicyNode
	itemCurrent = "current"
)
