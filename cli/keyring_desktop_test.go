//go:build unix && !android && !ios

package cli

import (
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"rounds/internal/testserver"
)

// TestKeyringSecret: `rounds secret set` files the bot's password (from
// stdin) in the OS keyring, and `send --keyring` signs in with it. The
// keyring is go-keyring's in-memory mock (a platform service); the server is
// real.
func TestKeyringSecret(t *testing.T) {
	keyring.MockInit()
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	base := []string{"send", "--account", srv.JID("lab.bot"), "--keyring", "--server", srv.WSURL(),
		"--state-dir", t.TempDir(), "--to", srv.JID("dr.osei")}
	if code, _, errOut := runCLI(t, "hello", base...); code != ExitUsage || !strings.Contains(errOut, "rounds secret set --account "+srv.JID("lab.bot")) {
		t.Fatalf("nothing filed: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCLI(t, testserver.Password+"\n", "secret", "set", "--account", srv.JID("lab.bot")); code != ExitOK {
		t.Fatalf("secret set: exit %d", code)
	}
	if code, out, _ := runCLI(t, "hello", base...); code != ExitOK || !strings.HasPrefix(out, "sent ") {
		t.Fatalf("send --keyring: exit %d, %q", code, out)
	}
	if code, _, errOut := runCLI(t, "hello", append(base, "--secret-file", "x")...); code != ExitUsage || !strings.Contains(errOut, "not both") {
		t.Fatalf("both sources: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "secret", "set", "--account", srv.JID("lab.bot")); code != ExitUsage {
		t.Fatalf("empty stdin: exit %d", code)
	}
}
