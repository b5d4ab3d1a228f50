//go:build linux

package tests

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/godbus/dbus/v5"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/ui"
)

// A notification raised through ui.OSNotifier on Linux goes to the session
// bus's notification daemon (here dunst on a private bus and X display) as
// "Rounds" with the title and body the app gave, no message text; Clear
// takes it off the screen (Fyne alone could not).
func TestNotificationDunst(t *testing.T) {
	requireTools(t)
	x := startXvfb(t, 800, 600)
	bus := startBus(t)
	notes := startDunst(t, x, bus)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)

	n := ui.NewOSNotifier(test.NewApp())
	secret := "PHI-bed12-potassium"
	n.Notify(app.Notification{ConversationID: "ward@rounds.test", Title: "Rounds", Body: "New message from Dr Osei"})
	eventually(t, 30*time.Second, "dunst to show the notification", func() bool {
		return notes.count("displayed") == 1
	})
	n.Clear("ward@rounds.test")
	eventually(t, 30*time.Second, "Clear to close the notification", func() bool {
		return notes.count("displayed") == 0
	})
	var shown []shownNotification
	eventually(t, 30*time.Second, "the closed notification in dunst's history", func() bool {
		var err error
		shown, err = notes.history()
		return err == nil && len(shown) == 1
	})
	got := shown[0]
	if got.AppName != "Rounds" || got.Summary != "Rounds" || got.Body != "New message from Dr Osei" {
		t.Errorf("dunst shows %+v, want app Rounds, summary Rounds, body \"New message from Dr Osei\"", got)
	}
	if strings.Contains(got.AppName+got.Summary+got.Body, secret) {
		t.Errorf("the notification carries message text: %+v", got)
	}

	// An urgent one names its level in the title.
	n.Notify(app.Notification{ConversationID: "icu@rounds.test", Title: "Rounds", Body: "New message in ICU team", Urgent: true, Level: "STAT"})
	eventually(t, 30*time.Second, "dunst to show the urgent notification", func() bool {
		return notes.count("displayed") == 1
	})
	n.Clear("icu@rounds.test")
	eventually(t, 30*time.Second, "Clear to close the urgent notification", func() bool {
		return notes.count("displayed") == 0
	})
	eventually(t, 30*time.Second, "the urgent notification in dunst's history", func() bool {
		var err error
		shown, err = notes.history()
		return err == nil && len(shown) == 2
	})
	var stat bool
	for _, s := range shown {
		if s.Summary == "Rounds — STAT" && s.Body == "New message in ICU team" {
			stat = true
		}
	}
	if !stat {
		t.Errorf("no \"Rounds — STAT\" notification in %+v", shown)
	}
}

// fakeNotifications is a stand-in org.freedesktop.Notifications daemon (a
// platform service): it records what it is asked and can emit the signals a
// real daemon sends when the user clicks.
type fakeNotifications struct {
	mu     sync.Mutex
	nextID uint32
	notify []fakeNotify
	closed []uint32
}

type fakeNotify struct {
	appName       string
	replaces      uint32
	summary, body string
	actions       []string
	hints         map[string]dbus.Variant
	id            uint32
}

func (f *fakeNotifications) Notify(appName string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := replaces
	if id == 0 {
		f.nextID++
		id = f.nextID
	}
	f.notify = append(f.notify, fakeNotify{appName, replaces, summary, body, actions, hints, id})
	return id, nil
}

func (f *fakeNotifications) CloseNotification(id uint32) *dbus.Error {
	f.mu.Lock()
	f.closed = append(f.closed, id)
	f.mu.Unlock()
	return nil
}

func (f *fakeNotifications) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

func (f *fakeNotifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "rounds tests", "1", "1.2", nil
}

func (f *fakeNotifications) snapshot() ([]fakeNotify, []uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeNotify(nil), f.notify...), append([]uint32(nil), f.closed...)
}

const notificationsPath = dbus.ObjectPath("/org/freedesktop/Notifications")

