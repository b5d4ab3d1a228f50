package escalation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

// TestStrangerPlanRefused: a hand-off from an account of another domain
// (eve@stranger…, routed by the same server) and a malformed plan from our
// own domain are refused: no ladder, no <held/>, no step ever fires, and
// the refusals are audited. A good plan from our domain is held.
func TestStrangerPlanRefused(t *testing.T) {
	const stranger = "stranger.rounds.test"
	srv := testserver.StartT(t, testserver.Options{StrangerDomain: stranger}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	if err := srv.CreateAccountAt("eve", stranger, testserver.Password); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	kim := start(t, srv, "kim", nodeOptions{})

	eve := start(t, srv, "eve@"+stranger, nodeOptions{})
	eve.s.SetEscalationService(srv.JID("escalation"))
	m, err := eve.s.Send(srv.JID("bob"), "fake page", sync.SendOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eve.s.Send(srv.JID("escalation"), "fake page", sync.SendOptions{Urgency: securestore.UrgencyCritical,
		Plan: &sync.EscalationPlan{ID: m.OriginID, To: srv.JID("bob"), Steps: []sync.EscalationStep{{To: srv.JID("kim")}}}}); err != nil {
		t.Fatal(err)
	}
	alice := start(t, srv, "alice", nodeOptions{})
	good := alice.page(srv.JID("bob"), "real page", nil)
	alice.waitFor("the good plan held", 10*time.Second, func() bool { return alice.held(good) })
	svc.waitFor("the stranger's plan refused", 10*time.Second, func() bool { return slices.Contains(svc.auditKinds(), "escalation-refused") })
	if eve.held(m.OriginID) {
		t.Error("the stranger's plan was confirmed")
	}
	if a := svc.svc.Active(); len(a) != 1 || a[0].Sender != srv.JID("alice") {
		t.Fatalf("ladders held: %+v, want only Alice's", a)
	}
	clock.Advance(61 * time.Second)
	kim.waitFor("the good ladder's step", 10*time.Second, func() bool { return kim.count(srv.JID("escalation"), escalatedCopy(good)) == 1 })
	if n := kim.count(srv.JID("escalation"), escalatedCopy(m.OriginID)); n != 0 {
		t.Errorf("the stranger's ladder fired: %d copies", n)
	}
}

// TestFakeServiceIgnored: mallory, an account of our own domain that the
// policy does not name, sends Bob a "ladder over" notice naming Alice's
// thread and sends Alice a <held/>: Bob's device keeps the notice in
// Mallory's own conversation (not in the thread with Alice), and Alice's
// engine reports no LadderHeld. The same from the real service is filed
// into the thread and reported.
func TestFakeServiceIgnored(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "mallory", "escalation")
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	alice := start(t, srv, "alice", nodeOptions{})
	alice.s.SetEscalationService(srv.JID("escalation"))
	tag := &sync.Escalation{Of: "orig1", Step: 1, Reason: endAcknowledged, Sender: srv.JID("alice"), Thread: srv.JID("bob")}
	for _, who := range []string{"mallory", "escalation"} {
		n := start(t, srv, who, nodeOptions{})
		if _, err := n.s.Send(srv.JID("bob"), "Acknowledged by "+who+". No action needed.", sync.SendOptions{Escalation: tag}); err != nil {
			t.Fatal(err)
		}
		if err := n.s.SendHeld(srv.JID("alice"), "orig-"+who); err != nil {
			t.Fatal(err)
		}
	}
	bob.waitFor("the real service's notice in the thread with Alice", 10*time.Second, func() bool {
		return bob.count(srv.JID("alice"), notice("orig1", endAcknowledged)) == 1
	})
	alice.waitFor("the real service's <held/>", 10*time.Second, func() bool { return alice.held("orig-escalation") })
	bob.waitFor("Mallory's notice", 10*time.Second, func() bool {
		return bob.count(srv.JID("mallory"), notice("orig1", endAcknowledged)) == 1
	})
	if n := bob.count(srv.JID("alice"), notice("orig1", "")); n != 1 {
		t.Errorf("the thread with Alice holds %d notices, want only the service's", n)
	}
	time.Sleep(300 * time.Millisecond)
	if alice.held("orig-mallory") {
		t.Error("Mallory's <held/> was reported")
	}
}

// TestRoleAtFireTimeAndDecline: the ladder's first step names a role. The
// hand-off happens while Kim holds it; the shift hands over to Lee before
// the step falls due, so the step reaches Lee (resolved when it fires).
// Lee declines: the next step (Dan) fires at once, with no clock advance.
func TestRoleAtFireTimeAndDecline(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "lee", "dan", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	now := clock.Now()
	schedule := `<schedule xmlns='urn:rounds:oncall:0'>` +
		`<shift role='Charge nurse' jid='` + srv.JID("kim") + `' from='` + now.Add(-time.Hour).UTC().Format(time.RFC3339) + `' until='` + now.Add(time.Minute).UTC().Format(time.RFC3339) + `'/>` +
		`<shift role='Charge nurse' jid='` + srv.JID("lee") + `' from='` + now.Add(time.Minute).UTC().Format(time.RFC3339) + `' until='` + now.Add(time.Hour).UTC().Format(time.RFC3339) + `'/>` +
		`</schedule>`
	publish(t, srv, policyDoc(srv, 120, `<step role='Charge nurse'/><step to='`+srv.JID("dan")+`'/>`), schedule)
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(2)
	kim := start(t, srv, "kim", nodeOptions{})
	lee := start(t, srv, "lee", nodeOptions{})
	dan := start(t, srv, "dan", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "Sats 82% bed 3", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(of) })
	clock.Advance(121 * time.Second)
	lee.waitFor("the role step", 10*time.Second, func() bool { return lee.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	if n := kim.count(srv.JID("escalation"), escalatedCopy(of)); n != 0 {
		t.Errorf("the role was resolved at hand-off: Kim got %d copies", n)
	}
	cp := lee.messages(srv.JID("escalation"))[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := lee.s.Respond(ctx, srv.JID("escalation"), cp.ID, sync.ResponseDecline, "in theatre"); err != nil {
		t.Fatal(err)
	}
	dan.waitFor("the next step at once after the decline", 10*time.Second, func() bool {
		return dan.count(srv.JID("escalation"), escalatedCopy(of)) == 1
	})
}

// TestAcks: the original's recipient acknowledges in Rounds; her engine
// addresses the response to the service the policy names as well as to the
// sender, and the ladder ends before any step. On a second ladder, a
// foreign client (slixmpp) reached by the escalated copy answers "ack" as
// text: that ends it too.
func TestAcks(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("carol")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	alice := start(t, srv, "alice", nodeOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A Rounds recipient's ack, addressed to the service too.
	first := alice.page(srv.JID("bob"), "first page", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(first) })
	var orig securestore.Message
	bob.waitFor("the page", 10*time.Second, func() bool {
		for _, m := range bob.messages(srv.JID("alice")) {
			if m.OriginID == first {
				orig = m
				return true
			}
		}
		return false
	})
	if _, err := bob.s.Respond(ctx, srv.JID("alice"), orig.ID, sync.ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	svc.waitFor("the ladder ended by Bob's ack", 10*time.Second, func() bool { return len(svc.svc.Active()) == 0 })

	// A foreign client's text ack of the escalated copy.
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{JID: srv.JID("carol"), Password: testserver.Password,
		Addr: srv.C2SAddr(), CAFile: srv.CertFile()})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	second := alice.page(srv.JID("bob"), "second page", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(second) })
	clock.Advance(61 * time.Second)
	if _, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && e.From != "" && e.Body != "" }); err != nil {
		t.Fatal(err)
	}
	if err := carol.Send(srv.JID("escalation"), "ack", "carol-ack-1"); err != nil {
		t.Fatal(err)
	}
	svc.waitFor("the ladder ended by Carol's text ack", 10*time.Second, func() bool { return len(svc.svc.Active()) == 0 })
	var how []string
	svc.waitFor("two acks audited", 10*time.Second, func() bool {
		log, _ := svc.store.AuditLog()
		how = how[:0]
		for _, e := range log {
			if e.Kind == "escalation-ack" {
				how = append(how, e.Detail)
			}
		}
		return len(how) == 2
	})
	if !strings.Contains(how[0], "by="+srv.JID("bob")+" how=quick response") || !strings.Contains(how[1], "by="+srv.JID("carol")+" how=text reply") {
		t.Errorf("audited acks: %q", how)
	}
}

