package sync

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Tests of the clinical layer on the wire (issue #5) against a real Prosody:
// urgency, responses, escalation, recall, correction, org nodes and wipe.

// eventsOf returns the events of type T a device has seen so far.
func eventsOf[T Event](d *device) []T {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []T
	for _, e := range d.events {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// rawClient signs user in with a bare xmpp.Client (no Session): a window
// onto the wire and a way to send stanzas Rounds itself never would.
func rawClient(t *testing.T, srv *testserver.Server, user string) *xmpp.Client {
	t.Helper()
	c, err := xmpp.NewClient(xmpp.Config{
		URL: srv.WSURL(), JID: srv.JID(user), Resource: "raw" + xmpp.NewID()[:6],
		Credentials: xmpp.Credentials{Password: testserver.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// onWire finds, in user's own archive, the stanza with this origin-id as
// the server stored it: exactly what went over the wire.
func onWire(t *testing.T, c *xmpp.Client, originID string) *xmpp.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	after := ""
	for {
		page, err := c.QueryArchive(ctx, xmpp.ArchiveQuery{After: after, Max: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Results {
			if r.Message.OriginID == originID {
				return r.Message
			}
		}
		if page.Complete || page.Last == "" {
			t.Fatalf("origin-id %s not in the archive", originID)
		}
		after = page.Last
	}
}

func byOrigin(t *testing.T, d *device, conv, originID string) securestore.Message {
	t.Helper()
	var m securestore.Message
	d.waitFor("message "+originID, 30*time.Second, func() bool {
		var err error
		m, err = d.store.MessageByOriginID(xmpp.BareJID(conv), originID)
		return err == nil
	})
	return m
}

// seenAdded waits until d has reported the message with this origin-id as
// added: every event emitted before it has then reached d.events too.
func seenAdded(d *device, originID string) {
	d.t.Helper()
	d.waitFor("MessagesAdded "+originID, 30*time.Second, func() bool {
		for _, e := range eventsOf[MessagesAdded](d) {
			for _, m := range e.Messages {
				if m.OriginID == originID {
					return true
				}
			}
		}
		return false
	})
}

func stored(t *testing.T, d *device, id securestore.MessageID) securestore.Message {
	t.Helper()
	m, err := d.store.Message(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestClinicalUrgentRoundTrip: STAT, urgent and routine-with-ack messages,
// an order addressed to a role. On the wire (read back from the server's
// archive): <urgency/>, the SHIM Urgency header, the "[STAT] " fallback
// prefix with its XEP-0428 range. In the recipient's store: the level, the
// ack flag, the role, and the body without the prefix.
func TestClinicalUrgentRoundTrip(t *testing.T) { testserver.EachServer(t, testClinicalUrgentRoundTrip) }

func testClinicalUrgentRoundTrip(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	wire := rawClient(t, srv, "bob")

	stat, err := alice.session.Send(bob.jid, "Bed 4 arrest", SendOptions{Urgency: securestore.UrgencyCritical, Order: true, Role: "Cardiology on call"})
	if err != nil {
		t.Fatal(err)
	}
	urgent, err := alice.session.Send(bob.jid, "K+ 6.8", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	routine, err := alice.session.Send(bob.jid, "Please sign the chart", SendOptions{AckRequired: true})
	if err != nil {
		t.Fatal(err)
	}

	got := byOrigin(t, bob, alice.jid, stat.OriginID)
	if got.Body != "Bed 4 arrest" || got.Urgency != securestore.UrgencyCritical || got.Extra[ExtraAck] != "required" ||
		got.Extra[ExtraOrder] != "1" || got.Extra[ExtraRole] != "Cardiology on call" {
		t.Fatalf("bob stored the STAT order as %+v", got)
	}
	got = byOrigin(t, bob, alice.jid, urgent.OriginID)
	if got.Body != "K+ 6.8" || got.Urgency != securestore.UrgencyHigh || got.Extra[ExtraAck] != "required" {
		t.Fatalf("bob stored the urgent message as %+v", got)
	}
	got = byOrigin(t, bob, alice.jid, routine.OriginID)
	if got.Body != "Please sign the chart" || got.Urgency != securestore.UrgencyNormal || got.Extra[ExtraAck] != "required" {
		t.Fatalf("bob stored the routine ack-required message as %+v", got)
	}

	w := onWire(t, wire, stat.OriginID)
	if w.Body != "[STAT] [ORDER] Bed 4 arrest\n"+xmpp.AckInstruction("ack") {
		t.Errorf("wire body %q", w.Body)
	}
	if w.Urgency == nil || w.Urgency.Level != xmpp.UrgencySTAT || !w.Urgency.AckRequired {
		t.Errorf("wire urgency %+v", w.Urgency)
	}
	if w.Headers[xmpp.HeaderUrgency] != "high" {
		t.Errorf("wire SHIM headers %v", w.Headers)
	}
	if !w.Order || w.Role != "Cardiology on call" {
		t.Errorf("wire order %v role %q", w.Order, w.Role)
	}
	want := map[string]xmpp.FallbackRange{xmpp.NSUrgency: {Start: 0, End: 7}, xmpp.NSOrder: {Start: 7, End: 15}}
	for _, f := range w.Fallbacks {
		if r, ok := want[f.For]; ok && len(f.Ranges) == 1 && f.Ranges[0] == r {
			delete(want, f.For)
		}
	}
	if len(want) > 0 {
		t.Errorf("wire fallbacks %+v lack %v", w.Fallbacks, want)
	}
	w = onWire(t, wire, routine.OriginID)
	if w.Body != "Please sign the chart\n"+xmpp.AckInstruction("ack") || w.Headers != nil || w.Urgency == nil || w.Urgency.Level != xmpp.UrgencyRoutine || !w.Urgency.AckRequired {
		t.Errorf("routine ack-required on the wire: body %q headers %v urgency %+v", w.Body, w.Headers, w.Urgency)
	}

	// Another client's urgent message (SHIM header only) is raised too,
	// without an ack Rounds could not get.
	other := rawClient(t, srv, "alice")
	msg := xmpp.NewChat(bob.jid, "Call me re bed 2")
	msg.Append(xmpp.NewHeaders(xmpp.HeaderUrgency, "high"))
	if err := other.Send(msg); err != nil {
		t.Fatal(err)
	}
	got = byOrigin(t, bob, alice.jid, msg.ID())
	if got.Urgency != securestore.UrgencyHigh || got.Extra[ExtraAck] != "" || got.Body != "Call me re bed 2" {
		t.Errorf("SHIM-only urgent message stored as %+v", got)
	}
}

// TestClinicalResponses: bob has two devices. An ack from his phone moves
// alice's urgent message to acknowledged with a time and reaches his desktop
// as his own response (carbon); a decline is recorded and shown but does not
// acknowledge.
func TestClinicalResponses(t *testing.T) { testserver.EachServer(t, testClinicalResponses) }

func testClinicalResponses(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	phone := startDevice(t, srv, "bob", deviceOptions{resource: "phone"})
	desk := startDevice(t, srv, "bob", deviceOptions{resource: "desk"})
	ctx := context.Background()

	sent, err := alice.session.Send(phone.jid, "Troponin rising, bed 7", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	onPhone := byOrigin(t, phone, alice.jid, sent.OriginID)
	onDesk := byOrigin(t, desk, alice.jid, sent.OriginID)
	resp, err := phone.session.Respond(ctx, alice.jid, onPhone.ID, ResponseAck, "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != "✓ Acknowledged" || resp.Extra[ExtraResponse] != "ack" || resp.Extra[ExtraResponseTo] != sent.OriginID {
		t.Fatalf("stored response %+v", resp)
	}
	alice.waitFor("acknowledged", 30*time.Second, func() bool {
		return alice.receiptState(sent.ID) == securestore.ReceiptAcknowledged
	})
	if at := stored(t, alice, sent.ID).Receipt.At[securestore.ReceiptAcknowledged]; at.IsZero() {
		t.Error("acknowledged without a time")
	}
	alice.waitFor("ResponseReceived", 10*time.Second, func() bool { return len(eventsOf[ResponseReceived](alice)) == 1 })
	r := eventsOf[ResponseReceived](alice)[0]
	if r.To != sent.ID || r.Kind != ResponseAck || r.Own || r.From != phone.jid || r.Message.Body != "✓ Acknowledged" {
		t.Errorf("alice's ResponseReceived %+v", r)
	}
	desk.waitFor("own ResponseReceived", 30*time.Second, func() bool { return len(eventsOf[ResponseReceived](desk)) == 1 })
	r = eventsOf[ResponseReceived](desk)[0]
	if r.To != onDesk.ID || r.Kind != ResponseAck || !r.Own {
		t.Errorf("desk's ResponseReceived (carbon of the phone's ack) %+v", r)
	}
	if len(eventsOf[ResponseReceived](phone)) != 0 {
		t.Error("the responding device reported its own Respond as received")
	}

	// Decline with a reason: recorded, not acknowledged.
	sent2, err := alice.session.Send(phone.jid, "Can you take bed 9?", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	onPhone = byOrigin(t, phone, alice.jid, sent2.OriginID)
	if _, err := phone.session.Respond(ctx, alice.jid, onPhone.ID, ResponseDecline, "in theatre"); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("decline", 30*time.Second, func() bool { return len(eventsOf[ResponseReceived](alice)) == 2 })
	r = eventsOf[ResponseReceived](alice)[1]
	if r.Kind != ResponseDecline || r.To != sent2.ID || r.Message.Body != "✗ Declined: in theatre" {
		t.Errorf("decline %+v", r)
	}
	if st := alice.receiptState(sent2.ID); st == securestore.ReceiptAcknowledged {
		t.Error("a decline acknowledged the message")
	}
	if _, err := phone.session.Respond(ctx, alice.jid, onPhone.ID, ResponseText, " "); err == nil {
		t.Error("empty text response accepted")
	}
	if _, err := phone.session.Respond(ctx, alice.jid, onPhone.ID, "maybe", ""); err == nil {
		t.Error("unknown response kind accepted")
	}
}

// TestClinicalRoomAckPerMember: in a care-team room an ack is per member.
func TestClinicalRoomAckPerMember(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	ctx := context.Background()
	room := "resus@conference." + srv.Domain
	devs := map[string]*device{}
	for _, u := range []string{"alice", "bob", "carol"} {
		d := startDevice(t, srv, u, deviceOptions{})
		join := func() error { return d.session.JoinRoom(ctx, room, u) }
		if u == "alice" {
			join = func() error {
				return d.session.CreateRoom(ctx, room, u, "", []string{srv.JID("bob"), srv.JID("carol")})
			}
		}
		if err := join(); err != nil {
			t.Fatal(err)
		}
		devs[u] = d
	}
	alice, bob, carol := devs["alice"], devs["bob"], devs["carol"]
	sent, err := alice.session.Send(room, "Team to resus 2", SendOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("room stanza-id", 30*time.Second, func() bool { return stored(t, alice, sent.ID).StanzaID != "" })
	onBob := byOrigin(t, bob, room, sent.OriginID)
	byOrigin(t, carol, room, sent.OriginID)
	if onBob.Urgency != securestore.UrgencyCritical || onBob.Body != "Team to resus 2" {
		t.Fatalf("bob stored %+v", onBob)
	}
	if _, err := bob.session.Respond(ctx, room, onBob.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's ack", 30*time.Second, func() bool {
		return stored(t, alice, sent.ID).Members[bob.jid].State == securestore.ReceiptAcknowledged
	})
	carol.waitFor("bob's ack seen by carol", 30*time.Second, func() bool { return len(eventsOf[ResponseReceived](carol)) == 1 })
	if r := eventsOf[ResponseReceived](carol)[0]; r.Kind != ResponseAck || r.Own {
		t.Errorf("carol's view of bob's ack: %+v", r)
	}
	m := stored(t, alice, sent.ID)
	if m.Members[carol.jid].State == securestore.ReceiptAcknowledged || m.Receipt.State == securestore.ReceiptAcknowledged {
		t.Errorf("bob's ack counted for carol or the whole room: %+v %+v", m.Receipt, m.Members)
	}
}

// TestClinicalEscalationRoundTrip: the escalation element of an escalated
// copy arrives whole.
func TestClinicalEscalationRoundTrip(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	esc := &Escalation{Of: "orig-123", Step: 2, To: bob.jid, Role: "Charge nurse", Reason: "not acknowledged in 5 min"}
	sent, err := alice.session.Send(bob.jid, "Escalated: K+ 6.8", SendOptions{Urgency: securestore.UrgencyHigh, Escalation: esc})
	if err != nil {
		t.Fatal(err)
	}
	got := byOrigin(t, bob, alice.jid, sent.OriginID)
	want := map[string]string{ExtraEscalationOf: "orig-123", ExtraEscalationStep: "2", ExtraEscalationTo: bob.jid,
		ExtraEscalationRole: "Charge nurse", ExtraEscalationReason: "not acknowledged in 5 min"}
	for k, v := range want {
		if got.Extra[k] != v {
			t.Errorf("Extra[%s] = %q, want %q", k, got.Extra[k], v)
		}
	}
	if got.Body != "Escalated: K+ 6.8" {
		t.Errorf("body %q", got.Body)
	}
}

func isTombstone(m securestore.Message) bool {
	return m.Body == "" && m.Extra[ExtraRetracted] != "" && m.Extra[ExtraHistory] == ""
}

// TestClinicalRetractAcrossDevices: alice recalls a message. Bob's two
// devices and alice's other device turn it into a tombstone live; bob's
// tablet, offline during the recall, does so from the archive (the server
// keeps no offline copies here, so only MAM can tell it), including for a
// message it never saw before it was recalled.
func TestClinicalRetractAcrossDevices(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	alice2 := startDevice(t, srv, "alice", deviceOptions{resource: "desk"})
	bob := startDevice(t, srv, "bob", deviceOptions{resource: "phone"})
	bob2 := startDevice(t, srv, "bob", deviceOptions{resource: "desk"})
	tabletPath := filepath.Join(t.TempDir(), "bob-tablet.db")
	tablet := startDevice(t, srv, "bob", deviceOptions{resource: "tablet", storePath: tabletPath})

	m1, err := alice.session.Send(bob.jid, "Give 10 mg morphine", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{bob, bob2, tablet} {
		byOrigin(t, d, alice.jid, m1.OriginID)
	}
	byOrigin(t, alice2, bob.jid, m1.OriginID)
	alice.allAtLeast([]securestore.MessageID{m1.ID}, securestore.ReceiptSent, 30*time.Second)
	tablet.stop()

	m2, err := alice.session.Send(bob.jid, "Also 1 g paracetamol", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byOrigin(t, bob, alice.jid, m2.OriginID)
	alice.allAtLeast([]securestore.MessageID{m2.ID}, securestore.ReceiptSent, 30*time.Second)
	for _, id := range []securestore.MessageID{m1.ID, m2.ID} {
		if err := alice.session.Retract(bob.jid, id); err != nil {
			t.Fatal(err)
		}
		if m := stored(t, alice, id); !isTombstone(m) {
			t.Fatalf("sender's copy after Retract: %+v", m)
		}
	}
	for _, d := range []*device{bob, bob2} {
		for _, oid := range []string{m1.OriginID, m2.OriginID} {
			d.waitFor("tombstone", 30*time.Second, func() bool {
				m, err := d.store.MessageByOriginID(alice.jid, oid)
				return err == nil && isTombstone(m)
			})
		}
		d.waitFor("2 MessageRetracted events", 10*time.Second, func() bool { return len(eventsOf[MessageRetracted](d)) >= 2 })
		if n := len(eventsOf[MessageRetracted](d)); n != 2 {
			t.Errorf("%d MessageRetracted events, want 2", n)
		}
	}
	alice2.waitFor("sender's other device tombstone", 30*time.Second, func() bool {
		m, err := alice2.store.MessageByOriginID(bob.jid, m1.OriginID)
		return err == nil && isTombstone(m)
	})
	alice.waitFor("retractions acknowledged by the server", 30*time.Second, func() bool {
		out, err := alice.store.Outbox()
		return err == nil && len(out) == 0
	})
	if kind, _ := securestore.PendingEdit(stored(t, alice, m1.ID)); kind != "" {
		t.Errorf("retraction still pending after the server's ack")
	}
	// The retraction is not a message of its own anywhere.
	for _, d := range []*device{alice, alice2, bob, bob2} {
		for _, m := range d.conversation(map[bool]string{true: bob.jid, false: alice.jid}[d.jid == alice.jid]) {
			if strings.Contains(m.Body, "retract") {
				t.Errorf("%s stored the retraction's fallback as a message", d.jid)
			}
		}
	}

	tablet = startDevice(t, srv, "bob", deviceOptions{resource: "tablet", storePath: tabletPath})
	for _, oid := range []string{m1.OriginID, m2.OriginID} {
		tablet.waitFor("tombstone from the archive", 30*time.Second, func() bool {
			m, err := tablet.store.MessageByOriginID(alice.jid, oid)
			return err == nil && isTombstone(m)
		})
	}
	if n := len(tablet.conversation(alice.jid)); n != 2 {
		t.Errorf("tablet holds %d messages, want the 2 tombstones", n)
	}
}

// TestClinicalRetractSurvivesRestart: a recall made while offline is in the
// Outbox and goes out after the next sign-in, from a fresh process.
func TestClinicalRetractSurvivesRestart(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	path := filepath.Join(t.TempDir(), "alice.db")
	alice := startDevice(t, srv, "alice", deviceOptions{storePath: path})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	m, err := alice.session.Send(bob.jid, "Wrong patient", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byOrigin(t, bob, alice.jid, m.OriginID)
	alice.allAtLeast([]securestore.MessageID{m.ID}, securestore.ReceiptSent, 30*time.Second)
	alice.stop()

	// Offline: a Session that never runs records the recall.
	st := openStore(t, path)
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: srv.WSURL(), JID: alice.jid, Credentials: xmpp.Credentials{Password: testserver.Password}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Retract(bob.jid, m.ID); err != nil {
		t.Fatal(err)
	}
	if out, _ := st.Outbox(); len(out) != 1 || out[0].ID != m.ID {
		t.Fatalf("outbox after offline recall: %d entries", len(out))
	}
	_ = st.Close()

	alice = startDevice(t, srv, "alice", deviceOptions{storePath: path})
	bob.waitFor("tombstone after sender's restart", 30*time.Second, func() bool {
		got, err := bob.store.MessageByOriginID(alice.jid, m.OriginID)
		return err == nil && isTombstone(got)
	})
	alice.waitFor("outbox drained", 30*time.Second, func() bool {
		out, err := alice.store.Outbox()
		return err == nil && len(out) == 0
	})
}

// TestClinicalEditByNonAuthorIgnored: a retraction or correction of
// someone else's message changes nothing: bob cannot recall alice's
// message in their chat, and carol cannot recall or rewrite bob's message in
// a room.
func TestClinicalEditByNonAuthorIgnored(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	ctx := context.Background()
	room := "ward5@conference." + srv.Domain
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	carol := startDevice(t, srv, "carol", deviceOptions{})
	if err := alice.session.CreateRoom(ctx, room, "alice", "", []string{bob.jid, carol.jid}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{bob, carol} {
		if err := d.session.JoinRoom(ctx, room, strings.Split(d.jid, "@")[0]); err != nil {
			t.Fatal(err)
		}
	}

	// 1:1: bob forges a recall and a correction of alice's message to him.
	m, err := alice.session.Send(bob.jid, "Discharge bed 3 today", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byOrigin(t, bob, alice.jid, m.OriginID)
	bc := bob.session.currentClient()
	forge := func(c *xmpp.Client, to, typ string, payload *xmpp.Element, body string) {
		t.Helper()
		el := xmpp.NewElement(xmpp.NSClient, "message", "type", typ, "to", to, "id", xmpp.NewID())
		el.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(body), payload)
		if err := c.Send(el); err != nil {
			t.Fatal(err)
		}
	}
	forge(bc, alice.jid, "chat", xmpp.NewRetract(m.OriginID), xmpp.RetractFallback)
	forge(bc, alice.jid, "chat", xmpp.NewReplace(m.OriginID), "Keep bed 3 in")
	marker, err := bob.session.Send(alice.jid, "after-forgery", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seenAdded(alice, marker.OriginID)
	if got := stored(t, alice, m.ID); got.Body != "Discharge bed 3 today" || got.Extra[ExtraRetracted] != "" || got.Extra[ExtraHistory] != "" {
		t.Errorf("alice's message changed by bob's forgery: %+v", got)
	}

	// Room: carol forges edits of bob's message (quoting its stanza-id).
	rm, err := bob.session.Send(room, "Bed 12 needs a porter", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	onAlice := byOrigin(t, alice, room, rm.OriginID)
	if onAlice.StanzaID == "" {
		t.Fatal("room message without stanza-id")
	}
	cc := carol.session.currentClient()
	forge(cc, room, "groupchat", xmpp.NewRetract(onAlice.StanzaID), xmpp.RetractFallback)
	forge(cc, room, "groupchat", xmpp.NewReplace(rm.OriginID), "Bed 12 is fine")
	marker, err = carol.session.Send(room, "after-room-forgery", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seenAdded(alice, marker.OriginID)
	if got := stored(t, alice, onAlice.ID); got.Body != "Bed 12 needs a porter" || got.Extra[ExtraRetracted] != "" {
		t.Errorf("bob's room message changed by carol's forgery: %+v", got)
	}
	if n := len(eventsOf[MessageRetracted](alice)) + len(eventsOf[MessageCorrected](alice)); n != 0 {
		t.Errorf("alice reported %d edits from non-authors", n)
	}

	// The author's own recall in the room does apply.
	if err := bob.session.Retract(room, rm.ID); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("bob's own recall", 30*time.Second, func() bool { return isTombstone(stored(t, alice, onAlice.ID)) })

	// Recalling someone else's message is refused locally.
	if err := alice.session.Retract(room, onAlice.ID); err == nil {
		t.Error("Retract of another's message accepted")
	}
}

// TestClinicalCorrectionKeepsHistory: two corrections reach the recipient
// and the sender's other device live, and a device that was offline from the
// archive, each with the prior texts in order and no duplicates.
func TestClinicalCorrectionKeepsHistory(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	alice2 := startDevice(t, srv, "alice", deviceOptions{resource: "desk"})
	bob := startDevice(t, srv, "bob", deviceOptions{resource: "phone"})
	tabletPath := filepath.Join(t.TempDir(), "tablet.db")
	tablet := startDevice(t, srv, "bob", deviceOptions{resource: "tablet", storePath: tabletPath})

	m, err := alice.session.Send(bob.jid, "Heparin 5000 units", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	byOrigin(t, bob, alice.jid, m.OriginID)
	byOrigin(t, tablet, alice.jid, m.OriginID)
	byOrigin(t, alice2, bob.jid, m.OriginID)
	alice.allAtLeast([]securestore.MessageID{m.ID}, securestore.ReceiptSent, 30*time.Second)
	tablet.stop()
	if err := alice.session.Correct(bob.jid, m.ID, "Heparin 500 units"); err != nil {
		t.Fatal(err)
	}
	if err := alice.session.Correct(bob.jid, m.ID, "Heparin 5000 units SC"); err != nil {
		t.Fatal(err)
	}
	want := []string{"Heparin 5000 units", "Heparin 500 units"}
	check := func(d *device, conv string) {
		t.Helper()
		var got securestore.Message
		d.waitFor("corrected", 30*time.Second, func() bool {
			var err error
			got, err = d.store.MessageByOriginID(conv, m.OriginID)
			return err == nil && got.Body == "Heparin 5000 units SC"
		})
		h := securestore.History(got)
		if len(h) != len(want) {
			t.Fatalf("%s: history %+v", d.jid, h)
		}
		for i := range want {
			if h[i].Body != want[i] || h[i].At.IsZero() {
				t.Errorf("%s: history[%d] = %+v, want %q", d.jid, i, h[i], want[i])
			}
		}
		if got.Extra[ExtraCorrected] == "" || got.Urgency != securestore.UrgencyHigh {
			t.Errorf("%s: corrected message %+v", d.jid, got)
		}
	}
	check(alice, bob.jid)
	check(bob, alice.jid)
	check(alice2, bob.jid)
	tablet = startDevice(t, srv, "bob", deviceOptions{resource: "tablet", storePath: tabletPath})
	check(tablet, alice.jid)
	if n := len(tablet.conversation(alice.jid)); n != 1 {
		t.Errorf("tablet holds %d messages; corrections must not become messages", n)
	}
}

// TestClinicalOrgNodes: the admin publishes the policy; a client fetches it
// and another already signed in gets it live; a non-admin cannot overwrite
// it; a notification forged by a user is ignored.
func TestClinicalOrgNodes(t *testing.T) { testserver.EachServer(t, testClinicalOrgNodes) }

func testClinicalOrgNodes(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := startDevice(t, srv, testserver.PubSubAdmin, deviceOptions{})
	pol := xmpp.OrgPolicy{Version: 3, RetentionDays: 30, LockMaxSeconds: 300, PINMinLength: 6,
		UrgentRepeatSeconds: 120, UrgentRepeatCount: 10, Admins: []string{admin.jid}}
	if err := admin.session.PublishNode(ctx, NodePolicy, xmpp.PolicyItemID, pol.Element()); err != nil {
		t.Fatalf("admin publish: %v", err)
	}
	// bob signs in after the publish: his sign-in subscribes, then reads the
	// node and reports it.
	bob := startDevice(t, srv, "bob", deviceOptions{})
	bob.waitFor("PolicyUpdated at sign-in", 30*time.Second, func() bool {
		ev := eventsOf[PolicyUpdated](bob)
		return len(ev) > 0 && ev[0].Policy.Version == 3 && ev[0].Policy.RetentionDays == 30
	})
	alice := startDevice(t, srv, "alice", deviceOptions{})
	items, err := alice.session.FetchNode(ctx, NodePolicy)
	if err != nil || len(items) != 1 || items[0].ID != xmpp.PolicyItemID {
		t.Fatalf("fetch: %+v, %v", items, err)
	}
	got, err := xmpp.ParseOrgPolicy(items[0].Payload)
	if err != nil || got.Version != 3 || got.RetentionDays != 30 || len(got.Admins) != 1 || got.Admins[0] != admin.jid {
		t.Fatalf("fetched policy %+v, %v", got, err)
	}

	// A change reaches the signed-in client live.
	pol.Version, pol.LockMaxSeconds = 5, 120
	if err := admin.session.PublishNode(ctx, NodePolicy, xmpp.PolicyItemID, pol.Element()); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("live PolicyUpdated", 30*time.Second, func() bool {
		for _, e := range eventsOf[PolicyUpdated](bob) {
			if e.Policy.Version == 5 {
				return true
			}
		}
		return false
	})

	// A non-admin may not publish (nor create) the node.
	evil := pol
	evil.Version, evil.Admins = 9, []string{alice.jid}
	err = alice.session.PublishNode(ctx, NodePolicy, xmpp.PolicyItemID, evil.Element())
	var se *xmpp.StanzaError
	if !errors.As(err, &se) || se.Condition != "forbidden" {
		t.Fatalf("non-admin publish: %v, want forbidden", err)
	}
	items, err = bob.session.FetchNode(ctx, NodePolicy)
	if err != nil || len(items) != 1 {
		t.Fatal(items, err)
	}
	if p, _ := xmpp.ParseOrgPolicy(items[0].Payload); p.Version != 5 {
		t.Fatalf("policy overwritten by a non-admin: version %d", p.Version)
	}

	// A notification forged by alice (not the service) is ignored.
	ev := xmpp.NewElement(xmpp.NSClient, "message", "to", bob.jid, "type", "headline", "id", xmpp.NewID()).Append(
		xmpp.NewElement(xmpp.NSPubSubEvent, "event").Append(
			xmpp.NewElement(xmpp.NSPubSubEvent, "items", "node", NodePolicy).Append(
				xmpp.NewElement(xmpp.NSPubSubEvent, "item", "id", "current").Append(evil.Element()))))
	before := len(eventsOf[PolicyUpdated](bob))
	if err := alice.session.currentClient().Send(ev); err != nil {
		t.Fatal(err)
	}
	marker, err := alice.session.Send(bob.jid, "after-forged-policy", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seenAdded(bob, marker.OriginID)
	if n := len(eventsOf[PolicyUpdated](bob)); n != before {
		t.Errorf("bob accepted a policy notification from a user (%d events, had %d)", n, before)
	}

	// The on-call schedule round-trips the same way.
	from := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	shifts := []xmpp.Shift{{Role: "Cardiology on call", JID: bob.jid, From: from, Until: from.Add(12 * time.Hour), Backup: alice.jid, Orders: true}}
	if err := admin.session.PublishNode(ctx, NodeOnCall, xmpp.PolicyItemID, xmpp.ScheduleElement(shifts)); err != nil {
		t.Fatal(err)
	}
	items, err = alice.session.FetchNode(ctx, NodeOnCall)
	if err != nil || len(items) != 1 {
		t.Fatal(items, err)
	}
	gotShifts, err := xmpp.ParseSchedule(items[0].Payload)
	if err != nil || len(gotShifts) != 1 || gotShifts[0] != shifts[0] {
		t.Fatalf("schedule %+v, %v", gotShifts, err)
	}
	// A device signing in now is told the schedule parsed. (Those signed in
	// before the node existed could not subscribe to it: they learn it at
	// their next sign-in.)
	tablet := startDevice(t, srv, "alice", deviceOptions{resource: "tablet"})
	tablet.waitFor("OnCallUpdated at sign-in", 30*time.Second, func() bool {
		ev := eventsOf[OnCallUpdated](tablet)
		return len(ev) > 0 && len(ev[0].Shifts) == 1 && ev[0].Shifts[0] == shifts[0]
	})
}

// TestClinicalWipeDirective: a wipe directive arrives as WipeRequested with
// its sender, live and (for a device that was off) from the offline store or
// archive. The engine judges nothing: a directive from a non-admin is
// reported too, with its true sender, for the app to refuse.
func TestClinicalWipeDirective(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "bob")
	ctx := context.Background()
	admin := startDevice(t, srv, testserver.PubSubAdmin, deviceOptions{})
	alice := startDevice(t, srv, "alice", deviceOptions{})
	path := filepath.Join(t.TempDir(), "bob.db")
	bob := startDevice(t, srv, "bob", deviceOptions{storePath: path})

	if err := admin.session.SendWipe(ctx, bob.jid); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("WipeRequested", 30*time.Second, func() bool { return len(eventsOf[WipeRequested](bob)) == 1 })
	w := eventsOf[WipeRequested](bob)[0]
	if w.From != admin.jid || w.ID == "" || w.Issued.IsZero() {
		t.Errorf("WipeRequested %+v", w)
	}
	ms := bob.conversation(admin.jid)
	if len(ms) != 1 || ms[0].Body != xmpp.WipeFallback || ms[0].Extra[ExtraWipe] != w.ID {
		t.Errorf("stored directive %+v", ms)
	}

	bob.stop()
	if err := alice.session.SendWipe(ctx, bob.jid); err != nil {
		t.Fatal(err)
	}
	alice.waitFor("stranger's directive sent", 30*time.Second, func() bool {
		o, err := alice.store.Outbox()
		return err == nil && len(o) == 0
	})
	bob = startDevice(t, srv, "bob", deviceOptions{storePath: path})
	bob.waitFor("directive while offline", 30*time.Second, func() bool { return len(eventsOf[WipeRequested](bob)) == 1 })
	if w := eventsOf[WipeRequested](bob)[0]; w.From != alice.jid {
		t.Errorf("directive while offline reported from %q", w.From)
	}
	if err := alice.session.SendWipe(ctx, "not a jid"); err == nil {
		t.Error("SendWipe to a bad JID accepted")
	}
}

// TestClinicalAckWhileSenderOffline: the sender's device is off when the
// ack comes; at its next sign-in the archive (no offline store here) brings
// the response, and the message is acknowledged with the response reported.
func TestClinicalAckWhileSenderOffline(t *testing.T) {
	testserver.EachServer(t, testClinicalAckWhileSenderOffline)
}

func testClinicalAckWhileSenderOffline(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	path := filepath.Join(t.TempDir(), "alice.db")
	alice := startDevice(t, srv, "alice", deviceOptions{storePath: path})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	sent, err := alice.session.Send(bob.jid, "Sepsis screen positive bed 3", SendOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	onBob := byOrigin(t, bob, alice.jid, sent.OriginID)
	alice.allAtLeast([]securestore.MessageID{sent.ID}, securestore.ReceiptDelivered, 30*time.Second)
	alice.stop()
	if _, err := bob.session.Respond(context.Background(), alice.jid, onBob.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("response sent", 30*time.Second, func() bool {
		out, err := bob.store.Outbox()
		return err == nil && len(out) == 0
	})
	alice = startDevice(t, srv, "alice", deviceOptions{storePath: path})
	alice.waitFor("acknowledged from the archive", 30*time.Second, func() bool {
		return alice.receiptState(sent.ID) == securestore.ReceiptAcknowledged
	})
	alice.waitFor("ResponseReceived", 10*time.Second, func() bool { return len(eventsOf[ResponseReceived](alice)) == 1 })
	if r := eventsOf[ResponseReceived](alice)[0]; r.To != sent.ID || r.Kind != ResponseAck || r.Own {
		t.Errorf("ResponseReceived after catch-up %+v", r)
	}
}
