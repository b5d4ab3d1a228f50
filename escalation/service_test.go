package escalation

import (
	"context"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

func escalatedCopy(of string) func(securestore.Message) bool {
	return func(m securestore.Message) bool {
		return m.Direction == securestore.Incoming && m.Extra[sync.ExtraEscalationOf] == of && m.Extra[sync.ExtraAck] == "required"
	}
}

func notice(of, reason string) func(securestore.Message) bool {
	return func(m securestore.Message) bool {
		return m.Direction == securestore.Incoming && m.Extra[sync.ExtraEscalationOf] == of && m.Extra[sync.ExtraAck] == "" &&
			(reason == "" || m.Extra[sync.ExtraEscalationReason] == reason)
	}
}

// TestLadderWithSenderGone: Alice pages Bob STAT and hands the ladder to the
// service, which confirms; her device is gone right after. When the
// deadline passes (injected clock) the service sends the escalated copy to
// the role's holder (Kim, resolved from the on-call node), naming Alice, and
// posts the notice into Alice and Bob's thread on Bob's device; Kim's
// acknowledgement ends the ladder: Bob and Kim get the closing notice, no
// second step fires, and the service's audit log records plan, step and ack
// without the page's text.
func TestLadderWithSenderGone(t *testing.T) {
	ladderScenario(t, testserver.StartT(t, testserver.Options{}, ladderAccounts...))
}

// TestLadderOnEjabberd is TestLadderWithSenderGone on ejabberd: the
// service needs nothing of the server that ejabberd lacks.
func TestLadderOnEjabberd(t *testing.T) {
	testserver.NeedEjabberd(t)
	ladderScenario(t, testserver.StartEjabberdT(t, testserver.Options{}, ladderAccounts...))
}

var ladderAccounts = []string{"alice", "bob", "kim", "lee", "escalation", testserver.PubSubAdmin}

func ladderScenario(t *testing.T, srv *testserver.Server) {
	clock := &testClock{}
	now := clock.Now()
	publish(t, srv, policyDoc(srv, 60, `<step role='Charge nurse'/><step to='`+srv.JID("lee")+`'/>`),
		scheduleDoc("Charge nurse", srv.JID("kim"), now.Add(-time.Hour), now.Add(time.Hour)))
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(1)
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	kim := start(t, srv, "kim", nodeOptions{})
	lee := start(t, srv, "lee", nodeOptions{})

	alice := start(t, srv, "alice", nodeOptions{})
	const text = "Bed 4 arrest, come now"
	of := alice.page(srv.JID("bob"), text, nil)
	alice.waitFor("the service's confirmation", 10*time.Second, func() bool { return alice.held(of) })
	alice.stop() // the sender's device is gone

	bob.waitFor("the page", 10*time.Second, func() bool {
		return bob.count(srv.JID("alice"), func(m securestore.Message) bool { return m.OriginID == of }) == 1
	})
	clock.Advance(59 * time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := kim.count(srv.JID("escalation"), escalatedCopy(of)); n != 0 {
		t.Fatalf("a step fired before its deadline (%d copies)", n)
	}
	clock.Advance(2 * time.Second)
	kim.waitFor("the escalated copy", 10*time.Second, func() bool { return kim.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	cp := kim.messages(srv.JID("escalation"))[0]
	if !strings.Contains(cp.Body, text) || !strings.Contains(cp.Body, srv.JID("alice")) || cp.Urgency != securestore.UrgencyCritical {
		t.Errorf("escalated copy %q (urgency %d): want the page's text naming its sender, STAT", cp.Body, cp.Urgency)
	}
	bob.waitFor("the step's notice in the thread with Alice", 10*time.Second, func() bool {
		return bob.count(srv.JID("alice"), notice(of, "")) == 1
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kim.s.Respond(ctx, srv.JID("escalation"), cp.ID, sync.ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the closing notice", 10*time.Second, func() bool { return bob.count(srv.JID("alice"), notice(of, endAcknowledged)) == 1 })
	kim.waitFor("the closing notice", 10*time.Second, func() bool {
		return kim.count(srv.JID("escalation"), notice(of, endAcknowledged)) == 1
	})
	clock.Advance(10 * time.Minute)
	time.Sleep(500 * time.Millisecond)
	if n := lee.count(srv.JID("escalation"), escalatedCopy(of)); n != 0 {
		t.Errorf("the ladder went on after the ack: Lee got %d copies", n)
	}
	if a := svc.svc.Active(); len(a) != 0 {
		t.Errorf("active ladders after the ack: %+v", a)
	}
	log, _ := svc.store.AuditLog()
	kinds := map[string]bool{}
	for _, e := range log {
		kinds[e.Kind] = true
		if strings.Contains(e.Detail, "arrest") {
			t.Errorf("audit %s holds the page's text: %q", e.Kind, e.Detail)
		}
	}
	for _, k := range []string{"escalation-plan", "escalation-step", "escalation-ack"} {
		if !kinds[k] {
			t.Errorf("audit has no %s entry: %v", k, svc.auditKinds())
		}
	}
}

// TestRestartFiresOnce: the service is down when step 1 falls due. Started
// again on its store, it fires step 1 at once, exactly once (Kim has one
// copy, Bob one notice), and not step 2 early. A crash between saving a
// step and marking it sent (the step saved with Sent false) re-sends it
// with the same origin-ids at the next start: still one copy.
func TestRestartFiresOnce(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "lee", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/><step to='`+srv.JID("lee")+`'/>`), "")
	path := t.TempDir() + "/escalation.db"
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true, path: path, resource: "a"})
	svc.waitPolicy(0)
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	kim := start(t, srv, "kim", nodeOptions{})
	lee := start(t, srv, "lee", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "K+ 7.1 bed 12", nil)
	alice.waitFor("the service's confirmation", 10*time.Second, func() bool { return alice.held(of) })

	svc.stop()
	clock.Advance(90 * time.Second) // step 1 falls due while the service is down
	svc = start(t, srv, "escalation", nodeOptions{clock: clock, service: true, path: path, resource: "a"})
	kim.waitFor("step 1 after the restart", 10*time.Second, func() bool { return kim.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	bob.waitFor("step 1's notice", 10*time.Second, func() bool { return bob.count(srv.JID("alice"), notice(of, "")) >= 1 })

	// A crash after saving step 1 and before marking it sent.
	svc.waitFor("step 1 marked sent", 10*time.Second, func() bool {
		a := svc.svc.ladders[ladderKey(srv.JID("alice"), of)]
		svc.svc.mu.Lock()
		defer svc.svc.mu.Unlock()
		return a != nil && len(a.Fired) == 1 && a.Fired[0].Sent
	})
	svc.svc.mu.Lock()
	l := svc.svc.ladders[ladderKey(srv.JID("alice"), of)]
	l.Fired[0].Sent = false
	svc.svc.saveLocked(l)
	svc.svc.mu.Unlock()
	svc.stop()
	svc = start(t, srv, "escalation", nodeOptions{clock: clock, service: true, path: path, resource: "a"})
	time.Sleep(time.Second)
	if n := kim.count(srv.JID("escalation"), escalatedCopy(of)); n != 1 {
		t.Errorf("Kim has %d copies of step 1, want exactly 1", n)
	}
	if n := bob.count(srv.JID("alice"), notice(of, "")); n != 1 {
		t.Errorf("Bob has %d notices of step 1, want exactly 1", n)
	}
	if n := lee.count(srv.JID("escalation"), escalatedCopy(of)); n != 0 {
		t.Errorf("step 2 fired early (%d copies)", n)
	}
	clock.Advance(61 * time.Second)
	lee.waitFor("step 2", 10*time.Second, func() bool { return lee.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
}

// TestConfirmedAgainAfterRestart: <held/> is neither stored nor resent, so
// a service that crashed between saving a hand-off and confirming it (or
// whose confirmation was lost with a connection) left the sender's device
// running the ladder too. A service that comes online confirms again every
// ladder it holds that has taken no step, so the sender's device, still
// before its first step, leaves the ladder to it.
func TestConfirmedAgainAfterRestart(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	path := t.TempDir() + "/escalation.db"
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true, path: path, resource: "a"})
	svc.waitPolicy(0)
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "K+ 7.1 bed 12", nil)
	alice.waitFor("the service's confirmation", 10*time.Second, func() bool { return alice.held(of) })
	svc.stop()
	svc = start(t, srv, "escalation", nodeOptions{clock: clock, service: true, path: path, resource: "a"})
	alice.waitFor("the confirmation again after the restart", 10*time.Second, func() bool { return alice.heldCount(of) >= 2 })
}

// TestStrangerCannotSuppressStep: receivers drop a ladder message that the
// ladder's other runner (the sender's device, or the service) already
// delivered with the same derived origin-id. Mallory, a peer of the domain
// who is neither, sends Kim a message carrying the id of step 1's copy
// first: the service's copy still reaches Kim. Eve sends one after the
// service's copy: it is not taken for a duplicate of it (the service's copy
// names Alice as the sender, not Eve), so it is stored as Eve's message.
func TestStrangerCannotSuppressStep(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "mallory", "eve", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	kim := start(t, srv, "kim", nodeOptions{})
	kim.s.SetEscalationService(srv.JID("escalation"))
	mallory := start(t, srv, "mallory", nodeOptions{})
	eve := start(t, srv, "eve", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "K+ 7.1 bed 12", nil)
	alice.waitFor("the service's confirmation", 10*time.Second, func() bool { return alice.held(of) })

	forge := func(n *node) {
		tag := &sync.Escalation{Of: of, Step: 1, To: srv.JID("kim"), Reason: "not acknowledged in 1 min"}
		if _, err := n.s.Send(srv.JID("kim"), "forged", sync.SendOptions{Urgency: securestore.UrgencyCritical, AckRequired: true,
			Escalation: tag, OriginID: sync.EscalationOriginID(srv.JID("alice"), of, "copy 1")}); err != nil {
			t.Fatal(err)
		}
	}
	forge(mallory)
	kim.waitFor("Mallory's forgery", 10*time.Second, func() bool { return kim.count(srv.JID("mallory"), escalatedCopy(of)) == 1 })
	clock.Advance(61 * time.Second)
	kim.waitFor("the service's copy of step 1", 10*time.Second, func() bool { return kim.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	forge(eve)
	kim.waitFor("Eve's message", 10*time.Second, func() bool { return kim.count(srv.JID("eve"), escalatedCopy(of)) == 1 })
}

// TestExhaustedNoticeAfterCrash: the service runs out of steps and saves
// the ladder exhausted, then crashes before the "nobody acknowledged"
// notices go out. Started again, it sends them (once): the sender (a lab
// system long gone, or a device that left the ladder to the service) and
// the recipient learn that nobody on the ladder acknowledged.
func TestExhaustedNoticeAfterCrash(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	path := t.TempDir() + "/escalation.db"
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true, path: path, resource: "a"})
	svc.waitPolicy(0)
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	kim := start(t, srv, "kim", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "K+ 7.3 bed 14", nil)
	alice.waitFor("the service's confirmation", 10*time.Second, func() bool { return alice.held(of) })
	clock.Advance(61 * time.Second)
	kim.waitFor("step 1", 10*time.Second, func() bool { return kim.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	key := ladderKey(srv.JID("alice"), of)
	svc.waitFor("step 1 marked sent", 10*time.Second, func() bool {
		svc.svc.mu.Lock()
		defer svc.svc.mu.Unlock()
		a := svc.svc.ladders[key]
		return a != nil && len(a.Fired) == 1 && a.Fired[0].Sent
	})
	// The last wait runs out: fireDue saves the ladder exhausted, and the
	// service dies before sendExhausted.
	svc.svc.mu.Lock()
	l := svc.svc.ladders[key]
	if _, ok := svc.svc.takeStepLocked(l, clock.Now()); ok {
		svc.svc.mu.Unlock()
		t.Fatal("a one-step ladder had a second step")
	}
	svc.svc.saveLocked(l)
	svc.svc.mu.Unlock()
	svc.stop()
	exhausted := notice(of, "nobody on the ladder acknowledged")
	if n := bob.count(srv.JID("alice"), exhausted); n != 0 {
		t.Fatalf("Bob has %d exhausted notices before the restart", n)
	}
	svc = start(t, srv, "escalation", nodeOptions{clock: clock, service: true, path: path, resource: "a"})
	bob.waitFor("the exhausted notice after the restart", 10*time.Second, func() bool { return bob.count(srv.JID("alice"), exhausted) == 1 })
	alice.waitFor("the exhausted notice to the sender", 10*time.Second, func() bool { return alice.count(srv.JID("bob"), exhausted) == 1 })
}

// TestFailedSendMovesOn: a step that could not be sent (here a room step
// whose room the service cannot join) reached nobody, so the ladder moves
// on at once, as for a role nobody holds: the next target is paged now,
// not a whole wait later.
func TestFailedSendMovesOn(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step room='ghost@nowhere.invalid'/><step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	kim := start(t, srv, "kim", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "Bed 6 SpO2 82%", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(of) })
	clock.Advance(61 * time.Second)
	svc.waitFor("step 1 failed", 30*time.Second, func() bool {
		svc.svc.mu.Lock()
		defer svc.svc.mu.Unlock()
		l := svc.svc.ladders[ladderKey(srv.JID("alice"), of)]
		return l != nil && len(l.Fired) >= 1 && l.Fired[0].Sent && l.Fired[0].Failed != ""
	})
	kim.waitFor("step 2 at once after the failed step", 10*time.Second, func() bool {
		return kim.count(srv.JID("escalation"), escalatedCopy(of)) == 1
	})
	// The sender's device learns that step 1 reached nobody (no target
	// named), so it too expects step 2 at once.
	alice.waitFor("step 1's notice naming no target", 10*time.Second, func() bool {
		return alice.count(srv.JID("bob"), func(m securestore.Message) bool {
			return notice(of, "could not send")(m) && m.Extra[sync.ExtraEscalationStep] == "1" && m.Extra[sync.ExtraEscalationTo] == ""
		}) == 1
	})
}
