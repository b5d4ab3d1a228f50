package escalation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

// textIn lists where st still holds text: every stored message whose body
// contains it, as "conversation: body kind".
func textIn(t *testing.T, st *securestore.Store, text string) []string {
	t.Helper()
	convs, err := st.Conversations()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range convs {
		ms, err := st.Latest(c.ID, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if strings.Contains(m.Body, text) {
				out = append(out, fmt.Sprintf("%s: message %d (direction %d)", c.ID, m.ID, m.Direction))
			}
		}
	}
	return out
}

// TestPageTextForgotten: the service keeps a page's text only while its
// ladder may still need it. Two pages are handed over; the first step
// sends both escalated copies to Kim. Kim acknowledges the first: its text
// is gone at once from the service's store (the hand-off and the copy are
// tombstones) and so is its record. The second runs out of steps: its text
// is gone as soon as it is exhausted, while the ladder is still listed for
// a week (Config.Retention's default), and after that bound (injected
// clock) its record goes too, audited as escalation-purged. A reopened
// store holds neither text and no ladder; the audit log keeps plan, step,
// ack, exhaustion and purge.
func TestPageTextForgotten(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "kim", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("kim")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	kim := start(t, srv, "kim", nodeOptions{})
	alice := start(t, srv, "alice", nodeOptions{})
	const acked, unanswered = "Bed 2 lactate 6.8", "Bed 7 troponin rising"
	first := alice.page(srv.JID("bob"), acked, nil)
	second := alice.page(srv.JID("bob"), unanswered, nil)
	alice.waitFor("held", 10*time.Second, func() bool { return alice.held(first) && alice.held(second) })
	if got := textIn(t, svc.store, acked); len(got) == 0 {
		t.Fatal("the service's store does not hold the page handed over")
	}
	clock.Advance(61 * time.Second)
	kim.waitFor("both copies", 10*time.Second, func() bool {
		return kim.count(srv.JID("escalation"), escalatedCopy(first)) == 1 && kim.count(srv.JID("escalation"), escalatedCopy(second)) == 1
	})
	var cp securestore.Message
	for _, m := range kim.messages(srv.JID("escalation")) {
		if escalatedCopy(first)(m) {
			cp = m
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kim.s.Respond(ctx, srv.JID("escalation"), cp.ID, sync.ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	svc.waitFor("the first ladder acknowledged", 10*time.Second, func() bool { return len(svc.svc.Active()) == 1 })
	svc.waitFor("the acknowledged page's text gone", 10*time.Second, func() bool { return len(textIn(t, svc.store, acked)) == 0 })
	svc.waitFor("the acknowledged ladder's record gone", 10*time.Second, func() bool {
		_, err := svc.store.Setting(settingPrefix + ladderKey(srv.JID("alice"), first))
		return errors.Is(err, securestore.ErrNotFound)
	})
	if got := textIn(t, svc.store, unanswered); len(got) != 2 {
		t.Errorf("the running ladder's text is in %q, want the hand-off and the copy", got)
	}

	clock.Advance(61 * time.Second)
	svc.waitFor("the second ladder exhausted", 10*time.Second, func() bool {
		a := svc.svc.Active()
		return len(a) == 1 && a[0].Exhausted
	})
	svc.waitFor("the exhausted page's text gone", 10*time.Second, func() bool { return len(textIn(t, svc.store, unanswered)) == 0 })
	clock.Advance(DefaultRetention - time.Hour)
	time.Sleep(300 * time.Millisecond)
	if a := svc.svc.Active(); len(a) != 1 {
		t.Fatalf("the exhausted ladder went before the bound: %+v", a)
	}
	clock.Advance(2 * time.Hour)
	svc.waitFor("the exhausted ladder purged after the bound", 10*time.Second, func() bool {
		return len(svc.svc.Active()) == 0 && slices.Contains(svc.auditKinds(), "escalation-purged")
	})
	if _, err := svc.store.Setting(settingPrefix + ladderKey(srv.JID("alice"), second)); !errors.Is(err, securestore.ErrNotFound) {
		t.Errorf("the purged ladder's record is still in the store: %v", err)
	}

	svc.stop()
	st := openStore(t, svc.path)
	defer st.Close()
	for _, text := range []string{acked, unanswered} {
		if got := textIn(t, st, text); len(got) != 0 {
			t.Errorf("the reopened store still holds a page's text in %q", got)
		}
	}
	if b, err := st.Setting(settingIndex); err != nil || string(b) != "[]" {
		t.Errorf("the reopened store's ladder list: %q %v", b, err)
	}
	log, err := st.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range log {
		kinds = append(kinds, e.Kind)
		if strings.Contains(e.Detail, acked) || strings.Contains(e.Detail, unanswered) {
			t.Errorf("audit %s holds a page's text", e.Kind)
		}
	}
	for _, k := range []string{"escalation-plan", "escalation-step", "escalation-ack", "escalation-exhausted", "escalation-purged"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("the audit log lacks %s: %q", k, kinds)
		}
	}
}

// TestRefusedTextForgotten: the service needs a page's text only to send
// the copies of a ladder it holds. A hand-off it refuses (here a plan with
// a step of another kind than it runs) and a message it ignores (someone
// who is not an admin writing to it) leave no text in its store: their
// bodies become tombstones as soon as they are handled.
func TestRefusedTextForgotten(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "escalation", testserver.PubSubAdmin)
	clock := &testClock{}
	publish(t, srv, policyDoc(srv, 60, `<step to='`+srv.JID("bob")+`'/>`), "")
	svc := start(t, srv, "escalation", nodeOptions{clock: clock, service: true})
	svc.waitPolicy(0)
	alice := start(t, srv, "alice", nodeOptions{})
	const chat, page = "MARKER-C Mrs Jones in bed 4 keeps asking", "MARKER-R Bed 4 K+ 7.2"
	if _, err := alice.s.Send(srv.JID("escalation"), chat, sync.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	alice.page(srv.JID("bob"), page, &sync.EscalationPlan{AfterSeconds: 60, Steps: []sync.EscalationStep{{Role: "Chief of everything"}}})
	svc.waitFor("the plan refused", 10*time.Second, func() bool { return slices.Contains(svc.auditKinds(), "escalation-refused") })
	for _, text := range []string{"MARKER-C", "MARKER-R"} {
		if where := textIn(t, svc.store, text); len(where) > 0 {
			t.Errorf("the service's store still holds %s: %v", text, where)
		}
	}
}