func serveFakeNotifications(t *testing.T, bus string) (*fakeNotifications, *dbus.Conn) {
	t.Helper()
	conn, err := dbus.Dial(bus)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatal(err)
	}
	f := &fakeNotifications{}
	if err := conn.Export(f, notificationsPath, "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning org.freedesktop.Notifications: %v %v", reply, err)
	}
	return f, conn
}

// Tapping a notification (the daemon's ActionInvoked "default" for the id
// Notify returned) calls OnOpen with that conversation; Clear sends
// CloseNotification for it.
func TestNotificationTapAndClose(t *testing.T) {
	requireTools(t)
	bus := startBus(t)
	fake, daemon := serveFakeNotifications(t, bus)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)

	opened := make(chan string, 4)
	n := ui.NewOSNotifier(test.NewApp())
	n.OnOpen = func(conv string) { opened <- conv }

	n.Notify(app.Notification{ConversationID: "ward@rounds.test", Title: "Rounds", Body: "New message from Dr Osei"})
	n.Notify(app.Notification{ConversationID: "icu@rounds.test", Title: "Rounds", Body: "New message in ICU team", Urgent: true, Level: "STAT"})
	// A second urgent one in the same conversation replaces its notification.
	n.Notify(app.Notification{ConversationID: "icu@rounds.test", Title: "Rounds", Body: "New message in ICU team", Urgent: true, Level: "STAT"})
	sent, _ := fake.snapshot()
	if len(sent) != 3 {
		t.Fatalf("the daemon got %d Notify calls, want 3: %+v", len(sent), sent)
	}
	for i, s := range sent {
		if s.appName != "Rounds" || strings.Join(s.actions, ",") != "default,Open" {
			t.Errorf("Notify %d: app %q actions %q, want Rounds and default,Open", i, s.appName, s.actions)
		}
		if de, _ := s.hints["desktop-entry"].Value().(string); de != "app.rounds.client" {
			t.Errorf("Notify %d: desktop-entry hint %v", i, s.hints["desktop-entry"])
		}
	}
	if sent[0].summary != "Rounds" || sent[0].body != "New message from Dr Osei" {
		t.Errorf("first notification %q / %q", sent[0].summary, sent[0].body)
	}
	if u, _ := sent[0].hints["urgency"].Value().(byte); u != 1 {
		t.Errorf("normal notification urgency %v, want 1", sent[0].hints["urgency"])
	}
	if sent[1].summary != "Rounds — STAT" {
		t.Errorf("urgent summary %q", sent[1].summary)
	}
	if u, _ := sent[1].hints["urgency"].Value().(byte); u != 2 {
		t.Errorf("urgent notification urgency %v, want 2", sent[1].hints["urgency"])
	}
	if sent[2].replaces != sent[1].id {
		t.Errorf("the second urgent notification replaces %d, want %d (one per conversation)", sent[2].replaces, sent[1].id)
	}
	ward, icu := sent[0].id, sent[1].id

	// A non-default action and an unknown id open nothing.
	if err := daemon.Emit(notificationsPath, "org.freedesktop.Notifications.ActionInvoked", ward, "other"); err != nil {
		t.Fatal(err)
	}
	if err := daemon.Emit(notificationsPath, "org.freedesktop.Notifications.ActionInvoked", uint32(999), "default"); err != nil {
		t.Fatal(err)
	}
	// Another program on the bus forging the daemon's signal opens nothing.
	imposter, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer imposter.Close()
	if err := imposter.Emit(notificationsPath, "org.freedesktop.Notifications.ActionInvoked", ward, "default"); err != nil {
		t.Fatal(err)
	}
	// The tap.
	if err := daemon.Emit(notificationsPath, "org.freedesktop.Notifications.ActionInvoked", icu, "default"); err != nil {
		t.Fatal(err)
	}
	select {
	case conv := <-opened:
		if conv != "icu@rounds.test" {
			t.Errorf("OnOpen(%q), want icu@rounds.test", conv)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnOpen was not called after ActionInvoked(default)")
	}
	select {
	case conv := <-opened:
		t.Errorf("a second OnOpen(%q)", conv)
	case <-time.After(500 * time.Millisecond):
	}

	// Reading a conversation closes its notification; one never shown closes nothing.
	n.Clear("ward@rounds.test")
	n.Clear("nobody@rounds.test")
	_, closed := fake.snapshot()
	if len(closed) != 1 || closed[0] != ward {
		t.Errorf("CloseNotification calls %v, want [%d]", closed, ward)
	}
	// The daemon says it closed icu's (user dismissed it): Clear then has nothing to close.
	if err := daemon.Emit(notificationsPath, "org.freedesktop.Notifications.NotificationClosed", icu, uint32(2)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	n.Clear("icu@rounds.test")
	if _, closed = fake.snapshot(); len(closed) != 1 {
		t.Errorf("CloseNotification calls %v after the daemon closed it, want only [%d]", closed, ward)
	}
}

// Without a notification daemon on the bus, notifications go through Fyne.
func TestNotificationFallsBackToFyne(t *testing.T) {
	requireTools(t)
	bus := startBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
	n := ui.NewOSNotifier(test.NewApp())
	test.AssertNotificationSent(t, fyne.NewNotification("Rounds", "New message from Dr Osei"), func() {
		n.Notify(app.Notification{ConversationID: "ward@rounds.test", Title: "Rounds", Body: "New message from Dr Osei"})
	})
	n.Clear("ward@rounds.test") // nothing to close, must not block
}

// The real binary, with a fake notification daemon on its session bus: a
// message from bob raises a notification (no text); the daemon's
// ActionInvoked("default") for it opens bob's conversation, which marks the
// message read (bob sees "read"), and reading it closes the notification.
func TestNotificationTapOpensConversation(t *testing.T) {
	requireTools(t)
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	bin := appBinary(t)
	x := startXvfb(t, 1280, 720)
	bus := startBus(t)
	fake, daemon := serveFakeNotifications(t, bus)
	dataDir := t.TempDir()
	rounds := startProc(t, "rounds", appEnv(t, x, bus, dataDir,
		"ROUNDS_ACCOUNT="+srv.JID("alice"),
		"ROUNDS_DEMO_PASSWORD="+testserver.Password,
		"ROUNDS_SERVER_URL="+srv.WSURL()), nil, bin)
	win := x.waitWindow(t, rounds, 90*time.Second)
	shots := newShots(t, x, "notify-tap")
	shots.crop = win.rect()

	signInThroughWindow(t, x, win, shots, dataDir, 200)

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
	secret := marker("PHI-tap-")
	sentID, err := bob.Send(conv, secret)
	if err != nil {
		t.Fatal(err)
	}

	var note fakeNotify
	eventually(t, 90*time.Second, "the app's Notify call", func() bool {
		sent, _ := fake.snapshot()
		if len(sent) == 0 {
			return false
		}
		note = sent[len(sent)-1]
		return true
	})
	if note.appName != "Rounds" || !strings.Contains(note.body, "bob") || strings.Contains(note.summary+note.body, secret) {
		t.Errorf("notification app %q summary %q body %q: want Rounds, naming bob, no text", note.appName, note.summary, note.body)
	}
	read := func() bool {
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
	}
	time.Sleep(2 * time.Second)
	if read() {
		t.Fatal("bob's message is read before the notification was tapped")
	}
	if err := daemon.Emit(notificationsPath, "org.freedesktop.Notifications.ActionInvoked", note.id, "default"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the tap to open bob's conversation (bob sees his message read)", read)
	eventually(t, 30*time.Second, "reading it to close the notification", func() bool {
		_, closed := fake.snapshot()
		for _, id := range closed {
			if id == note.id {
				return true
			}
		}
		return false
	})
	shots.save("opened")
	if rounds.exited() {
		t.Fatalf("app died: %v\n%s", rounds.err, tail(rounds.out.String(), 40))
	}
}
