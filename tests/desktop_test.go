//go:build linux

package tests

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// The real-window tests: the desktop binary, built from this repository, in
// a real X server against a real Prosody, driven with the mouse and keyboard
// through xdotool, with OS notifications shown by a real notification daemon
// (dunst) on a private session bus. Set ROUNDS_SCREENSHOT_DIR to keep the
// screenshots (docs/screenshots/real-*.png are made this way:
// ROUNDS_SCREENSHOT_DIR=$PWD/docs/screenshots go test ./tests/ -count=1).

// testKDF keeps Argon2id cheap for bob, the in-process peer; the app binary
// uses the platform's real parameters.
var testKDF = securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}

const pin = "2468"

// marker is a recognisable text the test looks for in the store files and
// the logs. It is fixed, not random: the real-* screenshots show it, and
// they are compared with the committed ones (shots.saveCropped). Every test
// has its own Prosody and data directory, so a fixed text cannot be found
// where an earlier run left it.
func marker(prefix string) string { return prefix + "04d4272db64e" }

// appEnv is the app's whole environment: nothing is inherited from the
// shell running the tests (no session bus, no user config).
func appEnv(t *testing.T, x *xserver, bus, dataDir string, extra ...string) []string {
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		x.env(),
		"LANG=en_US.UTF-8",
		"FYNE_SCALE=1",
		"ROUNDS_DATA_DIR=" + dataDir,
	}
	if bus != "" {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+bus)
	}
	return append(env, extra...)
}

// storeFiles lists the encrypted stores in the app's data dir (one per
// profile, app/profiles.go).
func storeFiles(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "profiles", "*", "store.db"))
	return m
}

// layout says where things are in the window for one size.
type layout struct {
	name           string // "desktop" or "phone"
	screenW        int
	screenH        int
	window         string // ROUNDS_WINDOW_SIZE
	listFrac       float64
	phone          bool
	wantW, wantH   int
	minSignInWidth int
	// trayHost: a panel hosts tray icons (desktop run) or none does (phone
	// run, like stock GNOME): the app must hide to the tray only with one.
	trayHost bool
}

var (
	desktopLayout = layout{name: "desktop", screenW: 1280, screenH: 720, window: "", listFrac: 0.38, wantW: 960, wantH: 680, minSignInWidth: 200, trayHost: true}
	// The phone size runs the desktop binary in a phone-sized window: the
	// `-tags mobile` simulator renders black under Xvfb (ui/screenshot_test.go
	// covers the mobile driver's sizes with the software renderer). Below
	// ui.PhoneWidth the shell uses the same one-pane layout as on phones.
	phoneLayout = layout{name: "phone", screenW: 390, screenH: 844, window: "390x844", listFrac: 1, phone: true, wantW: 390, wantH: 844, minSignInWidth: 200}
)

func TestDesktopSignInSendReceipt(t *testing.T) { signInSendReceipt(t, desktopLayout) }

func TestDesktopPhoneSizeSignInSendReceipt(t *testing.T) { signInSendReceipt(t, phoneLayout) }

