//go:build unix

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// foreignPeer signs user in with slixmpp, a client that does not speak
// Rounds, and answers the first message containing marker with replies,
// in order, half a second apart. The page's body as the client saw it is
// sent on the returned channel.
func foreignPeer(t *testing.T, srv *testserver.Server, user, marker string, replies ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	p, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID(user), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); p.Close() })
	seen := make(chan string, 1)
	go func() {
		e, err := p.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, marker) })
		if err != nil {
			t.Logf("%s: %v", user, err)
			close(seen)
			return
		}
		seen <- e.Body
		for i, r := range replies {
			time.Sleep(500 * time.Millisecond)
			if err := p.Send(xmpp.BareJID(e.From), r, fmt.Sprintf("reply-%d", i)); err != nil {
				t.Logf("%s: %v", user, err)
			}
		}
	}()
	return seen
}

// TestSendAckedByTextReply: a STAT page to a profanity-like client. The
// recipient sees how to acknowledge, answers "can't ack now" and "5 min"
// (reported on stderr, one line each, the wait goes on) and then "ack":
// `--wait ack` ends with exit 0 and says the acknowledgement came by text
// reply.
func TestSendAckedByTextReply(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "nurse.kim")
	seen := foreignPeer(t, srv, "nurse.kim", "K+ 6.9", "can't ack now", "5 min\nthen call", "ack")
	code, out, errOut := runCLI(t, "K+ 6.9 mmol/L, bed 4", sendArgs(t, srv, t.TempDir(),
		"--to", srv.JID("nurse.kim"), "--urgency", "stat", "--wait", "ack", "--timeout", "60s")...)
	if body := <-seen; body != "[STAT] K+ 6.9 mmol/L, bed 4\n"+`Reply "ACK" to acknowledge.` {
		t.Errorf("the recipient's client showed %q", body)
	}
	if code != ExitOK || !strings.HasPrefix(out, "acknowledged "+srv.JID("nurse.kim")+" ") || !strings.HasSuffix(out, " (by text reply)\n") {
		t.Fatalf("exit %d, stdout %q; want 0 and acknowledged … (by text reply)", code, out)
	}
	for _, want := range []string{`replied "can't ack now" at `, `replied "5 min\nthen call" at `} {
		if strings.Count(errOut, srv.JID("nurse.kim")+" "+want) != 1 {
			t.Errorf("stderr %q lacks one line %q", errOut, want)
		}
	}
	if strings.Contains(errOut, `replied "ack"`) {
		t.Errorf("the acknowledgement itself was reported as a reply: %q", errOut)
	}
}

// TestSendTextAckOffByPolicy: with the published policy's
// <text-ack allowed='false'/>, the page tells the reader to use Rounds, and
// a plain "ack" is reported but does not acknowledge: exit 5.
func TestSendTextAckOffByPolicy(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "lab.bot", "nurse.kim")
	policy := filepath.Join(t.TempDir(), "policy.xml")
	if err := os.WriteFile(policy, []byte("<policy xmlns='urn:rounds:policy:0' version='1'><text-ack allowed='false'/></policy>"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runCLI(t, "", append(append([]string{"admin", "publish-policy"}, adminArgs(t, srv, t.TempDir())...), policy)...); code != ExitOK {
		t.Fatalf("publish policy: exit %d", code)
	}
	seen := foreignPeer(t, srv, "nurse.kim", "Lactate", "ack")
	code, out, errOut := runCLI(t, "Lactate 6.1, bed 2", sendArgs(t, srv, t.TempDir(),
		"--to", srv.JID("nurse.kim"), "--urgency", "urgent", "--wait", "ack", "--timeout", "6s")...)
	if body := <-seen; body != "[URGENT] Lactate 6.1, bed 2\n"+xmpp.AckInstructionNoText {
		t.Errorf("the recipient's client showed %q", body)
	}
	if code != ExitTimedOut || strings.HasPrefix(out, "acknowledged") || !strings.Contains(errOut, `replied "ack" at `) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 5, the ack reported but not counted", code, out, errOut)
	}
}
