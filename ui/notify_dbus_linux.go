//go:build linux

package ui

import (
	"log/slog"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// The freedesktop Desktop Notifications service.
const (
	notificationsName  = "org.freedesktop.Notifications"
	notificationsPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notificationsIface = "org.freedesktop.Notifications"
	// desktopEntry lets the daemon find our icon and name (app.rounds.client.desktop).
	desktopEntry = "app.rounds.client"
)

// busNotifications speaks org.freedesktop.Notifications over a private
// session-bus connection: it remembers which notification id belongs to which
// conversation, so the daemon's ActionInvoked("default") can name the
// conversation that was tapped and Clear can close what is on screen.
type busNotifications struct {
	conn   *dbus.Conn
	onOpen func(conversationID string)

	mu     sync.Mutex
	byConv map[string]uint32
	byID   map[uint32]string
}

// newDesktopNotifications connects to the session bus when one answers and a
// notification daemon owns its name there; nil otherwise (Fyne then shows
// notifications its own way).
func newDesktopNotifications(onOpen func(conversationID string)) desktopNotifications {
	if !SessionBusReachable() {
		return nil
	}
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return nil
	}
	if conn.Auth(nil) != nil || conn.Hello() != nil {
		conn.Close()
		return nil
	}
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, notificationsName).Store(&owned); err != nil || !owned {
		conn.Close()
		return nil
	}
	b := &busNotifications{conn: conn, onOpen: onOpen, byConv: map[string]uint32{}, byID: map[uint32]string{}}
	if err := conn.AddMatchSignal(dbus.WithMatchSender(notificationsName), dbus.WithMatchObjectPath(notificationsPath), dbus.WithMatchInterface(notificationsIface)); err != nil {
		conn.Close()
		return nil
	}
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	go b.listen(signals)
	return b
}

// listen handles the daemon's signals until the connection closes.
func (b *busNotifications) listen(signals <-chan *dbus.Signal) {
	for s := range signals {
		// Only the daemon speaks for its notifications: any program on the
		// session bus can send a signal straight to us, and a forged
		// ActionInvoked would open a conversation on an unlocked screen.
		if !b.fromDaemon(s.Sender) {
			continue
		}
		switch s.Name {
		case notificationsIface + ".ActionInvoked":
			var id uint32
			var action string
			if dbus.Store(s.Body, &id, &action) != nil || action != "default" {
				continue
			}
			b.mu.Lock()
			conv, ok := b.byID[id]
			b.mu.Unlock()
			if ok && b.onOpen != nil {
				b.onOpen(conv)
			}
		case notificationsIface + ".NotificationClosed":
			var id, reason uint32
			if dbus.Store(s.Body, &id, &reason) != nil {
				continue
			}
			b.forget(id)
		}
	}
}

// fromDaemon reports whether sender (a unique bus name) is the current
// owner of org.freedesktop.Notifications. Signals are rare, so it asks the
// bus each time rather than tracking owner changes.
func (b *busNotifications) fromDaemon(sender string) bool {
	var owner string
	if err := b.conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, notificationsName).Store(&owner); err != nil {
		return false
	}
	return sender != "" && sender == owner
}

func (b *busNotifications) forget(id uint32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if conv, ok := b.byID[id]; ok {
		delete(b.byID, id)
		if b.byConv[conv] == id {
			delete(b.byConv, conv)
		}
	}
}

// show sends Notify, replacing the conversation's notification if one is
// still on screen, so a conversation never has two.
func (b *busNotifications) show(conv, title, body string, urgent bool) bool {
	b.mu.Lock()
	replaces := b.byConv[conv]
	b.mu.Unlock()
	urgency := byte(1)
	if urgent {
		urgency = 2
	}
	hints := map[string]dbus.Variant{
		"urgency":       dbus.MakeVariant(urgency),
		"desktop-entry": dbus.MakeVariant(desktopEntry),
	}
	call := b.conn.Object(notificationsName, notificationsPath).Call(notificationsIface+".Notify", 0,
		"Rounds", replaces, "", title, body, []string{"default", "Open"}, hints, int32(-1))
	var id uint32
	if err := call.Store(&id); err != nil {
		slog.Info("ui: desktop notification", "err", err)
		return false
	}
	b.mu.Lock()
	if replaces != 0 && replaces != id {
		delete(b.byID, replaces)
	}
	b.byConv[conv] = id
	b.byID[id] = conv
	b.mu.Unlock()
	return true
}

// close withdraws the conversation's notification (CloseNotification); the
// daemon's NotificationClosed signal then forgets it, and so does this.
func (b *busNotifications) close(conv string) {
	b.mu.Lock()
	id, ok := b.byConv[conv]
	if ok {
		delete(b.byConv, conv)
		delete(b.byID, id)
	}
	b.mu.Unlock()
	if !ok {
		return
	}
	done := make(chan *dbus.Call, 1)
	b.conn.Object(notificationsName, notificationsPath).Go(notificationsIface+".CloseNotification", 0, done, id)
	select {
	case c := <-done:
		if c.Err != nil {
			slog.Info("ui: close desktop notification", "err", c.Err)
		}
	case <-time.After(5 * time.Second):
	}
}
