package app

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestAlertSaysTheRole: a page sent to an on-call role raises an alert
// naming the role the holder received it as; so does an escalated copy
// whose ladder step named the role; a page sent by name names none.
func TestAlertSaysTheRole(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)
	st, _ := alice.c.unlocked()
	now := clk.Now()
	if err := alice.c.applySchedule(st, []Shift{{Role: "Cardiology on call", JID: bob.jid, From: now.Add(-time.Hour), Until: now.Add(8 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	// nextAlert waits for an alert on bob from alice other than those seen,
	// and acknowledges it (so the next one is told apart).
	seen := map[securestore.MessageID]bool{}
	nextAlert := func(what string) Alert {
		t.Helper()
		var got Alert
		waitFor(t, what, 30*time.Second, func() bool {
			for _, a := range bob.c.Alerts() {
				if a.Conversation == alice.jid && !seen[a.Message] {
					got = a
					return true
				}
			}
			return false
		})
		seen[got.Message] = true
		if err := bob.c.Respond(alice.jid, got.Message, ResponseAck, ""); err != nil {
			t.Fatal(err)
		}
		return got
	}
	stat := ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}

	if _, err := alice.c.SendClinical(bob.jid, "MARKER-6 by name", stat); err != nil {
		t.Fatal(err)
	}
	if a := nextAlert("page by name"); a.Role != "" {
		t.Fatalf("page by name has role %q", a.Role)
	}

	toRole := stat
	toRole.Role = "Cardiology on call"
	if sent, err := alice.c.SendClinical("", "MARKER-7 to the role", toRole); err != nil || sent.To != bob.jid {
		t.Fatalf("send to role: %+v %v", sent, err)
	}
	if a := nextAlert("page to the role"); a.Role != "Cardiology on call" || a.From != alice.jid {
		t.Fatalf("alert %+v, want role Cardiology on call", a)
	}

	if _, err := alice.c.SendClinical(carol.jid, "MARKER-8 escalates", ClinicalOptions{Urgency: securestore.UrgencyCritical,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{Role: "Cardiology on call"}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol alerted", 30*time.Second, func() bool { _, ok := alertOn(carol, alice.jid); return ok })
	clk.Advance(5 * time.Minute)
	if a := nextAlert("escalated copy"); a.Role != "Cardiology on call" {
		t.Fatalf("escalated copy alert %+v, want role Cardiology on call", a)
	}
}
