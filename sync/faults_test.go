package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"sync/atomic"
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
	return p, "ws://" + p.Addr() + srv.WSPath()
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
	// A message bob has already confirmed (delivered) can still wait on
	// alice's outbox for the server's stream-management ack that the last
	// cut swallowed: the resume (or the catch-up of a fresh sign-in) clears
	// it. So the outbox must empty, and whatever it resends on the way must
	// still leave every message once on both sides.
	alice.waitFor("alice's outbox empty", 30*time.Second, func() bool {
		out, err := alice.store.Outbox()
		return err == nil && len(out) == 0
	})
	time.Sleep(500 * time.Millisecond) // a resend in flight lands
	expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), "a2b", n)
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Incoming), "b2a", n)
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Outgoing), "a2b", n)
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
	testserver.EachServer(t, testResumeRefusedCatchesUpFromArchive)
}

func testResumeRefusedCatchesUpFromArchive(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{HibernationSeconds: 1}, "alice", "bob")
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
	if !waitUntil(60*time.Second, alice, func() bool { return len(alice.bodies(bob.jid, securestore.Incoming)) >= n }) {
		explainMissing(t, srv, alice, bob.jid, "while-away", n)
		t.Fatalf("catch-up: %d of %d stored (state %v)", len(alice.bodies(bob.jid, securestore.Incoming)), n, alice.session.State())
	}
	expectExactlyOnce(t, alice.bodies(bob.jid, securestore.Incoming), "while-away", n)
	alice.allAtLeast(queued, securestore.ReceiptSent, 30*time.Second)
	bob.waitFor("queued messages", 30*time.Second, func() bool { return len(bob.bodies(alice.jid, securestore.Incoming)) >= 10 })
	expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), "queued-offline", 10)
}

