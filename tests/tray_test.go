//go:build linux

package tests

import (
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

// trayMenu is what a tray host (the panel) sees of the app's StatusNotifierItem
// menu: com.canonical.dbusmenu at /StatusNotifierMenu, on the bus name
// org.kde.StatusNotifierItem-<pid>-1 that fyne's systray claims.
type trayMenu struct {
	conn *dbus.Conn
	obj  dbus.BusObject
}

func openTrayMenu(bus string, pid int) (*trayMenu, error) {
	conn, err := dbus.Connect(bus)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid)
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned); err != nil {
		conn.Close()
		return nil, err
	}
	if !owned {
		conn.Close()
		return nil, fmt.Errorf("no tray: nobody owns %s", name)
	}
	return &trayMenu{conn: conn, obj: conn.Object(name, "/StatusNotifierMenu")}, nil
}

func (m *trayMenu) Close() { m.conn.Close() }

// items returns the labels of the menu's entries by id (one level deep).
func (m *trayMenu) items() (map[string]int32, error) {
	var (
		revision uint32
		root     struct {
			ID       int32
			Props    map[string]dbus.Variant
			Children []dbus.Variant
		}
	)
	if err := m.obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&revision, &root); err != nil {
		return nil, err
	}
	out := map[string]int32{}
	for _, c := range root.Children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) < 2 {
			continue
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		if l, ok := props["label"]; ok {
			if s, ok := l.Value().(string); ok {
				out[strings.ReplaceAll(s, "_", "")] = id
			}
		}
	}
	return out, nil
}

// click sends the "clicked" event a tray host sends when the user picks an
// entry.
func (m *trayMenu) click(id int32) error {
	return m.obj.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err
}

// trayHost stands in for a panel that hosts tray icons: it owns
// org.kde.StatusNotifierWatcher on the private bus and accepts
// registrations, as KDE's or XFCE's panel would. A fake is right here: the
// panel is a platform service, and what is under test is whether Rounds
// sets up its tray only when a host exists.
type trayHost struct{ items []string }

func (h *trayHost) RegisterStatusNotifierItem(service string) *dbus.Error {
	h.items = append(h.items, service)
	return nil
}

func (h *trayHost) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func startTrayHost(t interface {
	Helper()
	Fatalf(string, ...any)
	Cleanup(func())
}, bus string) {
	t.Helper()
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatalf("tray host: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	h := &trayHost{}
	if err := conn.Export(h, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatalf("tray host: %v", err)
	}
	reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("tray host: name not owned (%v, %v)", reply, err)
	}
}
