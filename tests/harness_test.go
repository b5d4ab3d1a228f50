//go:build linux

package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// This file is the machinery of the real-window tests: a private X server
// (Xvfb), a private D-Bus session bus with dunst as the notification daemon,
// the app binary built once, xdotool to drive it, and screenshots read back
// as images. Every process runs in its own process group, dies with the test
// binary (Pdeathsig) and is stopped in t.Cleanup even when the test fails.
//
// Missing tools are failures, never skips: `make test` installs them
// (scripts/install-deps.sh) and CI must not pass without them.

var desktopTools = []string{"Xvfb", "xdotool", "import", "dbus-daemon", "dunst", "dunstctl"}

func requireTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, tool := range desktopTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("real-window tests need %s on PATH (scripts/install-deps.sh test installs them)", strings.Join(missing, ", "))
	}
}

var (
	buildOnce gosync.Once
	buildDir  string
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	// After a run of every test, a committed real-* picture that none made
	// is one no command produces any more.
	if code == 0 && wholeRun() {
		if orphans := orphanShots(); len(orphans) > 0 {
			fmt.Fprintf(os.Stderr, "docs/screenshots has real-* pictures no test makes any more (delete them): %s\n", strings.Join(orphans, ", "))
			code = 1
		}
	}
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	stopAppArchive() // BenchmarkAppCatchUp10k's server (catchup_bench_test.go)
	os.Exit(code)
}

// appBinary builds the desktop binary (package main at the repository root)
// once per test run.
func appBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		buildDir, buildErr = os.MkdirTemp("", "rounds-desktop-test-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "rounds")
		cmd := exec.Command(goTool, "build", "-o", builtBin, "rounds")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build rounds: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a child process in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // valid once done is closed
}

// startProc starts a process and registers its cleanup: SIGTERM to its
// whole process group, SIGKILL after 5 s.
func startProc(t *testing.T, name string, env []string, extra []*os.File, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.ExtraFiles = extra
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			if out := strings.TrimSpace(p.out.String()); out != "" {
				t.Logf("%s output:\n%s", name, tail(out, 60))
			}
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) stop() {
	pgid := p.cmd.Process.Pid
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	}
	// Whatever the leader left behind in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// xserver is a private Xvfb.
type xserver struct {
	display int
	w, h    int
}

func (x *xserver) env() string { return fmt.Sprintf("DISPLAY=:%d", x.display) }

// startXvfb starts Xvfb on a display number it picks itself (-displayfd), so
// parallel runs and other sessions' servers never collide.
func startXvfb(t *testing.T, w, h int) *xserver {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "Xvfb", []string{"PATH=" + os.Getenv("PATH")}, []*os.File{wr},
		"Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", w, h), "-nolisten", "tcp", "-noreset")
	wr.Close()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
		r.Close()
	}()
	select {
	case s := <-line:
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("Xvfb did not report its display (%q): %s", s, p.out.String())
		}
		return &xserver{display: n, w: w, h: h}
	case <-time.After(60 * time.Second):
		t.Fatalf("Xvfb did not start within 60 s: %s", p.out.String())
	}
	return nil
}

// xdo runs xdotool on the display.
func (x *xserver) xdo(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), x.env()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("xdotool %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func (x *xserver) mustXdo(t *testing.T, args ...string) string {
	t.Helper()
	out, err := x.xdo(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// click moves the pointer to a screen position and clicks there.
func (x *xserver) click(t *testing.T, pt image.Point) {
	t.Helper()
	x.mustXdo(t, "mousemove", "--sync", strconv.Itoa(pt.X), strconv.Itoa(pt.Y))
	time.Sleep(150 * time.Millisecond)
	x.mustXdo(t, "click", "1")
}

// typeText types into the focused widget, slowly enough for a loaded machine.
func (x *xserver) typeText(t *testing.T, s string) {
	t.Helper()
	x.mustXdo(t, "type", "--delay", "60", s)
}

func (x *xserver) key(t *testing.T, keys ...string) {
	t.Helper()
	x.mustXdo(t, append([]string{"key", "--delay", "80"}, keys...)...)
}

// screenshot captures the whole screen into path and returns it decoded.
func (x *xserver) screenshot(t *testing.T, path string) image.Image {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, "import", "-window", "root", path)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), x.env(), "HOME=" + os.TempDir()}
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			lastErr = fmt.Errorf("import: %v: %s", err, out)
			continue
		}
		img, err := readPNG(path)
		if err == nil {
			return img
		}
		lastErr = err
	}
	t.Fatalf("screenshot %s: %v", path, lastErr)
	return nil
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// window is the app's top-level window on screen.
type window struct {
	id         uint32
	x, y, w, h int
}

