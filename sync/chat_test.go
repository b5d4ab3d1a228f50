package sync

import (
	"context"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestChatReceiptsAndMarkers: two staff exchange messages; every message is
// stored once on each side and the sender's copies move queued → sent →
// delivered → read, each with its time.
func TestChatReceiptsAndMarkers(t *testing.T) { testserver.EachServer(t, testChatReceiptsAndMarkers) }

func testChatReceiptsAndMarkers(t *testing.T, k testserver.Kind) {
	chatScenario(t, k.StartT(t, testserver.Options{}, "alice", "bob"))
}

func chatScenario(t *testing.T, srv *testserver.Server) {
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})

	ids := alice.send(bob.jid, "vitals", 20)
	bob.waitFor("20 messages", 20*time.Second, func() bool { return len(bob.bodies(alice.jid, securestore.Incoming)) == 20 })
	expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), "vitals", 20)
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Outgoing), "vitals", 20)
	alice.allAtLeast(ids, securestore.ReceiptDelivered, 20*time.Second)

	conv, err := bob.store.Conversation(alice.jid)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Unread != 20 {
		t.Fatalf("bob's unread = %d, want 20", conv.Unread)
	}
	got := bob.conversation(alice.jid)
	last := got[len(got)-1]
	if err := bob.session.MarkDisplayed(context.Background(), alice.jid, last.ID); err != nil {
		t.Fatal(err)
	}
	if conv, _ := bob.store.Conversation(alice.jid); conv.Unread != 0 {
		t.Fatalf("unread after MarkDisplayed = %d", conv.Unread)
	}
	alice.waitFor("read marker", 20*time.Second, func() bool { return alice.receiptState(ids[len(ids)-1]) == securestore.ReceiptRead })

	m, err := alice.store.Message(ids[len(ids)-1])
	if err != nil {
		t.Fatal(err)
	}
	r := m.Receipt
	for _, st := range []securestore.ReceiptState{securestore.ReceiptQueued, securestore.ReceiptSent, securestore.ReceiptDelivered, securestore.ReceiptRead} {
		if r.At[st].IsZero() {
			t.Errorf("state %v has no timestamp", st)
		}
	}
	if !(r.At[securestore.ReceiptQueued].Compare(r.At[securestore.ReceiptSent]) <= 0 &&
		r.At[securestore.ReceiptSent].Compare(r.At[securestore.ReceiptDelivered]) <= 0 &&
		r.At[securestore.ReceiptDelivered].Compare(r.At[securestore.ReceiptRead]) <= 0) {
		t.Errorf("receipt times out of order: %v", r.At)
	}
}
