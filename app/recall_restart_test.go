package app

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestRecalledAlertNotResumed: bob's device rings for alice's STAT page;
// the page's recall reaches his store but the app never handles the
// recall's event (killed between the store's commit and the event, or
// locked while it was in flight): the store holds the tombstone, the saved
// alert list still names the page. After the next unlock the alert does
// not ring again for a recalled page.
func TestRecalledAlertNotResumed(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	if _, err := alice.c.SendClinical(bob.jid, "MARKER-RR K+ 7.4 bed 9 (wrong patient)", ClinicalOptions{
		Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	got := bob.waitIncoming(alice.jid, "MARKER-RR")
	waitFor(t, "bob alerted", 30*time.Second, func() bool { _, ok := alertOn(bob, alice.jid); return ok })
	alice.c.SignOut()
	bob.c.SignOut()

	// The recall as the engine applies it, with no event to the app.
	st, err := securestore.Open(StorePath(bob.cfg.DataDir, bob.jid), testPIN, bob.cfg.storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := st.Retract(got.ID, clk.Now()); err != nil || !ch {
		t.Fatalf("retract: %v %v", ch, err)
	}
	st.Close()

	c2, err := Unlock(t.Context(), bob.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.SignOut)
	again := &device{t: t, cfg: bob.cfg, c: c2, notifier: bob.notifier, sound: bob.sound, jid: bob.jid}
	again.collect()
	again.waitOnline()
	if a, ok := alertOn(again, alice.jid); ok {
		t.Fatalf("after the unlock the recalled page rings again: %+v", a)
	}
}

// TestRecalledLadderNotResumed: alice's STAT page runs its escalation
// ladder on her phone; her recall (from another of her devices) reaches
// the phone's store but the app never handles the recall's event. After
// the next unlock the ladder does not go on escalating a recalled page:
// it ends as recalled.
func TestRecalledLadderNotResumed(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	sent, err := alice.c.SendClinical(bob.jid, "MARKER-RL sats 82% bed 3 (wrong patient)", ClinicalOptions{Urgency: securestore.UrgencyCritical,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{To: srv.JID("carol")}}}})
	if err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(alice.jid, "MARKER-RL")
	alice.c.SignOut()

	st, err := securestore.Open(StorePath(alice.cfg.DataDir, alice.jid), testPIN, alice.cfg.storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := st.Retract(sent.ID, clk.Now()); err != nil || !ch {
		t.Fatalf("retract: %v %v", ch, err)
	}
	st.Close()

	c2, err := Unlock(t.Context(), alice.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.SignOut)
	again := &device{t: t, cfg: alice.cfg, c: c2, notifier: alice.notifier, sound: alice.sound, jid: alice.jid}
	again.collect()
	again.waitOnline()
	waitFor(t, "the ladder ended as recalled", 10*time.Second, func() bool {
		r, _ := again.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && !r.Escalation.Active && r.Escalation.EndReason == endRecalled
	})
}
