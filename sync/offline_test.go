package sync

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
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

// TestDeliveredButUnackedIsNotResent: bob's receipt overtook the server's
// ack, then the socket (or the process) died before the ack came. The
// message is "delivered" but still on the Outbox. At the next sign-in the
// account's archive shows the server has it: it must leave the Outbox
// without being sent again (bob would get it twice). Found by TestModel
// (seed 1, own-send then restart).
func TestDeliveredButUnackedIsNotResent(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice, bob := srv.JID("alice"), srv.JID("bob")
	path := filepath.Join(t.TempDir(), "alice.db")
	st := openStore(t, path)
	now := time.Now()
	m, err := st.Enqueue(securestore.Message{ConversationID: bob, From: alice, To: bob, Body: "K+ 6.9",
		OriginID: xmpp.NewID(), Timestamp: now, ReceivedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AdvanceReceipt(m.ID, "", securestore.ReceiptDelivered, now, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// What the server took before the ack was lost: the stanza itself.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: alice, Resource: "before-the-crash",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	raw.Send(xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", bob, "id", m.OriginID).Append(
		xmpp.NewElement(xmpp.NSClient, "body").SetText(m.Body),
		xmpp.NewElement(xmpp.NSSID, "origin-id", "id", m.OriginID)))
	if err := raw.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	d := startDevice(t, srv, "alice", deviceOptions{storePath: path})
	d.waitFor("outbox empty", 30*time.Second, func() bool { out, _ := d.store.Outbox(); return len(out) == 0 })
	time.Sleep(500 * time.Millisecond) // a resend, if any, reaches the archive
	bc, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: bob, Resource: "checker",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	page, err := bc.QueryArchive(ctx, xmpp.ArchiveQuery{Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range page.Results {
		if r.Message.OriginID == m.OriginID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("bob's archive holds the message %d times, want 1 (resent after the archive showed the server had it)", n)
	}
}
