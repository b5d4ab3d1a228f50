package xmpp

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"rounds/internal/testserver"
)

type ackLog struct {
	mu  sync.Mutex
	ids []string
}

func (a *ackLog) add(st *Element) { a.mu.Lock(); a.ids = append(a.ids, st.ID()); a.mu.Unlock() }
func (a *ackLog) count() int      { a.mu.Lock(); defer a.mu.Unlock(); return len(a.ids) }

func countBodies(b *inbox, prefix string) (distinct, total int) {
	seen := map[string]bool{}
	for _, m := range b.snapshot() {
		if len(m.Body) >= len(prefix) && m.Body[:len(prefix)] == prefix {
			total++
			seen[m.Body] = true
		}
	}
	return len(seen), total
}

// TestStreamResumeNoLossNoDuplicate cuts alice's TCP connection in the middle of
// traffic both ways, resumes, and checks that every stanza arrived exactly once
// and every one of alice's was acknowledged exactly once.
func TestStreamResumeNoLossNoDuplicate(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{SCRAMSHA256: true}, "alice", "bob")
	var cut cutter
	var acks ackLog
	var aliceBox, bobBox inbox
	disconnected := make(chan error, 4)
	acfg := baseConfig(s, "alice")
	acfg.HTTPClient = cut.client(s)
	acfg.OnAcked = acks.add
	acfg.OnMessage = aliceBox.add
	acfg.OnDisconnect = func(err error) { disconnected <- err }
	alice := dialT(t, acfg)
	bcfg := baseConfig(s, "bob")
	bcfg.OnMessage = bobBox.add
	bob := dialT(t, bcfg)
	for _, c := range []*Client{alice, bob} {
		if err := c.SetPresence(ShowAvailable, ""); err != nil {
			t.Fatal(err)
		}
	}
	const n = 200
	sent := map[string]bool{}
	for i := 0; i < n; i++ {
		if i == n/2 {
			cut.cut()
			select {
			case <-disconnected:
			case <-time.After(5 * time.Second):
				t.Fatal("no disconnect event")
			}
			// While alice is away, bob talks to her: the server must hold it.
			for j := 0; j < 50; j++ {
				if err := bob.Send(NewChat(alice.JID().String(), fmt.Sprintf("to-alice %d", j))); err != nil {
					t.Fatal(err)
				}
			}
		}
		m := NewChat(s.JID("bob"), fmt.Sprintf("to-bob %d", i))
		sent[m.ID()] = true
		if err := alice.Send(m); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i == n/2+10 {
			if err := alice.Resume(ctxT(t)); err != nil {
				t.Fatalf("resume: %v", err)
			}
		}
	}
	// Like the engine: if the socket drops again, resume again; if that fails,
	// resend what was never acknowledged (same origin-ids) on the fresh session.
	// Prosody 0.12 sometimes closes a just-resumed stream with not-well-formed
	// when we reconnect within milliseconds of the cut (about 1 run in 6; the
	// old socket's unread tail seems to be parsed into the resumed session).
	// Then the server may have delivered stanzas it never acknowledged, and the
	// recipient sees them twice with the same origin-id: the engine dedupes them.
	fellBack := false
	waitFor(t, "all acks", func() bool {
		select {
		case err := <-disconnected:
			t.Logf("dropped again (%v); resuming", err)
			err = alice.Resume(ctxT(t))
			var rf *ResumeFailedError
			if errors.As(err, &rf) {
				fellBack = true
				for _, st := range rf.Unacked {
					if err := alice.Send(st); err != nil {
						t.Fatal(err)
					}
				}
			} else if err != nil {
				t.Fatalf("second resume: %v", err)
			}
		default:
		}
		return acks.count() >= n
	})
	waitFor(t, "bob got all", func() bool { d, _ := countBodies(&bobBox, "to-bob "); return d == n })
	time.Sleep(300 * time.Millisecond) // let any duplicate show up
	byOrigin := map[string]int{}
	for _, m := range bobBox.snapshot() {
		if m.OriginID == "" || !sent[m.OriginID] {
			t.Fatalf("message without our origin-id: %+v", m)
		}
		byOrigin[m.OriginID]++
	}
	if d, tot := countBodies(&bobBox, "to-bob "); d != n || (!fellBack && tot != n) {
		t.Fatalf("bob: %d distinct, %d total, want %d (fell back: %v)", d, tot, n, fellBack)
	}
	if !fellBack {
		waitFor(t, "alice got all", func() bool { d, _ := countBodies(&aliceBox, "to-alice "); return d == 50 })
		if d, tot := countBodies(&aliceBox, "to-alice "); d != 50 || tot != 50 {
			t.Fatalf("alice: %d distinct, %d total", d, tot)
		}
	} else {
		t.Log("resume failed after a second drop: inbound messages are the engine's MAM catch-up's job")
	}
	acked := map[string]int{}
	for _, id := range acks.ids {
		acked[id]++
	}
	for id := range sent {
		if acked[id] != 1 && !(fellBack && acked[id] == 2) {
			t.Fatalf("stanza %s acked %d times", id, acked[id])
		}
	}
	if len(alice.Unacked()) != 0 {
		t.Fatalf("%d still unacked", len(alice.Unacked()))
	}
}

