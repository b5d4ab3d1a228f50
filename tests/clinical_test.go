//go:build linux

package tests

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// statReds are the STAT level's colour (the theme's error colour,
// ui/urgency.go, ui/theme.go) in the dark and light variants: the alert
// overlay's band is filled with it.
var statReds = []color.NRGBA{{R: 0xff, G: 0x6b, B: 0x6b, A: 0xff}, {R: 0xc6, G: 0x28, B: 0x28, A: 0xff}}

// countNear counts the pixels of r within tol of any of want.
func countNear(img image.Image, r image.Rectangle, want []color.NRGBA, tol int) int {
	r = r.Intersect(img.Bounds())
	k := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if nearAny(img.At(x, y), want, tol) {
				k++
			}
		}
	}
	return k
}

// primaryBlock finds the tallest run of rows in r that each hold at least
// minW primary-coloured pixels (a primary button, its label breaking the
// rows into pieces) and returns the centre of their bounding box.
func primaryBlock(img image.Image, r image.Rectangle, minW int) (image.Point, bool) {
	r = r.Intersect(img.Bounds())
	type block struct{ top, n, x0, x1 int }
	var best, cur block
	for y := r.Min.Y; y < r.Max.Y; y++ {
		k, x0, x1 := 0, r.Max.X, r.Min.X
		for x := r.Min.X; x < r.Max.X; x++ {
			if isPrimary(img.At(x, y)) {
				k++
				x0, x1 = min(x0, x), max(x1, x)
			}
		}
		if k < minW {
			cur = block{}
			continue
		}
		if cur.n == 0 {
			cur = block{top: y, x0: x0, x1: x1}
		}
		cur.n++
		cur.x0, cur.x1 = min(cur.x0, x0), max(cur.x1, x1)
		if cur.n > best.n {
			best = cur
		}
	}
	if best.n < 16 {
		return image.Point{}, false
	}
	return image.Pt((best.x0+best.x1)/2, best.top+best.n/2), true
}

