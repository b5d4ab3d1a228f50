//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// TestMain doubles as the headless sender run inside the cluster's clients'
// namespace (TestSendWaitAckClusterFailover): with ROUNDS_CLI_CHILD set, the
// test binary is `rounds` with those arguments and nothing else.
func TestMain(m *testing.M) {
	if raw := os.Getenv("ROUNDS_CLI_CHILD"); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			os.Exit(2)
		}
		os.Exit(Main(context.Background(), args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSendWaitAckClusterFailover: `rounds send --urgency stat --wait ack`,
// given both nodes of a two-node ejabberd cluster (--server with two URLs,
// node 1 first), runs in the clients' network namespace. The node it is on
// is SIGKILLed as soon as the doctor's phone (on node 2) has the page, and
// the doctor acknowledges: node 1 is dead by then, so the sender can only
// learn the acknowledgement through node 2, and it exits 0 with it.
func TestSendWaitAckClusterFailover(t *testing.T) {
	testserver.NeedCluster(t)
	cl := testserver.StartEjabberdClusterT(t, 2, "lab.bot", "dr.osei")
	urls := cl.WSSURLs()
	ack := respond(sync.ResponseAck)
	killed := make(chan struct{})
	startPeerAt(t, xmpp.Config{URL: urls[1], Alternates: urls[:1], HTTPClient: cl.HTTPClient(), JID: cl.JID("dr.osei"),
		Resource: "phone", Credentials: xmpp.Credentials{Password: testserver.Password}},
		func(p *peer, m securestore.Message) {
			cl.Kill(0)
			close(killed)
			ack(p, m)
		})
	args := []string{"send", "--account", cl.JID("lab.bot"), "--secret-file", secretFile(t, testserver.Password, 0o600),
		"--server", strings.Join(cl.WSSNames(), " "), "--ca-file", cl.Nodes[0].CertFile(), "--state-dir", t.TempDir(),
		"--to", cl.JID("dr.osei"), "--urgency", "stat", "--wait", "ack", "--timeout", "120s"}
	raw, _ := json.Marshal(args)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := cl.Command(self)
	cmd.Env = append(os.Environ(), "ROUNDS_CLI_CHILD="+string(raw))
	cmd.Stdin = strings.NewReader("K+ 6.9 mmol/L, bed 4")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	t.Logf("rounds send → %v in %v\nstdout: %s\nstderr: %s", err, time.Since(start).Round(time.Millisecond), out.String(), errb.String())
	select {
	case <-killed:
	default:
		t.Fatal("the page never reached the doctor, so node 1 was never killed")
	}
	if err != nil || !strings.HasPrefix(out.String(), "acknowledged "+cl.JID("dr.osei")+" ") {
		t.Fatalf("exit %v, stdout %q; want 0 and acknowledged", err, out.String())
	}
}
