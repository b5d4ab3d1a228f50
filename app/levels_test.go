package app

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestUrgentLevelNamedInNotificationAndInbox: a STAT page notifies with its
// level (the policy's name for it, not "urgent"), and both sides' inbox rows
// carry the level that pins them, so the UI can name it.
func TestUrgentLevelNamedInNotificationAndInbox(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := signIn(t, srv, "bob", Config{Clock: clk, Resource: "phone",
		Policy: Policy{LockAfter: 24 * time.Hour, Levels: UrgencyLevelNames{STAT: "Code"}}})

	if _, err := alice.c.SendClinical(bob.jid, "MARKER-4 bed 9", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob notified", 30*time.Second, func() bool { return len(bob.notifier.notifications()) > 0 })
	n := bob.notifier.notifications()[0]
	if !n.Urgent || n.Level != "Code" || n.Body != "Code message from "+alice.jid {
		t.Fatalf("notification %+v, want level Code", n)
	}
	if r, _ := bob.row(alice.jid); !r.Urgent || r.UrgentLevel != securestore.UrgencyCritical {
		t.Fatalf("bob's row %+v, want pinned at STAT", r)
	}
	waitFor(t, "alice pinned", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return r.Urgent })
	if r, _ := alice.row(bob.jid); r.UrgentLevel != securestore.UrgencyCritical {
		t.Fatalf("alice's row level %v, want STAT", r.UrgentLevel)
	}
}
