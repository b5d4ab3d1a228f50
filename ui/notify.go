package ui

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"rounds/app"
)

// OSNotifier shows app.Notifications through the OS. It keeps one
// notification per conversation: while one is outstanding for a conversation,
// further messages there do not raise another (urgent ones always do), until
// Clear says it was read.
//
// On Linux, when a notification daemon answers on the session bus, it speaks
// org.freedesktop.Notifications itself (notify_dbus_linux.go): Fyne's
// SendNotification has no tap callback and cannot withdraw a notification,
// while the daemon's "default" action tells us which conversation was tapped
// (OnOpen) and CloseNotification takes a read conversation's notification off
// the screen. Elsewhere, or without a daemon, it uses fyne.App.SendNotification
// (the notification centre on macOS/Windows/mobile), where a tap only brings
// the app forward and Clear only re-arms.
type OSNotifier struct {
	App fyne.App

	mu          sync.Mutex
	outstanding map[string]bool
	// OnChange, when set, is called (from any goroutine) with the number of
	// conversations with an outstanding notification (the tray uses it).
	OnChange func(n int)
	// OnOpen, when set, is called (from any goroutine) with the conversation
	// whose notification the user tapped. Only platforms with a tap callback
	// call it (Linux with a notification daemon); set it before the first
	// Notify.
	OnOpen func(conversationID string)

	deskOnce sync.Once
	desk     desktopNotifications
}

// desktopNotifications is a platform notification service that can report a
// tap and withdraw a notification (Linux: org.freedesktop.Notifications).
type desktopNotifications interface {
	// show raises (or replaces) the conversation's notification; false means
	// it could not, and the caller falls back to Fyne.
	show(conversationID, title, body string, urgent bool) bool
	// close withdraws the conversation's notification if one is on screen.
	close(conversationID string)
}

// desktop connects the platform service on first use, so constructing the
// notifier never waits on a bus; nil when there is none.
func (o *OSNotifier) desktop() desktopNotifications {
	o.deskOnce.Do(func() {
		o.desk = newDesktopNotifications(func(conv string) {
			if o.OnOpen != nil {
				o.OnOpen(conv)
			}
		})
	})
	return o.desk
}

var _ app.Notifier = (*OSNotifier)(nil)

// NewOSNotifier returns a notifier over a.
func NewOSNotifier(a fyne.App) *OSNotifier {
	return &OSNotifier{App: a, outstanding: map[string]bool{}}
}

// Notify shows n unless its conversation already has one outstanding.
func (o *OSNotifier) Notify(n app.Notification) {
	o.mu.Lock()
	if o.outstanding[n.ConversationID] && !n.Urgent {
		o.mu.Unlock()
		return
	}
	o.outstanding[n.ConversationID] = true
	count := len(o.outstanding)
	o.mu.Unlock()
	title := n.Title
	if title == "" {
		title = "Rounds"
	}
	if t := urgentTitle(title, n); t != "" {
		title = t
	}
	if d := o.desktop(); d == nil || !d.show(n.ConversationID, title, n.Body, n.Urgent) {
		o.App.SendNotification(fyne.NewNotification(title, n.Body))
	}
	if o.OnChange != nil {
		o.OnChange(count)
	}
}

// urgentTitle names the level of an urgent notification in its title
// ("Rounds — STAT", the policy's name for the level), so a glance at a
// truncated banner tells STAT from urgent; "" when nothing is added.
func urgentTitle(title string, n app.Notification) string {
	if !n.Urgent {
		return ""
	}
	level := strings.TrimSpace(n.Level)
	if level == "" {
		level = "Urgent"
	}
	return title + " — " + level
}

// Clear re-arms notifications for a conversation that was read and, where
// the platform can, withdraws the one on screen.
func (o *OSNotifier) Clear(conversationID string) {
	o.mu.Lock()
	delete(o.outstanding, conversationID)
	count := len(o.outstanding)
	o.mu.Unlock()
	if d := o.desktop(); d != nil {
		d.close(conversationID)
	}
	if o.OnChange != nil {
		o.OnChange(count)
	}
}

