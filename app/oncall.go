package app

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// The on-call schedule (urn:rounds:oncall:0) says who holds each role when:
// "Cardiology on call" is Dr Osei from 08:00 to 20:00, with Dr Lee as backup.
// A message to a role is resolved on the sender's device at the moment it is
// sent (and an escalation step naming a role, at the moment the step fires),
// so it reaches whoever holds the role then, and the sender sees who that was.

// ErrRoleUnstaffed: nobody holds the role now (a gap in the schedule, or no
// such role); the message was not sent. Call the switchboard.
var ErrRoleUnstaffed = errors.New("no one holds this role now")

// ErrRoleNotInSchedule: the on-call schedule names no such role at all (a
// typo, or a role of another schedule). It is ErrRoleUnstaffed too.
var ErrRoleNotInSchedule = errors.New("the on-call schedule has no such role")

type roleNotInScheduleError struct{ role string }

func (e *roleNotInScheduleError) Error() string {
	return fmt.Sprintf("%v: the on-call schedule has no role %q", ErrRoleUnstaffed, e.role)
}

func (e *roleNotInScheduleError) Is(target error) bool {
	return target == ErrRoleUnstaffed || target == ErrRoleNotInSchedule
}

// Shift is one entry of the on-call schedule: JID holds Role from From until
// Until; Backup answers when the shift names no holder. Orders marks a shift
// whose holder may receive clinical orders while on it.
type Shift struct {
	Role   string    `json:"role"`
	JID    string    `json:"jid,omitempty"`
	From   time.Time `json:"from"`
	Until  time.Time `json:"until"`
	Backup string    `json:"backup,omitempty"`
	Orders bool      `json:"orders,omitempty"`
}

// covers reports whether the shift runs at t (From inclusive, Until exclusive,
// so a handover at 20:00 belongs to the next shift).
func (s Shift) covers(t time.Time) bool { return !t.Before(s.From) && t.Before(s.Until) }

// RoleRow is one role as the directory shows it now.
type RoleRow struct {
	Role       string
	Holder     string // bare JID reached now ("" when unstaffed)
	HolderName string // roster name, or the JID's local part
	// HolderAvatar is the holder's face (empty when unstaffed).
	HolderAvatar Avatar
	// Backup is true when Holder is the shift's backup (the shift names no
	// holder).
	Backup bool
	// BackupJID is the shift's named backup, if any; BackupName how the
	// screens name them ("You" for this account).
	BackupJID, BackupName string
	Until                 time.Time // end of the current shift
	// Next is when the next shift of this role starts, while unstaffed.
	Next   time.Time
	Orders bool // the holder may receive orders on this shift
}

// RoleSent says whom a message to a role reached.
type RoleSent struct {
	Role     string
	To       string // bare JID
	ToName   string
	Backup   bool // the backup was reached (the shift names no holder)
	Until    time.Time
	Message  securestore.MessageID
	Resolved time.Time // when the role was resolved (the sender's clock)
}

func sameRole(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// resolveShift finds the shift of role covering now. Overlapping shifts
// (an early handover) resolve to the one that started last. It returns the
// JID reached: the holder, else the backup. The backup also answers when the
// holder is in exclude: the holder paging their own role (asking for cover),
// or an escalation step that already reached the holder.
func resolveShift(shifts []Shift, role string, now time.Time, exclude ...string) (Shift, string, bool, error) {
	wire := make([]sync.Shift, len(shifts))
	for i, s := range shifts {
		wire[i] = sync.Shift(s)
	}
	// One rule for the devices and the escalation service (sync/oncall.go).
	sh, who, backup, known := sync.RoleHolder(wire, role, now, exclude...)
	switch {
	case !known:
		return Shift{}, "", false, &roleNotInScheduleError{role: role}
	case sh.Role == "":
		return Shift{}, "", false, fmt.Errorf("%w: no one is on call as %q at %s", ErrRoleUnstaffed, role, now.Local().Format("Mon 15:04"))
	case who == "":
		return Shift{}, "", false, fmt.Errorf("%w: no one else holds %q now (the shift's holder and backup are you or already reached)", ErrRoleUnstaffed, role)
	}
	return Shift(sh), who, backup, nil
}

// nextShift is the start of the earliest shift of role after now (zero if
// none).
func nextShift(shifts []Shift, role string, now time.Time) time.Time {
	var next time.Time
	for _, s := range shifts {
		if sameRole(s.Role, role) && s.From.After(now) && (next.IsZero() || s.From.Before(next)) {
			next = s.From
		}
	}
	return next
}

// rolesHeld lists the roles jid holds at now (as the named holder, or as the
// backup of a shift without one).
func rolesHeld(shifts []Shift, jid string, now time.Time) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range shifts {
		key := strings.ToLower(strings.TrimSpace(s.Role))
		if seen[key] {
			continue
		}
		if _, who, _, err := resolveShift(shifts, s.Role, now); err == nil && strings.EqualFold(who, jid) {
			seen[key] = true
			out = append(out, strings.TrimSpace(s.Role))
		}
	}
	slices.Sort(out)
	return out
}

