package arrows

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// The rooms and the arrows between them (docs/ARCHITECTURE.md, "Allowed
// imports"). Each package of the module is placed here with the packages of
// ours its shipped code may import; a package not placed fails the test, so
// whoever adds one decides where it lives. Tests (_test.go files) are not
// checked: they may reach further down to set up a scenario (seed a store,
// start a server or a foreign peer).
var rooms = map[string][]string{
	// ui → app. Fyne is the only other thing the screens use (the icons
	// are main's; ui's tests read assets, and tests are not checked).
	"rounds/ui": {"rounds/app"},
	// app → {sync, securestore, media}. app reaches the server only through sync.
	"rounds/app": {"rounds/sync", "rounds/securestore", "rounds/media"},
	// sync → {sync/xmpp, securestore, media}.
	"rounds/sync": {"rounds/sync/xmpp", "rounds/securestore", "rounds/media"},
	// The wire and the disk import nothing of ours but the leaves.
	"rounds/sync/xmpp":   nil,
	"rounds/securestore": nil,
	// Media (file types, pictures) serves app before sending and sync after
	// receiving, so both judge a file by one list; it imports nothing of ours.
	"rounds/media": nil,
	// The headless tools drive app like the UI does.
	"rounds/cli":            {"rounds/app"},
	"rounds/cmd/rounds-cli": {"rounds/cli"},
	// The escalation service is a headless account over the engine, like a
	// device without app: it holds ladders and fires their steps.
	"rounds/escalation":            {"rounds/sync", "rounds/securestore"},
	"rounds/cmd/rounds-escalation": {"rounds/escalation"},
	// main wires the desktop binary: screens, the app and the CLI it also runs.
	"rounds": {"rounds/ui", "rounds/app", "rounds/cli", "rounds/assets"},
	// Icons and desktop files; iconset is the `go run` tool that draws them.
	"rounds/assets":         nil,
	"rounds/assets/iconset": nil,
	// Test-only packages: their shipped code is a doc comment.
	"rounds/tests":           nil,
	"rounds/packaging":       nil,
	"rounds/internal/arrows": nil,
	// Test helpers: real servers, a fault proxy, a hostile server, a foreign
	// peer. They serve tests and the demo, never the shipped app.
	"rounds/internal/testserver": {"rounds/internal/netns"},
	"rounds/internal/faultproxy": nil,
	"rounds/internal/hostile":    nil,
	"rounds/internal/testpeer":   nil,
	// What the catch-up benchmarks share: an archive filled on a real
	// server and the baselines read from it.
	"rounds/internal/archivebench": {"rounds/internal/testserver", "rounds/internal/testpeer", "rounds/sync/xmpp"},

	// Ward Wi-Fi for tests: namespaces, loss, rate and handoffs around the
	// fault proxy.
	"rounds/internal/wardnet": {"rounds/internal/faultproxy", "rounds/internal/netns"},
	// Code or a server run inside a network namespace, keeping the thread.
	"rounds/internal/netns": nil,
	// The load generator: many headless engines (sync over securestore)
	// against a test server; its tests start the servers.
	"rounds/internal/loadgen": {"rounds/sync", "rounds/securestore"},
	// The demo server publishes the demo's policy and rota with the CLI and
	// runs the escalation service.
	"rounds/internal/testserver/cmd/demoserver": {"rounds/internal/testserver", "rounds/cli", "rounds/sync/xmpp", "rounds/escalation"},
}

// leaves are packages every room may import; they import nothing of ours.
// rounds/jid is the address type people and rooms are named by.
var leaves = []string{"rounds/jid"}

// exceptions are arrows that break the rules above and are being removed.
// Issue 12 emptied the list; keep it empty. If an arrow must break the rules
// for a while, list it here (and in docs/ARCHITECTURE.md) with why: an
// arrow not listed fails the test, and so does a listed arrow the code no
// longer has, so the list can only shrink. Key: "importer → imported".
var exceptions = map[string]string{}

// The test helpers under rounds/internal/ may be imported by tests, other
// helpers and the demo server, never by shipped code.
const internalPrefix = "rounds/internal/"

// fyneUsers are the only packages that may import Fyne: everything below ui
// is plain Go, tested without a display and built for phones without cgo.
var fyneUsers = map[string]bool{"rounds": true, "rounds/ui": true}

