package sync

import (
	"strings"
	"testing"
	"time"

	"rounds/internal/faultproxy"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// proxiedURL routes a device's WebSocket through a fault proxy.
func proxiedURL(t *testing.T, srv *testserver.Server) (*faultproxy.Proxy, string) {
	t.Helper()
	p, err := faultproxy.Start(strings.TrimPrefix(srv.HTTPURL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, "ws://" + p.Addr() + "/xmpp-websocket"
}

// TestSocketCutMidStream cuts the sender's and the receiver's sockets again
// and again while hundreds of messages are in flight both ways. Stream
// management resumes; nothing is lost and nothing is stored twice.
func TestSocketCutMidStream(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	pa, urlA := proxiedURL(t, srv)
	pb, urlB := proxiedURL(t, srv)
	alice := startDevice(t, srv, "alice", deviceOptions{url: urlA})
	bob := startDevice(t, srv, "bob", deviceOptions{url: urlB})

	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 6; i++ {
			time.Sleep(40 * time.Millisecond)
			if i%2 == 0 {
				pa.Cut()
			} else {
				pb.Cut()
			}
		}
	}()
	idsA := alice.send(bob.jid, "a2b", n)
	idsB := bob.send(alice.jid, "b2a", n)
	<-done

	bob.waitFor("all of alice's messages", 60*time.Second, func() bool { return len(bob.bodies(alice.jid, securestore.Incoming)) >= n })
	alice.waitFor("all of bob's messages", 60*time.Second, func() bool { return len(alice.bodies(bob.jid, securestore.Incoming)) >= n })
	alice.allAtLeast(idsA, securestore.ReceiptSent, 30*time.Second)
	bob.allAtLeast(idsB, securestore.ReceiptSent, 30*time.Second)
	expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), "a2b", n)
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Incoming), "b2a", n)
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Outgoing), "a2b", n)
	if out, _ := alice.store.Outbox(); len(out) != 0 {
		t.Fatalf("alice's outbox still holds %d messages", len(out))
	}
	if pa.Accepted() < 2 || pb.Accepted() < 2 {
		t.Fatalf("cuts did not force reconnects (accepted %d, %d)", pa.Accepted(), pb.Accepted())
	}
}

// TestServerRestart restarts Prosody while both sides send. The server forgets
// every session, so resumption is refused: the Session signs in afresh, catches
// up from the archive and resends its outbox with the same origin-ids.
func TestServerRestart(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})

	const n = 200
	idsA := alice.send(bob.jid, "before", n)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	idsA = append(idsA, alice.send(bob.jid, "after", n)...)
	bob.waitFor("all messages", 90*time.Second, func() bool { return len(bob.bodies(alice.jid, securestore.Incoming)) >= 2*n })
	alice.allAtLeast(idsA, securestore.ReceiptSent, 60*time.Second)
	got := bob.bodies(alice.jid, securestore.Incoming)
	expectExactlyOnce(t, got, "before", n)
	expectExactlyOnce(t, got, "after", n)
}

// TestResumeRefusedCatchesUpFromArchive: alice's socket dies silently and
// stays dead longer than the server keeps her session. Messages sent to her in
// that time exist only in her archive; the fresh sign-in must fetch them.
func TestResumeRefusedCatchesUpFromArchive(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{HibernationSeconds: 1}, "alice", "bob")
	pa, urlA := proxiedURL(t, srv)
	alice := startDevice(t, srv, "alice", deviceOptions{url: urlA})
	bob := startDevice(t, srv, "bob", deviceOptions{})

	pa.Refuse(true)
	pa.Cut()
	alice.waitFor("offline", 10*time.Second, func() bool { return alice.session.State().Connectivity != Online })
	const n = 150
	bob.send(alice.jid, "while-away", n)
	queued := alice.send(bob.jid, "queued-offline", 10)
	time.Sleep(2500 * time.Millisecond) // beyond the 1 s hibernation
	pa.Refuse(false)
	alice.waitOnline()
	alice.waitFor("catch-up", 60*time.Second, func() bool { return len(alice.bodies(bob.jid, securestore.Incoming)) >= n })
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Incoming), "while-away", n)
	alice.allAtLeast(queued, securestore.ReceiptSent, 30*time.Second)
	bob.waitFor("queued messages", 30*time.Second, func() bool { return len(bob.bodies(alice.jid, securestore.Incoming)) >= 10 })
	expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), "queued-offline", 10)
}
