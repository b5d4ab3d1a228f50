package sync

import (
	"strings"
	"time"
)

// RoleHolder is who is reached for role at now under shifts: the holder of
// the shift covering now (overlapping shifts, an early handover, resolve to
// the one that started last), else its backup; the backup also answers when
// the holder is in exclude (asking for cover, or a ladder step that already
// reached the holder). known is false when no shift names the role at all;
// who is "" when the role is known and nobody (else) holds it now. The app
// (app/oncall.go) and the escalation service resolve roles with this one
// rule, so a step reaches the same person from either.
func RoleHolder(shifts []Shift, role string, now time.Time, exclude ...string) (sh Shift, who string, backup, known bool) {
	var best *Shift
	for i := range shifts {
		s := &shifts[i]
		if !sameRole(s.Role, role) {
			continue
		}
		known = true
		// From inclusive, Until exclusive: a handover at 20:00 belongs to
		// the next shift.
		if now.Before(s.From) || !now.Before(s.Until) || (s.JID == "" && s.Backup == "") {
			continue
		}
		if best == nil || s.From.After(best.From) {
			best = s
		}
	}
	if best == nil {
		return Shift{}, "", false, known
	}
	excluded := func(j string) bool {
		for _, x := range exclude {
			if strings.EqualFold(x, j) {
				return true
			}
		}
		return false
	}
	switch {
	case best.JID != "" && !excluded(best.JID):
		return *best, best.JID, false, true
	case best.Backup != "" && !excluded(best.Backup):
		return *best, best.Backup, true, true
	}
	return *best, "", false, true
}

func sameRole(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