// TestPlanFloodBounded: an account of our own domain hands over more
// ladders than the per-sender limit (2 here): the ones beyond it are
// refused (no <held/>, audited, never fired), so one account cannot grow
// the service's state and paging without bound; another sender's plan is
// still held.
func TestPlanFloodBounded(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true, maxPerSender: 2})
	svc.waitPolicy(0)
	alice := start(t, srv, "alice", nodeOptions{})
	var ids []string
	for i := range 3 {
		ids = append(ids, alice.page(srv.JID("bob"), fmt.Sprintf("page %d", i), nil))
	}
	alice.waitFor("the first two held", 10*time.Second, func() bool { return alice.held(ids[0]) && alice.held(ids[1]) })
	svc.waitFor("the third refused", 10*time.Second, func() bool { return slices.Contains(svc.auditKinds(), "escalation-refused") })
	if alice.held(ids[2]) {
		t.Error("the plan beyond the limit was confirmed")
	}
	bob := start(t, srv, "bob", nodeOptions{})
	other := bob.page(srv.JID("alice"), "bob's page", nil)
	bob.waitFor("another sender's plan held", 10*time.Second, func() bool { return bob.held(other) })
	if a := svc.svc.Active(); len(a) != 3 {
		t.Errorf("%d ladders held, want 3 (two of Alice's, one of Bob's)", len(a))
	}
	// Ladders that ran through every step page nobody any more: they do not
	// count, so a lab system whose pages went unacknowledged for months is
	// not refused for ever.
	clock.Advance(61 * time.Second)
	svc.waitFor("the first steps", 10*time.Second, func() bool {
		for _, l := range svc.svc.Active() {
			if l.Steps != 1 {
				return false
			}
		}
		return true
	})
	clock.Advance(61 * time.Second)
	svc.waitFor("the ladders exhausted", 10*time.Second, func() bool {
		for _, l := range svc.svc.Active() {
			if !l.Exhausted {
				return false
			}
		}
		return true
	})
	later := alice.page(srv.JID("bob"), "page 4", nil)
	alice.waitFor("a plan after the others ran out held", 10*time.Second, func() bool { return alice.held(later) })
}

