package app

import (
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// Clinical tests share one fake clock per test (hospital time): Advance runs
// every client's due alerts and ladder steps, so nothing waits minutes. The
// clock starts at the real time, because message timestamps come from the
// server. Auto-lock is pushed out of the way of the advancing clock.

func clinicalClock() *fakeClock {
	c := newFakeClock()
	c.now = time.Now().UTC()
	return c
}

func clinicalSignIn(t *testing.T, srv *testserver.Server, user, resource string, clk *fakeClock) *device {
	t.Helper()
	return signIn(t, srv, user, Config{Clock: clk, Resource: resource, Policy: Policy{LockAfter: 24 * time.Hour}})
}

func urgentSounds(d *device) int {
	_, u := d.sound.counts()
	return u
}

// alertOn returns d's open alert in conv.
func alertOn(d *device, conv string) (Alert, bool) {
	for _, a := range d.c.Alerts() {
		if a.Conversation == conv {
			return a, true
		}
	}
	return Alert{}, false
}

func (d *device) messageRow(conv string, id securestore.MessageID) (MessageRow, bool) {
	ms, err := d.c.Messages(conv, 200)
	if err != nil {
		return MessageRow{}, false
	}
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return MessageRow{}, false
}

// lastFrom is the newest incoming message row in conv whose body contains s.
func (d *device) waitIncoming(conv, s string) MessageRow {
	d.t.Helper()
	var got MessageRow
	waitFor(d.t, d.jid+" receives "+s, 30*time.Second, func() bool {
		ms, err := d.c.Messages(conv, 200)
		if err != nil {
			return false
		}
		for i := len(ms) - 1; i >= 0; i-- {
			if !ms[i].Outgoing && strings.Contains(ms[i].Body, s) {
				got = ms[i]
				return true
			}
		}
		return false
	})
	return got
}

// TestUrgentStatAlertUntilAcknowledged: a STAT message alerts on both of
// bob's devices, again every 2 minutes, at most 10 repeats; reading it does
// not stop it (ack required); "call me" is shown to the sender with its time
// and does not end it; an acknowledgement on the desk ends the alert on the
// phone too; the sender's live view goes alerting → read → acknowledged,
// with times and the responses.
func TestUrgentStatAlertUntilAcknowledged(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)

	sent, err := alice.c.SendClinical(phone.jid, "MARKER-9 bed 4 K+ 6.9", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{phone, desk} {
		waitFor(t, "alert on "+d.cfg.Resource, 30*time.Second, func() bool { _, ok := alertOn(d, alice.jid); return ok })
		waitFor(t, "first ring", 10*time.Second, func() bool { return urgentSounds(d) == 1 })
		ns := d.notifier.notifications()
		if len(ns) != 1 || ns[0].Body != "STAT message from "+alice.jid || !ns[0].Urgent || !ns[0].AckRequired || ns[0].Message == 0 {
			t.Fatalf("%s notifications %+v", d.cfg.Resource, ns)
		}
		if containsAny(ns[0], "MARKER") || containsAny(ns[0], "bed") {
			t.Fatalf("PHI in the alert: %+v", ns[0])
		}
		a, _ := alertOn(d, alice.jid)
		if !a.AckRequired || a.Urgency != securestore.UrgencyCritical || a.MaxRepeats != 10 || a.From != alice.jid {
			t.Fatalf("alert %+v", a)
		}
		if r, _ := d.row(alice.jid); !r.Urgent {
			t.Fatal("STAT conversation not pinned")
		}
	}
	// The sender sees it alerting on bob's device once delivered.
	waitFor(t, "alerting on the recipient's device", 30*time.Second, func() bool {
		r, ok := alice.messageRow(phone.jid, sent.ID)
		return ok && r.Alerting && r.AckRequired && r.Receipt.State == securestore.ReceiptDelivered
	})
	if r, _ := alice.row(phone.jid); !r.Urgent {
		t.Fatal("sender's conversation not pinned while waiting for the acknowledgement")
	}

	clk.Advance(2 * time.Minute)
	for _, d := range []*device{phone, desk} {
		if n := urgentSounds(d); n != 2 {
			t.Fatalf("%s: %d rings after 2 min", d.cfg.Resource, n)
		}
	}
	// Reading on the phone does not stop an ack-required alert.
	msg := phone.waitIncoming(alice.jid, "MARKER-9")
	if err := phone.c.MarkShown(alice.jid, msg.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "read receipt at the sender", 30*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptRead && r.Alerting
	})
	waitFor(t, "desk read", 30*time.Second, func() bool { r, _ := desk.row(alice.jid); return r.Unread == 0 })
	clk.Advance(2 * time.Minute)
	if urgentSounds(phone) != 3 || urgentSounds(desk) != 3 {
		t.Fatalf("read stopped an ack-required alert: %d %d", urgentSounds(phone), urgentSounds(desk))
	}

	// "Call me" from the phone: recorded with its time at the sender, the
	// alert stays, its next ring one interval later.
	if err := phone.c.Respond(alice.jid, msg.ID, ResponseCallMe, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "call-me at the sender", 30*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return len(r.Responses) == 1 && r.Responses[0].Kind == ResponseCallMe && r.Responses[0].From == "bob" && !r.Responses[0].At.IsZero()
	})
	if r, _ := alice.messageRow(phone.jid, sent.ID); r.Receipt.State == securestore.ReceiptAcknowledged {
		t.Fatal("call-me counted as acknowledgement")
	}
	if _, ok := alertOn(phone, alice.jid); !ok {
		t.Fatal("call-me ended the alert")
	}
	// Past the cap: at most 10 repeats after the first ring.
	clk.Advance(30 * time.Minute)
	if n := urgentSounds(desk); n != 11 {
		t.Fatalf("desk rang %d times, want 1 + 10 repeats", n)
	}
	if a, ok := alertOn(desk, alice.jid); !ok || a.Repeats != 10 || !a.NextAt.IsZero() {
		t.Fatalf("exhausted alert %+v %v (must stay open until acknowledged)", a, ok)
	}

	// Acknowledged on the desk: the phone's alert ends too (carbon).
	dmsg := desk.waitIncoming(alice.jid, "MARKER-9")
	if err := desk.c.Respond(alice.jid, dmsg.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := alertOn(desk, alice.jid); ok {
		t.Fatal("desk alert survives its own acknowledgement")
	}
	waitFor(t, "phone alert ends on the desk's ack", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return !ok })
	waitFor(t, "acknowledged at the sender", 30*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged && !r.Alerting && len(r.Responses) == 2 && r.Responses[1].Kind == ResponseAck
	})
	r, _ := alice.messageRow(phone.jid, sent.ID)
	rc := r.Receipt
	for _, s := range []securestore.ReceiptState{securestore.ReceiptSent, securestore.ReceiptDelivered, securestore.ReceiptRead, securestore.ReceiptAcknowledged} {
		if rc.At[s].IsZero() {
			t.Fatalf("no time for %v: %+v", s, rc)
		}
	}
	if rc.At[securestore.ReceiptAcknowledged].Before(rc.At[securestore.ReceiptRead]) {
		t.Fatalf("acknowledged before read: %+v", rc)
	}
	waitFor(t, "sender unpinned", 30*time.Second, func() bool { r, _ := alice.row(phone.jid); return !r.Urgent })
	for _, d := range []*device{phone, desk} {
		if r, _ := d.row(alice.jid); r.Urgent {
			t.Fatalf("%s still pinned after the ack", d.cfg.Resource)
		}
	}
	// The recipient's own thread shows their responses too.
	if rr, _ := desk.messageRow(alice.jid, dmsg.ID); len(rr.Responses) < 1 || rr.Responses[len(rr.Responses)-1].From != "You" {
		t.Fatalf("desk responses %+v", rr.Responses)
	}
	before := urgentSounds(phone)
	clk.Advance(10 * time.Minute)
	if urgentSounds(phone) != before {
		t.Fatal("rang after the acknowledgement")
	}
	// The acknowledgement is audited on the device that gave it.
	entries, err := desk.c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Kind == auditAck
	}
	if !found {
		t.Fatal("acknowledgement not audited")
	}
	// Responding to one's own message is refused.
	if err := alice.c.Respond(phone.jid, sent.ID, ResponseAck, ""); err != ErrCannotRespond {
		t.Fatalf("own message ack: %v", err)
	}
	if err := desk.c.Respond(alice.jid, dmsg.ID, "maybe", ""); err == nil {
		t.Fatal("unknown response accepted")
	}
}

