package escalation

import (
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

// TestAdminCommands: a policy admin lists the running ladders and stops
// one: the thread gets the closing notice (cancelled) and no step fires
// after. The same commands from someone who is not an admin get no answer.
func TestAdminCommands(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "mallory", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, `<policy xmlns='urn:rounds:policy:0' version='1'><escalation after-seconds='60' service='`+srv.JID("escalation")+
		`'><step to='`+srv.JID("kim")+`'/></escalation><admin jid='`+srv.JID(testserver.PubSubAdmin)+`'/></policy>`, "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	bob := start(t, srv, "bob", nodeOptions{})
	bob.s.SetEscalationService(srv.JID("escalation"))
	kim := start(t, srv, "kim", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	of := alice.page(srv.JID("bob"), "Sepsis screen positive bed 2", nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(of) })

	replies := func(n *node) []string {
		var out []string
		for _, m := range n.messages(srv.JID("escalation")) {
			if m.Direction == securestore.Incoming {
				out = append(out, m.Body)
			}
		}
		return out
	}
	mallory := start(t, srv, "mallory", nodeOptions{})
	if _, err := mallory.s.Send(srv.JID("escalation"), "stop "+of, sync.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	admin := start(t, srv, testserver.PubSubAdmin, nodeOptions{})
	if _, err := admin.s.Send(srv.JID("escalation"), "ladders", sync.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	admin.waitFor("the list", 10*time.Second, func() bool { return len(replies(admin)) == 1 })
	if r := replies(admin)[0]; !strings.Contains(r, of) || !strings.Contains(r, srv.JID("alice")) || strings.Contains(r, "Sepsis") {
		t.Errorf("list %q: want the ladder by id and sender, without the text", r)
	}
	if _, err := admin.s.Send(srv.JID("escalation"), "stop "+of, sync.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("the closing notice", 10*time.Second, func() bool { return bob.count(srv.JID("alice"), notice(of, endCancelled)) == 1 })
	if a := svc.svc.Active(); len(a) != 0 {
		t.Errorf("running after stop: %+v", a)
	}
	clock.Advance(2 * time.Minute)
	time.Sleep(500 * time.Millisecond)
	if n := kim.count(srv.JID("escalation"), escalatedCopy(of)); n != 0 {
		t.Errorf("a stopped ladder fired: Kim has %d copies", n)
	}
	if r := replies(mallory); len(r) != 0 {
		t.Errorf("mallory got answers: %q", r)
	}
}