func (w window) rect() image.Rectangle { return image.Rect(w.x, w.y, w.x+w.w, w.y+w.h) }

// waitWindow finds the app's visible window named "Rounds", retrying while
// the app starts (it fails at once if the app exits).
func (x *xserver) waitWindow(t *testing.T, app *proc, timeout time.Duration) window {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if app.exited() {
			t.Fatalf("app exited before its window appeared (%v):\n%s", app.err, tail(app.out.String(), 40))
		}
		out, err := x.xdo("search", "--onlyvisible", "--name", "^Rounds$")
		if err == nil && out != "" {
			id64, perr := strconv.ParseUint(strings.Fields(out)[0], 10, 32)
			if perr == nil {
				if w, ok := x.geometry(uint32(id64)); ok && w.w > 0 {
					return w
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Rounds window within %v (xdotool: %v %s)\napp output:\n%s", timeout, err, out, tail(app.out.String(), 40))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (x *xserver) geometry(id uint32) (window, bool) {
	out, err := x.xdo("getwindowgeometry", "--shell", strconv.FormatUint(uint64(id), 10))
	if err != nil {
		return window{}, false
	}
	w := window{id: id}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "X":
			w.x = n
		case "Y":
			w.y = n
		case "WIDTH":
			w.w = n
		case "HEIGHT":
			w.h = n
		}
	}
	return w, true
}

// startBus starts a private session bus with a known socket and no service
// activation (so nothing but what the test starts can own a name).
func startBus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "session.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "dbus-daemon", []string{"PATH=" + os.Getenv("PATH")}, nil,
		"dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return "unix:path=" + sock
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("dbus-daemon did not start: %v\n%s", p.err, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// notifyd is dunst on the private bus and display.
type notifyd struct {
	env []string
}

func startDunst(t *testing.T, x *xserver, bus string) *notifyd {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "dunstrc")
	// Notifications stay on screen until the test closes them, so the
	// screenshot shows them; then they move to dunst's history.
	width := 320
	if x.w < 600 {
		width = x.w - 20
	}
	err := os.WriteFile(rc, []byte(fmt.Sprintf(`[global]
    font = DejaVu Sans 10
    width = %d
    origin = top-right
    offset = 10x40
    frame_width = 2
    history_length = 50
    idle_threshold = 0
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
`, width)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), x.env(), "DBUS_SESSION_BUS_ADDRESS=" + bus, "HOME=" + dir, "LANG=en_US.UTF-8"}
	p := startProc(t, "dunst", env, nil, "dunst", "-config", rc)
	n := &notifyd{env: env}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if out, err := n.ctl("is-paused"); err == nil && strings.TrimSpace(out) == "false" {
			return n
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("dunst did not come up on the private bus: %v\n%s", p.err, p.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (n *notifyd) ctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dunstctl", args...)
	cmd.Env = n.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("dunstctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (n *notifyd) count(which string) int {
	out, err := n.ctl("count", which)
	if err != nil {
		return -1
	}
	v, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return -1
	}
	return v
}

// shownNotification is one entry of `dunstctl history`.
type shownNotification struct {
	AppName, Summary, Body string
}

func (n *notifyd) history() ([]shownNotification, error) {
	out, err := n.ctl("history")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data [][]map[string]struct {
			Data json.RawMessage `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("dunstctl history: %v: %s", err, out)
	}
	str := func(m map[string]struct {
		Data json.RawMessage `json:"data"`
	}, k string) string {
		var s string
		_ = json.Unmarshal(m[k].Data, &s)
		return s
	}
	var res []shownNotification
	for _, group := range doc.Data {
		for _, m := range group {
			res = append(res, shownNotification{AppName: str(m, "appname"), Summary: str(m, "summary"), Body: str(m, "body")})
		}
	}
	return res, nil
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitExit waits for p to exit and returns its exit status.
func waitExit(t *testing.T, p *proc, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running %v after it was asked to close:\n%s", p.name, timeout, tail(p.out.String(), 40))
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("%s: %v", p.name, p.err)
	return -1
}

// ---- reading screenshots ----

// primaries are the Rounds theme's primary colour (buttons, badges, read
// ticks) in its dark and light variants (ui/theme.go): the binary follows the
// system's variant, which differs between machines.
var primaries = []color.NRGBA{{R: 0x64, G: 0xb5, B: 0xf6, A: 0xff}, {R: 0x15, G: 0x65, B: 0xc0, A: 0xff}}

func near(c color.Color, want color.NRGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool {
		v := int(a>>8) - int(w)
		return v <= tol && v >= -tol
	}
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func isPrimary(c color.Color) bool { return nearAny(c, primaries, 30) }

func nearAny(c color.Color, want []color.NRGBA, tol int) bool {
	for _, w := range want {
		if near(c, w, tol) {
			return true
		}
	}
	return false
}

// wideBand finds the tallest horizontal band of rows inside r that each hold
// a run of at least minRun primary-coloured pixels (a full-width button),
// and returns its centre.
func wideBand(img image.Image, r image.Rectangle, minRun int) (image.Point, bool) {
	r = r.Intersect(img.Bounds())
	bestTop, bestLen, top, n := 0, 0, 0, 0
	var bestX0, bestX1, x0, x1 int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		run, best, bs := 0, 0, 0
		for x := r.Min.X; x < r.Max.X; x++ {
			if isPrimary(img.At(x, y)) {
				run++
				if run > best {
					best, bs = run, x-run+1
				}
			} else {
				run = 0
			}
		}
		if best >= minRun {
			if n == 0 {
				top, x0, x1 = y, bs, bs+best
			}
			n++
			if n > bestLen {
				bestTop, bestLen, bestX0, bestX1 = top, n, x0, x1
			}
		} else {
			n = 0
		}
	}
	if bestLen < 8 {
		return image.Point{}, false
	}
	return image.Pt((bestX0+bestX1)/2, bestTop+bestLen/2), true
}

// badge finds the first (topmost) blob of primary colour in r at least minH
// rows tall where every row has at least minW primary pixels: an unread badge.
func badge(img image.Image, r image.Rectangle, minW, minH int) (image.Point, bool) {
	r = r.Intersect(img.Bounds())
	top, n := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		k := 0
		for x := r.Min.X; x < r.Max.X; x++ {
			if isPrimary(img.At(x, y)) {
				k++
			}
		}
		if k >= minW {
			if n == 0 {
				top = y
			}
			n++
			continue
		}
		if n >= minH {
			return image.Pt(0, top+n/2), true
		}
		n = 0
	}
	return image.Point{}, false
}

// strongBlue is a saturated, bright blue: the primary colour and its
// antialiased edges (a thin read tick is mostly edges), but not the dark blue
// of outgoing bubbles nor the grey of the delivered tick.
func strongBlue(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	r, g, b = r>>8, g>>8, b>>8
	return b >= 150 && int(b)-int(r) >= 100 && int(b)-int(g) >= 40
}

// countBlue counts strongly blue pixels in r.
func countBlue(img image.Image, r image.Rectangle) int {
	r = r.Intersect(img.Bounds())
	k := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if strongBlue(img.At(x, y)) {
				k++
			}
		}
	}
	return k
}

// changed is the fraction of pixels in r that differ between a and b.
func changed(a, b image.Image, r image.Rectangle) float64 {
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	if r.Empty() {
		return 0
	}
	k := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				k++
			}
		}
	}
	return float64(k) / float64(r.Dx()*r.Dy())
}

// shots saves numbered screenshots into the test's temp dir and compares
// them with docs/screenshots/real-<prefix>-<name>.png or, when
// ROUNDS_SCREENSHOT_DIR is set, writes them there (drift_test.go).
type shots struct {
	t      *testing.T
	x      *xserver
	prefix string
	dir    string
	crop   image.Rectangle // what the docs copy keeps (empty: all)
}

func newShots(t *testing.T, x *xserver, prefix string) *shots {
	s := &shots{t: t, x: x, prefix: prefix, dir: t.TempDir()}
	// On failure keep what the screen showed (this runs before Xvfb stops)
	// and the screenshots so far, outside the test's temp dir.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		keep, err := os.MkdirTemp("", "rounds-"+prefix+"-failure-")
		if err != nil {
			return
		}
		cmd := exec.Command("import", "-window", "root", filepath.Join(keep, "at-failure.png"))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), x.env(), "HOME=" + os.TempDir()}
		_ = cmd.Run()
		files, _ := filepath.Glob(filepath.Join(s.dir, "real-*.png"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				_ = os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
			}
		}
		t.Logf("screenshots of the failed run kept in %s", keep)
	})
	return s
}

// grab takes a screenshot for the test's own checks (not kept).
func (s *shots) grab() image.Image {
	s.t.Helper()
	return s.x.screenshot(s.t, filepath.Join(s.dir, "grab.png"))
}

// save takes a screenshot and keeps it (the docs copy cropped to s.crop).
func (s *shots) save(name string) image.Image {
	s.t.Helper()
	return s.saveCropped(name, s.crop)
}

// saveFull keeps the whole screen in the docs copy too (e.g. to show an OS
// notification beside the window).
func (s *shots) saveFull(name string) image.Image {
	s.t.Helper()
	return s.saveCropped(name, image.Rectangle{})
}

func (s *shots) saveCropped(name string, crop image.Rectangle) image.Image {
	s.t.Helper()
	path := filepath.Join(s.dir, "real-"+s.prefix+"-"+name+".png")
	img := s.x.screenshot(s.t, path)
	if !strings.HasPrefix(name, "failed-") {
		keep := img
		if !crop.Empty() {
			if si, ok := img.(interface {
				SubImage(image.Rectangle) image.Image
			}); ok {
				keep = si.SubImage(crop.Intersect(img.Bounds()))
			}
		}
		keepReal(s.t, filepath.Base(path), keep) // drift_test.go
	}
	s.t.Logf("screenshot %s", path)
	return img
}

// signInThroughWindow presses the prefilled sign-in screen's button, chooses
// the PIN and waits for the encrypted store (as signInSendReceipt does).
func signInThroughWindow(t *testing.T, x *xserver, win window, shots *shots, dataDir string, minW int) {
	t.Helper()
	var signIn image.Point
	eventually(t, 60*time.Second, "the sign-in button", func() bool {
		var ok bool
		signIn, ok = wideBand(shots.grab(), win.rect(), minW)
		return ok
	})
	shots.save("1-signin")
	moved := func() bool {
		p, ok := wideBand(shots.grab(), win.rect(), minW)
		return ok && (p.Y < signIn.Y-20 || p.Y > signIn.Y+20)
	}
	for attempt := 1; ; attempt++ {
		x.click(t, signIn)
		deadline := time.Now().Add(20 * time.Second)
		for !moved() && time.Now().Before(deadline) {
			time.Sleep(250 * time.Millisecond)
		}
		if moved() {
			break
		}
		if attempt == 3 {
			shots.save("failed-signin")
			t.Fatal("the choose-PIN screen did not appear after three clicks on Sign in")
		}
		t.Logf("Sign in click %d had no effect; clicking again", attempt)
	}
	time.Sleep(300 * time.Millisecond)
	x.key(t, "Tab")
	x.typeText(t, pin)
	x.key(t, "Return")
	x.typeText(t, pin)
	shots.save("2-choose-pin")
	x.key(t, "Return")
	// Signing in checks the password on the server and creates the
	// encrypted store (production Argon2id): the store file appears.
	eventually(t, 120*time.Second, "the encrypted store in ROUNDS_DATA_DIR", func() bool {
		return len(storeFiles(dataDir)) == 1
	})
	// The PIN screen (its wide button) stays while the app signs in and
	// catches up: wait for the inbox, so that what follows, and its
	// pictures, start from the inbox however loaded the machine is.
	eventually(t, 120*time.Second, "the inbox after the PIN screen", func() bool {
		_, ok := wideBand(shots.grab(), win.rect(), minW)
		return !ok
	})
}

// aliceDesktop is the real desktop binary at desktop size under its own
// Xvfb, D-Bus and dunst, signed in as alice through its window, with a lab
// bot account beside her on a fresh Prosody: the setup of the STAT tests.
type aliceDesktop struct {
	srv     *testserver.Server
	bin     string
	x       *xserver
	notes   *notifyd
	dataDir string
	rounds  *proc
	win     window
	shots   *shots
}

// startAliceDesktop starts it; shotsName prefixes its screenshots.
func startAliceDesktop(t *testing.T, shotsName string) aliceDesktop {
	t.Helper()
	requireTools(t)
	d := aliceDesktop{srv: testserver.StartT(t, testserver.Options{}, "alice", "labbot"), bin: appBinary(t)}
	lay := desktopLayout
	d.x = startXvfb(t, lay.screenW, lay.screenH)
	bus := startBus(t)
	d.notes = startDunst(t, d.x, bus)
	d.dataDir = t.TempDir()
	d.rounds = startProc(t, "rounds", appEnv(t, d.x, bus, d.dataDir,
		"ROUNDS_ACCOUNT="+d.srv.JID("alice"),
		"ROUNDS_DEMO_PASSWORD="+testserver.Password,
		"ROUNDS_SERVER_URL="+d.srv.WSURL(),
	), nil, d.bin)
	d.win = d.x.waitWindow(t, d.rounds, 90*time.Second)
	d.shots = newShots(t, d.x, shotsName)
	d.shots.crop = d.win.rect()
	signInThroughWindow(t, d.x, d.win, d.shots, d.dataDir, lay.minSignInWidth)
	return d
}

func writeShot(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// startKeyring runs a Secret Service (gnome-keyring-daemon, secrets only)
// on bus with a fresh login keyring, unlocked: the OS keyring the desktop
// app keeps its listen ticket's key in (docs/STORE.md "Listening from a
// cold start").
func startKeyring(t *testing.T, bus string) {
	t.Helper()
	home := t.TempDir()
	run := filepath.Join(home, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_RUNTIME_DIR=" + run, "DBUS_SESSION_BUS_ADDRESS=" + bus}
	p := &proc{name: "gnome-keyring-daemon", out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	p.cmd.Env = env
	p.cmd.Stdin = strings.NewReader("keyring-test-password")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	eventually(t, 30*time.Second, "gnome-keyring-daemon on the bus", func() bool {
		if p.exited() {
			t.Fatalf("gnome-keyring-daemon exited: %v\n%s", p.err, p.out.String())
		}
		out, err := exec.Command("dbus-send", "--bus="+bus, "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets").CombinedOutput()
		return err == nil && strings.Contains(string(out), "boolean true")
	})
}