// targets: build constraints choose files per platform (keyring, data
// directory, notifications), so the imports are read for each platform
// Rounds ships on.
var targets = []struct{ goos, goarch string }{
	{"linux", "amd64"},
	{"windows", "amd64"},
	{"darwin", "arm64"},
	{"android", "arm64"},
	{"ios", "arm64"},
}

// goList runs `go list` at the module root for one platform and returns
// each package's imports. The module's own packages are those under "rounds".
func goList(t *testing.T, goos, goarch string, args ...string) map[string][]string {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, append([]string{"list", "-f", "{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}"}, args...)...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list (%s/%s): %v\n%s", goos, goarch, err, stderr.String())
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		path, imports, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			t.Fatalf("go list: unexpected line %q", sc.Text())
		}
		pkgs[path] = strings.Fields(imports)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list (%s/%s) listed no packages", goos, goarch)
	}
	return pkgs
}

func ours(path string) bool { return path == "rounds" || strings.HasPrefix(path, "rounds/") }

// check applies the rules, with the given exceptions, to one platform's
// import lists. It returns each problem found and each exception and
// allowance ("importer → imported") used.
func check(pkgs map[string][]string, exceptions map[string]string) (problems []string, used map[string]bool) {
	used = map[string]bool{}
	leaf := map[string]bool{}
	for _, l := range leaves {
		leaf[l] = true
	}
	for pkg, imports := range pkgs {
		allowed, placed := rooms[pkg]
		if !placed && !leaf[pkg] {
			problems = append(problems, fmt.Sprintf("%s has no room: place it in rooms (or leaves) in internal/arrows/arrows_test.go and in docs/ARCHITECTURE.md", pkg))
			continue
		}
		ok := map[string]bool{}
		for _, a := range allowed {
			ok[a] = true
		}
		for _, imp := range imports {
			switch {
			case strings.HasPrefix(imp, "fyne.io/") && !fyneUsers[pkg]:
				problems = append(problems, fmt.Sprintf("%s imports %s: only ui and main may import Fyne", pkg, imp))
			case !ours(imp):
			case strings.HasPrefix(imp, internalPrefix) && !strings.HasPrefix(pkg, internalPrefix):
				problems = append(problems, fmt.Sprintf("%s imports the test helper %s", pkg, imp))
			case leaf[pkg]:
				problems = append(problems, fmt.Sprintf("%s is a leaf but imports %s", pkg, imp))
			case ok[imp]:
				used[pkg+" → "+imp] = true
			case leaf[imp]:
			default:
				edge := pkg + " → " + imp
				if _, known := exceptions[edge]; known {
					used[edge] = true
					continue
				}
				problems = append(problems, fmt.Sprintf("%s imports %s: not an allowed arrow (docs/ARCHITECTURE.md)", pkg, imp))
			}
		}
	}
	return problems, used
}

// unneeded lists what the table allows that no platform's code uses: a
// room for a package that no longer exists, an allowed arrow nothing
// follows, a listed exception the code no longer has. Each allowance is as
// narrow as the code, so a new import is a decision, not a free pass.
func unneeded(present, used map[string]bool, exceptions map[string]string) (stale []string) {
	for pkg, allowed := range rooms {
		if !present[pkg] {
			stale = append(stale, fmt.Sprintf("room %q has no package: delete it from rooms and from docs/ARCHITECTURE.md", pkg))
			continue
		}
		for _, a := range allowed {
			if !used[pkg+" → "+a] {
				stale = append(stale, fmt.Sprintf("allowance %q is not used: delete it from rooms and from docs/ARCHITECTURE.md", pkg+" → "+a))
			}
		}
	}
	for e := range exceptions {
		if !used[e] {
			stale = append(stale, fmt.Sprintf("exception %q is no longer needed: delete it from exceptions and from docs/ARCHITECTURE.md", e))
		}
	}
	sort.Strings(stale)
	return stale
}

