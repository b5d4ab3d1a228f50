package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rounds/escalation"
	"rounds/internal/testserver"
)

// TestSendEscalate: `rounds send --escalate` sends the STAT page, hands its
// ladder to the escalation service the published policy names, and exits 0
// once the service confirms; the service then holds the ladder (with the
// policy's steps) while no sender is online. Without a service answering,
// it exits 5 saying nothing escalates the page.
func TestSendEscalate(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei", "kim", "escalation", testserver.PubSubAdmin)
	policy := filepath.Join(t.TempDir(), "policy.xml")
	if err := os.WriteFile(policy, []byte(`<policy xmlns='urn:rounds:policy:0' version='1'><escalation after-seconds='300' service='`+
		srv.JID("escalation")+`'><step to='`+srv.JID("kim")+`'/></escalation></policy>`), 0o600); err != nil {
		t.Fatal(err)
	}
	adminArgs := append([]string{"admin", "publish-policy"}, botArgs(t, srv, testserver.PubSubAdmin, t.TempDir())...)
	if code, _, errOut := runCLI(t, "", append(adminArgs, policy)...); code != ExitOK {
		t.Fatalf("publish-policy: exit %d: %s", code, errOut)
	}
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", t.TempDir())...)
	args = append(args, "--to", srv.JID("dr.osei"), "--urgency", "stat", "--escalate")

	// No service running: no confirmation.
	code, _, errOut := runCLI(t, "K+ 7.2 bed 4", append(args, "--timeout", "3s")...)
	if code != ExitTimedOut || !strings.Contains(errOut, "did not confirm the escalation in time") {
		t.Fatalf("without a service: exit %d, stderr %q", code, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		done <- escalation.Run(ctx, escalation.Options{Dir: dir, URL: srv.WSURL(), Account: srv.JID("escalation"),
			Password: testserver.Password, Resource: "svc"})
	}()
	defer func() { cancel(); <-done }()
	code, _, errOut = runCLI(t, "K+ 7.3 bed 4", append(args, "--timeout", "60s")...)
	if code != ExitOK || !strings.Contains(errOut, "escalation held by "+srv.JID("escalation")) {
		t.Fatalf("with the service: exit %d, stderr %q", code, errOut)
	}
}
