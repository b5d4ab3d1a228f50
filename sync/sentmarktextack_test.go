package sync

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestSentMarkUnderTextAckLock: a waiting sent mark (securestore.MarkSentSoon)
// is written by whatever store write comes next, and that may be one made
// with the text-acknowledgement lock held (textReply marking the page a
// peer's "ack" answers). The mark's follow-up (our own plain reply "ack",
// which acknowledges the page it answers, ownReplySent) takes that lock
// too: run inline it deadlocked, and with it the read loop at the next
// reply. Here a peer's reply is matched (textReply, as catch-up does on
// its own goroutine) while the server's ack of our "ack" waits to be
// written: the match returns, and our "ack" still acknowledges the peer's
// page.
func TestSentMarkUnderTextAckLock(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	// A linger longer than the test: the mark waits for a write that
	// happens anyway.
	alice := startDevice(t, srv, "alice", deviceOptions{sentLinger: time.Hour})
	bob := startDevice(t, srv, "bob", deviceOptions{})

	// Bob's page to Alice, which Alice's "ack" will answer.
	pb, err := bob.session.Send(alice.jid, "Bed 4 K+ 6.9", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	bobsPage := byOrigin(t, alice, bob.jid, pb.OriginID)
	// Alice's page to Bob, which Bob's "ack" answers.
	pa, err := alice.session.Send(bob.jid, "Bed 9 lactate 5", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	alice.allAtLeast([]securestore.MessageID{pa.ID}, securestore.ReceiptDelivered, 30*time.Second)
	// Bob's "ack", stored as catch-up stores it, not yet matched.
	got, err := alice.store.AppendMessages([]securestore.Message{{ConversationID: bob.jid, From: bob.jid, To: alice.jid,
		Direction: securestore.Incoming, Body: "ack", OriginID: "bob-ack-1", Timestamp: time.Now(),
		Extra: map[string]string{securestore.ExtraSender: bob.jid}}})
	if err != nil || len(got) != 1 {
		t.Fatalf("storing bob's reply: %v %v", got, err)
	}
	bobsAck := got[0]
	// Bob offline: no delivery receipt comes to write Alice's mark.
	bob.stop()

	mine, err := alice.session.Send(bob.jid, "ack", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the server's ack of alice's reply", 30*time.Second, func() bool {
		alice.session.mu.Lock()
		defer alice.session.mu.Unlock()
		f, ok := alice.session.inflight[mine.OriginID]
		return ok && f.acked
	})
	if st := alice.receiptState(mine.ID); st != securestore.ReceiptQueued {
		t.Fatalf("alice's reply is %v before the match, want queued (its sent mark waiting)", st)
	}

	done := make(chan struct{})
	go func() {
		alice.session.textReply(bobsAck)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("textReply did not return within 15 s: the sent mark's follow-up waits for the text-acknowledgement lock its carrier holds")
	}
	if st := alice.receiptState(pa.ID); st != securestore.ReceiptAcknowledged {
		t.Errorf("alice's page is %v, want acknowledged by bob's reply", st)
	}
	if st := alice.receiptState(mine.ID); st != securestore.ReceiptSent {
		t.Errorf("alice's reply is %v, want sent (its mark rode the match)", st)
	}
	alice.waitFor("alice's own ack of bob's page", 30*time.Second, func() bool {
		for _, e := range eventsOf[ResponseReceived](alice) {
			if e.Own && e.ByText && e.To == bobsPage.ID && e.Message.ID == mine.ID {
				return true
			}
		}
		return false
	})
}

// TestSentMarkWrittenAtLock: Lock writes the sent marks still waiting and
// finishes what follows them (our own "ack" acknowledging the page it
// answers) before it returns. After Lock the Session does not use the
// store and the app closes it: a follow-up left to run then raced the
// close, and a reply marked sent by Close's own flush never acknowledged
// its page on this device (the page stayed pending on the nurse's screen).
func TestSentMarkWrittenAtLock(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{sentLinger: time.Hour})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	// The locked inbox first: the first ReceiveKey makes the key (a write,
	// which would carry the mark).
	pub, err := alice.store.ReceiveKey()
	if err != nil {
		t.Fatal(err)
	}
	q, err := securestore.OpenInbox(alice.path, pub, securestore.Options{KDF: testKDF, Secrets: noSecrets{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	pb, err := bob.session.Send(alice.jid, "Bed 4 K+ 6.9", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	bobsPage := byOrigin(t, alice, bob.jid, pb.OriginID)
	bob.stop() // no delivery receipt comes to write Alice's mark

	mine, err := alice.session.Send(bob.jid, "ack", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the server's ack of alice's reply", 30*time.Second, func() bool {
		alice.session.mu.Lock()
		defer alice.session.mu.Unlock()
		f, ok := alice.session.inflight[mine.OriginID]
		return ok && f.acked
	})
	if st := alice.receiptState(mine.ID); st != securestore.ReceiptQueued {
		t.Fatalf("alice's reply is %v before the lock, want queued (its sent mark waiting)", st)
	}
	alice.session.Lock(q)
	// What Lock returned with, before the app closes the store.
	m, err := alice.store.Message(mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Receipt.State != securestore.ReceiptSent || m.Extra[ExtraTextAckOf] != bobsPage.OriginID {
		t.Fatalf("after Lock alice's reply is %v, acknowledging %q; want sent, acknowledging bob's page %q",
			m.Receipt.State, m.Extra[ExtraTextAckOf], bobsPage.OriginID)
	}
	if err := alice.store.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSentMarkWrittenWhenRunEnds: Run writes the sent marks still waiting
// and finishes what follows them before it returns, as Lock does: the app
// (sign-out, a profile switch) and the headless tools close the store once
// Run returned, and a follow-up left to run then raced that close.
func TestSentMarkWrittenWhenRunEnds(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{sentLinger: time.Hour})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	pb, err := bob.session.Send(alice.jid, "Bed 4 K+ 6.9", SendOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	bobsPage := byOrigin(t, alice, bob.jid, pb.OriginID)
	bob.stop() // no delivery receipt comes to write Alice's mark

	mine, err := alice.session.Send(bob.jid, "ack", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("the server's ack of alice's reply", 30*time.Second, func() bool {
		alice.session.mu.Lock()
		defer alice.session.mu.Unlock()
		f, ok := alice.session.inflight[mine.OriginID]
		return ok && f.acked
	})
	if st := alice.receiptState(mine.ID); st != securestore.ReceiptQueued {
		t.Fatalf("alice's reply is %v before Run ends, want queued (its sent mark waiting)", st)
	}
	alice.cancel()
	select {
	case <-alice.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	alice.cancel = nil
	// What Run returned with, before the store is closed.
	m, err := alice.store.Message(mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Receipt.State != securestore.ReceiptSent || m.Extra[ExtraTextAckOf] != bobsPage.OriginID {
		t.Fatalf("after Run alice's reply is %v, acknowledging %q; want sent, acknowledging bob's page %q",
			m.Receipt.State, m.Extra[ExtraTextAckOf], bobsPage.OriginID)
	}
	if err := alice.store.Close(); err != nil {
		t.Fatal(err)
	}
}
