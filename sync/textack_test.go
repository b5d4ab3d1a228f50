package sync

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestNormalizeReply: the whole reply must be an accepted word; negations,
// questions and longer sentences are not acknowledgements.
func TestNormalizeReply(t *testing.T) {
	rules := TextAckRules{}.compile()
	for _, yes := range []string{"ack", "ACK", " Ack. ", "ack!", "Acknowledged", "acked", "ACK\n"} {
		if !rules.accepts(yes) {
			t.Errorf("%q should acknowledge", yes)
		}
	}
	for _, no := range []string{"not ack", "can't ack", "cant ack now", "ack?", "no ack", "ok", "got it",
		"5 min", "call me", "> [STAT] K+ 6.9\nack", "acknowledged?", "a ck", "ack ack", ""} {
		if rules.accepts(no) {
			t.Errorf("%q should not acknowledge", no)
		}
	}
	custom := TextAckRules{Words: []string{" Roger  That ", "ACK"}}.compile()
	if !custom.accepts("roger that.") || !custom.accepts("ack") || custom.accepts("acknowledged") || custom.first != "roger that" {
		t.Errorf("custom words %+v", custom)
	}
	if off := (TextAckRules{Off: true}).compile(); off.accepts("ack") {
		t.Error("rules switched off still accept ack")
	}
	if none := (TextAckRules{Words: []string{" ", "..."}}).compile(); !none.off {
		t.Error("a word list with no usable word must switch text acks off, not fall back to the defaults")
	}
}

// stripRanges removes the XEP-0428 ranges a foreign client was given.
func stripRanges(body string, fbs []testpeer.Fallback, ns string) string {
	var x []xmpp.Fallback
	for _, f := range fbs {
		x = append(x, xmpp.Fallback{For: f.For, Ranges: []xmpp.FallbackRange{{Start: f.Start, End: f.End}}})
	}
	return xmpp.StripFallback(body, x, func(f string) bool { return f == ns })
}