// TestDesktopStatAlertAcknowledged: a lab system pages alice STAT with the
// headless sender (`rounds send`, the same binary); alice's window is covered
// by the red alert overlay, the OS notification says a STAT page arrived
// without its text; alice clicks Acknowledge, the sender (waiting for the
// acknowledgement) prints "acknowledged" and exits 0, and the overlay goes.
func TestDesktopStatAlertAcknowledged(t *testing.T) {
	d := startAliceDesktop(t, "stat")
	srv, bin, x, notes, rounds, win, shots := d.srv, d.bin, d.x, d.notes, d.rounds, d.win, d.shots

	// The inbox, empty, with nothing red on it yet.
	var quiet image.Image
	eventually(t, 60*time.Second, "the inbox to settle", func() bool {
		a := shots.grab()
		time.Sleep(time.Second)
		quiet = shots.grab()
		return changed(a, quiet, win.rect()) == 0
	})
	redBefore := countNear(quiet, win.rect(), statReds, 12)
	shots.save("1-inbox")

	// The lab system's page: password and text in owner-only files, never
	// on the command line.
	dir := t.TempDir()
	secretPath := filepath.Join(dir, "labbot.secret")
	textPath := filepath.Join(dir, "page.txt")
	text := marker("PHI-K-6.9-bed12-")
	for p, s := range map[string]string{secretPath: testserver.Password + "\n", textPath: text + "\n"} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	senderHome := t.TempDir()
	sender := startProc(t, "rounds send", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + senderHome, "LANG=en_US.UTF-8"}, nil,
		bin, "send", "--account", srv.JID("labbot"), "--secret-file", secretPath,
		"--server", srv.WSURL(), "--state-dir", filepath.Join(senderHome, "state"), "--connect-timeout", "60s",
		"--to", srv.JID("alice"), "--urgency", "stat", "--ack", "--wait", "ack", "--timeout", "2m",
		"--text-file", textPath)

	// The overlay: the STAT band covers a good part of the window.
	var alert image.Image
	eventually(t, 90*time.Second, "the STAT alert overlay", func() bool {
		if sender.exited() {
			t.Fatalf("the sender exited before the alert showed (%v):\n%s", sender.err, sender.out.String())
		}
		alert = shots.grab()
		return countNear(alert, win.rect(), statReds, 12) > redBefore+20000
	})
	redAlert := countNear(alert, win.rect(), statReds, 12)
	t.Logf("STAT-red pixels: %d before the page, %d with the alert", redBefore, redAlert)

	// The OS notification: shown by dunst, without the page's text.
	eventually(t, 60*time.Second, "dunst to show the page's notification", func() bool {
		return notes.count("displayed") >= 1
	})
	time.Sleep(500 * time.Millisecond) // let dunst draw it
	shots.saveFull("2-alert")
	if _, err := notes.ctl("close-all"); err != nil {
		t.Fatal(err)
	}
	var shown []shownNotification
	eventually(t, 30*time.Second, "the notification in dunst's history", func() bool {
		var err error
		shown, err = notes.history()
		return err == nil && len(shown) >= 1
	})
	for _, n := range shown {
		t.Logf("notification: app=%q summary=%q body=%q", n.AppName, n.Summary, n.Body)
		all := n.AppName + "\n" + n.Summary + "\n" + n.Body
		if strings.Contains(all, text) || strings.Contains(all, "PHI") || strings.Contains(all, "bed12") || strings.Contains(all, "6.9") {
			t.Errorf("the OS notification carries the page's text: %+v", n)
		}
	}

	// Acknowledge: the only bright primary button on screen (the shell
	// under the overlay is dimmed), in the card's button grid.
	var ack image.Point
	eventually(t, 30*time.Second, "the Acknowledge button", func() bool {
		var ok bool
		ack, ok = primaryBlock(shots.grab(), win.rect(), 60)
		return ok
	})
	t.Logf("Acknowledge at %v", ack)
	for attempt := 1; ; attempt++ {
		x.click(t, ack)
		deadline := time.Now().Add(20 * time.Second)
		for !sender.exited() && time.Now().Before(deadline) {
			time.Sleep(250 * time.Millisecond)
		}
		if sender.exited() || attempt == 3 {
			break
		}
		t.Logf("Acknowledge click %d: the sender is still waiting; clicking again", attempt)
	}
	if code := waitExit(t, sender, 30*time.Second); code != 0 {
		t.Fatalf("rounds send exited %d, want 0:\n%s", code, sender.out.String())
	}
	out := sender.out.String()
	t.Logf("rounds send: %s", strings.TrimSpace(out))
	if !strings.HasPrefix(strings.TrimSpace(out), "acknowledged "+srv.JID("alice")) && !strings.Contains(out, "\nacknowledged "+srv.JID("alice")) {
		t.Errorf("rounds send did not print \"acknowledged %s ...\":\n%s", srv.JID("alice"), out)
	}
	if strings.Contains(out, text) {
		t.Errorf("rounds send printed the page's text:\n%s", out)
	}

	// The overlay goes.
	eventually(t, 30*time.Second, "the alert overlay to go", func() bool {
		return countNear(shots.grab(), win.rect(), statReds, 12) < redBefore+redAlert/10
	})
	time.Sleep(500 * time.Millisecond)
	after := shots.save("3-acknowledged")
	t.Logf("STAT-red pixels after Acknowledge: %d", countNear(after, win.rect(), statReds, 12))

	if rounds.exited() {
		t.Fatalf("app died: %v\n%s", rounds.err, tail(rounds.out.String(), 40))
	}
	if err := closeWindow(x.display, win.id); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, rounds, 10*time.Second); code != 0 {
		t.Fatalf("app exited with status %d:\n%s", code, tail(rounds.out.String(), 40))
	}
	checkOutput(t, rounds)
	if strings.Contains(rounds.out.String(), text) {
		t.Errorf("the app logged the page's text")
	}
}
