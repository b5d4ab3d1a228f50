package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

func labelsText(o fyne.CanvasObject) string {
	var b []string
	for _, l := range findAll[*widget.Label](o) {
		b = append(b, l.Text)
	}
	return strings.Join(b, "|")
}

func buttonNamed(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, b := range findAll[*widget.Button](o) {
		if b.Text == text {
			return b
		}
	}
	t.Fatalf("no %q button", text)
	return nil
}

func TestUnlockPINPad(t *testing.T) {
	test.NewTempApp(t)
	restore := isMobile
	isMobile = func() bool { return true }
	defer func() { isMobile = restore }()
	got := make(chan string, 2)
	screen := UnlockScreen(nil, "nurse.kim@rounds.test", func(pin string) error { got <- pin; return wrongPIN(3) })
	w := test.NewTempWindow(t, screen)
	w.Resize(fyne.NewSize(390, 844))
	for _, d := range "48291" {
		test.Tap(buttonNamed(t, screen, string(d)))
	}
	if !strings.Contains(labelsText(screen), "● ● ● ● ●") {
		t.Fatalf("PIN dots not shown: %s", labelsText(screen))
	}
	var ok *widget.Button
	for _, b := range findAll[*widget.Button](screen) {
		if b.Importance == widget.HighImportance {
			ok = b
		}
	}
	test.Tap(ok)
	select {
	case pin := <-got:
		if pin != "48291" {
			t.Fatalf("unlock got %q", pin)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("unlock not called")
	}
	if !waitFor(func() bool { return strings.Contains(labelsText(screen), "3 attempts left") }) {
		t.Fatalf("attempts left not shown: %s", labelsText(screen))
	}
}

func TestUnlockDesktopField(t *testing.T) {
	test.NewTempApp(t)
	restore := isMobile
	isMobile = func() bool { return false }
	defer func() { isMobile = restore }()
	got := make(chan string, 1)
	screen := UnlockScreen(nil, "dr.osei@rounds.test", func(pin string) error { got <- pin; return nil })
	w := test.NewTempWindow(t, screen)
	w.Resize(fyne.NewSize(900, 640))
	entries := findAll[*widget.Entry](screen)
	if len(entries) != 1 || !entries[0].Password {
		t.Fatal("no password-style PIN field on desktop")
	}
	test.Type(entries[0], "2468")
	entries[0].TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	select {
	case pin := <-got:
		if pin != "2468" {
			t.Fatalf("unlock got %q", pin)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Enter did not unlock")
	}
}

func TestDirectorySearchStartJoin(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeActions{}
	v := NewDirectoryView(contacts(), f)
	var started []string
	v.OnStarted = func(c string) { started = append(started, c) }
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	for q, want := range map[string]string{"osei": "Dr Osei", "pharmacy@": "Pharmacy", "cardio": "Dr Patel", "in surgery": "Dr Osei"} {
		v.search.SetText(q)
		if len(v.shown) != 1 || v.shown[0].Name != want {
			t.Errorf("search %q shows %v", q, v.shown)
		}
	}
	v.search.SetText("icu")
	if len(v.shown) != 2 {
		t.Errorf("group search shows %d", len(v.shown))
	}
	v.list.Select(1)
	if !f.has("start nurse.kim@rounds.test") || len(started) != 1 {
		t.Fatalf("start chat: %v", f.calls)
	}
	v.search.SetText("")
	test.Tap(v.join)
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no join dialog")
	}
	entries := findAll[*widget.Entry](top)
	test.Type(entries[0], "icu@rooms.rounds.test")
	test.Type(entries[1], "Kim")
	test.Tap(buttonNamed(t, top, "Join"))
	if !f.has("join icu@rooms.rounds.test as Kim") {
		t.Fatalf("join: %v", f.calls)
	}
}

func TestSettings(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeActions{}
	screen := SettingsScreen(settingsState(), f)
	w := test.NewTempWindow(t, screen)
	w.Resize(fyne.NewSize(900, 640))
	radios := findAll[*widget.RadioGroup](screen)
	if len(radios) != 2 {
		t.Fatalf("%d radio groups", len(radios))
	}
	radios[0].SetSelected("Away")
	if !f.has("presence away In surgery") {
		t.Errorf("presence: %v", f.calls)
	}
	// Policy allows sender names at most: no "message text" option.
	for _, o := range radios[1].Options {
		if strings.Contains(o, "message text") {
			t.Errorf("preview option %q beyond policy", o)
		}
	}
	radios[1].SetSelected(previewText(app.PreviewNone))
	if !f.has("preview 1") {
		t.Errorf("preview: %v", f.calls)
	}
	sel := findAll[*widget.Select](screen)[0]
	for _, o := range sel.Options {
		if o == "15 minutes" || o == "30 minutes" {
			t.Errorf("lock option %q beyond policy", o)
		}
	}
	sel.SetSelected("10 minutes")
	if !f.has("lock 10m0s") {
		t.Errorf("lock: %v", f.calls)
	}

	// Wipe needs the typed confirmation.
	test.Tap(buttonNamed(t, screen, "Wipe this device"))
	top := w.Canvas().Overlays().Top()
	wipe := buttonNamed(t, top, "Wipe")
	entry := findAll[*widget.Entry](top)[0]
	test.Type(entry, "wipe")
	test.Tap(wipe)
	if f.has("wipe") || !wipe.Disabled() {
		t.Fatal("wiped without the exact confirmation")
	}
	entry.SetText(WipeConfirmation)
	test.Tap(wipe)
	if !f.has("wipe") {
		t.Fatal("typed confirmation did not wipe")
	}

	test.Tap(buttonNamed(t, screen, "Change PIN"))
	top = w.Canvas().Overlays().Top()
	pins := findAll[*widget.Entry](top)
	pins[0].SetText("1234")
	pins[1].SetText("975310")
	pins[2].SetText("975310")
	test.Tap(buttonNamed(t, top, "Change PIN"))
	if !f.has("pin 1234 975310") {
		t.Fatalf("change PIN: %v", f.calls)
	}
}

func TestShellAdaptive(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeActions{}
	s := NewShell(f, settingsState())
	s.Inbox.SetRows(inboxRows())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(390, 844))
	if !s.Phone() {
		t.Fatal("phone width not one pane")
	}
	s.Inbox.list.Select(1)
	if s.Conversation() == nil || s.Conversation().ID() != "dr.osei@rounds.test" || len(f.opened) != 1 {
		t.Fatalf("tap did not open: %v", f.opened)
	}
	s.ShowConversation(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), false)
	w.Resize(fyne.NewSize(390, 845))
	if s.root.Objects[0] != s.Conversation() {
		t.Fatal("phone does not show the conversation alone")
	}
	test.Tap(s.Conversation().back)
	w.Resize(fyne.NewSize(390, 844))
	if s.Conversation() != nil {
		t.Fatal("back did not close the conversation")
	}
	// Desktop: list and conversation side by side.
	s.Inbox.list.Select(0)
	w.Resize(fyne.NewSize(900, 640))
	if s.Phone() {
		t.Fatal("desktop width in phone layout")
	}
	if _, ok := s.root.Objects[0].(*fyne.Container); !ok && s.layout.split == nil {
		t.Fatal("no split")
	}
	if s.layout.split.Trailing != s.Conversation() {
		t.Fatal("conversation not beside the list")
	}
	s.Inbox.OnNewChat()
	if s.layout.tabs.SelectedIndex() != 1 {
		t.Fatal("New chat did not open the directory")
	}
}

