package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// dndSignIn signs user in on its own resource with a real clock (the end
// time and the message stamps are compared with it) and a long lock.
func dndSignIn(t *testing.T, srv *testserver.Server, user, resource string, p Policy) *device {
	t.Helper()
	p.LockAfter = 24 * time.Hour
	return signIn(t, srv, user, Config{Resource: resource, Policy: p})
}

// rowsFrom are conv's rows in d's store, the incoming ones only.
func rowsFrom(d *device, conv string) []MessageRow {
	ms, err := d.c.Messages(conv, 200)
	if err != nil {
		return nil
	}
	var out []MessageRow
	for _, m := range ms {
		if !m.Outgoing {
			out = append(out, m)
		}
	}
	return out
}

// forwardsIn counts the forwarded messages among rows whose text holds
// marker ("" for every forward).
func forwardsIn(rows []MessageRow, marker string) int {
	n := 0
	for _, r := range rows {
		if r.Forward != nil && strings.Contains(r.Body, marker) {
			n++
		}
	}
	return n
}

// automaticSaying counts the automatic messages among rows whose text holds
// every one of words.
func automaticSaying(rows []MessageRow, words ...string) int {
	n := 0
	for _, r := range automatic(rows) {
		all := true
		for _, w := range words {
			all = all && strings.Contains(r.Body, w)
		}
		if all {
			n++
		}
	}
	return n
}

func automatic(rows []MessageRow) []MessageRow {
	var out []MessageRow
	for _, r := range rows {
		if r.Automatic {
			out = append(out, r)
		}
	}
	return out
}

// TestDNDSilencesRoutineNotUrgent: on do not disturb a routine message is
// stored and counted unread without a sound or a notification, and a STAT
// one rings. A device whose policy keeps urgent silent rings for STAT only.
func TestDNDSilencesRoutineNotUrgent(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{DND: DNDPolicy{UrgentSilenced: true}})
	for _, d := range []*device{bob, carol} {
		if err := d.c.SetDND(DNDSettings{Until: time.Now().Add(time.Hour), Reply: "In theatre"}); err != nil {
			t.Fatal(err)
		}
	}

	send := func(to *device, text string, u securestore.Urgency) {
		t.Helper()
		if _, err := alice.c.SendClinical(to.jid, text, ClinicalOptions{Urgency: u}); err != nil {
			t.Fatal(err)
		}
	}
	send(bob, "routine for bob", securestore.UrgencyNormal)
	bob.waitUnread(alice.jid, 1)
	send(carol, "urgent for carol", securestore.UrgencyHigh)
	carol.waitUnread(alice.jid, 1)
	// The replies went out after the messages were handled: by then their
	// sounds would have played.
	waitFor(t, "bob's reply", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) == 1 })
	waitFor(t, "carol's reply", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, carol.jid))) == 1 })
	for _, d := range []*device{bob, carol} {
		if plays, _ := d.sound.counts(); plays != 0 || len(d.notifier.notifications()) != 0 {
			t.Fatalf("%s on do not disturb: %d sounds, notifications %+v", d.jid, plays, d.notifier.notifications())
		}
	}
	if _, ok := alertOn(carol, alice.jid); ok {
		t.Fatal("an urgent message the policy keeps silent raised an alert")
	}

	send(bob, "STAT for bob", securestore.UrgencyCritical)
	send(carol, "STAT for carol", securestore.UrgencyCritical)
	for _, d := range []*device{bob, carol} {
		waitFor(t, "STAT rings through at "+d.jid, 30*time.Second, func() bool { return urgentSounds(d) >= 1 })
		if _, ok := alertOn(d, alice.jid); !ok {
			t.Fatalf("no STAT alert at %s", d.jid)
		}
	}
	// Urgent rings through where the policy says nothing.
	send(bob, "urgent for bob", securestore.UrgencyHigh)
	waitFor(t, "urgent rings through at bob", 30*time.Second, func() bool { return urgentSounds(bob) >= 2 })

	// Off again: routine notifies (from carol: alice's conversation has a
	// notification showing, which a routine message would not renew).
	if err := bob.c.EndDND(); err != nil {
		t.Fatal(err)
	}
	plays, _ := bob.sound.counts()
	if _, err := carol.c.Send(bob.jid, "routine after"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "routine sound after do not disturb", 30*time.Second, func() bool { p, _ := bob.sound.counts(); return p > plays })
}

