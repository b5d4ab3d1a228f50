package sync

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rounds/internal/faultproxy"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestOutboxFlushSendsOnceWhatSendRaced: a Send stores its message before
// the flush after a fresh sign-in reads the Outbox, and finds the session
// ready after that read, so it puts the message on the wire itself; the
// server's ack comes back before the flush reaches the message. The sent
// mark is written later (securestore.MarkSentSoon), so the flush's list
// still holds it: it must not go out a second time on this stream. The
// hook stands for that Send: it does what Send does once it has stored the
// message and found the session ready (transmit), between the flush's read
// and its sends, and waits for the ack.
func TestOutboxFlushSendsOnceWhatSendRaced(t *testing.T) {
	srv := testserver.Prosody.StartT(t, testserver.Options{}, "alice", "bob")
	relay := &lossyRelay{Relay: faultproxy.StartRelay(srv.WSURL())}
	t.Cleanup(relay.Close)
	var armed atomic.Pointer[securestore.Message]
	raced := make(chan string, 1)
	alice := startDevice(t, srv, "alice", deviceOptions{url: relay.URL(), beforeRun: func(s *Session) {
		s.flushListed = func(c *xmpp.Client, pending []securestore.Message) {
			m := armed.Swap(nil)
			if m == nil {
				return
			}
			listed := false
			for _, p := range pending {
				listed = listed || p.ID == m.ID
			}
			if !listed {
				raced <- "the flush did not list the queued message"
				return
			}
			s.transmit(c, *m)
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				s.mu.Lock()
				f, ok := s.inflight[m.OriginID]
				s.mu.Unlock()
				if !ok || f.acked {
					raced <- ""
					return
				}
			}
			raced <- "no ack for the message the hook sent"
		}
	}})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	// Held off until the message is queued: no resumption (the flush after
	// it would do as well, but the fresh sign-in is the case reported), and
	// the bind waits.
	gate := make(chan struct{})
	relay.OnUp(func(frame string) ([]string, []string) {
		if strings.HasPrefix(frame, "<resume") {
			return nil, []string{`<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`}
		}
		if strings.Contains(frame, "urn:ietf:params:xml:ns:xmpp-bind") {
			<-gate
		}
		return []string{frame}, nil
	})
	relay.OnDown(func(frame string) []string { return []string{frame} })
	cutAt := len(relay.Up())
	relay.Cut()
	alice.waitFor("offline", 30*time.Second, func() bool { return alice.session.readyClient() == nil })
	m, err := alice.session.Send(bob.jid, "raced-send", SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(&m)
	close(gate)
	select {
	case msg := <-raced:
		if msg != "" {
			t.Fatal(msg)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the flush after the sign-in never ran with the message queued")
	}
	bob.waitFor("the raced message", 30*time.Second, func() bool { return bob.bodies(alice.jid, securestore.Incoming)["raced-send"] > 0 })
	alice.allAtLeast(alice.send(bob.jid, "after", 1), securestore.ReceiptDelivered, 30*time.Second)
	if n := relay.upFramesWith(cutAt, m.OriginID); n != 1 {
		t.Fatalf("the raced message went out %d times on the new stream, want 1", n)
	}
}