func TestNotifierOnePerConversation(t *testing.T) {
	a := test.NewTempApp(t)
	n := NewOSNotifier(a)
	var counts []int
	n.OnChange = func(c int) { counts = append(counts, c) }
	n.Notify(app.Notification{ConversationID: "icu", Title: "Rounds", Body: "New message in ICU team"})
	n.Notify(app.Notification{ConversationID: "icu", Title: "Rounds", Body: "New message in ICU team"})
	n.Notify(app.Notification{ConversationID: "osei", Title: "Rounds", Body: "New message from Dr Osei"})
	if len(counts) != 2 || counts[1] != 2 {
		t.Fatalf("notifications raised: %v", counts)
	}
	n.Clear("icu")
	n.Notify(app.Notification{ConversationID: "icu", Title: "Rounds", Body: "New message in ICU team"})
	if len(counts) != 4 || counts[3] != 2 {
		t.Fatalf("after clear: %v", counts)
	}
}

func TestNoTrayWithoutSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/rounds-test-bus")
	if SessionBusReachable() {
		t.Fatal("a missing socket counted as a bus")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if SessionBusReachable() {
		t.Fatal("no address counted as a bus")
	}
	a := test.NewTempApp(t)
	if tr := SetupTray(a, nil, func() {}); tr != nil {
		t.Fatal("tray set without a session bus")
	}
	var tr *Tray
	tr.SetUnread(3) // nil-safe
	if trayLabel(3) != "3 unread messages" || trayLabel(1) != "1 unread message" {
		t.Fatal("tray labels")
	}
}

func TestToneWAV(t *testing.T) {
	b := ToneWAV([]float64{880}, 100*time.Millisecond)
	if string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" || len(b) != 44+2*2205 {
		t.Fatalf("bad WAV: %d bytes", len(b))
	}
}
