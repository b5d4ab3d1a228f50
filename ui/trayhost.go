package ui

import (
	"github.com/godbus/dbus/v5"
)

// statusNotifierWatcher is the D-Bus name a Linux panel owns when it hosts
// StatusNotifierItem tray icons (KDE, XFCE, GNOME with the AppIndicator
// extension). Stock GNOME has no such host.
const statusNotifierWatcher = "org.kde.StatusNotifierWatcher"

// trayHostPresent reports whether something on the session bus will show a
// tray icon. Without a host a tray is invisible, yet Fyne would still hide
// the window to it on close, so the user could neither see nor quit the app:
// Rounds sets a tray up only when a host answers.
func trayHostPresent() bool {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false
	}
	if err := conn.Hello(); err != nil {
		return false
	}
	var owned bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, statusNotifierWatcher).Store(&owned)
	return err == nil && owned
}
