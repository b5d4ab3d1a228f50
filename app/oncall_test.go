package app

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// day is a test schedule: cardiology days 08-20 Dr Osei (backup Dr Lee,
// may take orders), nights 20-08 Dr Lee; a gap for "Charge nurse" between
// 12:00 and 13:00; a "Rapid response" shift naming only a backup.
func day(t0 time.Time) []Shift {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	return normalizeShifts([]Shift{
		{Role: "Cardiology on call", JID: "Dr.Osei@h.org", From: h(8), Until: h(20), Backup: "lee@h.org", Orders: true},
		{Role: "Cardiology on call", JID: "lee@h.org", From: h(20), Until: h(32)},
		{Role: "Charge nurse", JID: "ana@h.org", From: h(7), Until: h(12)},
		{Role: "Charge nurse", JID: "ben@h.org", From: h(13), Until: h(19)},
		{Role: "Rapid response", Backup: "rrt@h.org", From: h(0), Until: h(24)},
		{Role: "Broken", JID: "x@h.org", From: h(10), Until: h(9)},                  // inverted: dropped
		{Role: " ", JID: "y@h.org", From: h(0), Until: h(24)},                       // no role: dropped
		{Role: "Nobody", JID: "not a jid", From: h(0), Until: h(24)},                // no one: dropped
		{Role: "cardiology ON CALL", JID: "early@h.org", From: h(19), Until: h(20)}, // overlap at handover
	})
}

func TestResolveRoleBySchedule(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	s := day(t0)
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	for _, tc := range []struct {
		role   string
		at     float64
		who    string
		backup bool
		err    error
	}{
		{"Cardiology on call", 7.99, "", false, ErrRoleUnstaffed}, // before the first shift
		{"Cardiology on call", 8, "dr.osei@h.org", false, nil},    // from is inclusive
		{"cardiology on call ", 12, "dr.osei@h.org", false, nil},  // name matching ignores case and space
		{"Cardiology on call", 19.5, "early@h.org", false, nil},   // the later-starting overlapping shift
		{"Cardiology on call", 20, "lee@h.org", false, nil},       // until is exclusive: handover
		{"Cardiology on call", 32, "", false, ErrRoleUnstaffed},   // after the last shift
		{"Charge nurse", 12.5, "", false, ErrRoleUnstaffed},       // a gap
		{"Charge nurse", 13, "ben@h.org", false, nil},
		{"Rapid response", 3, "rrt@h.org", true, nil}, // backup when no holder is named
		{"Dermatology", 12, "", false, ErrRoleUnstaffed},
		{"Broken", 9.5, "", false, ErrRoleUnstaffed},
	} {
		sh, who, backup, err := resolveShift(s, tc.role, at(tc.at))
		if !errors.Is(err, tc.err) || who != tc.who || backup != tc.backup {
			t.Errorf("%q at %.2f h: %q backup=%v err=%v; want %q %v %v", tc.role, tc.at, who, backup, err, tc.who, tc.backup, tc.err)
		}
		if err == nil && !sh.covers(at(tc.at)) {
			t.Errorf("%q at %.2f h: shift %+v does not cover the time", tc.role, tc.at, sh)
		}
	}
	// The holder paging their own role reaches the backup; with no backup,
	// nobody.
	if _, who, backup, err := resolveShift(s, "Cardiology on call", at(12), "Dr.Osei@h.org"); err != nil || who != "lee@h.org" || !backup {
		t.Errorf("holder paging own role: %q %v %v", who, backup, err)
	}
	if _, _, _, err := resolveShift(s, "Cardiology on call", at(21), "lee@h.org"); !errors.Is(err, ErrRoleUnstaffed) {
		t.Errorf("holder without backup paging own role: %v", err)
	}
	if _, _, _, err := resolveShift(s, "Dermatology", at(12)); !strings.Contains(err.Error(), "no role") || !errors.Is(err, ErrRoleNotInSchedule) {
		t.Errorf("unknown role error does not say so: %v", err)
	}
	if _, _, _, err := resolveShift(s, "Charge nurse", at(12.5)); !strings.Contains(err.Error(), "no one is on call") || errors.Is(err, ErrRoleNotInSchedule) {
		t.Errorf("gap error does not say so: %v", err)
	}
	if n := nextShift(s, "Charge nurse", at(12.5)); !n.Equal(at(13)) {
		t.Errorf("next charge nurse shift %v", n)
	}
	if got := rolesHeld(s, "dr.osei@h.org", at(10)); !slices.Equal(got, []string{"Cardiology on call"}) {
		t.Errorf("roles held by Osei at 10: %v", got)
	}
	if got := rolesHeld(s, "lee@h.org", at(10)); len(got) != 0 {
		t.Errorf("a backup behind a named holder holds nothing: %v", got)
	}
	if !mayTakeOrders(s, "dr.osei@h.org", at(10)) || mayTakeOrders(s, "dr.osei@h.org", at(21)) || mayTakeOrders(s, "lee@h.org", at(21)) {
		t.Error("orders follow the orders shift and its time")
	}
	for _, sh := range s {
		if sh.Role == "Broken" || strings.TrimSpace(sh.Role) == "" || sh.Role == "Nobody" {
			t.Errorf("unusable shift kept: %+v", sh)
		}
	}
}

func TestMayReceiveOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: t0.Add(10 * time.Hour)}
	p := mergePolicy(Policy{}.withDefaults(), &OrgPolicy{OrderRecipients: []string{"pharmacy@h.org"}})
	s := day(t0)
	if !mayReceiveOrder(p, s, "pharmacy@h.org", clk) || !mayReceiveOrder(p, s, "dr.osei@h.org", clk) {
		t.Fatal("listed recipient or orders shift refused")
	}
	if mayReceiveOrder(p, s, "ana@h.org", clk) {
		t.Fatal("a charge nurse without orders shift may receive orders")
	}
	clk.now = t0.Add(21 * time.Hour)
	if mayReceiveOrder(p, s, "dr.osei@h.org", clk) {
		t.Fatal("orders allowed after the orders shift ended")
	}
}