// TestTextAckFromForeignClient: a STAT page to a user of a client that does
// not speak Rounds (slixmpp on the same Prosody). Her client shows the
// fallback line saying how to acknowledge, marked as fallback so a Rounds
// client strips it; a reply that arrived before the page reached her, a
// third party's "ack", "can't ack now" and "5 min" do not acknowledge (the
// last two are reported as text replies); "Ack." does, marked "by text
// reply" on the page and in the audit log. With the policy switch off, the
// line says so and "ack" no longer counts; with policy words, they do.
func TestTextAckFromForeignClient(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol", "dave")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	aliceJID, carolJID := srv.JID("alice"), srv.JID("carol")

	// Alice pages carol while offline: the page waits in her Outbox. Carol,
	// answering something else, says "ack"; the server has it before the
	// page. At sign-in catch-up stores carol's "ack" after the page (local
	// order) but before the page was sent: it answers nothing.
	path := filepath.Join(t.TempDir(), "alice.db")
	st := openStore(t, path)
	offline, err := New(Config{Store: st, XMPP: xmpp.Config{URL: srv.WSURL(), JID: aliceJID, Resource: "desk",
		Credentials: xmpp.Credentials{Password: testserver.Password}}})
	if err != nil {
		t.Fatal(err)
	}
	const text = "K+ 6.9 mmol/L, bed 4. Please review."
	page, err := offline.Send(carolJID, text, SendOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	if err := carol.Send(aliceJID, "ack", "early-ack"); err != nil {
		t.Fatal(err)
	}
	if mam, err := carol.MAM(ctx, aliceJID, false); err != nil || len(mam.Messages) != 1 {
		t.Fatalf("carol's early ack not archived before alice signs in: %+v %v", mam, err)
	}
	alice := startDevice(t, srv, "alice", deviceOptions{storePath: path, resource: "desk"})
	early := byOrigin(t, alice, carolJID, "early-ack")
	if early.ID < page.ID {
		t.Fatalf("the early ack (%d) was stored before the page (%d): the test does not test the Outbox case", early.ID, page.ID)
	}

	got, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "K+ 6.9") })
	if err != nil {
		t.Fatal(err)
	}
	if want := "[STAT] " + text + "\n" + `Reply "ACK" to acknowledge.`; got.Body != want {
		t.Errorf("carol's client shows %q, want %q", got.Body, want)
	}
	if typed := stripRanges(got.Body, got.Fallbacks, xmpp.NSUrgency); typed != text {
		t.Errorf("stripping the urgency fallback ranges %+v leaves %q, want what alice typed", got.Fallbacks, typed)
	}
	alice.allAtLeast([]securestore.MessageID{page.ID}, securestore.ReceiptDelivered, 30*time.Second)
	if s := alice.receiptState(page.ID); s == securestore.ReceiptAcknowledged {
		t.Fatal("carol's ack sent before the page reached the server acknowledged it")
	}

	// A third party's "ack" is in another conversation.
	dave := rawClient(t, srv, "dave")
	fromDave := xmpp.NewChat(aliceJID, "ack")
	if err := dave.Send(fromDave); err != nil {
		t.Fatal(err)
	}
	byOrigin(t, alice, srv.JID("dave"), fromDave.ID())

	textReply := func(body, id string) ResponseReceived {
		t.Helper()
		if err := carol.Send(aliceJID, body, id); err != nil {
			t.Fatal(err)
		}
		var ev ResponseReceived
		alice.waitFor("the engine's reading of "+id, 30*time.Second, func() bool {
			for _, e := range eventsOf[ResponseReceived](alice) {
				if e.Message.OriginID == id {
					ev = e
					return true
				}
			}
			return false
		})
		return ev
	}
	for _, r := range []struct{ body, id string }{{"can't ack now", "cant"}, {"5 min", "five"}, {"not ack", "not"}} {
		ev := textReply(r.body, r.id)
		if ev.Kind != ResponseText || !ev.ByText || ev.To != page.ID || ev.From != carolJID {
			t.Errorf("%q read as %+v, want a text reply to the page", r.body, ev)
		}
		if s := alice.receiptState(page.ID); s == securestore.ReceiptAcknowledged {
			t.Fatalf("%q acknowledged the page", r.body)
		}
	}
	for _, e := range eventsOf[ResponseReceived](alice) {
		if e.Message.OriginID == "early-ack" || e.Message.OriginID == fromDave.ID() {
			t.Errorf("a reply that cannot answer the page was read as one: %+v", e)
		}
	}

	ev := textReply("Ack.", "real-ack")
	if ev.Kind != ResponseAck || !ev.ByText || ev.To != page.ID {
		t.Fatalf(`"Ack." read as %+v`, ev)
	}
	acked := stored(t, alice, page.ID)
	reply := byOrigin(t, alice, carolJID, "real-ack")
	if acked.Receipt.State != securestore.ReceiptAcknowledged || acked.Receipt.At[securestore.ReceiptAcknowledged].IsZero() ||
		acked.Extra[ExtraAckBy] != AckByTextReply || acked.Extra[ExtraAckReply] != fmt.Sprint(reply.ID) {
		t.Fatalf("page after carol's ack: receipt %+v extra %v", acked.Receipt, acked.Extra)
	}
	if reply.Extra[ExtraTextAckOf] != page.OriginID || reply.Body != "Ack." {
		t.Errorf("the reply is stored as %q with %v", reply.Body, reply.Extra)
	}
	entries, err := alice.store.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, e := range entries {
		if e.Kind == AuditTextAck {
			audited++
			if !strings.Contains(e.Detail, page.OriginID) || !strings.Contains(e.Detail, carolJID) || strings.Contains(e.Detail, "Ack") {
				t.Errorf("audit detail %q", e.Detail)
			}
		}
	}
	if audited != 1 {
		t.Errorf("%d %s audit entries, want 1", audited, AuditTextAck)
	}
	receiptEvent := false
	for _, e := range eventsOf[ReceiptChanged](alice) {
		receiptEvent = receiptEvent || (e.Message == page.ID && e.State == securestore.ReceiptAcknowledged)
	}
	if !receiptEvent {
		t.Error("no ReceiptChanged(acknowledged) for the page")
	}

	// Policy off: the line sends the reader to Rounds, and "ack" is only a
	// text reply.
	alice.session.SetTextAck(TextAckRules{Off: true})
	page2, err := alice.session.Send(carolJID, "Bed 7 SpO2 84%", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	got, err = carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "Bed 7") })
	if err != nil {
		t.Fatal(err)
	}
	if want := "[URGENT] Bed 7 SpO2 84%\n" + xmpp.AckInstructionNoText; got.Body != want {
		t.Errorf("with text acks off carol's client shows %q, want %q", got.Body, want)
	}
	alice.allAtLeast([]securestore.MessageID{page2.ID}, securestore.ReceiptDelivered, 30*time.Second)
	if ev := textReply("ack", "ack-off"); ev.Kind != ResponseText || ev.To != page2.ID {
		t.Errorf("with text acks off, ack read as %+v", ev)
	}
	if s := alice.receiptState(page2.ID); s == securestore.ReceiptAcknowledged {
		t.Fatal("with text acks off, ack acknowledged the page")
	}

	// The policy's own words.
	alice.session.SetTextAck(TextAckRules{Words: []string{"roger"}})
	page3, err := alice.session.Send(carolJID, "Bed 9 lactate 5.1", SendOptions{AckRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err = carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "Bed 9") })
	if err != nil {
		t.Fatal(err)
	}
	if want := "Bed 9 lactate 5.1\n" + `Reply "ROGER" to acknowledge.`; got.Body != want {
		t.Errorf("with policy words carol's client shows %q, want %q", got.Body, want)
	}
	alice.allAtLeast([]securestore.MessageID{page3.ID}, securestore.ReceiptDelivered, 30*time.Second)
	if ev := textReply("ack", "ack-not-a-word"); ev.Kind != ResponseText || ev.To != page3.ID {
		t.Errorf("ack, not a policy word, read as %+v", ev)
	}
	if ev := textReply("Roger", "roger"); ev.Kind != ResponseAck || ev.To != page3.ID {
		t.Errorf("roger read as %+v", ev)
	}
	if s := alice.receiptState(page3.ID); s != securestore.ReceiptAcknowledged {
		t.Errorf("page 3 is %v after roger", s)
	}
	if s := alice.receiptState(page2.ID); s == securestore.ReceiptAcknowledged {
		t.Error("roger answered the older page too")
	}
}

