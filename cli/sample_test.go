package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSampleRotaResolvesNow: the sample rota `rounds admin sample` writes
// passes the publishing checks and has a holder for every role now, with
// the domain's addresses (issue 19: the old sample was dated in the past and
// every page to a role was refused).
func TestSampleRotaResolvesNow(t *testing.T) {
	dir := t.TempDir()
	if code, _, _ := runCLI(t, "", "admin", "sample", "--domain", "hospital.example", "--write", dir); code != ExitOK {
		t.Fatalf("sample: exit %d", code)
	}
	fh, err := os.Open(filepath.Join(dir, "oncall.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	shifts, err := readSchedule("oncall.csv", fh)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Now(), time.Now().Add(23 * time.Hour)} {
		if empty := uncoveredRoles(shifts, at); len(empty) != 0 {
			t.Fatalf("at %v nobody holds %v", at, empty)
		}
	}
	for _, s := range shifts {
		if !strings.HasSuffix(s.JID, "@hospital.example") {
			t.Fatalf("shift holder %q is not a hospital.example address", s.JID)
		}
	}
	code, out, _ := runCLI(t, "", "admin", "publish-policy", "--dry-run", filepath.Join(dir, "policy.xml"))
	if code != ExitOK || !strings.Contains(out, "it.admin@hospital.example") {
		t.Fatalf("sample policy: exit %d, %s", code, out)
	}
}

// TestPublishOnCallWarnsWhenNobodyHoldsARole: a rota valid but not covering
// now (docs/examples' is dated 2026-11-23) is published with a warning naming
// the roles, since pages to them are refused until a shift covers them.
func TestPublishOnCallWarnsWhenNobodyHoldsARole(t *testing.T) {
	code, _, errOut := runCLI(t, "", "admin", "publish-oncall", "--dry-run", "../docs/examples/oncall.csv")
	if code != ExitOK || !strings.Contains(errOut, "nobody holds Cardiology on call, Charge nurse ICU now") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TestServerConfigRefuses: a page size below what the engine asks for, a
// domain with a quote (it would break out of the Lua string) and an unknown
// server are refused before anything is written.
func TestServerConfigRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"--domain", "hospital.example", "--archive-page", "50"},
		{"--domain", `hospital".example`},
		{"--domain", "hospital.example", "--server", "openfire"},
		{"--domain", "hospital.example", "--data-dir", "relative/path"},
	} {
		code, out, _ := runCLI(t, "", append([]string{"admin", "server-config"}, args...)...)
		if code != ExitUsage || out != "" {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
	for _, server := range []string{"prosody", "ejabberd"} {
		code, out, _ := runCLI(t, "", "admin", "server-config", "--server", server, "--domain", "hospital.example",
			"--public-host", "chat.hospital.example", "--behind-proxy")
		if code != ExitOK || !strings.Contains(out, "wss://chat.hospital.example/") {
			t.Errorf("%s: exit %d", server, code)
		}
	}
}

// TestGeneratedFilesNeverReplaced: `admin sample` and `admin server-config
// --write` run again into a folder holding an edited policy or a live
// configuration refuse and leave every file as it was (nothing written);
// --force replaces them.
func TestGeneratedFilesNeverReplaced(t *testing.T) {
	for _, c := range []struct {
		args []string
		file string
	}{
		{[]string{"admin", "sample", "--domain", "hospital.example"}, "policy.xml"},
		{[]string{"admin", "server-config", "--server", "prosody", "--domain", "hospital.example"}, "prosody.cfg.lua"},
		{[]string{"admin", "server-config", "--server", "ejabberd", "--domain", "hospital.example"}, "ejabberd.yml"},
	} {
		dir := t.TempDir()
		edited := filepath.Join(dir, c.file)
		if err := os.WriteFile(edited, []byte("edited by IT for the ward\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{}, c.args...), "--write", dir)
		code, _, errOut := runCLI(t, "", args...)
		if code != ExitUsage || !strings.Contains(errOut, edited+" already exists") {
			t.Fatalf("%v into a folder with %s: exit %d, %q", c.args, c.file, code, errOut)
		}
		if got, _ := os.ReadFile(edited); string(got) != "edited by IT for the ward\n" {
			t.Fatalf("%v replaced %s without --force", c.args, c.file)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("%v wrote %d files beside the refused one", c.args, len(entries)-1)
		}
		if code, _, _ := runCLI(t, "", append(args, "--force")...); code != ExitOK {
			t.Fatalf("%v --force: exit %d", c.args, code)
		}
		if got, _ := os.ReadFile(edited); string(got) == "edited by IT for the ward\n" {
			t.Fatalf("%v --force left %s as it was", c.args, c.file)
		}
	}
}

// TestServerConfigWarnsPlainHTTPOnNetwork: behind a proxy the generated
// configuration treats the plain WebSocket as secure, so moving its listener
// off loopback is said on stderr; the default (127.0.0.1) says nothing.
func TestServerConfigWarnsPlainHTTPOnNetwork(t *testing.T) {
	for _, server := range []string{"prosody", "ejabberd"} {
		base := []string{"admin", "server-config", "--server", server, "--domain", "hospital.example", "--behind-proxy"}
		if code, _, errOut := runCLI(t, "", base...); code != ExitOK || errOut != "" {
			t.Fatalf("%s default: exit %d, stderr %q", server, code, errOut)
		}
		code, _, errOut := runCLI(t, "", append(base, "--http-listen", "0.0.0.0")...)
		if code != ExitOK || !strings.Contains(errOut, "warning: --http-listen 0.0.0.0: plain HTTP") {
			t.Fatalf("%s --http-listen 0.0.0.0: exit %d, stderr %q", server, code, errOut)
		}
	}
}
