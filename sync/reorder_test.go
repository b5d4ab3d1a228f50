package sync

import (
	"context"
	"fmt"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestDuplicatedAndReorderedDelivery: a peer's client resends stanzas (same
// origin-id) and delivers them out of order with delay stamps of its own.
// Each is stored once. The stamps are the sender's claim (kept for display,
// ExtraClaimedAt), not the order: the conversation reads in the order the
// user's server delivered them (issue #11: a sender's stamp must not slip a
// message into old history).
func TestDuplicatedAndReorderedDelivery(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("bob"), Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()

	base := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	stanza := func(i int) *xmpp.Element {
		id := fmt.Sprintf("reorder-%d", i)
		return xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", alice.jid, "id", id).Append(
			xmpp.NewElement(xmpp.NSClient, "body").SetText(fmt.Sprintf("obs-%04d", i)),
			xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id),
			xmpp.NewElement("urn:xmpp:delay", "delay", "stamp", base.Add(time.Duration(i)*time.Minute).Format(time.RFC3339)))
	}
	const n = 50
	// Newest first, every message twice, some three times.
	for i := n - 1; i >= 0; i-- {
		for k := 0; k < 2+i%3/2; k++ {
			if err := bob.Send(stanza(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	alice.waitFor("all", 30*time.Second, func() bool { return len(alice.bodies(srv.JID("bob"), securestore.Incoming)) >= n })
	time.Sleep(300 * time.Millisecond)
	expectExactlyOnce(t, alice.bodies(srv.JID("bob"), securestore.Incoming), "obs", n)
	conv := alice.conversation(srv.JID("bob"))
	for i, m := range conv {
		if want := fmt.Sprintf("obs-%04d", n-1-i); m.Body != want {
			t.Fatalf("position %d holds %s, want %s: not in the order delivered", i, m.Body, want)
		}
		if want := base.Add(time.Duration(n-1-i) * time.Minute).Format(time.RFC3339); m.Extra[ExtraClaimedAt] != want {
			t.Fatalf("%s: claimed time %q, want %q", m.Body, m.Extra[ExtraClaimedAt], want)
		}
	}
	if c, _ := alice.store.Conversation(srv.JID("bob")); c.Unread != n {
		t.Fatalf("unread = %d, want %d (duplicates must not count)", c.Unread, n)
	}
}
