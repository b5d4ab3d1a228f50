package app

import (
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// quantiles reports p50 and p99 of lat (ms) under the given prefix.
func quantiles(b *testing.B, lat []time.Duration, prefix string) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	// Nearest rank: with few samples p99 is the slowest, never the fastest.
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(lat)))) - 1
		return float64(lat[max(i, 0)].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), prefix+"p50-ms")
	b.ReportMetric(q(0.99), prefix+"p99-ms")
}

// BenchmarkLockedStatToNotify: 200 STAT pages, one at a time, from alice's
// SendUrgent to the notifier call on bob's desktop, first while bob is
// locked (the page is sealed into the locked inbox and notified without
// text), then, as the baseline in the same run, while bob is unlocked (the
// page is stored and its alert rings). Real Prosody on loopback; both
// clients share one disk.
func BenchmarkLockedStatToNotify(b *testing.B) {
	const pages = 200
	srv := testserver.StartT(b, testserver.Options{}, "alice", "bob")
	alice := signIn(b, srv, "alice", Config{Policy: Policy{LockAfter: 24 * time.Hour}})
	bobCfg := testConfig(b)
	bobCfg.Policy = Policy{LockAfter: 24 * time.Hour}
	bob := signIn(b, srv, "bob", bobCfg)
	seen := make(chan Notification, 16)
	bob.notifier.mu.Lock()
	bob.notifier.notified = seen
	bob.notifier.mu.Unlock()
	round := func(tag string) []time.Duration {
		lat := make([]time.Duration, 0, pages)
		for i := range pages {
			t0 := time.Now()
			if _, err := alice.c.SendUrgent(bob.jid, fmt.Sprintf("%s-%d", tag, i), securestore.UrgencyCritical); err != nil {
				b.Fatal(err)
			}
			select {
			case <-seen:
			case <-time.After(30 * time.Second):
				b.Fatalf("%s page %d: no notification", tag, i)
			}
			lat = append(lat, time.Since(t0))
		}
		return lat
	}
	var locked, unlocked []time.Duration
	for range b.N {
		bob.c.Lock()
		locked = append(locked, round("locked")...)
		if err := bob.c.Unlock(b.Context(), testPIN); err != nil {
			b.Fatal(err)
		}
		bob.waitOnline()
		time.Sleep(2 * time.Second) // the merge's alerts settle
	drain:
		for {
			select {
			case <-seen:
			case <-time.After(6 * time.Second):
				break drain
			}
		}
		unlocked = append(unlocked, round("unlocked")...)
	}
	quantiles(b, locked, "locked-")
	quantiles(b, unlocked, "unlocked-")
}

// BenchmarkUnlockToCard: bob's desktop is locked while alice sends 499
// routine messages and then one STAT page; the time runs from the PIN
// (Client.Unlock) to the STAT alert being open (Client.Alerts, what the
// card draws). Baseline in the same run: the same with only the page
// queued. Test KDF parameters (Argon2id is not what is measured).
func BenchmarkUnlockToCard(b *testing.B) {
	srv := testserver.StartT(b, testserver.Options{}, "alice", "bob")
	alice := signIn(b, srv, "alice", Config{Policy: Policy{LockAfter: 24 * time.Hour}})
	bob := signIn(b, srv, "bob", Config{Policy: Policy{LockAfter: 24 * time.Hour, QuietRoutineWhileLocked: true}})
	run := func(routine int, tag string) time.Duration {
		bob.waitOnline() // the last unlock's sign-in and catch-up are done
		bob.c.Lock()
		for i := range routine {
			if _, err := alice.c.Send(bob.jid, fmt.Sprintf("%s-routine-%d", tag, i)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := alice.c.SendUrgent(bob.jid, tag+"-STAT", securestore.UrgencyCritical); err != nil {
			b.Fatal(err)
		}
		defer func() {
			if b.Failed() {
				text, _ := bob.c.LockedBanner()
				b.Logf("banner %q listening %v locked %v", text, bob.c.Listening(), bob.c.Locked())
			}
		}()
		waitFor(b, "every message sealed", 60*time.Second, func() bool {
			text, _ := bob.c.LockedBanner()
			return text == "1 STAT message waiting"
		})
		waitFor(b, "the locked inbox to hold all", 60*time.Second, func() bool {
			bob.c.mu.Lock()
			defer bob.c.mu.Unlock()
			return bob.c.listen != nil && bob.c.listen.inbox.Len() >= routine+1
		})
		t0 := time.Now()
		if err := bob.c.Unlock(b.Context(), testPIN); err != nil {
			b.Fatal(err)
		}
		for {
			if as := bob.c.Alerts(); len(as) > 0 {
				break
			}
			if time.Since(t0) > 60*time.Second {
				b.Fatal("no alert after unlock")
			}
			time.Sleep(200 * time.Microsecond)
		}
		d := time.Since(t0)
		for _, a := range bob.c.Alerts() {
			if err := bob.c.Respond(alice.jid, a.Message, ResponseAck, ""); err != nil {
				b.Fatal(err)
			}
		}
		waitFor(b, "alert ended", 30*time.Second, func() bool { return len(bob.c.Alerts()) == 0 })
		return d
	}
	var queued500, queued1 []time.Duration
	for i := range b.N {
		queued500 = append(queued500, run(499, fmt.Sprintf("q500-%d", i)))
		queued1 = append(queued1, run(0, fmt.Sprintf("q1-%d", i)))
	}
	quantiles(b, queued500, "500-")
	quantiles(b, queued1, "1-")
}
