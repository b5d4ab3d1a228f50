package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docs/ADMIN.md is the walk a new admin follows literally; these helpers
// take its commands out of the page so the tests run what it says.

const adminGuide = "../docs/ADMIN.md"

// documentedCommand returns the first command line in docs/ADMIN.md that
// starts with prefix, split into words as a shell would split it (single and
// double quotes group), with from replaced by to throughout.
func documentedCommand(t *testing.T, prefix, from, to string) []string {
	t.Helper()
	cmds := documentedCommands(t, prefix)
	if len(cmds) == 0 {
		t.Fatalf("docs/ADMIN.md has no command starting %q", prefix)
	}
	words := shellWords(t, strings.ReplaceAll(cmds[0], from, to))
	return words
}

// documentedCommands lists the lines inside ```sh blocks of docs/ADMIN.md
// that start with prefix (a trailing comment removed).
func documentedCommands(t *testing.T, prefix string) []string {
	t.Helper()
	data, err := os.ReadFile(adminGuide)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	inSh := false
	for _, line := range strings.Split(string(data), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "```sh"):
			inSh = true
		case strings.HasPrefix(trim, "```"):
			inSh = false
		case inSh && strings.HasPrefix(trim, prefix):
			if i := strings.Index(trim, "  # "); i > 0 {
				trim = strings.TrimSpace(trim[:i])
			}
			out = append(out, trim)
		}
	}
	return out
}

// documentedBlock returns the first ```lang block of docs/ADMIN.md as
// written (each line with its newline).
func documentedBlock(t *testing.T, lang string) string {
	t.Helper()
	data, err := os.ReadFile(adminGuide)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```"+lang+"\n")
	if !ok {
		t.Fatalf("docs/ADMIN.md has no ```%s block", lang)
	}
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatalf("docs/ADMIN.md's ```%s block is not closed", lang)
	}
	return block
}

// shellWords splits a command line as sh would for the simple quoting the
// guide uses.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// TestAdminGuideCommands runs docs/ADMIN.md's `rounds-cli admin
// server-config` and `sample` commands as written (their --write folder
// moved to a temporary one), has `prosodyctl check config` accept every
// Prosody configuration they write, and checks that every Lua line the page
// quotes is a line the generator writes, so the page and the tested
// configuration cannot drift apart.
func TestAdminGuideCommands(t *testing.T) {
	var generated strings.Builder
	proxied := false
	cmds := documentedCommands(t, "rounds-cli admin server-config")
	if len(cmds) < 3 {
		t.Fatalf("docs/ADMIN.md shows %d server-config commands, want the three shapes", len(cmds))
	}
	for i, c := range cmds {
		args := shellWords(t, c)[1:]
		// prosodyctl reads the file as the prosody user: a folder it may enter.
		base, err := os.MkdirTemp("", "rounds-guide-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(base, "out")
		for j := range args {
			if args[j] == "--write" && j+1 < len(args) {
				args[j+1] = dir
			}
		}
		if code, _, _ := runCLI(t, "", args...); code != ExitOK {
			t.Fatalf("docs/ADMIN.md command %d: %s: exit %d", i+1, c, code)
		}
		if proxy, err := os.ReadFile(filepath.Join(dir, nginxFile)); err == nil && strings.Contains(c, "--server prosody") {
			// The page's nginx block is the generated one, byte for byte:
			// the one cli/deploy_test.go runs nginx from.
			if doc := documentedBlock(t, "nginx"); doc != string(proxy) {
				t.Errorf("docs/ADMIN.md's nginx block is not what %s writes:\n%s", c, proxy)
			}
			proxied = true
		}
		if cfg, err := os.ReadFile(filepath.Join(dir, "prosody.cfg.lua")); err == nil {
			generated.Write(cfg)
			out, err := exec.Command("prosodyctl", "--config", filepath.Join(dir, "prosody.cfg.lua"), "check", "config").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "All checks passed") {
				t.Errorf("prosodyctl check config on %s: %v\n%s", c, err, out)
			}
		} else if _, err := os.Stat(filepath.Join(dir, "ejabberd.yml")); err != nil {
			t.Errorf("%s wrote neither configuration", c)
		}
	}
	if !proxied {
		t.Error("no documented Prosody command wrote an nginx block")
	}
	for _, c := range documentedCommands(t, "rounds-cli admin sample") {
		args := shellWords(t, c)[1:]
		args[len(args)-1] = t.TempDir()
		if code, _, _ := runCLI(t, "", args...); code != ExitOK {
			t.Fatalf("%s: exit %d", c, code)
		}
	}
	squash := func(s string) string {
		if i := strings.Index(s, "--"); i >= 0 {
			s = s[:i]
		}
		return strings.Join(strings.Fields(s), "")
	}
	have := map[string]bool{}
	for _, line := range strings.Split(generated.String(), "\n") {
		have[squash(line)] = true
	}
	data, err := os.ReadFile(adminGuide)
	if err != nil {
		t.Fatal(err)
	}
	inLua := false
	for n, line := range strings.Split(string(data), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "```lua"):
			inLua = true
		case strings.HasPrefix(trim, "```"):
			inLua = false
		case inLua && squash(trim) != "" && !have[squash(trim)]:
			t.Errorf("docs/ADMIN.md:%d: %q is not in the generated Prosody configuration", n+1, trim)
		}
	}
}

