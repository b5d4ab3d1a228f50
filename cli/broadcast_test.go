//go:build unix

package cli

import (
	"strings"
	"testing"

	"rounds/internal/testserver"
)

// TestSendBroadcast: `rounds send --broadcast` sends one message to each
// person (each reads it as a plain message), waits for each, and prints one
// line per recipient; with one of them offline it exits 5 after saying
// who reached what.
func TestSendBroadcast(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei", "nurse.kim", "dr.lee")
	osei := startPeer(t, srv, "dr.osei", read)
	kim := startPeer(t, srv, "nurse.kim", read)
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", t.TempDir())...)
	list := srv.JID("dr.osei") + "," + srv.JID("nurse.kim") + ", " + srv.JID("dr.lee")
	args = append(args, "--broadcast", list, "--wait", "read", "--timeout", "5s")
	code, out, errOut := runCLI(t, "Ward 7 fire drill at 15:00\n", args...)
	if code != ExitTimedOut {
		t.Fatalf("exit %d (stderr %q), want %d: dr.lee is offline", code, errOut, ExitTimedOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "read "+srv.JID("dr.osei")+" ") ||
		!strings.HasPrefix(lines[1], "read "+srv.JID("nurse.kim")+" ") || !strings.HasPrefix(lines[2], "sent "+srv.JID("dr.lee")+" ") {
		t.Fatalf("stdout %q", out)
	}
	if !strings.Contains(errOut, "broadcast b-") || !strings.Contains(errOut, "to 3 people") {
		t.Fatalf("stderr %q", errOut)
	}
	for _, p := range []*peer{osei, kim} {
		ms := p.messages()
		if len(ms) != 1 || ms[0].Body != "Ward 7 fire drill at 15:00" {
			t.Fatalf("peer got %+v", ms)
		}
	}
	base := args[: len(args)-6 : len(args)-6]
	if code, _, errOut := runCLI(t, "x", append(base, "--broadcast", "not an address")...); code != ExitUsage {
		t.Fatalf("a bad address exits %d (%q), want %d", code, errOut, ExitUsage)
	}
	if code, _, errOut := runCLI(t, "x", append(base, "--broadcast", srv.JID("dr.osei"), "--order")...); code != ExitRefused {
		t.Fatalf("an order broadcast exits %d (%q), want %d", code, errOut, ExitRefused)
	}
}
