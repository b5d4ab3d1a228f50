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
	alice := startDevice(t, srv, "alice", deviceOptions{onCommit: func(securestore.CommitStats) { mu.Lock(); commits++; mu.Unlock() }})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	const n = 20
	// Warm: the first message opens the conversation on both sides.
	alice.allAtLeast(alice.send(bob.jid, "warm", 1), securestore.ReceiptDelivered, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // lingering marks written
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
	// One more (a mark flushed alone) is allowed for an ack that lost the
	// race with its receipt's commit.
	if got > 2*n+1 {
		t.Fatalf("%d commits for %d messages sent one at a time, want at most %d", got, n, 2*n+1)
	}
	time.Sleep(300 * time.Millisecond)
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