// TestStopFromOutsiderIgnored: mallory, an account of our own domain that
// the ladder never reached, sends the service the sender's "stop"
// (StopHandOff, quoting the page's origin-id, which she may have seen):
// the ladder goes on and its step fires; Alice's own stop ends it.
func TestStopFromOutsiderIgnored(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "mallory", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/><step to='`+srv.JID("bob")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	kim := start(t, srv, "kim", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "real page", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(of) })
	mallory := start(t, srv, "mallory", nodeOptions{})
	if err := mallory.s.StopHandOff(srv.JID("escalation"), of, ""); err != nil {
		t.Fatal(err)
	}
	svc.waitFor("mallory's stop received", 10*time.Second, func() bool { return svc.count(srv.JID("mallory"), func(securestore.Message) bool { return true }) > 0 })
	time.Sleep(300 * time.Millisecond)
	if a := svc.svc.Active(); len(a) != 1 {
		t.Fatalf("ladders running after mallory's stop: %+v", a)
	}
	clock.Advance(61 * time.Second)
	kim.waitFor("the step despite mallory's stop", 10*time.Second, func() bool { return kim.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	if err := alice.s.StopHandOff(srv.JID("escalation"), of, ""); err != nil {
		t.Fatal(err)
	}
	svc.waitFor("Alice's stop", 10*time.Second, func() bool { return len(svc.svc.Active()) == 0 })
}

// TestPlanStepsChecked: Alice, an account of our own domain, hands over
// plans whose steps she chose. A step naming a JID of another domain, a
// room (the service may be a member of rooms Alice is not), or a role the
// on-call schedule does not define is refused: no ladder, no <held/>
// (her device runs its own ladder), audited without the page's text. A
// plan naming a person of our domain and a role the schedule defines is
// held, and so is the org policy's own ladder with its room step (devices
// send it as their plan).
func TestPlanStepsChecked(t *testing.T) {
	const stranger = "stranger.rounds.test"
	srv := testserver.StartT(t, testserver.Options{StrangerDomain: stranger}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	now := clock.Now()
	muc := "conference." + strings.SplitN(srv.JID("kim"), "@", 2)[1]
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/><step room='icu-charge@`+muc+`'/>`),
		scheduleDoc("Charge nurse", srv.JID("kim"), now.Add(-time.Hour), now.Add(time.Hour)))
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(1)
	alice := start(t, srv, "alice", nodeOptions{})
	const text = "Bed 9 K+ 7.1"
	bad := [][]sync.EscalationStep{
		{{To: srv.JID("kim")}, {To: "eve@" + stranger}}, // another domain
		{{Room: "icu-consultants@" + muc}},              // a room the policy's ladder does not name
		{{Role: "Chief of everything"}},                 // a role the schedule does not define
	}
	var refused []string
	for _, steps := range bad {
		refused = append(refused, alice.page(srv.JID("bob"), text, &sync.EscalationPlan{AfterSeconds: 60, Steps: steps}))
	}
	good := alice.page(srv.JID("bob"), text, &sync.EscalationPlan{AfterSeconds: 60,
		Steps: []sync.EscalationStep{{Role: "charge nurse"}, {To: srv.JID("kim")}}})
	alice.waitFor("the good plan held", 10*time.Second, func() bool { return alice.held(good) })
	// The policy's own ladder, as devices send it, room step included.
	policyLadder := alice.page(srv.JID("bob"), text, &sync.EscalationPlan{AfterSeconds: 60,
		Steps: []sync.EscalationStep{{To: srv.JID("kim")}, {Room: "icu-charge@" + muc}}})
	alice.waitFor("the policy's ladder held", 10*time.Second, func() bool { return alice.held(policyLadder) })
	svc.waitFor("three plans refused", 10*time.Second, func() bool {
		n := 0
		for _, k := range svc.auditKinds() {
			if k == "escalation-refused" {
				n++
			}
		}
		return n == 3
	})
	time.Sleep(300 * time.Millisecond)
	for _, of := range refused {
		if alice.held(of) {
			t.Errorf("a plan with an unacceptable step was confirmed (%s)", of)
		}
	}
	if a := svc.svc.Active(); len(a) != 2 || a[0].Origin != good || a[1].Origin != policyLadder {
		t.Fatalf("ladders held: %+v, want only the two good ones", a)
	}
	log, err := svc.store.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		if strings.Contains(e.Detail, text) || strings.Contains(e.Detail, "eve@") {
			t.Errorf("audit %s names the page's text or the step's target: %q", e.Kind, e.Detail)
		}
	}
}

// TestOriginHeldForAnotherSender: a ladder is its sender's and origin-id's,
// but an acknowledgement the recipient's client addresses to the service
// names only the origin-id (the sender chose it; anyone the page reached
// saw it). Dave hands over a ladder naming the origin-id of Alice's held
// page and Bob, her page's recipient, as its thread: were it held, Bob's
// acknowledgement of Dave's message could end Alice's ladder (and its
// closing notice Bob's alert on her page), or his ack of hers end Dave's
// and leave hers paging. The service refuses it (audited; no <held/>, so
// Dave's own device runs his ladder), and Bob's ack ends Alice's ladder.
func TestOriginHeldForAnotherSender(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "dave", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	alice := start(t, srv, "alice", nodeOptions{})
	dave := start(t, srv, "dave", nodeOptions{})
	of := alice.page(srv.JID("bob"), "Bed 3 K+ 7.0", nil)
	alice.waitFor("Alice's ladder held", 10*time.Second, func() bool { return alice.held(of) })

	dave.s.SetEscalationService(srv.JID("escalation"))
	if _, err := dave.s.Send(srv.JID("escalation"), "Bed 3 other", sync.SendOptions{Urgency: securestore.UrgencyCritical, AckRequired: true,
		Plan: &sync.EscalationPlan{ID: of, To: srv.JID("bob"), AfterSeconds: 60, Steps: []sync.EscalationStep{{To: srv.JID("kim")}}}}); err != nil {
		t.Fatal(err)
	}
	svc.waitFor("Dave's plan refused", 10*time.Second, func() bool {
		return slices.Contains(svc.auditKinds(), "escalation-refused")
	})
	time.Sleep(300 * time.Millisecond)
	if dave.held(of) {
		t.Errorf("Dave's ladder naming the origin-id of Alice's held page was confirmed")
	}
	if a := svc.svc.Active(); len(a) != 1 || !strings.EqualFold(a[0].Sender, srv.JID("alice")) {
		t.Fatalf("ladders held: %+v, want only Alice's", a)
	}
}

// TestSenderReportsAck: an acknowledgement that only the sender saw (a text
// "ACK" from a client without Rounds reaches only the sender's account)
// ends the ladder through the sender's stop, which names who acknowledged.
// The service's audit then says acknowledged by that person, as the
// sender's report, not that the sender cancelled, and the closing notice
// in the thread says "Acknowledged by".
func TestSenderReportsAck(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "Bed 5 lactate 6", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(of) })
	if err := alice.s.StopHandOff(srv.JID("escalation"), of, srv.JID("bob")+"/gajim"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the closing notice", 10*time.Second, func() bool { return bob.count(srv.JID("alice"), notice(of, "")) == 1 })
	ms := bob.messages(srv.JID("alice"))
	if c := ms[len(ms)-1]; c.Extra[sync.ExtraEscalationReason] != "acknowledged" || !strings.HasPrefix(c.Body, "Acknowledged by "+srv.JID("bob")) {
		t.Errorf("closing notice %q (reason %q): want acknowledged by bob", c.Body, c.Extra[sync.ExtraEscalationReason])
	}
	log, err := svc.store.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(log, func(e securestore.AuditEntry) bool { return e.Kind == "escalation-ack" })
	if i < 0 || !strings.Contains(log[i].Detail, "by="+srv.JID("bob")+" ") || !strings.Contains(log[i].Detail, "reason=acknowledged") ||
		!strings.Contains(log[i].Detail, "how=reported by the sender") {
		t.Fatalf("audit: %+v, want the ack by bob as the sender reports it", log)
	}
}

// TestPlanThreadChecked: the thread a plan names (its to) is where the
// service posts its notices, as itself, and whose messages may end the
// ladder. Devices hand over only pages to a person (rooms keep the
// device's ladder; `rounds send --escalate` refuses a room), so a plan
// whose thread is not a person of the service's domain (a room, another
// domain, the service itself) is refused, audited, with no <held/>.
func TestPlanThreadChecked(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	alice := start(t, srv, "alice", nodeOptions{})
	alice.s.SetEscalationService(srv.JID("escalation"))
	domain := strings.SplitN(srv.JID("kim"), "@", 2)[1]
	bad := []string{"icu-charge@conference." + domain, "carol@elsewhere.example", srv.JID("escalation")}
	for i, to := range bad {
		of := fmt.Sprintf("thread-%d", i)
		if _, err := alice.s.Send(srv.JID("escalation"), "Bed 2 page", sync.SendOptions{Urgency: securestore.UrgencyCritical, AckRequired: true,
			Plan: &sync.EscalationPlan{ID: of, To: to, AfterSeconds: 60}}); err != nil {
			t.Fatal(err)
		}
	}
	good := alice.page(srv.JID("bob"), "Bed 2 page", nil)
	alice.waitFor("the good plan held", 10*time.Second, func() bool { return alice.held(good) })
	svc.waitFor("three plans refused", 10*time.Second, func() bool {
		n := 0
		for _, k := range svc.auditKinds() {
			if k == "escalation-refused" {
				n++
			}
		}
		return n == 3
	})
	for i := range bad {
		if of := fmt.Sprintf("thread-%d", i); alice.held(of) {
			t.Errorf("a plan whose thread is %s was held", bad[i])
		}
	}
}