// TestAdminGuideSecretFiles runs docs/ADMIN.md's commands that make the
// secret files on a blank server (no /etc/rounds yet; a temporary folder
// stands for it), puts a password in each as an editor would, and has the
// commands' own reader accept them: the page once said only `install -m 600
// /dev/null /etc/rounds/it.secret`, which fails where the folder is missing.
func TestAdminGuideSecretFiles(t *testing.T) {
	etc := filepath.Join(t.TempDir(), "etc-rounds") // not there yet
	var made []string
	for _, c := range documentedCommands(t, "install ") {
		if !strings.Contains(c, "/etc/rounds/") && !strings.HasSuffix(c, "/etc/rounds") {
			continue
		}
		line := strings.ReplaceAll(c, "/etc/rounds", etc)
		if out, err := exec.Command("sh", "-c", line).CombinedOutput(); err != nil {
			t.Fatalf("docs/ADMIN.md: %s: %v: %s", c, err, out)
		}
		if w := shellWords(t, line); w[len(w)-1] != etc {
			made = append(made, w[len(w)-1])
		}
	}
	if len(made) < 2 {
		t.Fatalf("docs/ADMIN.md makes %d secret files (want it.admin's and the check account's)", len(made))
	}
	if fi, err := os.Stat(etc); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the secret files' folder: %v %v", fi, err)
	}
	for _, f := range made {
		// As an editor saves it: the file's mode stays what install gave it.
		if err := os.WriteFile(f, []byte("correct horse battery staple\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if pw, err := readSecret("it.admin@hospital.example", f, false); err != nil || pw != "correct horse battery staple" {
			t.Errorf("%s as the guide makes it: %q, %v", f, pw, err)
		}
	}
}

// TestAdminGuideConfigNotWorldReadable: every `install` of a server
// configuration on the page (in a command block or in the text) gives it a
// mode no other local user can read (as Debian ships it), since step 6
// tells an admin using the hospital directory to put its bind password
// (ldap_password) there. The page once installed prosody.cfg.lua with mode
// 644.
func TestAdminGuideConfigNotWorldReadable(t *testing.T) {
	data, err := os.ReadFile(adminGuide)
	if err != nil {
		t.Fatal(err)
	}
	installs := regexp.MustCompile("install -m ([0-7]+)[^`\n]*? (/etc/prosody/prosody\\.cfg\\.lua|/etc/ejabberd/ejabberd\\.yml)")
	found := map[string]bool{}
	for _, m := range installs.FindAllStringSubmatch(string(data), -1) {
		found[m[2]] = true
		if mode := m[1]; mode[len(mode)-1] != '0' {
			t.Errorf("docs/ADMIN.md: %q: every local user may read the server's configuration", m[0])
		}
	}
	if len(found) != 2 {
		t.Fatalf("docs/ADMIN.md installs %d of the two server configurations", len(found))
	}
}