// mayTakeOrders reports whether jid is on a shift marked orders='true' now.
func mayTakeOrders(shifts []Shift, jid string, now time.Time) bool {
	for _, s := range shifts {
		if s.Orders && s.covers(now) && (strings.EqualFold(s.JID, jid) || (s.JID == "" && strings.EqualFold(s.Backup, jid))) {
			return true
		}
	}
	return false
}

// normalizeShifts cleans a received schedule: bare lower-case JIDs, trimmed
// role names, and shifts that cannot apply (no role, empty or inverted
// interval, nobody named) dropped.
func normalizeShifts(in []Shift) []Shift {
	out := make([]Shift, 0, len(in))
	for _, s := range in {
		s.Role = strings.TrimSpace(s.Role)
		s.JID, s.Backup = normJID(s.JID), normJID(s.Backup)
		if s.Role == "" || !s.Until.After(s.From) || (s.JID == "" && s.Backup == "") {
			continue
		}
		s.From, s.Until = s.From.UTC(), s.Until.UTC()
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b Shift) int {
		if r := cmp.Compare(strings.ToLower(a.Role), strings.ToLower(b.Role)); r != 0 {
			return r
		}
		return a.From.Compare(b.From)
	})
	return out
}

const settingOnCall = "app.oncall"

func (ps *policyState) loadScheduleLocked(st *securestore.Store) {
	ps.shifts = nil
	b, err := st.Setting(settingOnCall)
	if err != nil {
		if !errors.Is(err, securestore.ErrNotFound) {
			ps.log.Warn("app: reading stored on-call schedule", "err", err)
		}
		return
	}
	var s []Shift
	if err := json.Unmarshal(b, &s); err != nil {
		ps.log.Warn("app: stored on-call schedule unreadable", "err", err)
		return
	}
	ps.shifts = s
}

// applySchedule makes shifts the on-call schedule in force and persists it,
// so roles resolve offline too (with the last schedule known).
func (ps *policyState) applySchedule(st *securestore.Store, shifts []Shift) error {
	shifts = normalizeShifts(shifts)
	b, err := json.Marshal(shifts)
	if err != nil {
		return err
	}
	ps.mu.Lock()
	old, _ := json.Marshal(ps.shifts)
	ps.mu.Unlock()
	if string(old) == string(b) {
		return nil
	}
	if err := st.SetSetting(settingOnCall, b); err != nil {
		return mapErr(err)
	}
	ps.mu.Lock()
	ps.shifts = shifts
	ps.mu.Unlock()
	ps.log.Info("app: on-call schedule applied", "shifts", len(shifts))
	ps.changes.push(Change{Kind: RolesChanged})
	ps.changes.push(Change{Kind: DirectoryChanged})
	return nil
}

func (ps *policyState) schedule() []Shift {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.shifts
}

// Roles lists every role of the on-call schedule with who holds it now,
// sorted by role name.
func (ps *policyState) Roles() ([]RoleRow, error) {
	st, err := ps.host.unlocked()
	if err != nil {
		return nil, err
	}
	shifts, now := ps.schedule(), ps.clock.Now()
	names, err := loadContacts(st)
	if err != nil {
		return nil, mapErr(err)
	}
	var out []RoleRow
	seen := map[string]bool{}
	for _, s := range shifts {
		key := strings.ToLower(s.Role)
		if seen[key] {
			continue
		}
		seen[key] = true
		row := RoleRow{Role: s.Role}
		if sh, who, backup, err := resolveShift(shifts, s.Role, now); err == nil {
			row.Holder, row.Backup, row.BackupJID, row.Until, row.Orders = who, backup, sh.Backup, sh.Until, sh.Orders
			row.HolderName = memberName(st, who, names)
			row.HolderAvatar = ps.host.avatarOf(st, row.HolderName, who)
			if sh.Backup != "" {
				row.BackupName = memberName(st, sh.Backup, names)
			}
		} else {
			row.Next = nextShift(shifts, s.Role, now)
		}
		out = append(out, row)
	}
	return out, nil
}

// ResolveRole is who holds role now (the holder, else the shift's backup,
// who also covers when the holder is this account); ErrRoleUnstaffed when no
// one does.
func (ps *policyState) ResolveRole(role string) (string, error) {
	_, who, _, err := resolveShift(ps.schedule(), role, ps.clock.Now(), ps.host.Account())
	return who, err
}

// RolesOf lists the roles jid holds now ("Cardiology on call").
func (ps *policyState) RolesOf(jid string) []string {
	return rolesHeld(ps.schedule(), normJID(jid), ps.clock.Now())
}