// TestTextAckXEP0461Reply: a Conversations-style reply (XEP-0461, the quote
// marked as fallback) answers the message it names. "Ack" quoting the older
// of two pending pages acknowledges that one, not the newer; "ack" quoting a
// routine message answers no page; a quote typed by hand (no <reply/>) is
// part of the whole reply, which then is no acknowledgement.
func TestTextAckXEP0461Reply(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	alice := startDevice(t, srv, "alice", deviceOptions{})
	carolJID := srv.JID("carol")
	send := func(body string, o SendOptions) (securestore.Message, testpeer.Event) {
		t.Helper()
		m, err := alice.session.Send(carolJID, body, o)
		if err != nil {
			t.Fatal(err)
		}
		e, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, body) })
		if err != nil {
			t.Fatal(err)
		}
		return m, e
	}
	older, olderWire := send("Bed 4 K+ 6.9", SendOptions{Urgency: securestore.UrgencyCritical})
	newer, _ := send("Bed 6 BP 70/40", SendOptions{Urgency: securestore.UrgencyHigh})
	_, routineWire := send("Family is here", SendOptions{})
	alice.allAtLeast([]securestore.MessageID{older.ID, newer.ID}, securestore.ReceiptDelivered, 30*time.Second)

	read := func(id string) (ResponseReceived, bool) {
		for _, e := range eventsOf[ResponseReceived](alice) {
			if e.Message.OriginID == id {
				return e, true
			}
		}
		return ResponseReceived{}, false
	}
	waitRead := func(id string) ResponseReceived {
		t.Helper()
		var ev ResponseReceived
		alice.waitFor("the engine's reading of "+id, 30*time.Second, func() bool {
			var ok bool
			ev, ok = read(id)
			return ok
		})
		return ev
	}
	quote := func(e testpeer.Event) string { return "> " + strings.ReplaceAll(e.Body, "\n", "\n> ") + "\n" }

	if err := carol.Reply(alice.jid, quote(routineWire), "ack", "to-routine", alice.jid, routineWire.ID); err != nil {
		t.Fatal(err)
	}
	if err := carol.Reply(alice.jid, quote(olderWire), "5 min", "five", alice.jid, olderWire.ID); err != nil {
		t.Fatal(err)
	}
	if ev := waitRead("five"); ev.Kind != ResponseText || ev.To != older.ID || ev.Text != "5 min" {
		t.Errorf("a quoted 5 min read as %+v", ev)
	}
	if ev, ok := read("to-routine"); ok {
		t.Errorf("ack quoting a routine message read as %+v", ev)
	}
	if err := carol.Reply(alice.jid, quote(olderWire), "Ack", "ack-older", alice.jid, olderWire.ID); err != nil {
		t.Fatal(err)
	}
	if ev := waitRead("ack-older"); ev.Kind != ResponseAck || ev.To != older.ID || ev.Text != "Ack" {
		t.Errorf("Ack quoting the older page read as %+v", ev)
	}
	if s := alice.receiptState(older.ID); s != securestore.ReceiptAcknowledged {
		t.Errorf("older page %v", s)
	}
	if s := alice.receiptState(newer.ID); s == securestore.ReceiptAcknowledged {
		t.Error("the newer page was acknowledged by a reply quoting the older one")
	}
	if err := carol.Send(alice.jid, "> [URGENT] Bed 6 BP 70/40\nack", "hand-quote"); err != nil {
		t.Fatal(err)
	}
	if ev := waitRead("hand-quote"); ev.Kind != ResponseText || ev.To != newer.ID {
		t.Errorf("a hand-typed quote with ack read as %+v", ev)
	}
	if s := alice.receiptState(newer.ID); s == securestore.ReceiptAcknowledged {
		t.Error("a hand-typed quote and ack acknowledged the page")
	}
}

