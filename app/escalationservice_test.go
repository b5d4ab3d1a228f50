package app

import (
	"context"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/escalation"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

// serviceClock lets the escalation service run on a test's fake clock.
type serviceClock struct{ c *fakeClock }

func (s serviceClock) Now() time.Time { return s.c.Now() }
func (s serviceClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	s.c.AfterFunc(d, func() { ch <- s.c.Now() })
	return ch
}

// startService runs the escalation service as srv's "escalation" account on
// clk, until the test ends.
func startService(t *testing.T, srv *testserver.Server, clk *fakeClock) *escalation.Service {
	t.Helper()
	svc, _ := startStoppableService(t, srv, clk)
	return svc
}

// startStoppableService is startService with a stop that kills the
// service (its session goes offline); stop may be called more than once.
func startStoppableService(t *testing.T, srv *testserver.Server, clk *fakeClock) (*escalation.Service, func()) {
	t.Helper()
	st, err := escalation.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := sync.New(sync.Config{Store: st, XMPP: sync.Server{URL: srv.WSURL(), JID: srv.JID("escalation"), Resource: "svc",
		Password: testserver.Password}.XMPP()})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := escalation.New(escalation.Config{Session: s, Store: st, Clock: serviceClock{clk}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = s.Run(ctx); done <- struct{}{} }()
	go func() { _ = svc.Run(ctx); done <- struct{}{} }()
	var once gosync.Once
	stop := func() { once.Do(func() { cancel(); <-done; <-done; st.Close() }) }
	t.Cleanup(stop)
	return svc, stop
}

func escalationPolicy(srv *testserver.Server, steps string) string {
	return policyXML(1, `<escalation after-seconds='60' service='`+srv.JID("escalation")+`'>`+steps+`</escalation>`)
}

// TestHandOffToService: Alice's device hands the ladder of her STAT page to
// the service the policy names and, confirmed, shows the ladder as held by
// the service and takes no step itself: at the deadline only the service
// pages Kim (from the service, naming Alice), and it posts
// the step into Alice and Bob's thread on Bob's device; Kim's ack in Rounds
// ends the ladder: Bob's alert for the page stops, and Alice's device shows
// the ladder ended.
func TestHandOffToService(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clk := clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step to='`+srv.JID("kim")+`'/>`))
	startService(t, srv, clk)
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	kim := clinicalSignIn(t, srv, "kim", "phone", clk)
	for _, d := range []*device{alice, bob, kim} {
		d.waitPolicy(1)
	}

	sent, err := alice.c.SendClinical(bob.jid, "MARKER-H Bed 4 arrest", ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ladder held by the service", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && r.Escalation.HeldByService
	})
	page := bob.waitIncoming(alice.jid, "MARKER-H")
	waitFor(t, "Bob's alert", 20*time.Second, func() bool { _, ok := alertOn(bob, alice.jid); return ok })
	clk.Advance(61 * time.Second)
	cp := kim.waitIncoming(srv.JID("escalation"), "MARKER-H")
	if !strings.Contains(cp.Body, alice.jid) {
		t.Errorf("the escalated copy %q does not name the sender", cp.Body)
	}
	time.Sleep(500 * time.Millisecond)
	if ms, _ := kim.c.Messages(alice.jid, 50); len(ms) != 0 {
		t.Errorf("Alice's device escalated too: Kim has %d messages from her", len(ms))
	}
	waitFor(t, "the step's notice in Bob's thread with Alice", 20*time.Second, func() bool {
		ms, _ := bob.c.Messages(alice.jid, 50)
		for _, m := range ms {
			if m.ID != page.ID && strings.Contains(m.Body, "escalated to") {
				return true
			}
		}
		return false
	})
	if err := kim.c.Respond(srv.JID("escalation"), cp.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Bob's alert ended by the service's closing notice", 20*time.Second, func() bool {
		_, ok := alertOn(bob, alice.jid)
		return !ok
	})
	waitFor(t, "Alice's held ladder ended by the service's closing notice", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && !r.Escalation.Active && r.Escalation.EndReason == endAcknowledged
	})
}

// TestHandOffUnconfirmedFallsBack: the policy names a service that is not
// running. No confirmation comes, so Alice's device keeps the ladder and,
// at the deadline, pages Kim itself.
func TestHandOffUnconfirmedFallsBack(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clk := clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step to='`+srv.JID("kim")+`'/>`))
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	kim := clinicalSignIn(t, srv, "kim", "phone", clk)
	alice.waitPolicy(1)
	sent, err := alice.c.SendClinical(srv.JID("bob"), "MARKER-F K+ 7.0", ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(HandOffWait + time.Second)
	time.Sleep(500 * time.Millisecond)
	if r, _ := alice.messageRow(srv.JID("bob"), sent.ID); r.Escalation == nil || r.Escalation.HeldByService || !r.Escalation.Active {
		t.Fatalf("ladder %+v: want the device's own, running", r.Escalation)
	}
	clk.Advance(60 * time.Second)
	kim.waitIncoming(alice.jid, "MARKER-F")
}

// TestHandOffLateConfirmationBeforeFirstStep: the service is down when
// Alice sends, so no confirmation comes within HandOffWait and her device
// keeps the ladder; the service starts (it reads the hand-off waiting for
// it) and confirms before the first step is due. The device then leaves
// the ladder to the service: at the deadline Kim is paged once, by the
// service, not by both (a double page with two texts and two alerts).
func TestHandOffLateConfirmationBeforeFirstStep(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clk := clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step to='`+srv.JID("kim")+`'/>`))
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	kim := clinicalSignIn(t, srv, "kim", "phone", clk)
	alice.waitPolicy(1)
	sent, err := alice.c.SendClinical(srv.JID("bob"), "MARKER-L K+ 7.1", ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(HandOffWait + time.Second)
	startService(t, srv, clk)
	waitFor(t, "the late confirmation taken", 20*time.Second, func() bool {
		r, _ := alice.messageRow(srv.JID("bob"), sent.ID)
		return r.Escalation != nil && r.Escalation.HeldByService
	})
	clk.Advance(60 * time.Second)
	kim.waitIncoming(srv.JID("escalation"), "MARKER-L")
	time.Sleep(500 * time.Millisecond)
	if ms, _ := kim.c.Messages(alice.jid, 50); len(ms) != 0 {
		t.Errorf("Kim was paged twice: %d messages from Alice's own ladder besides the service's copy", len(ms))
	}
}

// TestServiceConversationHidden: the escalation service is infrastructure.
// Alice's hand-off copy and Bob's ack addressed to the service are stored in
// a conversation with the service, which the inbox leaves out (it holds
// nothing for them to read). Kim, whom the service paged, keeps it: the
// escalated copy she must acknowledge is there.
func TestServiceConversationHidden(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clk := clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step to='`+srv.JID("kim")+`'/>`))
	startService(t, srv, clk)
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	kim := clinicalSignIn(t, srv, "kim", "phone", clk)
	for _, d := range []*device{alice, bob, kim} {
		d.waitPolicy(1)
	}
	svc := srv.JID("escalation")
	sent, err := alice.c.SendClinical(bob.jid, "MARKER-V Bed 9 sats 82%", ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ladder held by the service", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && r.Escalation.HeldByService
	})
	if ms, _ := alice.c.Messages(svc, 10); len(ms) == 0 {
		t.Fatal("no hand-off copy stored with the service: the test proves nothing")
	}
	if _, ok := alice.row(svc); ok {
		t.Error("Alice's inbox shows a conversation with the escalation service")
	}
	clk.Advance(61 * time.Second)
	kim.waitIncoming(svc, "MARKER-V")
	if _, ok := kim.row(svc); !ok {
		t.Error("Kim's inbox hides the escalated copy she must acknowledge")
	}
	page := bob.waitIncoming(alice.jid, "MARKER-V")
	if err := bob.c.Respond(alice.jid, page.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Bob's ack addressed to the service", 20*time.Second, func() bool {
		ms, _ := bob.c.Messages(svc, 10)
		return len(ms) > 0
	})
	if _, ok := bob.row(svc); ok {
		t.Error("Bob's inbox shows a conversation with the escalation service")
	}
}