// TestResumeFailedHandsBackUnacked: after a server restart the old session is
// gone; Resume starts a fresh one and hands back what was never acknowledged.
func TestResumeFailedHandsBackUnacked(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{SCRAMSHA256: true}, "alice", "bob")
	var cut cutter
	var acks ackLog
	acfg := baseConfig(s, "alice")
	acfg.HTTPClient = cut.client(s)
	acfg.OnAcked = acks.add
	down := make(chan struct{}, 2)
	acfg.OnDisconnect = func(error) { down <- struct{}{} }
	alice := dialT(t, acfg)
	first := NewChat(s.JID("bob"), "before")
	if err := alice.Send(first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first ack", func() bool { return acks.count() == 1 })
	cut.cut()
	<-down
	var queued []*Element
	for i := 0; i < 3; i++ {
		m := NewChat(s.JID("bob"), fmt.Sprintf("queued %d", i))
		queued = append(queued, m)
		if err := alice.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	err := alice.Resume(ctxT(t))
	var rf *ResumeFailedError
	if !errors.Is(err, ErrResumeFailed) || !errors.As(err, &rf) {
		t.Fatalf("resume: %v", err)
	}
	if len(rf.Unacked) != 3 || rf.Unacked[0] != queued[0] || rf.Unacked[2] != queued[2] {
		t.Fatalf("unacked = %d stanzas", len(rf.Unacked))
	}
	if !alice.Connected() {
		t.Fatal("not online on the fresh session")
	}
	// The engine resends them on the fresh session; bob gets them from offline storage.
	for _, m := range rf.Unacked {
		if err := alice.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "resent acks", func() bool { return acks.count() == 4 })
	var bobBox inbox
	bcfg := baseConfig(s, "bob")
	bcfg.OnMessage = bobBox.add
	bob := dialT(t, bcfg)
	if err := bob.SetPresence(ShowAvailable, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "offline delivery", func() bool { d, _ := countBodies(&bobBox, "queued "); return d == 3 })
	if err := alice.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// TestResumeAfterLostAckRequest: the socket dies while an <r/> is
// outstanding (its <a/> is lost with the socket) and the resumed session has
// nothing left to replay. The next stanza must still ask for an ack: a stale
// "request outstanding" flag would silence every <r/> on the resumed stream,
// and no message sent on it would ever be marked sent. Found by TestModel
// (sync/model_test.go, seed 1: delivered messages stuck on the Outbox).
func TestResumeAfterLostAckRequest(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	var cut cutter
	var acks ackLog
	acfg := baseConfig(s, "alice")
	acfg.HTTPClient = cut.client(s)
	acfg.OnAcked = acks.add
	down := make(chan struct{}, 2)
	acfg.OnDisconnect = func(error) { down <- struct{}{} }
	alice := dialT(t, acfg)
	if err := alice.Send(NewChat(s.JID("bob"), "before")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first ack", func() bool { return acks.count() == 1 })
	// The state the race leaves behind: an <r/> went out on the old socket
	// and its answer never came. (Reproducing the race itself takes a cut in
	// the microseconds between the server's <a/> and our read of it.)
	alice.mu.Lock()
	alice.sm.requested = true
	alice.mu.Unlock()
	cut.cut()
	<-down
	if err := alice.Resume(ctxT(t)); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if err := alice.Send(NewChat(s.JID("bob"), "after")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ack of the message sent after resuming", func() bool { return acks.count() == 2 })
}

// TestLateStreamManagement: a session started with LateStreamManagement is
// unmanaged until EnableStreamManagement; then it is managed from that point
// of the stream on. What either side sent before is not counted: our h
// matches the server's count, so a cut after enabling resumes and the server
// replays exactly what we had not received, and only our later stanzas are
// acknowledged. On both servers.
func TestLateStreamManagement(t *testing.T) {
	t.Run("prosody", func(t *testing.T) {
		lateStreamManagement(t, testserver.StartT(t, testserver.Options{}, "alice", "bob"))
	})
	t.Run("ejabberd", func(t *testing.T) {
		testserver.NeedEjabberd(t)
		lateStreamManagement(t, testserver.StartEjabberdT(t, testserver.Options{}, "alice", "bob"))
	})
}

func lateStreamManagement(t *testing.T, s *testserver.Server) {
	var cut cutter
	var acks ackLog
	var aliceBox, bobBox inbox
	down := make(chan struct{}, 2)
	acfg := baseConfig(s, "alice")
	acfg.LateStreamManagement = true
	acfg.HTTPClient = cut.client(s)
	acfg.OnAcked = acks.add
	acfg.OnMessage = aliceBox.add
	acfg.OnDisconnect = func(error) { down <- struct{}{} }
	alice := dialT(t, acfg)
	bcfg := baseConfig(s, "bob")
	bcfg.OnMessage = bobBox.add
	bob := dialT(t, bcfg)
	for _, c := range []*Client{alice, bob} {
		if err := c.SetPresence(ShowAvailable, ""); err != nil {
			t.Fatal(err)
		}
	}
	if on, _ := alice.StreamManagement(); on {
		t.Fatal("stream management on before EnableStreamManagement")
	}
	send := func(from *Client, to, prefix string, n int) []string {
		var ids []string
		for i := range n {
			m := NewChat(to, fmt.Sprintf("%s %d", prefix, i))
			ids = append(ids, m.ID())
			if err := from.Send(m); err != nil {
				t.Fatal(err)
			}
		}
		return ids
	}
	unmanaged := send(alice, s.JID("bob"), "unmanaged", 5)
	send(bob, s.JID("alice"), "early", 5)
	waitFor(t, "early messages", func() bool { d, _ := countBodies(&aliceBox, "early "); return d == 5 })
	if err := alice.EnableStreamManagement(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if on, res := alice.StreamManagement(); !on || !res {
		t.Fatalf("after EnableStreamManagement: on=%v resumable=%v", on, res)
	}
	if err := alice.EnableStreamManagement(ctxT(t)); err != nil {
		t.Fatalf("a second call: %v", err)
	}
	managed := send(alice, s.JID("bob"), "managed", 5)
	waitFor(t, "acks of the managed messages", func() bool { return acks.count() == 5 })
	acks.mu.Lock()
	got := append([]string(nil), acks.ids...)
	acks.mu.Unlock()
	for i := range managed {
		if got[i] != managed[i] {
			t.Fatalf("acked %v, want the managed messages %v", got, managed)
		}
	}
	send(bob, s.JID("alice"), "live", 5)
	waitFor(t, "live messages", func() bool { d, _ := countBodies(&aliceBox, "live "); return d == 5 })
	cut.cut()
	<-down
	send(bob, s.JID("alice"), "while-cut", 5)
	if err := bob.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := alice.Resume(ctxT(t)); err != nil {
		t.Fatalf("resume after a late enable: %v", err)
	}
	waitFor(t, "messages sent while cut", func() bool { d, _ := countBodies(&aliceBox, "while-cut "); return d == 5 })
	if err := alice.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"early ", "live ", "while-cut "} {
		if d, n := countBodies(&aliceBox, p); d != 5 || n != 5 {
			t.Fatalf("%q: %d distinct of %d received, want 5 once each", p, d, n)
		}
	}
	acks.mu.Lock()
	defer acks.mu.Unlock()
	for _, id := range acks.ids {
		for _, u := range unmanaged {
			if id == u {
				t.Fatalf("message %s sent before EnableStreamManagement was acknowledged", id)
			}
		}
	}
}
