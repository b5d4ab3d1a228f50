package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestForwardKeepsOriginal, through the real Prosody: bob pages alice STAT;
// alice forwards it to carol (routine: she chose no urgency). Carol's row
// is in alice's conversation, as alice's, with bob's exact text, bob as
// the claimed author and his time; nothing lands in carol's conversation
// with bob, no alert rings at carol. Alice's audit names ids, never the
// text. A client without Rounds (slixmpp) reads the fallback body
// "Forwarded from bob, HH:MM: …".
func TestForwardKeepsOriginal(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "dave")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	const text = "FWD-1 Bed 4 K+ 6.9\n  repeat sample  "
	if _, err := bob.c.SendClinical(alice.jid, text, ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	orig := alice.waitIncoming(bob.jid, "FWD-1")
	sent, err := alice.c.Forward(orig.ID, carol.jid, ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := carol.waitIncoming(alice.jid, "FWD-1")
	if got.Body != orig.Body || got.Urgency != securestore.UrgencyNormal || got.AckRequired {
		t.Fatalf("carol's row: body %q (want %q) urgency %v ack %v", got.Body, orig.Body, got.Urgency, got.AckRequired)
	}
	f := got.Forward
	if f == nil || f.FromJID != bob.jid || f.By != got.Sender || !f.At.Equal(orig.Timestamp.Truncate(time.Second)) {
		t.Fatalf("carol's forward view: %+v (original at %v)", f, orig.Timestamp)
	}
	at := orig.Timestamp.Local().Format("15:04")
	if f.Header != "Forwarded · from bob · "+at || len(got.Status) == 0 ||
		got.Status[0] != "Forwarded by "+got.Sender+": originally from bob ("+bob.jid+") at "+at {
		t.Fatalf("carol's header %q, status %q", f.Header, got.Status)
	}
	if rows := rowsFrom(carol, bob.jid); len(rows) != 0 {
		t.Fatalf("the forward made a message in carol's conversation with bob: %+v", rows)
	}
	if a := carol.c.Alerts(); len(a) != 0 {
		t.Fatalf("a routine forward of a STAT page alerts at carol: %+v", a)
	}
	mine, _ := alice.messageRow(carol.jid, sent.ID)
	if mine.Forward == nil || mine.Forward.FromJID != bob.jid || mine.Body != orig.Body ||
		!strings.HasPrefix(mine.Status[0], "Forwarded by you: originally from bob") {
		t.Fatalf("alice's own row: %+v", mine)
	}
	entries, err := alice.c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Kind == AuditForward {
			found = true
			if strings.Contains(e.Detail, "K+") || !strings.Contains(e.Detail, carol.jid) || !strings.Contains(e.Detail, bob.jid) {
				t.Fatalf("audit detail: %q", e.Detail)
			}
		}
	}
	if !found {
		t.Fatal("the forward is not audited")
	}

	// The forwarder chooses urgency: urgent this time, and it alerts.
	if _, err := alice.c.Forward(orig.ID, carol.jid, ClinicalOptions{Urgency: securestore.UrgencyHigh}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's alert for the urgent forward", 30*time.Second, func() bool {
		a := carol.c.Alerts()
		return len(a) == 1 && a[0].Urgency == securestore.UrgencyHigh && a[0].Conversation == alice.jid
	})

	// A client without Rounds reads the fallback.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dave, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("dave"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dave.Close()
	if _, err := alice.c.Forward(orig.ID, srv.JID("dave"), ClinicalOptions{}); err != nil {
		t.Fatal(err)
	}
	ev, err := dave.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "FWD-1") })
	if err != nil {
		t.Fatal(err)
	}
	if want := "Forwarded from bob, " + at + ": " + orig.Body; ev.Body != want {
		t.Fatalf("slixmpp shows %q, want %q", ev.Body, want)
	}
}