// TestTextAckSeenOnOtherDevice: alice's desk already read carol's
// conversation (a reply before any page); her phone then pages carol, and
// the desk learns the page by carbon. Carol's "ack" acknowledges the page on
// both devices: the desk's list of pages follows pages it did not send.
func TestTextAckSeenOnOtherDevice(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	carolJID := srv.JID("carol")
	desk := startDevice(t, srv, "alice", deviceOptions{resource: "desk"})
	phone := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	if err := carol.Send(desk.jid, "morning", "hello"); err != nil {
		t.Fatal(err)
	}
	byOrigin(t, desk, carolJID, "hello")
	byOrigin(t, phone, carolJID, "hello")

	page, err := phone.session.Send(carolJID, "Bed 2 glucose 1.9", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "glucose") }); err != nil {
		t.Fatal(err)
	}
	onDesk := byOrigin(t, desk, carolJID, page.OriginID)
	phone.allAtLeast([]securestore.MessageID{page.ID}, securestore.ReceiptDelivered, 30*time.Second)
	if err := carol.Send(desk.jid, "ack", "ack"); err != nil {
		t.Fatal(err)
	}
	phone.allAtLeast([]securestore.MessageID{page.ID}, securestore.ReceiptAcknowledged, 30*time.Second)
	desk.allAtLeast([]securestore.MessageID{onDesk.ID}, securestore.ReceiptAcknowledged, 30*time.Second)
	if m := stored(t, desk, onDesk.ID); m.Extra[ExtraAckBy] != AckByTextReply {
		t.Errorf("desk's copy of the page: %v", m.Extra)
	}
}