// copiesOf counts the messages holding marker in d's conversation conv.
func copiesOf(d *device, conv, marker string) int {
	ms, _ := d.c.Messages(conv, 200)
	n := 0
	for _, m := range ms {
		if strings.Contains(m.Body, marker) {
			n++
		}
	}
	return n
}

// serviceLadder starts a two-step ladder (Kim, then Dave) handed to a
// running service: Alice's STAT page to Bob, confirmed held.
func serviceLadder(t *testing.T, marker string) (srv *testserver.Server, clk *fakeClock, alice, bob, kim, dave *device, sent Sent, stop func()) {
	srv = testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "dave", "escalation", testserver.PubSubAdmin)
	clk = clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step to='`+srv.JID("kim")+`'/><step to='`+srv.JID("dave")+`'/>`))
	_, stop = startStoppableService(t, srv, clk)
	alice = clinicalSignIn(t, srv, "alice", "phone", clk)
	bob = clinicalSignIn(t, srv, "bob", "phone", clk)
	kim = clinicalSignIn(t, srv, "kim", "phone", clk)
	dave = clinicalSignIn(t, srv, "dave", "phone", clk)
	for _, d := range []*device{alice, bob, kim, dave} {
		d.waitPolicy(1)
	}
	var err error
	sent, err = alice.c.SendClinical(bob.jid, marker+" Bed 2 BP 70/40", ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ladder held by the service", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && r.Escalation.HeldByService
	})
	return
}

// heldSteps waits until Alice's view of the ladder shows n steps, the
// service's, still held by it.
func heldSteps(t *testing.T, alice *device, conv string, id securestore.MessageID, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("Alice's device sees the service's step %d", n), 20*time.Second, func() bool {
		r, _ := alice.messageRow(conv, id)
		e := r.Escalation
		return e != nil && e.HeldByService && len(e.Steps) == n && e.Steps[n-1].ByService
	})
}

// TestHeldLadderWatchdog: the service confirms and takes step 1 (Kim),
// then dies. Alice's device expects the service's notice of step 2 by its
// deadline plus ServiceGrace; it does not come, so the device takes the
// ladder back and pages Dave itself, once; Kim is not paged again. Not
// before the grace is over: a service that is only slow is not doubled.
func TestHeldLadderWatchdog(t *testing.T) {
	srv, clk, alice, bob, kim, dave, sent, stop := serviceLadder(t, "MARKER-W")
	svc := srv.JID("escalation")
	clk.Advance(61 * time.Second)
	kim.waitIncoming(svc, "MARKER-W")
	heldSteps(t, alice, bob.jid, sent.ID, 1)
	stop()

	clk.Advance(61 * time.Second)
	time.Sleep(time.Second)
	if n := copiesOf(dave, alice.jid, "MARKER-W"); n != 0 {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		t.Logf("now %v view %+v", clk.Now(), r.Escalation)
		t.Fatalf("Alice's device paged Dave before the grace ran out (%d copies)", n)
	}
	clk.Advance(ServiceGrace)
	dave.waitIncoming(alice.jid, "MARKER-W")
	waitFor(t, "Alice's view: the ladder back on her device", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		e := r.Escalation
		return e != nil && e.Active && !e.HeldByService && len(e.Steps) == 2 && !e.Steps[1].ByService
	})
	// Past the last step: only the "nobody acknowledged" notice is left.
	clk.Advance(61 * time.Second)
	waitFor(t, "the ladder exhausted on Alice's device", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && r.Escalation.Exhausted
	})
	time.Sleep(time.Second)
	if n := copiesOf(dave, alice.jid, "MARKER-W"); n != 1 {
		t.Errorf("Dave has %d copies from Alice's device, want 1", n)
	}
	if n := copiesOf(kim, alice.jid, "MARKER-W") + copiesOf(kim, svc, "MARKER-W"); n != 1 {
		t.Errorf("Kim has %d copies, want 1 (the service's)", n)
	}
	// Dave's ack of the device's copy ends it, and Kim's alert for the
	// service's copy stops too (the device tells everyone the ladder reached).
	cp := dave.waitIncoming(alice.jid, "MARKER-W")
	if err := dave.c.Respond(alice.jid, cp.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Alice's ladder ended by Dave's ack", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && !r.Escalation.Active && r.Escalation.EndReason == endAcknowledged
	})
	waitFor(t, "Kim's alert for the service's copy ended", 20*time.Second, func() bool {
		_, ok := alertOn(kim, svc)
		return !ok
	})
}

// TestHeldLadderServiceAliveNoDoublePage: with the service alive, its
// notices reach Alice's device before each watch runs out: the device never
// takes the ladder back. Kim and Dave each hold one copy, the service's,
// through the last step and past its grace.
func TestHeldLadderServiceAliveNoDoublePage(t *testing.T) {
	srv, clk, alice, bob, kim, dave, sent, _ := serviceLadder(t, "MARKER-A")
	svc := srv.JID("escalation")
	clk.Advance(61 * time.Second)
	kim.waitIncoming(svc, "MARKER-A")
	heldSteps(t, alice, bob.jid, sent.ID, 1)
	clk.Advance(61 * time.Second)
	dave.waitIncoming(svc, "MARKER-A")
	heldSteps(t, alice, bob.jid, sent.ID, 2)
	clk.Advance(61 * time.Second)
	waitFor(t, "the service's 'nobody acknowledged' seen on Alice's device", 20*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && r.Escalation.Exhausted
	})
	clk.Advance(ServiceGrace + time.Minute)
	time.Sleep(time.Second)
	for _, d := range []*device{kim, dave} {
		if n := copiesOf(d, alice.jid, "MARKER-A"); n != 0 {
			t.Errorf("%s has %d copies from Alice's device: the service was alive", d.jid, n)
		}
		if n := copiesOf(d, svc, "MARKER-A"); n != 1 {
			t.Errorf("%s has %d copies from the service, want 1", d.jid, n)
		}
	}
	if r, _ := alice.messageRow(bob.jid, sent.ID); r.Escalation == nil || !r.Escalation.HeldByService {
		t.Errorf("Alice's device took the ladder back from a live service: %+v", r.Escalation)
	}
}

// TestBothRunnersOneCopy: the service is down when Alice sends, so her
// device keeps the ladder and pages Kim at the deadline. Then the service
// starts, reads the hand-off waiting for it, and (its deadline long past)
// fires step 1 too. Kim keeps one copy: the device's copy and the
// service's carry the same derived origin-id, and the second is dropped.
func TestBothRunnersOneCopy(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clk := clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step to='`+srv.JID("kim")+`'/>`))
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	kim := clinicalSignIn(t, srv, "kim", "phone", clk)
	for _, d := range []*device{alice, bob, kim} {
		d.waitPolicy(1)
	}
	svc := srv.JID("escalation")
	if _, err := alice.c.SendClinical(bob.jid, "MARKER-B K+ 7.2", ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(HandOffWait + time.Second)
	clk.Advance(60 * time.Second)
	kim.waitIncoming(alice.jid, "MARKER-B")
	startService(t, srv, clk)
	// The service's notice of its step 1 to Alice comes after its copy
	// to Kim was sent.
	waitFor(t, "the service's notice of step 1 on Alice's device", 20*time.Second, func() bool {
		ms, _ := alice.c.Messages(bob.jid, 50)
		for _, m := range ms {
			if m.Notice && !m.Outgoing {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second)
	if n := copiesOf(kim, alice.jid, "MARKER-B") + copiesOf(kim, svc, "MARKER-B"); n != 1 {
		t.Errorf("Kim has %d copies of step 1, want exactly 1", n)
	}
	ms, _ := bob.c.Messages(alice.jid, 50)
	notices := 0
	for _, m := range ms {
		if m.Notice {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("Bob's thread shows %d notices of step 1, want one", notices)
	}
}

// TestDemoStatPageEscalatesToChargeNurse is the demo's STAT page (docs/DEMO.md,
// walk 3) with the apps the nurses hold: the lab system sends a STAT page to
// Nurse Kim with `rounds-cli send --escalate` (SendPage + HandOffPage), the
// service confirms and the lab system exits, so no sender is online. Kim's
// app alerts on the page; at the deadline the service resolves the charge
// nurse role and pages her; Kim's app shows the step in her thread with the
// lab system; the charge nurse's app alerts on the copy naming the lab
// system, and her acknowledgement ends the ladder: both apps' alerts stop
// and Kim's thread says who acknowledged.
func TestDemoStatPageEscalatesToChargeNurse(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "kim", "charge.nurse", "escalation", testserver.PubSubAdmin)
	clk := clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	lab, charge, svc := srv.JID("lab.bot"), srv.JID("charge.nurse"), srv.JID("escalation")
	publish(t, admin, OnCallNode, scheduleXML(Shift{Role: "Charge nurse", JID: charge, From: clk.Now().Add(-time.Hour), Until: clk.Now().Add(8 * time.Hour)}))
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step role='Charge nurse'/>`))
	startService(t, srv, clk)
	kim := clinicalSignIn(t, srv, "kim", "phone", clk)
	nurse := clinicalSignIn(t, srv, "charge.nurse", "phone", clk)
	for _, d := range []*device{kim, nurse} {
		d.waitPolicy(1)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bot, err := OpenHeadless(ctx, HeadlessConfig{Dir: t.TempDir(), Account: lab, Password: testserver.Password, URL: srv.WSURL()})
	if err != nil {
		t.Fatal(err)
	}
	if err := bot.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := bot.SendPage(kim.jid, "MARKER-D K+ 7.2 bed 4, repeat sample haemolysed", PageOptions{Urgency: UrgencyCritical, AckRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	if held, err := bot.HandOffPage(ctx, id, 30*time.Second); err != nil || held != svc {
		t.Fatalf("hand-off: %q, %v", held, err)
	}
	bot.Close() // the lab system exits: no sender online from here on

	page := kim.waitIncoming(lab, "MARKER-D")
	waitFor(t, "Kim's alert on the page", 20*time.Second, func() bool { _, ok := alertOn(kim, lab); return ok })
	clk.Advance(61 * time.Second)
	cp := nurse.waitIncoming(svc, "MARKER-D")
	if !strings.Contains(cp.Body, lab) || !strings.HasSuffix(cp.Body, "MARKER-D K+ 7.2 bed 4, repeat sample haemolysed") {
		t.Errorf("the charge nurse's copy %q does not name the lab system or lost the text", cp.Body)
	}
	waitFor(t, "the charge nurse's alert on the copy", 20*time.Second, func() bool { _, ok := alertOn(nurse, svc); return ok })
	waitFor(t, "the step's notice in Kim's thread with the lab system", 20*time.Second, func() bool {
		ms, _ := kim.c.Messages(lab, 50)
		for _, m := range ms {
			if m.Notice && m.ID != page.ID && strings.Contains(m.Body, charge) {
				return true
			}
		}
		return false
	})
	if err := nurse.c.Respond(svc, cp.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Kim's alert ended by the charge nurse's ack", 20*time.Second, func() bool { _, ok := alertOn(kim, lab); return !ok })
	waitFor(t, "the charge nurse's own alert ended", 20*time.Second, func() bool { _, ok := alertOn(nurse, svc); return !ok })
	waitFor(t, "Kim's thread says who acknowledged", 20*time.Second, func() bool {
		ms, _ := kim.c.Messages(lab, 50)
		for _, m := range ms {
			if m.Notice && strings.HasPrefix(m.Body, "Acknowledged by "+charge) {
				return true
			}
		}
		return false
	})
}

// TestStepNoticeConfirmsLostHandOff: the service's <held/> is lost (here a
// stand-in for the service, signed in as its account, never sends one), so
// after HandOffWait Alice's device runs the ladder itself. Before its first
// step the service's notice of step 1 arrives: that is as good as a late
// confirmation, so the device leaves the ladder to the service (it shows
// as held, with the service's step) and does not page Kim at its deadline.
func TestStepNoticeConfirmsLostHandOff(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clk := clinicalClock()
	admin := clinicalSignIn(t, srv, testserver.PubSubAdmin, "desk", clk)
	publish(t, admin, sync.NodePolicy, escalationPolicy(srv, `<step to='`+srv.JID("kim")+`'/>`))
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	kim := clinicalSignIn(t, srv, "kim", "phone", clk)
	standIn := clinicalSignIn(t, srv, "escalation", "svc", clk)
	alice.waitPolicy(1)
	bob := srv.JID("bob")
	sent, err := alice.c.SendClinical(bob, "MARKER-N K+ 7.4", ClinicalOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(HandOffWait + time.Second)
	if r, _ := alice.messageRow(bob, sent.ID); r.Escalation == nil || r.Escalation.HeldByService {
		t.Fatalf("ladder %+v: want the device's own (no confirmation came)", r.Escalation)
	}
	st, _, err := alice.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Message(sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := standIn.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	tag := &sync.Escalation{Of: m.OriginID, Step: 1, To: kim.jid, Reason: "not acknowledged in 1 min", Sender: alice.jid, Thread: bob}
	if _, err := s.Send(alice.jid, "Not acknowledged in 1 min: escalated to "+kim.jid, sync.SendOptions{Escalation: tag}); err != nil {
		t.Fatal(err)
	}
	heldSteps(t, alice, bob, sent.ID, 1)
	clk.Advance(60 * time.Second)
	time.Sleep(time.Second)
	if n := copiesOf(kim, alice.jid, "MARKER-N"); n != 0 {
		t.Errorf("Alice's device paged Kim too (%d copies) after the service announced the step", n)
	}
}

// TestHeldLadderWatchdogAfterSignIn: Alice's device signs out while the
// service holds her ladder, and the service dies. Signed in again well past
// step 1's deadline plus the grace, the device does not take the ladder
// back at once: the catch-up may still bring the service's notices. It
// waits a grace from sign-in, then pages Kim itself.
func TestHeldLadderWatchdogAfterSignIn(t *testing.T) {
	_, clk, alice, bob, kim, _, sent, stop := serviceLadder(t, "MARKER-R")
	alice.c.SignOut()
	stop()
	clk.Advance(2 * time.Minute)

	c2, err := Unlock(t.Context(), alice.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	again := &device{t: t, cfg: alice.cfg, c: c2, notifier: alice.notifier, sound: alice.sound, jid: alice.jid}
	again.collect()
	t.Cleanup(c2.SignOut)
	again.waitOnline()
	clk.Advance(time.Second) // just after sign-in (the fake clock runs a timer due now only when it moves)
	time.Sleep(time.Second)
	if n := copiesOf(kim, alice.jid, "MARKER-R"); n != 0 {
		t.Fatalf("Alice's device took the ladder back at sign-in, before the catch-up's grace (%d copies)", n)
	}
	if r, _ := again.messageRow(bob.jid, sent.ID); r.Escalation == nil || !r.Escalation.HeldByService {
		t.Fatalf("restored ladder %+v: want still held", r.Escalation)
	}
	clk.Advance(ServiceGrace + time.Second)
	kim.waitIncoming(alice.jid, "MARKER-R")
}

// TestOtherLadderSameOrigin: a ladder is the service's (sender, origin-id),
// and the origin-id is the sender's choice, seen by everyone the page
// reached. The service refuses a second sender's plan of a held origin-id
// (TestOriginHeldForAnotherSender), but one handed over first (the page's
// recipient racing the sender's hand-off) is held, and its notices come
// from the service, naming that origin-id and Alice as its thread. Here the
// service's account (a stand-in resource) sends what it would for Dave's
// ladder of Alice's page's origin-id: a copy to Kim, a step 2 notice and a
// closing notice ("cancelled") to Alice and Kim. None of it touches Alice's
// ladder: her device still shows it held by the service with its one step;
// Kim's alert on the service's copy of Alice's page goes on.
func TestOtherLadderSameOrigin(t *testing.T) {
	srv, clk, alice, bob, kim, dave, sent, _ := serviceLadder(t, "MARKER-O")
	svc := srv.JID("escalation")
	clk.Advance(61 * time.Second)
	alices := kim.waitIncoming(svc, "Escalated page from "+alice.jid)
	heldSteps(t, alice, bob.jid, sent.ID, 1)
	alertFor := func(id securestore.MessageID) bool {
		for _, a := range kim.c.Alerts() {
			if a.Message == id {
				return true
			}
		}
		return false
	}
	waitFor(t, "Kim's alert on the service's copy of Alice's page", 20*time.Second, func() bool { return alertFor(alices.ID) })

	st, _, err := alice.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Message(sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	standIn := clinicalSignIn(t, srv, "escalation", "standin", clk)
	_, s, err := standIn.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	of := page.OriginID
	daves := func(step int, to, reason string) *sync.Escalation {
		return &sync.Escalation{Of: of, Step: step, To: to, Reason: reason, Sender: dave.jid, Thread: alice.jid}
	}
	if _, err := s.Send(kim.jid, "Escalated page from "+dave.jid+" (not acknowledged in 1 min):\nMARKER-D", sync.SendOptions{
		Urgency: securestore.UrgencyCritical, AckRequired: true, Escalation: daves(1, kim.jid, "not acknowledged in 1 min")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(alice.jid, "Not acknowledged in 2 min: escalated to "+kim.jid, sync.SendOptions{Escalation: daves(2, kim.jid, "not acknowledged in 2 min")}); err != nil {
		t.Fatal(err)
	}
	kim.waitIncoming(svc, "MARKER-D")
	for _, to := range []string{kim.jid, alice.jid} {
		if _, err := s.Send(to, "MARKER-S The sender stopped the escalation. No action needed.", sync.SendOptions{Escalation: daves(1, "", endCancelled)}); err != nil {
			t.Fatal(err)
		}
	}
	kim.waitIncoming(svc, "MARKER-S")
	alice.waitIncoming(dave.jid, "MARKER-S")
	time.Sleep(time.Second)
	if !alertFor(alices.ID) {
		t.Errorf("Kim's alert on the copy of Alice's page ended by the closing notice of Dave's ladder")
	}
	if r, _ := alice.messageRow(bob.jid, sent.ID); r.Escalation == nil || !r.Escalation.Active || !r.Escalation.HeldByService || len(r.Escalation.Steps) != 1 {
		t.Errorf("Alice's ladder %+v: moved or ended by the notices of Dave's ladder of the same origin-id", r.Escalation)
	}
}
