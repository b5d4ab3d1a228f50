package sync

import (
	"testing"
	"time"

	"rounds/internal/testserver"
)

// TestResourceConflictBacksOff: two devices sign in with the same account
// and resource (a profile copied to a second phone; or this device's own
// abandoned resumption that the server completed late, after the client had
// signed in afresh). The server replaces the older session with
// <conflict/>. Each Session that is replaced must not sign in again at
// once: if both do, each sign-in replaces the other, forever, and each
// costs the server a full sign-in and catch-up. Consecutive replacements
// back off (Backoff, counted across them), so the two settle.
func TestResourceConflictBacksOff(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	a := startDevice(t, srv, "alice", deviceOptions{resource: "ward-phone", backoff: Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}})
	b := startDevice(t, srv, "alice", deviceOptions{resource: "ward-phone", backoff: Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}})
	signIns := func() int {
		a.session.mu.Lock()
		n := a.session.gen
		a.session.mu.Unlock()
		b.session.mu.Lock()
		n += b.session.gen
		b.session.mu.Unlock()
		return n
	}
	start := signIns()
	time.Sleep(8 * time.Second)
	n := signIns() - start
	t.Logf("fresh sign-ins of the two devices in 8 s: %d", n)
	// Backing off from 100 ms, doubling per replacement, each device signs
	// in at most about 7 times in 8 s (0.1+0.2+...+6.4 s); without it the
	// two replace each other as fast as a sign-in runs.
	if n > 16 {
		t.Fatalf("%d fresh sign-ins in 8 s: the two sessions replace each other without backing off", n)
	}
}