// TestDNDAutoReplyOncePerConversation: everyone who writes gets the reply,
// marked automatic on the wire and in the thread, once per conversation per
// period; a new period answers again. The reply is the typed text.
func TestDNDAutoReplyOncePerConversation(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	// A raw client of carol's sees the wire form.
	raw, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: carol.jid, Resource: "raw",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	reply := "In theatre until 14:00 — urgent: page Dr Osei"
	if err := bob.c.SetDND(DNDSettings{Reply: reply}); err != nil {
		t.Fatal(err)
	}
	if v := bob.c.DND(); !v.On || v.Line != "Do not disturb" {
		t.Fatalf("DND view: %+v", v)
	}
	for i := range 3 {
		if _, err := alice.c.Send(bob.jid, "question "+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Send(xmpp.NewChat(bob.jid, "from carol's other client")); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(alice.jid, 3)
	waitFor(t, "carol's reply", 30*time.Second, func() bool { return len(automatic(rowsFrom(carol, bob.jid))) == 1 })
	waitFor(t, "alice's reply", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) >= 1 })
	// Once: more messages, no second reply.
	if _, err := alice.c.Send(bob.jid, "question 4"); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(alice.jid, 4)
	time.Sleep(500 * time.Millisecond) // a second reply would be on its way
	got := automatic(rowsFrom(alice, bob.jid))
	if len(got) != 1 {
		t.Fatalf("alice got %d automatic replies", len(got))
	}
	r := got[0]
	if r.Body != reply || len(r.Status) == 0 || r.Status[0] != "Automatic reply" {
		t.Fatalf("reply row: body %q status %q", r.Body, r.Status)
	}
	// Bob's own thread shows what he sent, marked too.
	ms, _ := bob.c.Messages(alice.jid, 50)
	var own []MessageRow
	for _, m := range ms {
		if m.Outgoing && m.Automatic {
			own = append(own, m)
		}
	}
	if len(own) != 1 {
		t.Fatalf("bob's thread holds %d automatic replies to alice", len(own))
	}

	// A new period answers again.
	if err := bob.c.EndDND(); err != nil {
		t.Fatal(err)
	}
	if bob.c.DND().On {
		t.Fatal("still on after EndDND")
	}
	if err := bob.c.SetDND(DNDSettings{Reply: reply}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(bob.jid, "question 5"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second period's reply", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) == 2 })
}

// TestDNDAutoReplyWire: the reply carries RFC 3834's Auto-Submitted header
// in SHIM, the marker a receiver reads.
func TestDNDAutoReplyWire(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob", "carol")
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	got := make(chan *xmpp.Message, 4)
	raw, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: srv.JID("carol"), Resource: "raw",
		Credentials: xmpp.Credentials{Password: testserver.Password},
		OnMessage: func(m *xmpp.Message) {
			if m.Body != "" {
				got <- m
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.SetPresence(xmpp.ShowAvailable, ""); err != nil {
		t.Fatal(err)
	}
	if err := bob.c.SetDND(DNDSettings{Reply: "Back at 14:00"}); err != nil {
		t.Fatal(err)
	}
	if err := raw.Send(xmpp.NewChat(bob.jid, "hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.Body != "Back at 14:00" || !xmpp.AutoSubmitted(m.Headers) || m.Headers[xmpp.HeaderAutoSubmitted] != "auto-replied" {
			t.Fatalf("reply on the wire: body %q headers %v", m.Body, m.Headers)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no reply on the wire")
	}
}

// TestDNDNoReplyLoop: two people on do not disturb write to each other;
// each gets the other's reply, and neither answers a reply.
func TestDNDNoReplyLoop(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	for _, d := range []*device{alice, bob} {
		if err := d.c.SetDND(DNDSettings{Reply: "Away: " + d.jid}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alice.c.Send(bob.jid, "are you free?"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's reply at alice", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) == 1 })
	// Whatever alice's client would answer goes out as it handles the
	// reply, a round trip away: watch bob's thread for a while.
	for range 40 {
		if got := automatic(rowsFrom(bob, alice.jid)); len(got) != 0 {
			t.Fatalf("alice answered bob's automatic reply: %q", got[0].Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := automatic(rowsFrom(alice, bob.jid)); len(got) != 1 {
		t.Fatalf("alice holds %d replies of bob's", len(got))
	}
}

// TestDNDCoverForwardsUrgent: bob is on do not disturb and carol covers.
// alice's routine message gets the reply naming carol and is not
// forwarded; her STAT message is: carol's thread with bob shows alice's
// exact text at STAT, forwarded by bob and naming alice as a claim, and it
// alerts her; bob's audit records the forward without the text; alice is
// told it went to carol.
func TestDNDCoverForwardsUrgent(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	if v := bob.c.DND(); !strings.Contains(v.Line, "covers") || v.Cover != carol.jid {
		t.Fatalf("DND view: %+v", v)
	}
	if _, err := alice.c.Send(bob.jid, "routine question"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) == 1 })
	if r := automatic(rowsFrom(alice, bob.jid))[0]; !strings.Contains(r.Body, "In theatre") || !strings.Contains(r.Body, "Covering for me: carol") {
		t.Fatalf("reply does not name the cover: %q", r.Body)
	}

	text := "  Bed 12 K+ 6.8,\n come now  "
	sent, err := alice.c.SendClinical(bob.jid, text, ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	var fwd MessageRow
	waitFor(t, "the forward at carol", 30*time.Second, func() bool {
		for _, r := range rowsFrom(carol, bob.jid) {
			if r.Forward != nil {
				fwd = r
				return true
			}
		}
		return false
	})
	stored, _ := alice.c.Messages(bob.jid, 50)
	var want string
	for _, r := range stored {
		if r.ID == sent.ID {
			want = r.Body
		}
	}
	if fwd.Body != want || fwd.Urgency != securestore.UrgencyCritical || fwd.Forward.FromJID != alice.jid || fwd.Forward.By != fwd.Sender ||
		!strings.HasPrefix(fwd.Status[0], "Forwarded by "+fwd.Sender+": originally from ") {
		t.Fatalf("forward at carol: %+v (want body %q)", fwd, want)
	}
	waitFor(t, "carol's alert", 30*time.Second, func() bool { _, ok := alertOn(carol, bob.jid); return ok })
	if len(rowsFrom(carol, bob.jid)) != 1 {
		t.Fatalf("the routine message was forwarded too: %+v", rowsFrom(carol, bob.jid))
	}

	waitFor(t, "the sender's notice", 30*time.Second, func() bool {
		return automaticSaying(rowsFrom(alice, bob.jid), "forwarded to carol", "STAT") > 0
	})
	entries, err := bob.c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Kind == AuditDNDForward {
			found = true
			if strings.Contains(e.Detail, "K+") || !strings.Contains(e.Detail, carol.jid) || !strings.Contains(e.Detail, alice.jid) {
				t.Fatalf("audit detail: %q", e.Detail)
			}
		}
	}
	if !found {
		t.Fatal("the forward is not audited")
	}
}

// TestForgedForwardShownAsForwarder: mallory forwards carol a STAT order
// "from" the chief. Carol's thread is mallory's, the row is mallory's, and
// the chief is only what mallory says.
func TestForgedForwardShownAsForwarder(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "carol", "mallory", "chief")
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	mallory, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: srv.JID("mallory"), Resource: "raw",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer mallory.Close()
	chief := srv.JID("chief")
	msg := xmpp.NewChat(carol.jid, "Forwarded from "+chief+": Give 10 units insulin IV")
	msg.Append(xmpp.NewUrgency(xmpp.UrgencySTAT, true),
		xmpp.NewForwarded(xmpp.Forwarded{From: chief + "/desk", Stamp: time.Now(), Body: "Give 10 units insulin IV"}))
	if err := mallory.Send(msg); err != nil {
		t.Fatal(err)
	}
	malloryJID := srv.JID("mallory")
	var r MessageRow
	waitFor(t, "the forward at carol", 30*time.Second, func() bool {
		rows := rowsFrom(carol, malloryJID)
		if len(rows) == 1 {
			r = rows[0]
			return true
		}
		return false
	})
	if rows := rowsFrom(carol, chief); len(rows) != 0 {
		t.Fatalf("the forward landed in the chief's conversation: %+v", rows)
	}
	if r.Sender != malloryJID || r.Forward == nil || r.Forward.By != malloryJID || r.Forward.FromJID != chief ||
		r.Body != "Give 10 units insulin IV" || len(r.Status) == 0 || !strings.HasPrefix(r.Status[0], "Forwarded by "+malloryJID+": originally from chief") {
		t.Fatalf("forged forward row: %+v", r)
	}
}

// TestDNDAcrossDevicesAndRestart: bob turns do not disturb on at his desk;
// his phone follows (the private node's notification), both answer alice
// once between them, the state survives the phone's restart, a device
// signing in for the first time reads it, and turning it off on the phone
// turns it off at the desk.
func TestDNDAcrossDevicesAndRestart(t *testing.T) {
	testserver.EachServer(t, testDNDAcrossDevicesAndRestart)
}

func testDNDAcrossDevicesAndRestart(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "alice", "bob")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	desk := dndSignIn(t, srv, "bob", "desk", Policy{})
	phone := dndSignIn(t, srv, "bob", "phone", Policy{})
	until := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	if err := desk.c.SetDND(DNDSettings{Until: until, Reply: "In theatre", Cover: alice.jid}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the phone follows", 30*time.Second, func() bool {
		v := phone.c.DND()
		return v.On && v.Until.Equal(until) && v.Reply == "In theatre" && v.Cover == alice.jid
	})
	waitFor(t, "the desk's change at the phone", 5*time.Second, func() bool { return phone.changeCount(Change{Kind: DNDChanged}) > 0 })

	// Both devices get alice's messages; alice gets one reply.
	if err := desk.c.SetDND(DNDSettings{Until: until, Reply: "In theatre"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the phone follows again", 30*time.Second, func() bool { return phone.c.DND().Cover == "" })
	if _, err := alice.c.Send(desk.jid, "hello"); err != nil {
		t.Fatal(err)
	}
	desk.waitUnread(alice.jid, 1)
	phone.waitUnread(alice.jid, 1)
	waitFor(t, "the reply", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, desk.jid))) >= 1 })
	time.Sleep(500 * time.Millisecond)
	if n := len(automatic(rowsFrom(alice, desk.jid))); n != 1 {
		t.Fatalf("alice got %d replies from bob's two devices", n)
	}

	// The phone restarts: still on, from its own store.
	phone.c.SignOut()
	pc, err := Unlock(context.Background(), phone.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pc.SignOut)
	if v := pc.DND(); !v.On || !v.Until.Equal(until) {
		t.Fatalf("after restart: %+v", v)
	}

	// A device new to the account reads it from the server.
	tablet := dndSignIn(t, srv, "bob", "tablet", Policy{})
	waitFor(t, "the new device reads it", 30*time.Second, func() bool { return tablet.c.DND().On })

	// Off on the phone: off at the desk.
	if err := pc.EndDND(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the desk follows off", 30*time.Second, func() bool { return !desk.c.DND().On })
}

// TestDNDQuietWhileLocked: a locked device on do not disturb raises no
// locked notification for a routine message; a STAT one rings through. The
// replies go out at the unlock, when the messages are merged.
func TestDNDQuietWhileLocked(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre"}); err != nil {
		t.Fatal(err)
	}
	bob.c.Lock()
	if !bob.c.Listening() {
		t.Fatal("not listening while locked")
	}
	// Lock forgets the closed store as halt does (dndStopped); the state
	// that keeps the device quiet stays.
	bob.c.dnd.mu.Lock()
	kept := bob.c.dnd.st
	bob.c.dnd.mu.Unlock()
	if kept != nil {
		t.Fatal("do not disturb still holds the store closed by Lock")
	}
	if _, err := alice.c.Send(bob.jid, "routine while locked"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the arrival counted", 20*time.Second, func() bool { return bob.changeCount(Change{Kind: LockedWaiting}) > 0 })
	time.Sleep(200 * time.Millisecond)
	if n := lockedNotes(bob); len(n) != 0 {
		t.Fatalf("routine notified while locked on do not disturb: %+v", n)
	}
	if _, err := alice.c.SendClinical(bob.jid, "STAT while locked", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the STAT locked notification", 20*time.Second, func() bool { return len(lockedNotes(bob)) == 1 })
	if err := bob.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply after the unlock", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) == 1 })
}

// TestDNDEndsAtItsTime: the end time is a timer on the device's clock:
// when it passes, do not disturb is off, the screens are told, and routine
// messages notify again.
func TestDNDEndsAtItsTime(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "desk", clk)
	bob := clinicalSignIn(t, srv, "bob", "desk", clk)
	if err := bob.c.SetDND(DNDSettings{Until: clk.Now().Add(time.Hour), Reply: "Back at noon"}); err != nil {
		t.Fatal(err)
	}
	if err := bob.c.SetDND(DNDSettings{Until: clk.Now().Add(-time.Minute)}); err != ErrDNDUntilPast {
		t.Fatalf("an end time in the past: %v", err)
	}
	waitFor(t, "the change", 5*time.Second, func() bool { return bob.changeCount(Change{Kind: DNDChanged}) > 0 })
	before := bob.changeCount(Change{Kind: DNDChanged})
	clk.Advance(61 * time.Minute)
	if bob.c.DND().On {
		t.Fatal("still on after its end time")
	}
	waitFor(t, "the end told to the screens", 5*time.Second, func() bool { return bob.changeCount(Change{Kind: DNDChanged}) > before })
	if _, err := alice.c.Send(bob.jid, "after noon"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a routine sound", 30*time.Second, func() bool { p, _ := bob.sound.counts(); return p > 0 })
	if n := len(automatic(rowsFrom(alice, bob.jid))); n != 0 {
		t.Fatalf("%d automatic replies after the end", n)
	}
}

// TestDNDStrangerNeitherForwardedNorAnswered: bob is on do not disturb and
// carol covers. eve, an account of another domain the server routes, sends
// bob a STAT page: it is stored at bob's (and rings there as any STAT
// does), but bob's device does not forward it to carol (it would reach her
// as bob's urgent message, laundering a stranger's page through a
// colleague) and sends eve no automatic reply (which says where bob is and
// who covers). alice, of bob's own domain, is forwarded and answered as
// before.
func TestDNDStrangerNeitherForwardedNorAnswered(t *testing.T) {
	const stranger = "stranger.rounds.test"
	srv := testserver.StartT(t, testserver.Options{StrangerDomain: stranger}, "alice", "bob", "carol")
	if err := srv.CreateAccountAt("eve", stranger, testserver.Password); err != nil {
		t.Fatal(err)
	}
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre until 14:00", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	eveJID := "eve@" + stranger
	eve, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: eveJID, Resource: "raw",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer eve.Close()
	id := xmpp.NewID()
	page := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", bob.jid, "id", id).Append(
		xmpp.NewElement(xmpp.NSClient, "body").SetText("STRANGER-PAGE give 10 units now"),
		xmpp.NewUrgency(xmpp.UrgencySTAT, true),
		xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id))
	if err := eve.Send(page); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "eve's page at bob", 30*time.Second, func() bool { return len(rowsFrom(bob, eveJID)) == 1 })
	if _, err := alice.c.SendClinical(bob.jid, "ALICE-PAGE bed 3", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	// bob handles his messages in order, so once alice's forward is at
	// carol's, eve's page has had its turn.
	waitFor(t, "alice's page forwarded to carol", 30*time.Second, func() bool {
		for _, r := range rowsFrom(carol, bob.jid) {
			if r.Forward != nil && strings.Contains(r.Body, "ALICE-PAGE") {
				return true
			}
		}
		return false
	})
	waitFor(t, "alice answered", 30*time.Second, func() bool { return len(automatic(rowsFrom(alice, bob.jid))) >= 1 })
	for _, r := range rowsFrom(carol, bob.jid) {
		if strings.Contains(r.Body, "STRANGER-PAGE") {
			t.Fatalf("the stranger's page was forwarded to the cover: %+v", r)
		}
	}
	ms, err := bob.c.Messages(eveJID, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Outgoing {
			t.Fatalf("bob's device answered the stranger: %q", m.Body)
		}
	}
}

// TestDNDForwardsPagesThatReuseAnID: a colleague's client (a gateway whose
// counter restarted) sends bob, on do not disturb with carol covering, two
// different STAT pages with the same id and origin-id. Both are stored, so
// both must reach carol: the forward is made once per message (the id our
// server gave it), not once per id the sender chose.
func TestDNDForwardsPagesThatReuseAnID(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	gw := dialRaw(t, srv, "alice")
	for _, text := range []string{"REUSE-ONE bed 1 arrest", "REUSE-TWO bed 9 arrest"} {
		page := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", bob.jid, "id", "gw-1").Append(
			xmpp.NewElement(xmpp.NSClient, "body").SetText(text),
			xmpp.NewUrgency(xmpp.UrgencySTAT, true),
			xmpp.NewElement(xmpp.NSSID, "origin-id", "id", "gw-1"))
		if err := gw.Send(page); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "both pages at bob", 30*time.Second, func() bool { return len(rowsFrom(bob, srv.JID("alice"))) == 2 })
	waitFor(t, "both pages forwarded to carol", 30*time.Second, func() bool {
		n := 0
		for _, r := range rowsFrom(carol, bob.jid) {
			if r.Forward != nil && strings.Contains(r.Body, "REUSE-") {
				n++
			}
		}
		return n == 2
	})
}

// TestDNDCoversWhileLocked: bob is on do not disturb with carol covering,
// and his device is locked (listening). alice, a colleague, sends him a STAT
// page: carol gets the forward and alice the automatic reply and the
// forwarded notice while bob stays locked. After the unlock the merge
// forwards nothing again: one forward in bob's store, one reply and one
// notice at alice, and one audit entry, written at the merge. The same
// when bob's app ends while locked and a new one unlocks the profile
// (what was sent while locked is sealed on disk, not only in memory).
func TestDNDCoversWhileLocked(t *testing.T) {
	t.Run("unlock", func(t *testing.T) { dndCoversWhileLocked(t, false) })
	t.Run("restart", func(t *testing.T) { dndCoversWhileLocked(t, true) })
}

func dndCoversWhileLocked(t *testing.T, restart bool) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	bob.c.Lock()
	if !bob.c.Listening() {
		t.Fatal("not listening while locked")
	}
	if _, err := alice.c.SendClinical(bob.jid, "Bed 4 K+ 7.1 while bob is locked", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	forwards := func() int { return forwardsIn(rowsFrom(carol, bob.jid), "") }
	waitFor(t, "the forward at carol while bob is locked", 30*time.Second, func() bool { return forwards() == 1 })
	notice := func() int { return automaticSaying(rowsFrom(alice, bob.jid), "forwarded to carol") }
	waitFor(t, "the reply and the notice at alice while bob is locked", 30*time.Second, func() bool {
		return len(automatic(rowsFrom(alice, bob.jid))) == 2 && notice() == 1
	})
	if !bob.c.Listening() {
		t.Fatal("bob is no longer locked")
	}
	bc := bob.c
	if restart {
		bob.c.SignOut()
		c, err := Unlock(context.Background(), bob.cfg, testPIN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.SignOut)
		bc = c
	} else if err := bob.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	audited := func() int {
		entries, err := bc.AuditEntries()
		if err != nil {
			return -1
		}
		n := 0
		for _, e := range entries {
			if e.Kind == AuditDNDForward {
				n++
				// "while locked": the merge found the forward already
				// sent; a forward made again at the unlock says nothing.
				if strings.Contains(e.Detail, "K+") || !strings.Contains(e.Detail, carol.jid) || !strings.Contains(e.Detail, "while locked") {
					t.Errorf("audit detail: %q", e.Detail)
				}
			}
		}
		return n
	}
	waitFor(t, "the audit entry after the unlock", 30*time.Second, func() bool { return audited() >= 1 })
	time.Sleep(2 * time.Second) // anything the unlock would send twice has gone by now
	own, err := bc.Messages(carol.jid, 50)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, r := range own {
		if r.Outgoing {
			sent++
		}
	}
	if sent != 1 || forwards() != 1 {
		t.Fatalf("forwards: %d in bob's store, %d at carol; want 1", sent, forwards())
	}
	if n := len(automatic(rowsFrom(alice, bob.jid))); n != 2 || notice() != 1 {
		t.Fatalf("alice has %d automatic messages (%d notices); want the reply and one notice", n, notice())
	}
	if n := audited(); n != 1 {
		t.Fatalf("%d audit entries for the forward; want 1", n)
	}
}

// TestDNDLockedForwardAuditedAfterPeriod: a STAT page forwarded to the
// cover while locked is audited at the unlock even when do-not-disturb
// ended meanwhile (the unlocked path no longer decides about the page, so
// it cannot be the one to find the forward already sent).
func TestDNDLockedForwardAuditedAfterPeriod(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	until := time.Now().Add(12 * time.Second)
	if err := bob.c.SetDND(DNDSettings{Until: until, Reply: "In theatre", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	bob.c.Lock()
	if _, err := alice.c.SendClinical(bob.jid, "Bed 9 lactate 6 while bob is locked", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forward at carol while bob is locked", 30*time.Second, func() bool {
		for _, r := range rowsFrom(carol, bob.jid) {
			if r.Forward != nil {
				return true
			}
		}
		return false
	})
	if d := time.Until(until); d > 0 {
		time.Sleep(d + time.Second) // the period ends while locked
	}
	if err := bob.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	audited := func() (n int) {
		entries, err := bob.c.AuditEntries()
		if err != nil {
			return -1
		}
		for _, e := range entries {
			if e.Kind == AuditDNDForward {
				n++
				if strings.Contains(e.Detail, "lactate") || !strings.Contains(e.Detail, carol.jid) || !strings.Contains(e.Detail, "while locked") {
					t.Errorf("audit detail: %q", e.Detail)
				}
			}
		}
		return n
	}
	waitFor(t, "the audit entry for the forward made while locked", 20*time.Second, func() bool { return audited() >= 1 })
	time.Sleep(time.Second)
	if n := audited(); n != 1 {
		t.Fatalf("%d audit entries for the forward; want 1", n)
	}
}
