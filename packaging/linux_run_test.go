//go:build packaging

package packaging

import (
	"bufio"
	"bytes"
	"context"

	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLinuxBinaryOpensItsWindow starts the binary from the archive (built by
// fyne package with its hardening flags and metadata, not by `go build`) on
// a private Xvfb and waits for its window, whose X11 class must be the
// .desktop file's StartupWMClass, or docks and launchers would not tie the
// window to its launcher. No session bus: the app must start without one.
func TestLinuxBinaryOpensItsWindow(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (make deps-package installs it)", tool)
		}
	}
	m := readAppMeta(t)
	files := readTarXZ(t, linuxArchive(t, m))
	bin := files["rounds/usr/local/bin/rounds"]
	desktop := files["rounds/usr/local/share/applications/"+m.ID+".desktop"]
	if bin.data == nil || desktop.data == nil {
		t.Fatal("binary or .desktop missing from the archive")
	}
	wmClass := regexp.MustCompile(`(?m)^StartupWMClass=(.+)$`).FindSubmatch(desktop.data)
	if wmClass == nil {
		t.Fatal(".desktop has no StartupWMClass")
	}

	dir := t.TempDir()
	exe := filepath.Join(dir, "rounds")
	if err := os.WriteFile(exe, bin.data, 0o755); err != nil {
		t.Fatal(err)
	}
	display := startXvfb(t)

	var out bytes.Buffer
	app := exec.Command(exe)
	app.Dir = dir
	app.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"DISPLAY=" + display,
		"ROUNDS_DATA_DIR=" + filepath.Join(dir, "data"),
		"LIBGL_ALWAYS_SOFTWARE=1",
		// No session bus: without an address D-Bus autolaunches a daemon
		// through X11 (dbus-launch) that outlives the test.
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/rounds-no-bus",
	}
	app.Stdout, app.Stderr = &out, &out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	t.Cleanup(func() {
		_ = app.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = app.Process.Kill()
			<-exited
		}
	})

	class := "^" + regexp.QuoteMeta(string(wmClass[1])) + "$"
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the packaged binary exited before opening a window: %v\n%s", err, out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ids, _ := exec.CommandContext(ctx, "xdotool", "search", "--onlyvisible", "--class", class).Output()
		cancel()
		if len(bytes.TrimSpace(ids)) > 0 {
			cmd := exec.Command("xdotool", "getwindowname", strings.Fields(string(ids))[0])
			cmd.Env = []string{"DISPLAY=" + display}
			name, err := cmd.Output()
			if err != nil || strings.TrimSpace(string(name)) != m.Name {
				t.Errorf("window of class %s is named %q (%v), want %q", wmClass[1], name, err, m.Name)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no visible window of class %s within 90 s\n%s", wmClass[1], out.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// startXvfb starts a private X server on a display it picks itself
// (-displayfd) and returns ":N"; it is stopped when the test ends.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset")
	x.ExtraFiles = []*os.File{w}
	var xout bytes.Buffer
	x.Stdout, x.Stderr = &xout, &xout
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = x.Process.Signal(syscall.SIGTERM)
		_ = x.Wait()
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatalf("Xvfb did not report a display: %s", xout.String())
		}
		display := ":" + n
		t.Setenv("DISPLAY", display) // for xdotool
		return display
	case <-time.After(60 * time.Second):
		t.Fatalf("Xvfb did not start within 60 s: %s", xout.String())
	}
	return ""
}
