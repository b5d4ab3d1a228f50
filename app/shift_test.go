package app

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestEndShiftHandsOverAndRemoves: Alice ends her shift on a shared phone
// while a STAT waits for her acknowledgement and her own urgent page is
// still escalating. Her alert goes back to its sender as "Ended shift" (the
// sender's ladder goes on and reaches its next step), her escalation takes
// its next step at once to whoever the on-call schedule names now, the
// thread says it is no longer followed on her phone, the screen is told
// which roles the schedule still gives her, and with the default policy
// her profile and its data leave the phone.
func TestEndShiftHandsOverAndRemoves(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	phone := sharedPhone(t, clk, Policy{LockAfter: 24 * time.Hour})
	alice := signIn(t, srv, "alice", phone)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)

	st, _ := alice.c.unlocked()
	now := clk.Now()
	if err := alice.c.applySchedule(st, []Shift{
		{Role: "Ward 3 charge nurse", JID: alice.jid, From: now.Add(-time.Hour), Until: now.Add(time.Hour)},
		{Role: "ICU outreach", JID: carol.jid, From: now.Add(-time.Hour), Until: now.Add(8 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	stat, err := bob.c.SendClinical(alice.jid, "MARKER-S1 bed 2 desaturating", ClinicalOptions{Urgency: securestore.UrgencyCritical,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{To: carol.jid}}}})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitIncoming(bob.jid, "MARKER-S1")
	waitFor(t, "alice alerted", 30*time.Second, func() bool { _, ok := alertOn(alice, bob.jid); return ok })
	if _, err := alice.c.SendClinical(bob.jid, "MARKER-S2 please review bed 5", ClinicalOptions{Urgency: securestore.UrgencyHigh,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{Role: "ICU outreach"}}}}); err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(alice.jid, "MARKER-S2")

	h, err := alice.c.ShiftHandoverPreview()
	if err != nil || h.Alerts != 1 || h.Escalations != 1 || len(h.Roles) != 1 || h.Roles[0] != "Ward 3 charge nurse" || h.Keep != 0 {
		t.Fatalf("preview %+v %v", h, err)
	}
	if txt := h.Text(); !strings.Contains(txt, "Ward 3 charge nurse") || !strings.Contains(txt, "removed from this device") {
		t.Fatalf("preview text %q", txt)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := alice.c.EndShift(ctx); err != nil {
		t.Fatal(err)
	}

	// The STAT is back with Bob as a decline, and his ladder goes on.
	waitFor(t, "decline at the sender", 30*time.Second, func() bool {
		r, _ := bob.messageRow(alice.jid, stat.ID)
		return len(r.Responses) == 1 && r.Responses[0].Kind == ResponseDecline && r.Responses[0].Text == "Ended shift"
	})
	clk.Advance(5 * time.Minute)
	carol.waitIncoming(bob.jid, "MARKER-S1")
	// Alice's page reached the role's holder at once, and the thread says so.
	carol.waitIncoming(alice.jid, "MARKER-S2")
	bob.waitIncoming(alice.jid, "alice ended their shift before this was acknowledged")

	// Her profile left the phone.
	if f := storeFilesIn(t, phone.DataDir); len(f) != 0 {
		t.Fatalf("stores left: %v", f)
	}
	if HasAccount(phone) {
		t.Fatal("profile still listed")
	}
	if _, err := os.Stat(phone.DataDir + "/profiles/" + profileID(alice.jid)); !os.IsNotExist(err) {
		t.Fatalf("profile directory left: %v", err)
	}
	if _, err := alice.c.Inbox(""); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("client after end of shift: %v", err)
	}
}

// TestEndShiftKeepsUntilMaxAge: with a keep time in the policy the profile
// stays, locked, for the same person's next shift, the end of shift is in
// her audit log, and once the keep time has passed the profile is removed
// without being opened.
func TestEndShiftKeepsUntilMaxAge(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	phone := sharedPhone(t, clk, Policy{LockAfter: 24 * time.Hour, ShiftKeep: 10 * time.Hour})
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	alice := signIn(t, srv, "alice", phone)
	if _, err := bob.c.Send(alice.jid, "MARKER-K1"); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(bob.jid, 1)
	ctx := context.Background()
	h, err := alice.c.EndShift(ctx)
	if err != nil || h.Keep != 10*time.Hour || !h.KeepUntil.Equal(clk.Now().Add(10*time.Hour)) {
		t.Fatalf("%+v %v", h, err)
	}
	p := profileOf(t, phone, alice.jid)
	if !p.ShiftEnded.Equal(clk.Now()) || !p.KeepUntil.Equal(h.KeepUntil) || len(storeFilesIn(t, phone.DataDir)) != 1 {
		t.Fatalf("kept profile %+v", p)
	}

	// Next shift, same person: everything is there, and the end of the
	// last shift is on record.
	clk.Advance(9 * time.Hour)
	c, err := UnlockProfile(ctx, phone, p.ID, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.Messages(bob.jid, 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages kept: %+v %v", ms, err)
	}
	rows, err := c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		found = found || strings.Contains(r.Detail, "profile kept until")
	}
	if !found {
		t.Fatalf("end of shift not audited: %+v", rows)
	}
	if p := profileOf(t, phone, alice.jid); !p.KeepUntil.IsZero() {
		t.Fatalf("a profile in use still has a keep time: %+v", p)
	}

	// End again; nobody comes back within the keep time.
	if _, err := c.EndShift(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10*time.Hour - time.Minute)
	if !HasAccount(phone) {
		t.Fatal("removed before its keep time")
	}
	clk.Advance(time.Minute)
	if HasAccount(phone) || len(storeFilesIn(t, phone.DataDir)) != 0 {
		t.Fatal("kept past its keep time")
	}
}

// TestShiftKeepPolicy: the org policy node's keep time, and its word on
// naming the person in a locked notification, replace the device's, either
// way.
func TestShiftKeepPolicy(t *testing.T) {
	keep, none := 12*time.Hour, time.Duration(0)
	if p := mergePolicy(Policy{}.withDefaults(), &OrgPolicy{ShiftKeep: &keep}); p.ShiftKeep != keep {
		t.Fatalf("node keep: %v", p.ShiftKeep)
	}
	if p := mergePolicy(Policy{ShiftKeep: time.Hour}.withDefaults(), &OrgPolicy{ShiftKeep: &none}); p.ShiftKeep != 0 {
		t.Fatalf("node remove: %v", p.ShiftKeep)
	}
	if p := mergePolicy(Policy{ShiftKeep: time.Hour}.withDefaults(), &OrgPolicy{}); p.ShiftKeep != time.Hour {
		t.Fatalf("node silent: %v", p.ShiftKeep)
	}
	yes, no := true, false
	if p := mergePolicy(Policy{}.withDefaults(), &OrgPolicy{LockedName: &yes}); !p.NameWhileLocked {
		t.Fatal("node allows naming: not allowed")
	}
	if p := mergePolicy(Policy{NameWhileLocked: true}.withDefaults(), &OrgPolicy{LockedName: &no}); p.NameWhileLocked {
		t.Fatal("node forbids naming: allowed")
	}
}