// TestUrgentDeclineShownToSender: a decline is recorded at the sender with
// its time, ends the decliner's alert, and does not acknowledge: the sender
// still waits (pinned) and the escalation goes on.
func TestUrgentDeclineShownToSender(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)

	sent, err := alice.c.SendClinical(bob.jid, "MARKER-3 please review", ClinicalOptions{Urgency: securestore.UrgencyHigh,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{To: carol.jid}}}})
	if err != nil || !sent.Escalation {
		t.Fatalf("%+v %v", sent, err)
	}
	msg := bob.waitIncoming(alice.jid, "MARKER-3")
	if err := bob.c.Respond(alice.jid, msg.ID, ResponseDecline, "in theatre"); err != nil {
		t.Fatal(err)
	}
	if _, ok := alertOn(bob, alice.jid); ok {
		t.Fatal("decline left the decliner's alert ringing")
	}
	waitFor(t, "decline at the sender", 30*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return len(r.Responses) == 1 && r.Responses[0].Kind == ResponseDecline && r.Responses[0].Text == "in theatre" && !r.Responses[0].At.IsZero()
	})
	r, _ := alice.messageRow(bob.jid, sent.ID)
	if r.Receipt.State == securestore.ReceiptAcknowledged || r.Escalation == nil || !r.Escalation.Active || r.Alerting {
		t.Fatalf("decline acknowledged or stopped the ladder: %+v", r)
	}
	if row, _ := alice.row(bob.jid); !row.Urgent {
		t.Fatal("sender unpinned by a decline")
	}
	clk.Advance(5 * time.Minute)
	carol.waitIncoming(alice.jid, "MARKER-3")
	waitFor(t, "carol alerted", 30*time.Second, func() bool { _, ok := alertOn(carol, alice.jid); return ok })

	// alice reached bob by phone: she stops the ladder; carol is told.
	if err := alice.c.CancelEscalation(bob.jid, sent.ID); err != nil {
		t.Fatal(err)
	}
	carol.waitIncoming(alice.jid, "The sender stopped the escalation at")
	waitFor(t, "carol's alert ends", 30*time.Second, func() bool { _, ok := alertOn(carol, alice.jid); return !ok })
	r, _ = alice.messageRow(bob.jid, sent.ID)
	if r.Escalation == nil || r.Escalation.Active || r.Escalation.EndReason != endCancelled || len(r.Escalation.Steps) != 1 {
		t.Fatalf("cancelled ladder %+v", r.Escalation)
	}
	if row, _ := alice.row(bob.jid); row.Urgent {
		t.Fatal("pinned after the ladder was stopped")
	}
}

