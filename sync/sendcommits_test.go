package sync

import (
	"fmt"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestAckCostsNoCommitOfItsOwn: sending one message at a time, each waiting
// for the peer's receipt, costs the sender's store two commits per message
// (queued; delivered, which carries the server's ack as well), not three
// (queued, sent, delivered): the ack rides a write that happens anyway
// (securestore.MarkSentSoon). Every message still ends delivered with the
// ack's time for sent, and off the Outbox.
func TestAckCostsNoCommitOfItsOwn(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	var mu gosync.Mutex
	commits := 0
	// A linger longer than the test: however slow the machine, a mark is
	// written only by a write that happens anyway (or by Outbox at the end).
	alice := startDevice(t, srv, "alice", deviceOptions{sentLinger: time.Hour,
		onCommit: func(securestore.CommitStats) { mu.Lock(); commits++; mu.Unlock() }})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	const n = 20
	// Warm: the first message opens the conversation on both sides.
	alice.allAtLeast(alice.send(bob.jid, "warm", 1), securestore.ReceiptDelivered, 20*time.Second)
	if _, err := alice.store.Outbox(); err != nil { // writes the warm-up's mark
		t.Fatal(err)
	}
	mu.Lock()
	before := commits
	mu.Unlock()
	var ids []securestore.MessageID
	for i := range n {
		m, err := alice.session.Send(bob.jid, fmt.Sprintf("obs-%04d", i), SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
		alice.allAtLeast([]securestore.MessageID{m.ID}, securestore.ReceiptDelivered, 20*time.Second)
	}
	mu.Lock()
	got := commits - before
	mu.Unlock()
	if got > 2*n {
		t.Fatalf("%d commits for %d messages sent one at a time, want at most %d", got, n, 2*n)
	}
	out, err := alice.store.Outbox()
	if err != nil || len(out) != 0 {
		t.Fatalf("outbox %d %v", len(out), err)
	}
	for _, id := range ids {
		m, _ := alice.store.Message(id)
		if m.Receipt.At[securestore.ReceiptSent].IsZero() || m.Receipt.At[securestore.ReceiptSent].After(m.Receipt.At[securestore.ReceiptDelivered]) {
			t.Fatalf("message %d: sent %v, delivered %v", id, m.Receipt.At[securestore.ReceiptSent], m.Receipt.At[securestore.ReceiptDelivered])
		}
	}
	expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), "obs", n)
	t.Logf("%d commits for %d messages", got, n)
}