// signInSendReceipt: sign in through the window, choose a PIN, receive a
// message from bob (an OS notification naming bob, without the text), open
// the conversation, reply, see bob get it, and see bob's read marker turn
// the tick to "read"; then close the window and the app exits 0.
func signInSendReceipt(t *testing.T, lay layout) {
	requireTools(t)
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	bin := appBinary(t)
	x := startXvfb(t, lay.screenW, lay.screenH)
	bus := startBus(t)
	if lay.trayHost {
		startTrayHost(t, bus)
	}
	notes := startDunst(t, x, bus)
	dataDir := t.TempDir()
	extra := []string{
		"ROUNDS_ACCOUNT=" + srv.JID("alice"),
		"ROUNDS_DEMO_PASSWORD=" + testserver.Password,
		"ROUNDS_SERVER_URL=" + srv.WSURL(),
	}
	if lay.window != "" {
		extra = append(extra, "ROUNDS_WINDOW_SIZE="+lay.window)
	}
	rounds := startProc(t, "rounds", appEnv(t, x, bus, dataDir, extra...), nil, bin)
	win := x.waitWindow(t, rounds, 90*time.Second)
	t.Logf("window %d at %v", win.id, win.rect())
	if win.w != lay.wantW || win.h != lay.wantH {
		t.Fatalf("window is %dx%d, want %dx%d", win.w, win.h, lay.wantW, lay.wantH)
	}
	shots := newShots(t, x, lay.name)
	shots.crop = win.rect()

	// 1–2. Sign in from the prefilled screen (the wide primary button),
	// choose the PIN, wait for the encrypted store.
	signInThroughWindow(t, x, win, shots, dataDir, lay.minSignInWidth)

	// 3. Bob (an in-process client on the same server) writes to alice.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bob, err := app.SignIn(ctx, app.Config{DataDir: t.TempDir(), KDF: testKDF}, srv.JID("bob"), testserver.Password, srv.WSURL(), []byte(pin))
	if err != nil {
		t.Fatalf("bob signs in: %v", err)
	}
	t.Cleanup(bob.SignOut)
	conv, err := bob.StartChat(srv.JID("alice"))
	if err != nil {
		t.Fatal(err)
	}
	secret := marker("PHI-bed7-")
	sentID, err := bob.Send(conv, secret)
	if err != nil {
		t.Fatal(err)
	}

	// The OS notification: dunst shows it; it names bob and carries no text.
	eventually(t, 90*time.Second, "dunst to show alice's notification", func() bool {
		return notes.count("displayed") >= 1
	})
	time.Sleep(500 * time.Millisecond) // let dunst draw it
	shots.saveFull("3-notification")
	if _, err := notes.ctl("close-all"); err != nil {
		t.Fatal(err)
	}
	var shown []shownNotification
	eventually(t, 30*time.Second, "the notification in dunst's history", func() bool {
		shown, err = notes.history()
		return err == nil && len(shown) >= 1
	})
	for _, n := range shown {
		t.Logf("notification: app=%q summary=%q body=%q", n.AppName, n.Summary, n.Body)
		all := n.AppName + "\n" + n.Summary + "\n" + n.Body
		if strings.Contains(all, secret) || strings.Contains(all, "PHI") || strings.Contains(all, "bed7") {
			t.Errorf("the OS notification carries the message text: %+v", n)
		}
	}
	var named bool
	for _, n := range shown {
		if strings.Contains(n.Body, "New message") && strings.Contains(n.Body, "bob") {
			named = true
		}
	}
	if !named {
		t.Errorf("no notification says \"New message from bob…\": %+v", shown)
	}

	// The tray (present when a session bus is) counts it.
	checkTray(t, bus, rounds, "1 unread message")

	// 4. Open the conversation: the inbox row with the unread badge.
	listW := int(float64(win.w) * lay.listFrac)
	inbox := image.Rect(win.x+listW*6/10, win.y+50, win.x+listW, win.y+win.h-80)
	var row image.Point
	var before image.Image
	eventually(t, 60*time.Second, "bob's conversation with an unread badge in the inbox", func() bool {
		before = shots.grab()
		var ok bool
		row, ok = badge(before, inbox, 8, 12)
		return ok
	})
	shots.save("4-inbox")
	x.click(t, image.Pt(win.x+listW*3/10, row.Y))
	convPane := image.Rect(win.x+listW, win.y, win.x+win.w, win.y+win.h)
	if lay.phone {
		convPane = win.rect()
	}
	eventually(t, 30*time.Second, "the conversation to open", func() bool {
		return changed(before, shots.grab(), convPane) > 0.05
	})
	// Opening it shows bob's message: the app marks it displayed, and bob
	// sees "read" on his message.
	eventually(t, 60*time.Second, "bob to see his message read", func() bool {
		rows, err := bob.Messages(conv, 50)
		if err != nil {
			return false
		}
		for _, r := range rows {
			if r.ID == sentID && r.Receipt.State >= securestore.ReceiptRead {
				return true
			}
		}
		return false
	})

	// 5. Reply: click the composer (bottom of the conversation), type, Enter.
	x.click(t, image.Pt(convPane.Min.X+60, win.y+win.h-30))
	time.Sleep(300 * time.Millisecond)
	reply := marker("Reply-")
	x.typeText(t, reply)
	x.key(t, "Return")
	var replyID securestore.MessageID
	eventually(t, 60*time.Second, "bob to receive alice's reply", func() bool {
		rows, err := bob.Messages(conv, 50)
		if err != nil {
			return false
		}
		for _, r := range rows {
			if !r.Outgoing && r.Body == reply {
				replyID = r.ID
				return true
			}
		}
		return false
	})
	// The message list above the composer (whose focus border, cursor and
	// send button would disturb the comparisons).
	list := image.Rect(convPane.Min.X, convPane.Min.Y, convPane.Max.X, win.y+win.h-100)
	// Bob's device acknowledges delivery on its own; let the list settle (no
	// change for a second) before bob reads it.
	settle := func() image.Image {
		prev := shots.grab()
		for i := 0; i < 40; i++ {
			time.Sleep(time.Second)
			cur := shots.grab()
			if changed(prev, cur, list) == 0 {
				return cur
			}
			prev = cur
		}
		return prev
	}
	time.Sleep(time.Second)
	delivered := settle()
	shots.save("5-sent")
	blueBefore := countBlue(delivered, list)

	// 6. Bob reads it: his displayed marker turns alice's tick primary.
	if err := bob.MarkShown(conv, replyID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "alice's window to show the reply as read", func() bool {
		return countBlue(shots.grab(), list) >= blueBefore+8
	})
	time.Sleep(500 * time.Millisecond)
	shots.save("6-read")

	// 7. Quit. Closing the window as a window manager would (WM_DELETE_WINDOW)
	// either ends the app (no tray) or hides it to the tray, whose Quit entry
	// then ends it, as a panel would on the user's click. Either way: status 0.
	if rounds.exited() {
		t.Fatalf("app died: %v\n%s", rounds.err, tail(rounds.out.String(), 40))
	}
	quitThroughTray := checkTray(t, bus, rounds, "No unread messages")
	if quitThroughTray != lay.trayHost {
		t.Fatalf("tray set up: %v, but a tray host is present: %v", quitThroughTray, lay.trayHost)
	}
	if err := closeWindow(x.display, win.id); err != nil {
		t.Fatal(err)
	}
	if quitThroughTray {
		eventually(t, 30*time.Second, "the window to hide to the tray", func() bool {
			out, err := x.xdo("search", "--onlyvisible", "--name", "^Rounds$")
			return err != nil && out == "" || strings.TrimSpace(out) == ""
		})
		if rounds.exited() {
			t.Fatalf("closing the window ended the app though it has a tray: %v", rounds.err)
		}
		tray, err := openTrayMenu(bus, rounds.cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		items, err := tray.items()
		if err != nil {
			tray.Close()
			t.Fatal(err)
		}
		id, ok := items["Quit"]
		if !ok {
			tray.Close()
			t.Fatalf("the tray menu has no Quit: %v", items)
		}
		err = tray.click(id)
		tray.Close()
		if err != nil {
			t.Fatalf("tray Quit: %v", err)
		}
	}
	if code := waitExit(t, rounds, 10*time.Second); code != 0 {
		t.Fatalf("app exited with status %d:\n%s", code, tail(rounds.out.String(), 40))
	}
	checkOutput(t, rounds)
}

// checkTray reports whether the app put a menu in the system tray; when it
// did, the menu must offer "Open Rounds" and, within 30 s, show unread.
func checkTray(t *testing.T, bus string, p *proc, unread string) bool {
	t.Helper()
	tray, err := openTrayMenu(bus, p.cmd.Process.Pid)
	if err != nil {
		t.Logf("no tray menu on the bus (%v)", err)
		return false
	}
	defer tray.Close()
	var items map[string]int32
	eventually(t, 30*time.Second, fmt.Sprintf("the tray menu to say %q", unread), func() bool {
		items, err = tray.items()
		_, ok := items[unread]
		return err == nil && ok
	})
	if _, ok := items["Open Rounds"]; !ok {
		t.Errorf("the tray menu has no \"Open Rounds\": %v", items)
	}
	t.Logf("tray menu: %v", items)
	return true
}

// checkOutput fails on a panic or fatal error in the app's log.
func checkOutput(t *testing.T, p *proc) {
	t.Helper()
	out := p.out.String()
	for _, bad := range []string{"panic:", "fatal error:", "SIGSEGV"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s output has %q:\n%s", p.name, bad, tail(out, 60))
		}
	}
}

