package cli

import (
	"os"
	"os/exec"
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
// server are refused before anything is written. So is every value that
// would add a line or directive of its own to the Lua, YAML or nginx files
// (a newline, a semicolon or a quote in a name, a listen address or the
// admin's address), an admin of another domain (no federation: it could
// never sign in to publish the policy), and without a proxy, plain HTTP on
// a network address (ejabberd would take sign-ins over it in clear).
func TestServerConfigRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"--domain", "hospital.example", "--archive-page", "50"},
		{"--domain", `hospital".example`},
		{"--domain", "hospital.example", "--server", "openfire"},
		{"--domain", "hospital.example", "--data-dir", "relative/path"},
		{"--domain", "hospital.example\nallow_registration=true--"},
		{"--domain", "hospital.example", "--public-host", "chat.example;\nlocation=x{return", "--behind-proxy"},
		{"--domain", "hospital.example", "--upload-host", "files.example;"},
		{"--domain", "hospital.example", "--listen", `*" } allow_registration = true -- `},
		{"--domain", "hospital.example", "--http-listen", `127.0.0.1" } allow_registration = true --`},
		{"--domain", "hospital.example", "--server", "ejabberd", "--listen", "::\"\n    module: ejabberd_http"},
		{"--domain", "hospital.example", "--admin", "it\n}x@hospital.example"},
		{"--domain", "hospital.example", "--admin", "it.admin@elsewhere.example"},
		{"--domain", "hospital.example", "--server", "ejabberd", "--http-listen", "0.0.0.0"}, // a plain WebSocket sign-in on the network
		{"--domain", "hospital.example", "--http-listen", "10.20.0.5"},
	} {
		code, out, _ := runCLI(t, "", append([]string{"admin", "server-config"}, args...)...)
		if code != ExitUsage || out != "" {
			t.Errorf("%q: exit %d, %d bytes out", args, code, len(out))
		}
	}
	code, out, _ := runCLI(t, "", "admin", "server-config", "--domain", "Hospital.Example", "--listen", "::")
	if code != ExitOK || !strings.Contains(out, `VirtualHost "hospital.example"`) || !strings.Contains(out, `interfaces      = { "::" }`) {
		t.Errorf("a domain in capitals and an IPv6 listen address: exit %d", code)
	}
	for _, server := range []string{"prosody", "ejabberd"} {
		code, out, _ := runCLI(t, "", "admin", "server-config", "--server", server, "--domain", "hospital.example",
			"--public-host", "chat.hospital.example", "--behind-proxy")
		if code != ExitOK || !strings.Contains(out, "wss://chat.hospital.example/") {
			t.Errorf("%s: exit %d", server, code)
		}
	}
}