// TestForgedForwardNotInPartnersConversation: mallory sends carol a
// forward that claims to be alice's message (carol's own conversation
// partner). It lands in mallory's conversation, as mallory's; alice's
// conversation at carol is untouched.
func TestForgedForwardNotInPartnersConversation(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol", "mallory")
	alice := signIn(t, srv, "alice", Config{})
	carol := signIn(t, srv, "carol", Config{})
	if _, err := alice.c.Send(carol.jid, "FORGE-0 real message"); err != nil {
		t.Fatal(err)
	}
	carol.waitIncoming(alice.jid, "FORGE-0")
	mallory, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: srv.JID("mallory"), Resource: "raw",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer mallory.Close()
	msg := xmpp.NewChat(carol.jid, "Forwarded from alice: FORGE-1 stop the heparin")
	msg.Append(xmpp.NewForwarded(xmpp.Forwarded{From: alice.jid + "/phone", Stamp: time.Now(), Body: "FORGE-1 stop the heparin"}))
	if err := mallory.Send(msg); err != nil {
		t.Fatal(err)
	}
	got := carol.waitIncoming(srv.JID("mallory"), "FORGE-1")
	if got.Forward == nil || got.Forward.FromJID != alice.jid || got.Forward.By != got.Sender || got.Sender == "alice" {
		t.Fatalf("forged forward row: %+v", got)
	}
	if rows := rowsFrom(carol, alice.jid); len(rows) != 1 || !strings.Contains(rows[0].Body, "FORGE-0") {
		t.Fatalf("alice's conversation at carol: %+v", rows)
	}
}

