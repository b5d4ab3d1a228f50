package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestDNDForwardsBounded: bob is on do not disturb, carol covers, and
// alice pages him eight STAT messages in a row. All eight reach bob; five
// are forwarded to carol (the bound per sender), alice is told once to
// page carol directly, and bob's audit log says so once, without text.
func TestDNDForwardsBounded(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	const pages = 8
	for i := range pages {
		if _, err := alice.c.SendClinical(bob.jid, fmt.Sprintf("FLOOD-%d bed 5 arrest", i), ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
			t.Fatal(err)
		}
	}
	forwards := func() int { return forwardsIn(rowsFrom(carol, bob.jid), "FLOOD-") }
	waitFor(t, "all pages at bob", 30*time.Second, func() bool { return len(rowsFrom(bob, alice.jid)) == pages })
	limitNotices := func() int { return automaticSaying(rowsFrom(alice, bob.jid), "not forwarded to carol") }
	waitFor(t, "the forwards at carol", 30*time.Second, func() bool { return forwards() >= forwardsPerSender })
	time.Sleep(time.Second) // any forward past the bound would be on its way
	if n := forwards(); n != forwardsPerSender {
		t.Fatalf("%d forwards at carol for %d pages, want %d", n, pages, forwardsPerSender)
	}
	waitFor(t, "the limit notice at alice", 30*time.Second, func() bool { return limitNotices() == 1 })
	if n := limitNotices(); n != 1 {
		t.Fatalf("%d limit notices at alice, want 1", n)
	}
	entries, err := bob.c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	fwd, limited := 0, 0
	for _, e := range entries {
		switch e.Kind {
		case AuditDNDForward:
			fwd++
		case AuditDNDForwardLimited:
			limited++
			if strings.Contains(e.Detail, "FLOOD") || strings.Contains(e.Detail, "arrest") || !strings.Contains(e.Detail, alice.jid) {
				t.Fatalf("limit audit detail: %q", e.Detail)
			}
		}
	}
	if fwd != forwardsPerSender || limited != 1 {
		t.Fatalf("audit: %d forwards, %d limit entries; want %d and 1", fwd, limited, forwardsPerSender)
	}
}

// TestForwardLimitWindow: the bound's arithmetic: per sender, in all, one
// notice per window, a refused page stays refused, a page let through
// counts once, and the window moves on.
func TestForwardLimitWindow(t *testing.T) {
	var f forwardLimit
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for i := range forwardsPerSender {
		if ok, _, _ := f.take("a@h", fmt.Sprint("a", i), t0); !ok {
			t.Fatalf("page %d refused", i)
		}
	}
	if ok, _, _ := f.take("A@h", "a0", t0); !ok {
		t.Fatal("a page let through before was refused when met again")
	}
	if ok, tell, n := f.take("a@h", "a-over", t0); ok || !tell || n != forwardsPerSender {
		t.Fatalf("over the bound: ok %v tell %v n %d", ok, tell, n)
	}
	if ok, tell, _ := f.take("a@h", "a-over2", t0.Add(time.Minute)); ok || tell {
		t.Fatalf("second refusal in the window: ok %v tell %v", ok, tell)
	}
	later := t0.Add(forwardWindow)
	if ok, _, _ := f.take("a@h", "a-over", later); ok {
		t.Fatal("a refused page was forwarded late")
	}
	if ok, _, _ := f.take("a@h", "a-next", later); !ok {
		t.Fatal("the next window refused a new page")
	}
	var g forwardLimit
	n := 0
	for s := 0; n < forwardsInAll; s++ {
		for i := 0; i < forwardsPerSender-1 && n < forwardsInAll; i++ {
			if ok, _, _ := g.take(fmt.Sprintf("s%d@h", s), fmt.Sprint(s, "-", i), t0); !ok {
				t.Fatalf("page %d refused under the bound", n)
			}
			n++
		}
	}
	// Others' pages fill the bound in all; a sender with no forward in
	// the window still reaches the cover once (their STAT is not lost to
	// someone else's flood), and only their next page is refused.
	if ok, _, _ := g.take("fresh@h", "fresh-1", t0); !ok {
		t.Fatal("a sender's first page refused because others filled the bound in all")
	}
	if ok, tell, _ := g.take("fresh@h", "fresh-2", t0); ok || !tell {
		t.Fatalf("over the bound in all: ok %v tell %v", ok, tell)
	}
}

// TestDNDForwardsBoundedWhileLocked: the same flood while bob's Rounds is
// locked (listening): five forwards, one notice; after the unlock the merge
// forwards none of the others late, and the limit is audited once.
func TestDNDForwardsBoundedWhileLocked(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dndSignIn(t, srv, "alice", "desk", Policy{})
	bob := dndSignIn(t, srv, "bob", "desk", Policy{})
	carol := dndSignIn(t, srv, "carol", "desk", Policy{})
	if err := bob.c.SetDND(DNDSettings{Reply: "In theatre", Cover: carol.jid}); err != nil {
		t.Fatal(err)
	}
	bob.c.Lock()
	const pages = 7
	for i := range pages {
		if _, err := alice.c.SendClinical(bob.jid, fmt.Sprintf("LFLOOD-%d bed 6 arrest", i), ClinicalOptions{Urgency: securestore.UrgencyCritical}); err != nil {
			t.Fatal(err)
		}
	}
	forwards := func() int { return forwardsIn(rowsFrom(carol, bob.jid), "LFLOOD-") }
	waitFor(t, "the forwards at carol while bob is locked", 30*time.Second, func() bool { return forwards() >= forwardsPerSender })
	waitFor(t, "the limit notice at alice", 30*time.Second, func() bool {
		return automaticSaying(rowsFrom(alice, bob.jid), "not forwarded to carol") > 0
	})
	if err := bob.c.Unlock(t.Context(), testPIN); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all pages at bob after the unlock", 30*time.Second, func() bool { return len(rowsFrom(bob, alice.jid)) == pages })
	waitFor(t, "the limit audited at the unlock", 30*time.Second, func() bool { return bob.auditHas(AuditDNDForwardLimited, "while locked") })
	time.Sleep(time.Second)
	if n := forwards(); n != forwardsPerSender {
		t.Fatalf("%d forwards at carol after the unlock, want %d", n, forwardsPerSender)
	}
}