// SessionBusReachable reports whether a D-Bus session bus answers: the
// address in DBUS_SESSION_BUS_ADDRESS names a unix socket we can connect to.
// Without one the Linux system tray (StatusNotifierItem) must not be set up,
// or the app cannot quit cleanly.
func SessionBusReachable() bool {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return false
	}
	for _, a := range strings.Split(addr, ";") {
		kind, rest, ok := strings.Cut(a, ":")
		if !ok || kind != "unix" {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			var path string
			switch k {
			case "path":
				path = v
			case "abstract":
				path = "@" + v
			default:
				continue
			}
			c, err := net.DialTimeout("unix", path, 500*time.Millisecond)
			if err == nil {
				c.Close()
				return true
			}
		}
	}
	return false
}

// trayNeedsBus says whether this platform's tray goes through D-Bus.
func trayNeedsBus() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return true
	}
	return false
}

// Tray is the desktop system-tray menu: "N unread" and "Open Rounds".
type Tray struct {
	app    desktop.App
	open   func()
	unread *fyne.MenuItem
	menu   *fyne.Menu
}

// SetupTray installs the tray menu when the platform has one and (on Linux)
// a session bus is reachable and a tray host (StatusNotifierWatcher) owns
// its name there; otherwise it returns nil and the app runs without a tray,
// so closing the window quits. open shows the main window.
func SetupTray(a fyne.App, icon fyne.Resource, open func()) *Tray {
	d, ok := a.(desktop.App)
	if !ok {
		return nil
	}
	if trayNeedsBus() && (!SessionBusReachable() || !trayHostPresent()) {
		return nil
	}
	t := &Tray{app: d, open: open}
	t.unread = fyne.NewMenuItem("No unread messages", open)
	t.menu = fyne.NewMenu("Rounds", t.unread, fyne.NewMenuItem("Open Rounds", open))
	d.SetSystemTrayMenu(t.menu)
	if icon != nil {
		d.SetSystemTrayIcon(icon)
	}
	return t
}

// SetUnread updates the menu label; nil-safe, call on the UI goroutine.
func (t *Tray) SetUnread(n int) {
	if t == nil {
		return
	}
	t.unread.Label = trayLabel(n)
	t.menu.Refresh()
}

func trayLabel(n int) string {
	switch n {
	case 0:
		return "No unread messages"
	case 1:
		return "1 unread message"
	}
	return fmt.Sprintf("%d unread messages", n)
}

// CommandSound plays a short generated tone with the platform's command-line
// player (paplay or aplay on Linux, afplay on macOS). Where none is found it
// does nothing: the OS notification still makes its own sound.
type CommandSound struct {
	once   sync.Once
	player string
	normal string
	urgent string
}

var _ app.Sound = (*CommandSound)(nil)

func (s *CommandSound) setup() {
	for _, p := range []string{"paplay", "aplay", "afplay"} {
		if path, err := exec.LookPath(p); err == nil {
			s.player = path
			break
		}
	}
	if s.player == "" {
		return
	}
	dir, err := os.MkdirTemp("", "rounds-sound")
	if err != nil {
		s.player = ""
		return
	}
	s.normal = filepath.Join(dir, "message.wav")
	s.urgent = filepath.Join(dir, "urgent.wav")
	if os.WriteFile(s.normal, ToneWAV([]float64{880}, 120*time.Millisecond), 0o600) != nil ||
		os.WriteFile(s.urgent, ToneWAV([]float64{988, 740, 988, 740}, 140*time.Millisecond), 0o600) != nil {
		s.player = ""
	}
}

// NewMessage plays the tone without waiting for it.
func (s *CommandSound) NewMessage(urgent bool) {
	s.once.Do(s.setup)
	if s.player == "" {
		return
	}
	f := s.normal
	if urgent {
		f = s.urgent
	}
	cmd := exec.Command(s.player, f)
	if cmd.Start() == nil {
		go cmd.Wait()
	}
}

// ToneWAV renders a sequence of sine tones (each lasting step) as a 16-bit
// mono 22.05 kHz WAV with short fades, so it does not click.
func ToneWAV(freqs []float64, step time.Duration) []byte {
	const rate = 22050
	per := int(step.Seconds() * rate)
	fade := rate / 200
	samples := make([]int16, 0, per*len(freqs))
	for _, f := range freqs {
		for i := 0; i < per; i++ {
			amp := 0.35
			if i < fade {
				amp *= float64(i) / float64(fade)
			} else if per-i < fade {
				amp *= float64(per-i) / float64(fade)
			}
			samples = append(samples, int16(amp*32767*math.Sin(2*math.Pi*f*float64(i)/rate)))
		}
	}
	var b bytes.Buffer
	data := len(samples) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, samples)
	return b.Bytes()
}