// TestForwardIsNoTextAck: carol pages alice STAT; alice forwards bob's
// "ACK" to carol. The forward is not alice's acknowledgement (her words are
// bob's, quoted) at either end: carol's page stays unacknowledged and
// alice's alert keeps ringing.
func TestForwardIsNoTextAck(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	page, err := carol.c.SendClinical(alice.jid, "PAGE-1 come to bed 4", ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitIncoming(carol.jid, "PAGE-1")
	waitFor(t, "alice's alert", 30*time.Second, func() bool { return len(alice.c.Alerts()) == 1 })
	if _, err := bob.c.Send(alice.jid, "ACK"); err != nil {
		t.Fatal(err)
	}
	ack := alice.waitIncoming(bob.jid, "ACK")
	if _, err := alice.c.Forward(ack.ID, carol.jid, ClinicalOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(carol.jid, "AFTER-1 on my way"); err != nil {
		t.Fatal(err)
	}
	carol.waitIncoming(alice.jid, "AFTER-1")
	r, _ := carol.messageRow(alice.jid, page.ID)
	if r.Receipt.State == securestore.ReceiptAcknowledged || slices.ContainsFunc(r.Responses, func(x ResponseRow) bool {
		return x.Kind == ResponseAck || x.Text == "ACK"
	}) {
		t.Fatalf("the forwarded ACK acknowledged carol's page: receipt %v responses %+v", r.Receipt.State, r.Responses)
	}
	if a := alice.c.Alerts(); len(a) != 1 {
		t.Fatalf("alice's forward ended her own alert: %+v", a)
	}
}

// TestForwardIntoRoom: alice forwards bob's chat message into a care-team
// room; carol, a member, sees it in the room as alice's, "originally from
// bob", with bob's exact text, and nothing in her conversation with bob.
func TestForwardIntoRoom(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	room := "ward4@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "Ward 4", []string{carol.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.c.JoinRoom(room, "Nurse Carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Send(alice.jid, "ROOMFWD-1 Bed 9 febrile 38.9"); err != nil {
		t.Fatal(err)
	}
	orig := alice.waitIncoming(bob.jid, "ROOMFWD-1")
	if _, err := alice.c.Forward(orig.ID, room, ClinicalOptions{}); err != nil {
		t.Fatal(err)
	}
	got := carol.waitIncoming(room, "ROOMFWD-1")
	if got.Body != orig.Body || got.Forward == nil || got.Forward.FromJID != bob.jid || got.Outgoing {
		t.Fatalf("carol's room row: %+v forward %+v", got, got.Forward)
	}
	if rows := rowsFrom(carol, bob.jid); len(rows) != 0 {
		t.Fatalf("the forward made a message in carol's conversation with bob: %+v", rows)
	}
	mine, ok := alice.rowWhere(room, func(r MessageRow) bool { return strings.Contains(r.Body, "ROOMFWD-1") })
	if !ok || !mine.Outgoing || mine.Forward == nil || mine.Forward.FromJID != bob.jid {
		t.Fatalf("alice's room row: %+v", mine)
	}
}

// TestForwardNotCorrected: a forward quotes someone else's words, so it is
// never corrected. Alice forwards bob's message to carol: Rounds refuses
// her correction (the thread offered "Correct…" and it went through, her
// row and carol's then read "originally from bob" over words bob never
// wrote), and carol's device ignores a correction of the forward sent by
// another client of alice's.
func TestForwardNotCorrected(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	if _, err := bob.c.Send(alice.jid, "FIX-1 give 5 mg"); err != nil {
		t.Fatal(err)
	}
	orig := alice.waitIncoming(bob.jid, "FIX-1")
	sent, err := alice.c.Forward(orig.ID, carol.jid, ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := carol.waitIncoming(alice.jid, "FIX-1")
	if err := alice.c.Correct(carol.jid, sent.ID, "FIX-1 give 50 mg"); !errors.Is(err, ErrForwardNotCorrectable) {
		t.Fatalf("correcting a forward: %v", err)
	}
	if mine, _ := alice.messageRow(carol.jid, sent.ID); mine.Body != orig.Body || mine.Corrected {
		t.Fatalf("alice's forward after a refused correction: %q corrected %v", mine.Body, mine.Corrected)
	}
	st, err := alice.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Message(sent.ID)
	if err != nil || m.OriginID == "" {
		t.Fatalf("alice's forward: %+v %v", m, err)
	}
	raw, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: srv.JID("alice"), Resource: "other-client",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	fix := xmpp.NewChat(carol.jid, "FIX-1 give 50 mg")
	fix.Append(xmpp.NewReplace(m.OriginID))
	if err := raw.Send(fix); err != nil {
		t.Fatal(err)
	}
	if err := raw.Send(xmpp.NewChat(carol.jid, "FIX-2 after the correction")); err != nil {
		t.Fatal(err)
	}
	carol.waitIncoming(alice.jid, "FIX-2")
	if r, _ := carol.messageRow(alice.jid, got.ID); r.Body != orig.Body || r.Corrected || r.Forward == nil {
		t.Fatalf("carol's forward after another client's correction: %q corrected %v forward %+v", r.Body, r.Corrected, r.Forward)
	}
}

// TestForwardNotificationSaysForwarded: where policy lets notifications
// show text, a forward's notification says whose words they are: it read
// "alice" over bob's text, as if alice had written it (a STAT forward of an
// old page then reads as the forwarder's own new page).
func TestForwardNotificationSaysForwarded(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{Policy: Policy{Preview: PreviewContent}})
	if err := carol.c.SetNotificationPreview(PreviewContent); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Send(alice.jid, "NOTE-1 stop the heparin"); err != nil {
		t.Fatal(err)
	}
	orig := alice.waitIncoming(bob.jid, "NOTE-1")
	if _, err := alice.c.Forward(orig.ID, carol.jid, ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's notification", 20*time.Second, func() bool { return carol.notifier.countFor(alice.jid) > 0 })
	ns := carol.notifier.notifications()
	said := false
	for _, n := range ns {
		if strings.Contains(n.Body, "NOTE-1") && !strings.Contains(n.Body, "Forwarded from bob: NOTE-1") {
			t.Fatalf("notification of a forward: title %q body %q", n.Title, n.Body)
		}
		said = said || strings.Contains(n.Body, "Forwarded from bob: NOTE-1")
	}
	if !said {
		t.Fatalf("no notification shows the forward: %+v", ns)
	}
}
