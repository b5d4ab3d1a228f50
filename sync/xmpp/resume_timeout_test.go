package xmpp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rounds/internal/faultproxy"
	"rounds/internal/testserver"
)

// TestResumeUnansweredSignsInAfresh: a server that never answers <resume/>
// (ejabberd 23.01's surviving node, right after its peer was killed, crashed
// the resume and sent nothing; docs/ADMIN.md) must not hold the client until
// the caller's deadline: past ResumeTimeout, Resume gives the old session up
// and signs in afresh on a new socket, handing back what was never
// acknowledged. The relay swallows the <resume/> on its way to a real
// Prosody.
func TestResumeUnansweredSignsInAfresh(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	relay := faultproxy.StartRelay(s.WSURL())
	t.Cleanup(relay.Close)
	var acks ackLog
	cfg := baseConfig(s, "alice")
	cfg.URL = relay.URL()
	cfg.OnAcked = acks.add
	cfg.ResumeTimeout = time.Second
	down := make(chan struct{}, 2)
	cfg.OnDisconnect = func(error) { down <- struct{}{} }
	alice := dialT(t, cfg)
	if err := alice.Send(NewChat(s.JID("bob"), "before")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first ack", func() bool { return acks.count() == 1 })
	relay.OnUp(func(frame string) ([]string, []string) {
		if strings.Contains(frame, "<resume") {
			return nil, nil // swallowed: no answer, ever
		}
		return []string{frame}, nil
	})
	relay.Cut()
	<-down
	queued := NewChat(s.JID("bob"), "queued")
	if err := alice.Send(queued); err != nil {
		t.Fatal(err)
	}
	// The caller's own bound is far beyond ResumeTimeout: before the fix
	// Resume waited for it and returned context.DeadlineExceeded.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := alice.Resume(ctx)
	var rf *ResumeFailedError
	if !errors.As(err, &rf) || rf.Condition != "timeout" {
		t.Fatalf("resume with no answer: %v, want a ResumeFailedError (timeout)", err)
	}
	if len(rf.Unacked) != 1 || rf.Unacked[0] != queued {
		t.Fatalf("unacked = %d stanzas, want the one queued", len(rf.Unacked))
	}
	if !alice.Connected() {
		t.Fatal("not online on the fresh session")
	}
	if err := alice.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