// TestDesktopRunsWithoutSessionBus: with no session bus (the address points
// at nothing) the tray is not set up, the window still appears, and closing
// it ends the app with status 0.
func TestDesktopRunsWithoutSessionBus(t *testing.T) {
	requireTools(t)
	bin := appBinary(t)
	x := startXvfb(t, 1280, 720)
	dataDir := t.TempDir()
	nowhere := "unix:path=" + filepath.Join(t.TempDir(), "no-bus-here")
	rounds := startProc(t, "rounds", appEnv(t, x, nowhere, dataDir,
		"ROUNDS_ACCOUNT=alice@rounds.invalid"), nil, bin)
	win := x.waitWindow(t, rounds, 90*time.Second)
	shots := newShots(t, x, "nobus")
	eventually(t, 60*time.Second, "the sign-in screen", func() bool {
		_, ok := wideBand(shots.grab(), win.rect(), 200)
		return ok
	})
	time.Sleep(time.Second) // the tray (if it were set up) would fail about now
	if rounds.exited() {
		t.Fatalf("app died without a session bus: %v\n%s", rounds.err, tail(rounds.out.String(), 40))
	}
	if err := closeWindow(x.display, win.id); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, rounds, 10*time.Second); code != 0 {
		t.Fatalf("app exited with status %d without a session bus:\n%s", code, tail(rounds.out.String(), 40))
	}
	checkOutput(t, rounds)
	if strings.Contains(rounds.out.String(), "systray") {
		t.Errorf("the tray was set up without a session bus:\n%s", tail(rounds.out.String(), 40))
	}
	if files := storeFiles(dataDir); len(files) != 0 {
		t.Errorf("a store was created without signing in: %v", files)
	}
}
