package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// TestPreferencesStayWithinPolicy: the user can make notifications reveal less
// and the lock come sooner, never the reverse; the choice survives a lock.
func TestPreferencesStayWithinPolicy(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{Policy: Policy{LockAfter: 10 * time.Minute}})
	bob := signIn(t, srv, "bob", Config{})

	if err := alice.c.SetNotificationPreview(PreviewContent); !errors.Is(err, ErrBeyondPolicy) {
		t.Fatalf("content preview beyond a sender-only policy: %v", err)
	}
	if err := alice.c.SetLockAfter(time.Hour); !errors.Is(err, ErrBeyondPolicy) {
		t.Fatalf("lock after 1h beyond a 10 min policy: %v", err)
	}
	if err := alice.c.SetNotificationPreview(PreviewNone); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.SetLockAfter(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	alice.c.Lock()
	if err := alice.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	alice.waitOnline()
	if p, d := alice.c.NotificationPreview(), alice.c.LockAfter(); p != PreviewNone || d != 2*time.Minute {
		t.Fatalf("after unlock: preview %v, lock after %v", p, d)
	}
	if _, err := bob.c.Send(alice.jid, "K+ 6.1 bed 12"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "notification", 20*time.Second, func() bool { return len(alice.notifier.notifications()) > 0 })
	n := alice.notifier.notifications()[0]
	if n.Body != "New message" || strings.Contains(n.Title+n.Body, "bob") {
		t.Fatalf("PreviewNone notification reveals: %+v", n)
	}
}
