package escalation

import (
	"slices"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// TestFailover: two instances on the same account (resources a and b, each
// with its own store) share a lease in the account's PEP node. Both take
// the hand-off; only the lease holder fires step 1 (Kim gets one copy).
// The holder is killed mid-ladder; when step 2 falls due, the other
// instance holds the lease and fires step 2 (Lee gets one copy), without
// firing step 1 again (it learnt of it from the carbon of the holder's
// copy). No step is lost, none is sent twice.
func TestFailover(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "lee", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/><step to='`+srv.JID("lee")+`'/>`), "")
	const ttl = 3 * time.Second
	a := start(t, srv, "escalation", nodeOptions{clock: clock, service: true, resource: "a", leaseTTL: ttl})
	b := start(t, srv, "escalation", nodeOptions{clock: clock, service: true, resource: "b", leaseTTL: ttl})
	a.waitPolicy(0)
	b.waitPolicy(0)
	a.waitFor("one instance holding the lease", 15*time.Second, func() bool { return a.lease.Held() != b.lease.Held() })
	active, standby := a, b
	if b.lease.Held() {
		active, standby = b, a
	}
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	kim := start(t, srv, "kim", nodeOptions{})
	lee := start(t, srv, "lee", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "BP 70/40 bed 9", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(of) })
	for _, n := range []*node{active, standby} {
		n.waitFor("the ladder on both instances", 10*time.Second, func() bool { return len(n.svc.Active()) == 1 })
	}

	clock.Advance(61 * time.Second)
	kim.waitFor("step 1", 15*time.Second, func() bool { return kim.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	standby.waitFor("step 1 known to the standby", 10*time.Second, func() bool {
		l := standby.svc.Active()
		return len(l) == 1 && l[0].Steps == 1
	})
	time.Sleep(500 * time.Millisecond)
	firedBefore := active.steps() + standby.steps()
	// The standby's audit log has the step the holder took, so an export
	// from either instance tells the whole ladder.
	if !slices.Contains(standby.auditKinds(), "escalation-step-seen") {
		t.Errorf("the standby's audit log lacks the holder's step 1: %v", standby.auditKinds())
	}
	active.stop() // killed mid-ladder

	standby.waitFor("the standby taking the lease", 15*time.Second, standby.lease.Held)
	clock.Advance(61 * time.Second)
	lee.waitFor("step 2 from the standby", 15*time.Second, func() bool { return lee.count(srv.JID("escalation"), escalatedCopy(of)) == 1 })
	time.Sleep(time.Second)
	if n := kim.count(srv.JID("escalation"), escalatedCopy(of)); n != 1 {
		t.Errorf("Kim has %d copies of step 1, want 1", n)
	}
	if n := lee.count(srv.JID("escalation"), escalatedCopy(of)); n != 1 {
		t.Errorf("Lee has %d copies of step 2, want 1", n)
	}
	// Receivers would dedupe a step both instances sent; the instances'
	// own records say who fired: one step each.
	if firedBefore != 1 || standby.steps() != 1 {
		t.Errorf("steps fired: %d before the failover (want 1), %d by the standby (want 1: step 2)", firedBefore, standby.steps())
	}
	if n := bob.count(srv.JID("alice"), notice(of, "")); n != 2 {
		t.Errorf("Bob has %d step notices, want 2 (one per step)", n)
	}
}

// steps counts the steps this instance fired (its audit log).
func (n *node) steps() int {
	c := 0
	for _, k := range n.auditKinds() {
		if k == "escalation-step" {
			c++
		}
	}
	return c
}

// TestLeaseClockSkew: the two instances' clocks disagree by an hour (two
// hosts, one without NTP). The lease must not depend on them agreeing: an
// instance whose clock is ahead does not take the lease from a live
// holder (both would fire), and one whose clock is behind takes it within
// a few lease lengths of the holder's death (not an hour later).
func TestLeaseClockSkew(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "escalation", testserver.PubSubAdmin)
	publish(t, srv, policyDoc(srv, 60, ``), "")
	const ttl = 3 * time.Second
	a := start(t, srv, "escalation", nodeOptions{clock: &testClock{}, service: true, resource: "a", leaseTTL: ttl})
	a.waitFor("a holding the lease", 15*time.Second, a.lease.Held)

	ahead := &testClock{off: time.Hour}
	b := start(t, srv, "escalation", nodeOptions{clock: ahead, service: true, resource: "b", leaseTTL: ttl, leaseClock: ahead})
	for end := time.Now().Add(3 * ttl); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if b.lease.Held() {
			t.Fatalf("the instance whose clock is an hour ahead took the lease while the holder (a) renews it (a holds: %v)", a.lease.Held())
		}
	}
	if !a.lease.Held() {
		t.Fatal("a lost the lease")
	}
	b.stop()

	behind := &testClock{off: -time.Hour}
	c := start(t, srv, "escalation", nodeOptions{clock: behind, service: true, resource: "c", leaseTTL: ttl, leaseClock: behind})
	time.Sleep(ttl)
	a.stop()
	c.waitFor("the instance whose clock is an hour behind taking the lease after the holder died", 5*ttl, c.lease.Held)
}