// TestUrgentAlertStopsWhenReadElsewhere: an urgent message from another XMPP
// client (only the XEP-0131 Urgency header: no acknowledgement asked) alerts
// on both of bob's devices and repeats; reading it on the phone stops the
// alert on the desk too (XEP-0490), and nothing rings after.
func TestUrgentAlertStopsWhenReadElsewhere(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob", "carol")
	clk := clinicalClock()
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)

	other, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: srv.JID("carol"), Resource: "other-client",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	id := xmpp.NewID()
	msg := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", phone.jid, "id", id).Append(
		xmpp.NewElement(xmpp.NSClient, "body").SetText("MARKER-U call ward 3"),
		xmpp.NewElement("http://jabber.org/protocol/shim", "headers").Append(
			xmpp.NewElement("http://jabber.org/protocol/shim", "header", "name", "Urgency").SetText("high")),
		xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id))
	if err := other.Send(msg); err != nil {
		t.Fatal(err)
	}
	carol := srv.JID("carol")
	for _, d := range []*device{phone, desk} {
		waitFor(t, "alert on "+d.cfg.Resource, 30*time.Second, func() bool { _, ok := alertOn(d, carol); return ok })
		a, _ := alertOn(d, carol)
		if a.AckRequired || a.Urgency != securestore.UrgencyHigh {
			t.Fatalf("alert %+v", a)
		}
		waitFor(t, "first ring", 10*time.Second, func() bool { return urgentSounds(d) == 1 })
		if n := d.notifier.notifications(); len(n) != 1 || n[0].Body != "Urgent message from "+carol {
			t.Fatalf("notifications %+v", n)
		}
		if r, _ := d.row(carol); !r.Urgent {
			t.Fatal("not pinned")
		}
	}
	clk.Advance(2 * time.Minute)
	if urgentSounds(phone) != 2 || urgentSounds(desk) != 2 {
		t.Fatalf("rings after 2 min: %d %d", urgentSounds(phone), urgentSounds(desk))
	}
	in := phone.waitIncoming(carol, "MARKER-U")
	if err := phone.c.MarkShown(carol, in.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := alertOn(phone, carol); ok {
		t.Fatal("phone alert survives reading")
	}
	waitFor(t, "desk alert ends when read on the phone", 30*time.Second, func() bool { _, ok := alertOn(desk, carol); return !ok })
	clk.Advance(10 * time.Minute)
	if urgentSounds(phone) != 2 || urgentSounds(desk) != 2 {
		t.Fatalf("rang after being read: %d %d", urgentSounds(phone), urgentSounds(desk))
	}
	for _, d := range []*device{phone, desk} {
		if r, _ := d.row(carol); r.Urgent {
			t.Fatal("still pinned after read")
		}
	}
}