// lostInFlight makes n messages from from to d lost on d's socket: the proxy
// swallows d's traffic while from sends them, the server takes each (its
// stream-management ack), and then d's socket is cut. Each message is then
// in d's archive and nowhere else on d's side. It runs inside a Session hook,
// off the test goroutine, so it reports with Errorf.
func lostInFlight(t *testing.T, p *faultproxy.Proxy, from *device, to, prefix string, n int) {
	p.Blackhole(true)
	defer p.Blackhole(false)
	ids := make([]securestore.MessageID, 0, n)
	for i := range n {
		m, err := from.session.Send(to, fmt.Sprintf("%s-%04d", prefix, i), SendOptions{})
		if err != nil {
			t.Errorf("send %s: %v", prefix, err)
			return
		}
		ids = append(ids, m.ID)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for {
			m, err := from.store.Message(id)
			if err == nil && m.Receipt.State >= securestore.ReceiptSent {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: the server did not take the messages sent while the socket was swallowed", prefix)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	p.Cut()
}

// smState reports the stream-management state of s's current stream.
func smState(s *Session) (enabled, resumable bool) {
	if c := s.currentClient(); c != nil {
		return c.StreamManagement()
	}
	return false, false
}

// TestCutDuringCatchUpLosesNothing: the archive is read before stream
// management is enabled (so the server keeps no resend copy of each result),
// which leaves that part of the stream unresumable. Live messages arrive
// during the catch-up: some are delivered, some are lost on the wire when
// the socket is cut between two pages (after the second). The fresh sign-in reads on from the
// last committed page, and everything is stored exactly once.
func TestCutDuringCatchUpLosesNothing(t *testing.T) {
	testserver.EachServer(t, testCutDuringCatchUpLosesNothing)
}

func testCutDuringCatchUpLosesNothing(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	bob := startDevice(t, srv, "bob", deviceOptions{})
	const live, lost = 20, 20
	n := 300
	if k == testserver.Ejabberd {
		n = 150 // ejabberd's Mnesia archive grows slower per message (crash_test.go)
	}
	ids := bob.send(srv.JID("alice"), "archived", n)
	bob.allAtLeast(ids, securestore.ReceiptSent, 60*time.Second)

	pa, urlA := proxiedURL(t, srv)
	var pages int // the page writer's own
	var smDuringCatchUp atomic.Bool
	alice := startDevice(t, srv, "alice", deviceOptions{url: urlA, catchUpPage: 50, beforeRun: func(s *Session) {
		s.pageCommitted = func(int) {
			pages++
			switch pages {
			case 1:
				// Delivered live during the catch-up, and archived too.
				on, _ := smState(s)
				smDuringCatchUp.Store(on)
				ids := make([]securestore.MessageID, 0, live)
				for i := range live {
					m, err := bob.session.Send(s.account, fmt.Sprintf("live-%04d", i), SendOptions{})
					if err != nil {
						t.Errorf("send live: %v", err)
						return
					}
					ids = append(ids, m.ID)
				}
				deadline := time.Now().Add(30 * time.Second)
				for _, id := range ids {
					for m, err := bob.store.Message(id); err != nil || m.Receipt.State < securestore.ReceiptSent; m, err = bob.store.Message(id) {
						if time.Now().After(deadline) {
							t.Errorf("live messages not taken by the server")
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
				}
			case 2:
				lostInFlight(t, pa, bob, s.account, "lost", lost)
			}
		}
	}})
	if !waitUntil(60*time.Second, alice, func() bool { return len(alice.bodies(bob.jid, securestore.Incoming)) >= n+live+lost }) {
		explainMissing(t, srv, alice, bob.jid, "archived", n)
		explainMissing(t, srv, alice, bob.jid, "live", live)
		explainMissing(t, srv, alice, bob.jid, "lost", lost)
		t.Fatalf("everything: %d of %d stored (state %v)", len(alice.bodies(bob.jid, securestore.Incoming)), n+live+lost, alice.session.State())
	}
	got := alice.bodies(bob.jid, securestore.Incoming)
	expectExactlyOnce(t, got, "archived", n)
	expectExactlyOnce(t, got, "live", live)
	expectExactlyOnce(t, got, "lost", lost)
	if smDuringCatchUp.Load() {
		t.Fatal("stream management was on while the archive was read: the server kept a resend copy of every result")
	}
	if pa.Accepted() < 2 {
		t.Fatalf("the cut did not force a new sign-in (accepted %d)", pa.Accepted())
	}
	if on, res := smState(alice.session); !on || !res {
		t.Fatalf("after setup stream management is on=%v resumable=%v, want both", on, res)
	}
}

// TestCutBeforeStreamManagement: the catch-up is complete, stream
// management not yet enabled, and live messages are lost on the wire when the
// socket is cut. They are in the archive after the cursor, so the fresh
// sign-in's catch-up stores them.
func TestCutBeforeStreamManagement(t *testing.T) {
	testserver.EachServer(t, testCutBeforeStreamManagement)
}

func testCutBeforeStreamManagement(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	bob := startDevice(t, srv, "bob", deviceOptions{})
	const n, lost = 60, 20
	ids := bob.send(srv.JID("alice"), "archived", n)
	bob.allAtLeast(ids, securestore.ReceiptSent, 30*time.Second)
	pa, urlA := proxiedURL(t, srv)
	var once gosync.Once
	var smBefore atomic.Bool
	alice := startDevice(t, srv, "alice", deviceOptions{url: urlA, beforeRun: func(s *Session) {
		s.beforeSM = func() {
			once.Do(func() {
				on, _ := smState(s)
				smBefore.Store(on)
				lostInFlight(t, pa, bob, s.account, "lost", lost)
			})
		}
	}})
	alice.waitFor("everything", 60*time.Second, func() bool { return len(alice.bodies(bob.jid, securestore.Incoming)) >= n+lost })
	got := alice.bodies(bob.jid, securestore.Incoming)
	expectExactlyOnce(t, got, "archived", n)
	expectExactlyOnce(t, got, "lost", lost)
	if smBefore.Load() {
		t.Fatal("stream management was on before setup enabled it")
	}
	if pa.Accepted() < 2 {
		t.Fatalf("the cut did not force a new sign-in (accepted %d)", pa.Accepted())
	}
}

// TestCutAfterStreamManagement: right after setup enabled stream
// management, live messages are lost on the wire and the socket is cut. The
// stream resumes and the server sends them again; nothing is read twice.
func TestCutAfterStreamManagement(t *testing.T) {
	testserver.EachServer(t, testCutAfterStreamManagement)
}

func testCutAfterStreamManagement(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	bob := startDevice(t, srv, "bob", deviceOptions{})
	const n, lost = 60, 20
	ids := bob.send(srv.JID("alice"), "archived", n)
	bob.allAtLeast(ids, securestore.ReceiptSent, 30*time.Second)
	pa, urlA := proxiedURL(t, srv)
	var once gosync.Once
	var smOn, smResumable atomic.Bool
	var catchUps atomic.Int32
	alice := startDevice(t, srv, "alice", deviceOptions{url: urlA, beforeRun: func(s *Session) {
		s.beforeSM = func() { catchUps.Add(1) }
		s.afterSM = func() {
			once.Do(func() {
				on, res := smState(s)
				smOn.Store(on)
				smResumable.Store(res)
				lostInFlight(t, pa, bob, s.account, "lost", lost)
			})
		}
	}})
	alice.waitFor("everything", 60*time.Second, func() bool { return len(alice.bodies(bob.jid, securestore.Incoming)) >= n+lost })
	got := alice.bodies(bob.jid, securestore.Incoming)
	expectExactlyOnce(t, got, "archived", n)
	expectExactlyOnce(t, got, "lost", lost)
	if !smOn.Load() || !smResumable.Load() {
		t.Fatalf("after enabling: stream management on=%v resumable=%v, want both", smOn.Load(), smResumable.Load())
	}
	alice.waitOnline()
	if pa.Accepted() < 2 {
		t.Fatalf("the cut did not force a reconnect (accepted %d)", pa.Accepted())
	}
	if n := catchUps.Load(); n != 1 {
		t.Fatalf("setup ran %d times; the cut after enabling should have been resumed, not signed in afresh", n)
	}
}

// TestInviteNotSentBeforeStreamManagement: an invitation is a stanza outside
// the Outbox, so one written in the window before setup enables stream
// management is lost for good if the socket is cut before the server read
// it, while InviteToRoom had reported it sent. In that window InviteToRoom
// says ErrNotConnected (the user tries again once online); once online the
// invitation goes on the managed stream and arrives. CreateRoom, whose
// invitations usually follow, waits likewise.
func TestInviteNotSentBeforeStreamManagement(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()
	room := "icu-window@conference." + srv.Domain
	phone := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	if err := phone.session.CreateRoom(ctx, room, "alice", "ICU team", nil); err != nil {
		t.Fatal(err)
	}
	bob := startDevice(t, srv, "bob", deviceOptions{})
	inWindow := make(chan error, 1)
	var once gosync.Once
	desk := startDevice(t, srv, "alice", deviceOptions{resource: "desk", beforeRun: func(s *Session) {
		s.beforeSM = func() {
			once.Do(func() {
				ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if err := s.CreateRoom(ictx, "icu-other@conference."+srv.Domain, "alice", "ICU", nil); !errors.Is(err, ErrNotConnected) {
					t.Errorf("CreateRoom before stream management: %v, want ErrNotConnected (its invitations could not go out)", err)
				}
				inWindow <- s.InviteToRoom(ictx, room, srv.JID("bob"), "ICU")
			})
		}
	}})
	select {
	case err := <-inWindow:
		if !errors.Is(err, ErrNotConnected) {
			t.Fatalf("InviteToRoom before stream management: %v, want ErrNotConnected (an unmanaged invitation is lost on a cut)", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("setup did not reach stream management")
	}
	desk.waitOnline()
	if err := desk.session.InviteToRoom(ctx, room, bob.jid, "ICU"); err != nil {
		t.Fatalf("InviteToRoom online: %v", err)
	}
	bob.waitFor("the invitation", 30*time.Second, func() bool {
		inv, _ := bob.session.Invitations()
		return len(inv) == 1 && inv[0].Room == room
	})
}