// TestSampleRefusesHostileDomain: the domain is written into every address
// of the rota and the policy; one with a newline or a comma would add a
// shift of its own to the CSV, so anything but a DNS name is refused with
// nothing written.
func TestSampleRefusesHostileDomain(t *testing.T) {
	for _, domain := range []string{"hospital.example\nCardiology,mallory@evil.example,2026-01-01T00:00:00Z,2030-01-01T00:00:00Z,,true\n#",
		"hospital.example,x", "hospital.example'"} {
		dir := t.TempDir()
		code, _, _ := runCLI(t, "", "admin", "sample", "--domain", domain, "--write", dir)
		if entries, _ := os.ReadDir(dir); code != ExitUsage || len(entries) != 0 {
			t.Errorf("--domain %q: exit %d, %d files written", domain, code, len(entries))
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

// TestGeneratedFilesReplaceLinks: --force into a folder where someone
// planted a symbolic link in place of a generated file replaces the link
// with the file; what the link pointed to (here standing for /etc/shadow)
// is left as it was.
func TestGeneratedFilesReplaceLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(victim, []byte("root:x:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "prosody.cfg.lua")); err != nil {
		t.Fatal(err)
	}
	code, _, _ := runCLI(t, "", "admin", "server-config", "--domain", "hospital.example", "--write", dir, "--force")
	if got, _ := os.ReadFile(victim); code != ExitOK || string(got) != "root:x:0\n" {
		t.Fatalf("exit %d; the link's target now holds %d bytes", code, len(got))
	}
	fi, err := os.Lstat(filepath.Join(dir, "prosody.cfg.lua"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("prosody.cfg.lua: %v, %v", fi, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries in the folder, want prosody.cfg.lua and host-meta", len(entries))
	}
}

// TestServerConfigProxyOnAnotherMachine: behind a proxy on another machine
// the server's plain HTTP listener is on the network and the proxy's address
// is trusted (--proxy-address). What cannot work, or would trust more than
// the proxy, is refused with nothing printed; what works warns that the
// plain side needs a firewall, names the proxy in trusted_proxies and points
// the generated nginx block at the server's address, and prosodyctl accepts
// the result.
func TestServerConfigProxyOnAnotherMachine(t *testing.T) {
	base := []string{"admin", "server-config", "--server", "prosody", "--domain", "hospital.example", "--behind-proxy"}
	for _, bad := range [][]string{
		{"--http-listen", "0.0.0.0"},     // the proxy needs one address to forward to
		{"--http-listen", "10.20.0.5"},   // the proxy's own address is not trusted
		{"--proxy-address", "10.20.0.9"}, // a remote proxy cannot reach 127.0.0.1
		{"--proxy-address", "proxy.hospital.example", "--http-listen", "10.20.0.5"}, // Prosody takes addresses only
		{"--proxy-address", "0.0.0.0/0", "--http-listen", "10.20.0.5"},              // trusts everyone
		{"--proxy-address", "10.20.0.9", "--http-listen", "10.20.0.5", "--proxy-listen", "proxy"},
	} {
		code, out, _ := runCLI(t, "", append(append([]string{}, base...), bad...)...)
		if code != ExitUsage || out != "" {
			t.Errorf("%v: exit %d, %d bytes out", bad, code, len(out))
		}
	}
	if code, out, _ := runCLI(t, "", "admin", "server-config", "--domain", "hospital.example", "--proxy-address", "10.20.0.9"); code != ExitUsage || out != "" {
		t.Errorf("--proxy-address without --behind-proxy: exit %d", code)
	}
	if code, _, errOut := runCLI(t, "", base...); code != ExitOK || errOut != "" {
		t.Fatalf("default: exit %d, stderr %q", code, errOut)
	}
	for _, server := range []string{"prosody", "ejabberd"} {
		// prosodyctl reads the file as the prosody user: a folder it may enter.
		base, err := os.MkdirTemp("", "rounds-proxy-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(base, "out")
		args := []string{"admin", "server-config", "--server", server, "--domain", "hospital.example", "--behind-proxy",
			"--proxy-address", "10.20.0.9, 10.20.1.0/24", "--http-listen", "10.20.0.5", "--write", dir}
		code, _, errOut := runCLI(t, "", args...)
		if code != ExitOK || !strings.Contains(errOut, "warning: --http-listen 10.20.0.5: plain HTTP") || !strings.Contains(errOut, "10.20.0.9, 10.20.1.0/24") {
			t.Fatalf("%s, proxy on another machine: exit %d, stderr %q", server, code, errOut)
		}
		proxy, err := os.ReadFile(filepath.Join(dir, nginxFile))
		if err != nil || !strings.Contains(string(proxy), "proxy_pass http://10.20.0.5:5280;") {
			t.Errorf("%s: the nginx block does not forward to the server's address: %v\n%s", server, err, proxy)
		}
		if server != "prosody" {
			cfg, err := os.ReadFile(filepath.Join(dir, "ejabberd.yml"))
			if err != nil || !strings.Contains(string(cfg), "trusted_proxies:\n  - \"127.0.0.1\"\n  - \"::1\"\n  - \"10.20.0.9\"\n  - \"10.20.1.0/24\"\n") {
				t.Errorf("ejabberd.yml does not trust the proxy: %v", err)
			}
			continue
		}
		cfg, err := os.ReadFile(filepath.Join(dir, "prosody.cfg.lua"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`trusted_proxies = { "127.0.0.1", "::1", "10.20.0.9", "10.20.1.0/24" }`, `http_interfaces = { "10.20.0.5" }`,
			"--proxy-address 10.20.0.9,10.20.1.0/24 --http-listen 10.20.0.5"} {
			if !strings.Contains(string(cfg), want) {
				t.Errorf("prosody.cfg.lua lacks %q", want)
			}
		}
		if strings.Contains(string(cfg), "consider_websocket_secure") {
			t.Error("prosody.cfg.lua makes every plain WebSocket secure, not only the proxy's")
		}
		out, err := exec.Command("prosodyctl", "--config", filepath.Join(dir, "prosody.cfg.lua"), "check", "config").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "All checks passed") {
			t.Errorf("prosodyctl check config: %v\n%s", err, out)
		}
	}
}
