package sync

import (
	"context"
	"path/filepath"
	"strings"
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
	testserver.EachServer(t, testOfflineStorageAndArchiveOverlap)
}

func testOfflineStorageAndArchiveOverlap(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "alice", "bob")
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
	if n := archivedCopies(t, ctx, srv, bob, m.OriginID); n != 1 {
		t.Fatalf("bob's archive holds the message %d times, want 1 (resent after the archive showed the server had it)", n)
	}
}

// TestOfflineDelayNotBeforeLastOnline: while the stream is set up, a
// <delay/> naming our domain is believed (offline storage's stamp), but a
// sender can write one too: Prosody passes it through and adds its own as
// the last. A stamp earlier than this device's last time online (less the
// clock-skew allowance) cannot be the server's: offline storage holds only
// what came while no resource was online. Bob's 2019 "server" stamp on a
// message alice receives from offline storage is not believed (stored at
// receipt, no earlier than her last time online, the claim kept); the
// genuine offline stamp on his other message still is. (Real Prosody appends
// its own offline stamp after bob's, and the last one is taken, so this
// passed before the floor too; TestServerDelayNotBeforeLastOnline covers the
// single forged stamp on a message arriving live during setup.)
func TestOfflineDelayNotBeforeLastOnline(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	aliceJID, bobJID := srv.JID("alice"), srv.JID("bob")
	domain := aliceJID[strings.IndexByte(aliceJID, '@')+1:]
	path := filepath.Join(t.TempDir(), "alice.db")
	before := time.Now()
	alice := startDevice(t, srv, "alice", deviceOptions{storePath: path})
	alice.stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acked := make(chan struct{}, 4)
	bob, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: bobJID, Credentials: xmpp.Credentials{Password: testserver.Password},
		OnAcked: func(el *xmpp.Element) {
			if el.Name.Local == "message" {
				acked <- struct{}{}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	forged := xmpp.NewChat(aliceJID, "backdated by bob")
	forged.Append(xmpp.NewElement("urn:xmpp:delay", "delay", "from", domain, "stamp", "2019-03-01T08:00:00Z"))
	genuineSent := time.Now()
	for _, m := range []*xmpp.Element{xmpp.NewChat(aliceJID, "genuine while offline"), forged} {
		if err := bob.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = bob.RequestAck()
	for range 2 {
		select {
		case <-acked:
		case <-ctx.Done():
			t.Fatal("bob's messages not acknowledged by the server")
		}
	}
	time.Sleep(2 * time.Second) // the genuine message's offline stamp is now clearly older than its receipt
	reconnect := time.Now()
	alice = startDevice(t, srv, "alice", deviceOptions{storePath: path})
	alice.waitFor("both messages", 30*time.Second, func() bool { return len(alice.conversation(bobJID)) == 2 })
	for _, m := range alice.conversation(bobJID) {
		switch m.Body {
		case "backdated by bob":
			if m.Timestamp.Before(before.Truncate(time.Second)) {
				t.Errorf("a sender's <delay from=%q/> was believed: stored at %v, before alice's last time online (%v)", domain, m.Timestamp, before)
			}
			if m.Extra[ExtraClaimedAt] != "2019-03-01T08:00:00Z" {
				t.Errorf("claimed time not kept: %q", m.Extra[ExtraClaimedAt])
			}
		case "genuine while offline":
			if m.Timestamp.Before(genuineSent.Add(-time.Second)) || !m.Timestamp.Before(reconnect) {
				t.Errorf("genuine offline message stored at %v, want the server's stamp (sent %v, received after %v)", m.Timestamp, genuineSent, reconnect)
			}
		default:
			t.Errorf("unexpected message %q", m.Body)
		}
	}
}

// archivedCopies counts the copies of origin-id id in who's archive (its
// first 50 results): what the server took from us, however often we sent it.
func archivedCopies(t *testing.T, ctx context.Context, srv *testserver.Server, who, id string) int {
	t.Helper()
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: who, Resource: "checker",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	page, err := c.QueryArchive(ctx, xmpp.ArchiveQuery{Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range page.Results {
		if r.Message.OriginID == id {
			n++
		}
	}
	return n
}