// TestOwnTextAck: the rules the other way round (ownTextReply). Bob pages
// alice twice; alice types "ack" on her phone: once the server has it, it
// is her acknowledgement of the newer page (ResponseReceived Own and
// ByText, the reply marked), on the phone and, from the carbon, on her
// desk; bob's side counts it too. A second "Ack." answers the older page
// (the newer one is acknowledged already), a third finds nothing to
// answer; a page she acknowledged with the quick response is not taken
// again; with text acks off her "ack" acknowledges nothing.
func TestOwnTextAck(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	phone := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	desk := startDevice(t, srv, "alice", deviceOptions{resource: "desk"})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	page := func(body string) (onBob, onPhone, onDesk securestore.Message) {
		t.Helper()
		m, err := bob.session.Send(phone.jid, body, SendOptions{Urgency: securestore.UrgencyHigh})
		if err != nil {
			t.Fatal(err)
		}
		return m, byOrigin(t, phone, bob.jid, m.OriginID), byOrigin(t, desk, bob.jid, m.OriginID)
	}
	own := func(d *device) []ResponseReceived {
		var out []ResponseReceived
		for _, e := range eventsOf[ResponseReceived](d) {
			if e.Own && e.ByText {
				out = append(out, e)
			}
		}
		return out
	}
	say := func(body string) securestore.Message {
		t.Helper()
		m, err := phone.session.Send(bob.jid, body, SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		phone.allAtLeast([]securestore.MessageID{m.ID}, securestore.ReceiptSent, 30*time.Second)
		byOrigin(t, desk, bob.jid, m.OriginID)
		seenAdded(bob, m.OriginID)
		return m
	}
	olderB, olderP, olderD := page("Bed 1 lactate 6")
	newerB, newerP, newerD := page("Bed 2 glucose 1.9")

	first := say("ack")
	phone.waitFor("phone reads its own ack", 30*time.Second, func() bool { return len(own(phone)) == 1 })
	desk.waitFor("desk reads the carbon", 30*time.Second, func() bool { return len(own(desk)) == 1 })
	if e := own(phone)[0]; e.To != newerP.ID || e.Kind != ResponseAck || e.Message.ID != first.ID || e.From != phone.jid || e.Text != "ack" {
		t.Errorf("phone: %+v", e)
	}
	if e := own(desk)[0]; e.To != newerD.ID || e.Kind != ResponseAck {
		t.Errorf("desk: %+v", e)
	}
	if m := stored(t, phone, first.ID); m.Extra[ExtraTextAckOf] != newerP.OriginID {
		t.Errorf("phone's reply: %v", m.Extra)
	}
	bob.allAtLeast([]securestore.MessageID{newerB.ID}, securestore.ReceiptAcknowledged, 30*time.Second)

	say("Ack.")
	phone.waitFor("the second ack", 30*time.Second, func() bool { return len(own(phone)) == 2 })
	desk.waitFor("the second ack on the desk", 30*time.Second, func() bool { return len(own(desk)) == 2 })
	if e := own(phone)[1]; e.To != olderP.ID {
		t.Errorf("second ack answered %d, want the older page %d", e.To, olderP.ID)
	}
	if e := own(desk)[1]; e.To != olderD.ID {
		t.Errorf("desk: second ack answered %d, want %d", e.To, olderD.ID)
	}
	bob.allAtLeast([]securestore.MessageID{olderB.ID}, securestore.ReceiptAcknowledged, 30*time.Second)
	say("ack")

	_, quickP, _ := page("Bed 3 K+ 6.8")
	if _, err := phone.session.Respond(context.Background(), bob.jid, quickP.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	say("ack")

	phone.session.SetTextAck(TextAckRules{Off: true})
	page("Bed 4 BP 60/30")
	say("ack")
	// Whatever the phone read of its own replies came before this.
	last, err := bob.session.Send(phone.jid, "thanks", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seenAdded(phone, last.OriginID)
	if got := own(phone); len(got) != 2 {
		for _, e := range got {
			t.Logf("own text ack: reply %d answers %d", e.Message.ID, e.To)
		}
		t.Errorf("phone read %d own text acks, want 2", len(got))
	}
}
