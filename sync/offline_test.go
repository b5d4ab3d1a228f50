package sync

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestOfflineStorageAndArchiveOverlap: messages sent to an account that has
// never signed in sit both in the server's offline store and in the archive.
// At sign-in they arrive twice (offline flood after presence, MAM catch-up);
// each must be stored once.
func TestOfflineStorageAndArchiveOverlap(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	bob := startDevice(t, srv, "bob", deviceOptions{})
	ids := bob.send(srv.JID("alice"), "while-never-online", 40)
	bob.allAtLeast(ids, securestore.ReceiptSent, 30*time.Second)
	alice := startDevice(t, srv, "alice", deviceOptions{})
	alice.waitFor("all", 30*time.Second, func() bool { return len(alice.bodies(bob.jid, securestore.Incoming)) >= 40 })
	time.Sleep(time.Second)
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Incoming), "while-never-online", 40)
	if c, _ := alice.store.Conversation(bob.jid); c.Unread != 40 {
		t.Fatalf("unread = %d, want 40", c.Unread)
	}
}
