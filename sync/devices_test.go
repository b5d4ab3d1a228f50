package sync

import (
	"context"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestTwoDevicesOneAccount: the physician's phone and desktop. Carbons give
// both every message, in both directions; reading on one clears the unread
// count on the other (XEP-0490 and the displayed marker's carbon).
func TestTwoDevicesOneAccount(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	phone := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	desk := startDevice(t, srv, "alice", deviceOptions{resource: "desk"})
	bob := startDevice(t, srv, "bob", deviceOptions{})

	bob.send(phone.jid, "to-alice", 10)
	for _, d := range []*device{phone, desk} {
		d.waitFor("bob's messages", 30*time.Second, func() bool { return len(d.bodies(bob.jid, securestore.Incoming)) >= 10 })
		expectExactlyOnce(t, d.bodies(bob.jid, securestore.Incoming), "to-alice", 10)
	}
	phone.send(bob.jid, "from-phone", 5)
	desk.waitFor("phone's sent messages (carbons)", 30*time.Second, func() bool { return len(desk.bodies(bob.jid, securestore.Outgoing)) >= 5 })
	expectExactlyOnce(t, desk.bodies(bob.jid, securestore.Outgoing), "from-phone", 5)

	if c, _ := desk.store.Conversation(bob.jid); c.Unread != 10 {
		t.Fatalf("desk unread = %d, want 10", c.Unread)
	}
	all := phone.conversation(bob.jid)
	var lastIn securestore.Message
	for _, m := range all {
		if m.Direction == securestore.Incoming {
			lastIn = m
		}
	}
	if err := phone.session.MarkDisplayed(context.Background(), bob.jid, lastIn.ID); err != nil {
		t.Fatal(err)
	}
	desk.waitFor("read on the other device", 30*time.Second, func() bool {
		c, _ := desk.store.Conversation(bob.jid)
		return c.Unread == 0
	})
}
