package app

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestRespondMarksFirstUnreadShown: acknowledging a STAT from the alert
// when it is the conversation's first unread message marks it shown: bob's
// badge drops to 0, his notification is withdrawn, and alice sees read and
// acknowledged (read no later than acknowledged); bob's desk drops the
// badge too.
func TestRespondMarksFirstUnreadShown(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)

	sent, err := alice.c.SendClinical(bob.jid, "MARKER-1 bed 2", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alert on bob", 30*time.Second, func() bool { _, ok := alertOn(bob, alice.jid); return ok })
	bob.waitUnread(alice.jid, 1)
	desk.waitUnread(alice.jid, 1)
	a, _ := alertOn(bob, alice.jid)
	if err := bob.c.Respond(alice.jid, a.Message, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	if r, _ := bob.row(alice.jid); r.Unread != 0 {
		t.Fatalf("unread after acknowledging the only unread message: %d", r.Unread)
	}
	// bob's other device learns the read (XEP-0490 / the marker's carbon).
	waitFor(t, "desk unread 0", 30*time.Second, func() bool { r, _ := desk.row(alice.jid); return r.Unread == 0 })
	if !bob.notifier.clearedFor(alice.jid) {
		t.Fatal("notification not withdrawn after the acknowledgement")
	}
	waitFor(t, "read and acknowledged at alice", 30*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged && !r.Receipt.At[securestore.ReceiptRead].IsZero()
	})
	r, _ := alice.messageRow(bob.jid, sent.ID)
	if r.Receipt.At[securestore.ReceiptAcknowledged].Before(r.Receipt.At[securestore.ReceiptRead]) {
		t.Fatalf("acknowledged before read: %+v", r.Receipt)
	}
}

// TestRespondLeavesEarlierUnread: alice sends a routine message, then a
// STAT; bob acknowledges the STAT from the alert without having opened the
// conversation. The routine message was never on screen, so both stay
// unread and alice's routine message gets no read receipt; the STAT is
// still acknowledged.
func TestRespondLeavesEarlierUnread(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)

	routine, err := alice.c.Send(bob.jid, "MARKER-2 routine")
	if err != nil {
		t.Fatal(err)
	}
	statSent, err := alice.c.SendClinical(bob.jid, "MARKER-3 stat", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alert on bob", 30*time.Second, func() bool { _, ok := alertOn(bob, alice.jid); return ok })
	bob.waitUnread(alice.jid, 2)
	a, _ := alertOn(bob, alice.jid)
	if err := bob.c.Respond(alice.jid, a.Message, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acknowledged at alice", 30*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, statSent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
	if r, _ := bob.row(alice.jid); r.Unread != 2 {
		t.Fatalf("unread %d after acknowledging a later message, want 2", r.Unread)
	}
	if first, ok := bob.c.FirstUnread(alice.jid); !ok || first == a.Message {
		t.Fatalf("first unread %v %v, want the routine message", first, ok)
	}
	if r, _ := alice.messageRow(bob.jid, routine); r.Receipt.State >= securestore.ReceiptRead {
		t.Fatalf("routine message marked read without being shown: %+v", r.Receipt)
	}
}