// TestImportsPointDown reads the imports of every package for every
// platform and fails on an arrow the rules do not allow, and on a room,
// allowance or listed exception the code no longer needs.
func TestImportsPointDown(t *testing.T) {
	used := map[string]bool{}
	seen := map[string]bool{}
	present := map[string]bool{}
	for _, tg := range targets {
		pkgs := goList(t, tg.goos, tg.goarch, "rounds/...")
		for pkg := range pkgs {
			present[pkg] = true
		}
		problems, u := check(pkgs, exceptions)
		for _, p := range problems {
			if !seen[p] {
				seen[p] = true
				t.Errorf("%s/%s: %s", tg.goos, tg.goarch, p)
			}
		}
		for e := range u {
			used[e] = true
		}
	}
	for _, s := range unneeded(present, used, exceptions) {
		t.Error(s)
	}
}

// TestHeadlessSenderHasNoGUI: rounds-cli runs on servers without a display
// (README), so nothing it links may pull in Fyne or the screens.
func TestHeadlessSenderHasNoGUI(t *testing.T) {
	for _, tg := range targets {
		deps := goList(t, tg.goos, tg.goarch, "-deps", "rounds/cmd/rounds-cli")
		for pkg := range deps {
			if strings.HasPrefix(pkg, "fyne.io/") || pkg == "rounds/ui" {
				t.Errorf("%s/%s: rounds-cli links %s", tg.goos, tg.goarch, pkg)
			}
		}
	}
}

// TestCheckCatchesBadArrows: the rules reject what they must (so the tests
// above cannot pass by checking nothing), on a made-up module.
func TestCheckCatchesBadArrows(t *testing.T) {
	cases := []struct {
		name string
		pkgs map[string][]string
		want string
	}{
		{"upward", map[string][]string{"rounds/securestore": {"rounds/sync"}}, "rounds/securestore imports rounds/sync"},
		{"skipping a floor", map[string][]string{"rounds/ui": {"rounds/sync/xmpp", "rounds/app"}}, "rounds/ui imports rounds/sync/xmpp"},
		{"around the door", map[string][]string{"rounds/cli": {"rounds/sync"}}, "rounds/cli imports rounds/sync"},
		{"unplaced package", map[string][]string{"rounds/newthing": nil}, "rounds/newthing has no room"},
		{"Fyne below ui", map[string][]string{"rounds/app": {"fyne.io/fyne/v2"}}, "only ui and main may import Fyne"},
		{"test helper in shipped code", map[string][]string{"rounds/sync": {"rounds/internal/testserver"}}, "test helper"},
	}
	for _, c := range cases {
		problems, _ := check(c.pkgs, nil)
		if got := strings.Join(problems, "\n"); !strings.Contains(got, c.want) {
			t.Errorf("%s: want a problem containing %q, got %q", c.name, c.want, got)
		}
	}
	allowed := map[string][]string{"rounds/ui": {"rounds/app", "rounds/jid", "fyne.io/fyne/v2", "strings"}}
	if problems, _ := check(allowed, nil); len(problems) != 0 {
		t.Errorf("allowed imports reported: %q", problems)
	}
	// A listed exception is used, not reported.
	listed := map[string]string{"rounds/ui → rounds/sync/xmpp": "test"}
	problems, used := check(map[string][]string{"rounds/ui": {"rounds/sync/xmpp"}}, listed)
	if len(problems) != 0 || !used["rounds/ui → rounds/sync/xmpp"] {
		t.Errorf("listed exception: problems %q, used %v", problems, used)
	}
}

// TestUnneededAllowancesReported: an allowance nothing follows, a room
// without a package and an exception the code no longer has are each
// reported, and a table the code uses in full is not (on the real table).
func TestUnneededAllowancesReported(t *testing.T) {
	present, used := map[string]bool{}, map[string]bool{}
	for pkg, allowed := range rooms {
		present[pkg] = true
		for _, a := range allowed {
			used[pkg+" → "+a] = true
		}
	}
	if stale := unneeded(present, used, nil); len(stale) != 0 {
		t.Fatalf("a fully used table reported: %q", stale)
	}
	delete(used, "rounds/app → rounds/media")
	delete(present, "rounds/tests")
	got := strings.Join(unneeded(present, used, map[string]string{"rounds/ui → rounds/sync": "gone"}), "\n")
	for _, want := range []string{`allowance "rounds/app → rounds/media" is not used`, `room "rounds/tests" has no package`, `exception "rounds/ui → rounds/sync" is no longer needed`} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q reported, got %q", want, got)
		}
	}
}