// TestOwnPageAckDoesNotEndRecipientAlert: in a chat, only the addressed
// recipient (or their other devices) ends their alert. alice pages bob,
// then acknowledges her own page from another client: bob records the
// response, and his alert goes on ringing.
func TestOwnPageAckDoesNotEndRecipientAlert(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	_, err := alice.c.SendClinical(bob.jid, "MARKER-A bed 6 sats 84", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's alert", 30*time.Second, func() bool { _, ok := alertOn(bob, alice.jid); return ok })
	in := bob.waitIncoming(alice.jid, "MARKER-A")

	other, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: alice.jid, Resource: "other-client",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	st, _, err := bob.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Message(in.ID)
	if err != nil || page.OriginID == "" {
		t.Fatalf("the page as bob stored it: %+v %v", page, err)
	}
	id := xmpp.NewID()
	ack := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", bob.jid, "id", id).Append(
		xmpp.NewElement(xmpp.NSClient, "body").SetText(sync.ResponseAck.Label()),
		xmpp.NewResponse(page.OriginID, string(sync.ResponseAck)),
		xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id))
	if err := other.Send(ack); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob records alice's response", 30*time.Second, func() bool {
		r, _ := bob.messageRow(alice.jid, in.ID)
		return len(r.Responses) == 1 && r.Responses[0].Kind == ResponseAck
	})
	if _, ok := alertOn(bob, alice.jid); !ok {
		t.Fatal("the page's author acknowledged her own page and ended the recipient's alert")
	}
	rings := urgentSounds(bob)
	clk.Advance(2 * time.Minute)
	if n := urgentSounds(bob); n != rings+1 {
		t.Fatalf("alert stopped ringing after the author's own ack: %d -> %d", rings, n)
	}
	// bob's own acknowledgement still ends it.
	if err := bob.c.Respond(alice.jid, in.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := alertOn(bob, alice.jid); ok {
		t.Fatal("bob's own acknowledgement did not end his alert")
	}
}

// TestOwnRoomPageAckDoesNotEndMembersAlerts: in a room, another member's
// acknowledgement ends the team's alert (TestUrgentRoomAckByOneMember), but
// not the page author's own: alice pages the room, then acknowledges her
// own page from another client in the room (another nick, her JID): bob
// records it, and his alert goes on.
func TestOwnRoomPageAckDoesNotEndMembersAlerts(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	room := "icu-own@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.SendClinical(room, "MARKER-R bed 1 arrest", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	in := bob.waitIncoming(room, "MARKER-R")
	waitFor(t, "bob's room alert", 30*time.Second, func() bool { _, ok := alertOn(bob, room); return ok })
	st, _, err := bob.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Message(in.ID)
	if err != nil || page.StanzaID == "" {
		t.Fatalf("the page as bob stored it: %+v %v", page, err)
	}

	joined := make(chan struct{}, 1)
	other, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: alice.jid, Resource: "other-client",
		Credentials: xmpp.Credentials{Password: testserver.Password},
		OnPresence: func(p *xmpp.Presence) {
			if p.From == room+"/alice-desk" {
				select {
				case joined <- struct{}{}:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Send(xmpp.NewElement(xmpp.NSClient, "presence", "to", room+"/alice-desk").Append(
		xmpp.NewElement("http://jabber.org/protocol/muc", "x").Append(xmpp.NewElement("http://jabber.org/protocol/muc", "history", "maxstanzas", "0")))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-joined:
	case <-time.After(30 * time.Second):
		t.Fatal("alice's other client did not join the room")
	}
	id := xmpp.NewID()
	ack := xmpp.NewElement(xmpp.NSClient, "message", "type", "groupchat", "to", room, "id", id).Append(
		xmpp.NewElement(xmpp.NSClient, "body").SetText(sync.ResponseAck.Label()),
		xmpp.NewResponse(page.StanzaID, string(sync.ResponseAck)),
		xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id))
	if err := other.Send(ack); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob records alice's response", 30*time.Second, func() bool {
		r, _ := bob.messageRow(room, in.ID)
		return len(r.Responses) == 1 && r.Responses[0].Kind == ResponseAck
	})
	if _, ok := alertOn(bob, room); !ok {
		t.Fatal("the page's author acknowledged her own room page and ended a member's alert")
	}
}

// TestUrgentAlertAcrossLockAndCatchUp: an open alert survives a lock (it is
// saved) and rings again after unlock; a STAT message acknowledged on the
// desk while the phone was locked never rings on the phone when it
// catches up.
func TestUrgentAlertAcrossLockAndCatchUp(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)

	if _, err := alice.c.SendClinical(phone.jid, "MARKER-A1", ClinicalOptions{Urgency: securestore.UrgencyHigh, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "desk alert", 30*time.Second, func() bool { _, ok := alertOn(desk, alice.jid); return ok })
	desk.c.Lock()
	clk.Advance(3 * time.Minute) // the repeat falls due while locked
	if err := desk.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	a, ok := alertOn(desk, alice.jid)
	if !ok || a.Repeats != 0 {
		t.Fatalf("alert after unlock %+v %v", a, ok)
	}
	before := urgentSounds(desk)
	clk.Advance(0)
	if urgentSounds(desk) != before+1 {
		t.Fatal("the overdue repeat did not ring after unlock")
	}
	in := desk.waitIncoming(alice.jid, "MARKER-A1")
	if err := desk.c.Respond(alice.jid, in.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "phone alert ends", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return !ok })

	// Now the phone is locked while a second STAT arrives and the desk
	// acknowledges it.
	phone.c.Lock()
	sent, err := alice.c.SendClinical(phone.jid, "MARKER-A2", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	in2 := desk.waitIncoming(alice.jid, "MARKER-A2")
	if err := desk.c.Respond(alice.jid, in2.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acknowledged", 30*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
	rings := urgentSounds(phone)
	notes := len(phone.notifier.notifications())
	if err := phone.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	phone.waitIncoming(alice.jid, "MARKER-A2")
	waitFor(t, "own ack caught up", 30*time.Second, func() bool {
		r, _ := phone.messageRow(alice.jid, phone.waitIncoming(alice.jid, "MARKER-A2").ID)
		return len(r.Responses) == 1 && r.Responses[0].Own
	})
	time.Sleep(200 * time.Millisecond)
	clk.Advance(settleAfter)
	if _, ok := alertOn(phone, alice.jid); ok || urgentSounds(phone) != rings || len(phone.notifier.notifications()) != notes {
		t.Fatalf("an acknowledged message alerted after catch-up (rings %d→%d)", rings, urgentSounds(phone))
	}

	// Unacknowledged while bob was offline: after sign-in it rings once
	// (at once when fresh, or once catch-up settled when late), then repeats.
	phone.c.Lock()
	desk.c.Lock()
	if _, err := alice.c.SendClinical(phone.jid, "MARKER-A3", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	rings = urgentSounds(phone)
	if err := phone.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	phone.waitIncoming(alice.jid, "MARKER-A3")
	waitFor(t, "alert after sign-in", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return ok })
	clk.Advance(settleAfter)
	waitFor(t, "one ring", 10*time.Second, func() bool { return urgentSounds(phone) == rings+1 })
	time.Sleep(200 * time.Millisecond)
	if urgentSounds(phone) != rings+1 {
		t.Fatalf("STAT received while offline rang %d times", urgentSounds(phone)-rings)
	}
	clk.Advance(2 * time.Minute)
	if urgentSounds(phone) != rings+2 {
		t.Fatalf("no repeat: %d", urgentSounds(phone)-rings)
	}
}

// TestUrgentRoomAckByOneMember: a STAT message to a room alerts every
// member; the first member's acknowledgement ends the alert for the whole
// team and the sender sees who acknowledged, when.
func TestUrgentRoomAckByOneMember(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)
	room := "icu-team@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid, carol.jid}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{bob, carol} {
		if _, err := d.c.JoinRoom(room, ""); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := alice.c.SendClinical(room, "MARKER-T bed 2 arrest", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	var in MessageRow
	for _, d := range []*device{bob, carol} {
		in = d.waitIncoming(room, "MARKER-T")
		waitFor(t, "room alert", 30*time.Second, func() bool { _, ok := alertOn(d, room); return ok })
		waitFor(t, "room ring", 10*time.Second, func() bool { return urgentSounds(d) == 1 })
		if n := d.notifier.notifications(); len(n) != 1 || n[0].Body != "STAT message in icu-team" {
			t.Fatalf("room alert notification %+v", n)
		}
	}
	bin := bob.waitIncoming(room, "MARKER-T")
	if err := bob.c.Respond(room, bin.ID, ResponseAck, "on my way"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's alert ends on bob's ack", 30*time.Second, func() bool { _, ok := alertOn(carol, room); return !ok })
	waitFor(t, "sender sees bob's ack", 30*time.Second, func() bool {
		r, _ := alice.messageRow(room, sent.ID)
		return len(r.Responses) == 1 && r.Responses[0].From == "bob" && r.Responses[0].Text == "on my way" && !r.Alerting
	})
	if r, _ := carol.messageRow(room, in.ID); len(r.Responses) != 1 || r.Responses[0].From != "bob" {
		t.Fatalf("carol does not see who acknowledged: %+v", r.Responses)
	}
	waitFor(t, "sender unpinned", 30*time.Second, func() bool { r, _ := alice.row(room); return !r.Urgent })
}

// TestUnacknowledgedStatOlderThanRepeatWindowRings: a STAT page that asks
// for an acknowledgement and that nobody acknowledged still rings once
// (after catch-up settles) when it reaches this device later than the whole
// repeat window (22 min by default): the phone was off, or a stamp our
// server's offline storage seemed to give (a sender can write one that
// arrives while the stream is set up) says it is old. Before, it was only
// listed: an unacknowledged STAT page arrived without a sound.
func TestUnacknowledgedStatOlderThanRepeatWindowRings(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	phone.c.Lock()
	if _, err := alice.c.SendClinical(phone.jid, "MARKER-OLD", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	interval, count := DefaultUrgentRepeat, DefaultUrgentRepeatCount
	clk.Advance(interval*time.Duration(count+1) + 5*time.Minute) // the phone was off longer than the repeat window
	rings := urgentSounds(phone)
	if err := phone.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	phone.waitIncoming(alice.jid, "MARKER-OLD")
	waitFor(t, "alert after sign-in", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return ok })
	clk.Advance(settleAfter)
	waitFor(t, "the unacknowledged STAT rings", 10*time.Second, func() bool { return urgentSounds(phone) == rings+1 })
	clk.Advance(interval)
	time.Sleep(200 * time.Millisecond)
	if n := urgentSounds(phone) - rings; n != 1 {
		t.Fatalf("rang %d times; once is enough for a page older than the repeat window", n)
	}
	if _, ok := alertOn(phone, alice.jid); !ok {
		t.Fatal("the alert is no longer listed")
	}
}

// TestInboxPreviewShowsTheOpenAlert: while a STAT waits for bob's
// acknowledgement his inbox line for the conversation shows the STAT, not
// his own later "5 minutes" reply; once acknowledged, the latest line again.
func TestInboxPreviewShowsTheOpenAlert(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)

	if _, err := alice.c.SendClinical(bob.jid, "MARKER-14 bed 4 K+ 6.9 start the protocol", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alert", 30*time.Second, func() bool { _, ok := alertOn(bob, alice.jid); return ok })
	msg := bob.waitIncoming(alice.jid, "MARKER-14")
	if err := bob.c.Respond(alice.jid, msg.ID, ResponseFiveMinutes, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply stored", 30*time.Second, func() bool {
		ms, _ := bob.c.Messages(alice.jid, 10)
		return len(ms) > 0 && ms[len(ms)-1].Outgoing
	})
	if r, _ := bob.row(alice.jid); r.Preview != "STAT: MARKER-14 bed 4 K+ 6.9 start the protocol" {
		t.Fatalf("preview while the STAT is open: %q", r.Preview)
	}
	if err := bob.c.Respond(alice.jid, msg.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the latest line again", 30*time.Second, func() bool {
		r, _ := bob.row(alice.jid)
		return !strings.Contains(r.Preview, "MARKER-14")
	})
}
