package ui

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// sharedConfig is one shared phone's app configuration for the real-server
// tests (fast KDF, memory keyring, no idle lock during the test).
func sharedConfig(t *testing.T, minPIN int) app.Config {
	return app.Config{DataDir: t.TempDir(), KDF: securestore.KDFParams{Time: 1, Memory: 64, Threads: 1},
		Secrets: &memKeyring{}, Policy: app.Policy{LockAfter: time.Hour, MinPINLength: minPIN}}
}

// screenTexts is every text the window draws now, its pop-ups included.
func screenTexts(w fyne.Window) string {
	var b strings.Builder
	visit := func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *canvas.Text:
			b.WriteString(v.Text + "\n")
		case *widget.Label:
			b.WriteString(v.Text + "\n")
		case *widget.Button:
			b.WriteString(v.Text + "\n")
		case *widget.Entry:
			b.WriteString(v.Text + "\n")
		}
	}
	walk(w.Content(), visit)
	for _, o := range w.Canvas().Overlays().List() {
		walk(o, visit)
	}
	return b.String()
}

func labelledButton(w fyne.Window, label string) *widget.Button {
	var found *widget.Button
	walk(w.Content(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == label && found == nil {
			found = b
		}
	})
	return found
}

func waitButton(t *testing.T, w fyne.Window, label string) *widget.Button {
	t.Helper()
	var b *widget.Button
	eventually(t, 20*time.Second, "button "+label, func() bool { b = labelledButton(w, label); return b != nil })
	return b
}

func entries(w fyne.Window) (plain, password []*widget.Entry) {
	walk(w.Content(), func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok {
			if e.Password {
				password = append(password, e)
			} else {
				plain = append(plain, e)
			}
		}
	})
	return
}

// TestSignInAsksPINOnlyAfterServerSaysYes: the sign-in screen checks the
// password with the server before the PIN screen appears. A wrong
// password stays on sign-in with its words and no PIN is asked for; the
// right one leads to the PIN screen, whose hint states the policy's
// minimum (6 here, not the built-in 4).
func TestSignInAsksPINOnlyAfterServerSaysYes(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	fa := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(screenSizes["desktop"])
	cfg := sharedConfig(t, 6)
	c := &Controller{App: fa, Window: w, Config: cfg, Defaults: SignIn{ServerURL: srv.WSURL()}}
	c.Start()
	t.Cleanup(func() {
		if cl := c.current(); cl != nil {
			cl.SignOut()
		}
		drainUI()
	})

	plain, password := entries(w)
	if len(plain) < 1 || len(password) != 1 {
		t.Fatalf("sign-in screen: %d fields, %d password fields", len(plain), len(password))
	}
	plain[0].SetText(srv.JID("alice"))
	password[0].SetText("not the password")
	test.Tap(labelledButton(w, "Sign in"))
	want := app.SignInErrorText(app.ErrWrongPassword)
	eventually(t, 20*time.Second, "wrong password shown", func() bool {
		return strings.Contains(screenTexts(w), "Wrong address or password") || strings.Contains(screenTexts(w), want)
	})
	if txt := screenTexts(w); strings.Contains(txt, "Choose a PIN") {
		t.Fatalf("PIN asked for after a wrong password:\n%s", txt)
	}
	if app.HasAccount(cfg) {
		t.Fatal("a wrong password created a profile")
	}

	password[0].SetText(testserver.Password)
	test.Tap(labelledButton(w, "Sign in"))
	eventually(t, 20*time.Second, "PIN screen", func() bool { return strings.Contains(screenTexts(w), "Choose a PIN") })
	if txt := screenTexts(w); !strings.Contains(txt, "At least 6 digits.") {
		t.Fatalf("PIN hint does not state the policy's minimum:\n%s", txt)
	}
	_, pins := entries(w)
	pins[0].SetText("482913")
	pins[1].SetText("482913")
	test.Tap(labelledButton(w, "Save PIN"))
	eventually(t, 20*time.Second, "signed in", func() bool { return c.current() != nil && c.currentShell() != nil })
}

// TestSwitchUserShowsNothingOfThePrevious: two nurses on one phone. The lock
// screen names the one who used it last and offers "Switch user"; the
// other chooses her name, types her PIN and sees her messages; after
// "Lock now" (Ctrl+L) and a switch back, nothing of hers is on the screen
// or reachable through the Controller, and her Client is signed out.
func TestSwitchUserShowsNothingOfThePrevious(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	cfg := sharedConfig(t, 0)
	ctx := context.Background()
	carolCfg := sharedConfig(t, 0)
	carol, err := app.SignIn(ctx, carolCfg, srv.JID("carol"), testserver.Password, srv.WSURL(), []byte("111111"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(carol.SignOut)
	for _, u := range []struct{ name, pin string }{{"alice", "222222"}, {"bob", "333333"}} {
		cl, err := app.SignIn(ctx, cfg, srv.JID(u.name), testserver.Password, srv.WSURL(), []byte(u.pin))
		if err != nil {
			t.Fatal(err)
		}
		cl.SignOut()
	}
	if _, err := carol.Send(srv.JID("alice"), "MARKER-ALICE bed 7 pain score 8"); err != nil {
		t.Fatal(err)
	}

	fa := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(screenSizes["desktop"])
	notes := &withdrawingNotifier{}
	cfg.Notifier = notes
	c := &Controller{App: fa, Window: w, Config: cfg}
	c.Start()
	t.Cleanup(func() {
		if cl := c.current(); cl != nil {
			cl.SignOut()
		}
		drainUI()
	})

	// Bob used the phone last: his lock screen, with Switch user.
	if txt := screenTexts(w); !strings.Contains(txt, "bob") || !strings.Contains(txt, "Rounds is locked") {
		t.Fatalf("lock screen:\n%s", txt)
	}
	test.Tap(waitButton(t, w, "Switch user"))
	test.Tap(waitButton(t, w, "alice  ("+srv.JID("alice")+")"))
	unlockAs := func(pin string) {
		t.Helper()
		_, pw := entries(w)
		if len(pw) != 1 {
			t.Fatalf("%d PIN fields", len(pw))
		}
		pw[0].SetText(pin)
		test.Tap(labelledButton(w, "Unlock"))
	}
	unlockAs("222222")
	eventually(t, 20*time.Second, "alice's shell", func() bool { return c.currentShell() != nil })
	alice := c.current()
	if alice == nil || alice.Account() != srv.JID("alice") {
		t.Fatal("alice not signed in")
	}
	eventually(t, 30*time.Second, "alice's message", func() bool {
		rows, _ := alice.Inbox("")
		return len(rows) == 1
	})

	// Lock now, from the keyboard.
	w.Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(LockShortcut)
	eventually(t, 10*time.Second, "locked by Ctrl+L", func() bool {
		return alice.Locked() && strings.Contains(screenTexts(w), "Rounds is locked")
	})
	test.Tap(waitButton(t, w, "Switch user"))
	test.Tap(waitButton(t, w, "bob  ("+srv.JID("bob")+")"))
	unlockAs("333333")
	eventually(t, 20*time.Second, "bob's shell", func() bool {
		cl := c.current()
		return cl != nil && cl.Account() == srv.JID("bob") && c.currentShell() != nil
	})
	time.Sleep(300 * time.Millisecond) // let any late change of alice's reach the screen
	drainUI()
	if txt := screenTexts(w); strings.Contains(txt, "MARKER-ALICE") || strings.Contains(txt, "carol") {
		t.Fatalf("alice's data on bob's screen:\n%s", txt)
	}
	if _, err := alice.Inbox(""); !errors.Is(err, app.ErrSignedOut) {
		t.Fatalf("alice's Client still open: %v", err)
	}
	if th := c.openThread(); th != nil {
		t.Fatalf("a thread kept across the switch: %v", th.Conversation())
	}
	// The first switch left nobody (bob's profile was only listed, no Client
	// of his ran in this process); the second left alice, whose notifications go.
	if n := notes.withdrawn(); n != 1 {
		t.Fatalf("notifications withdrawn %d times, want once, when alice was left", n)
	}
}

// withdrawingNotifier counts ClearAll, as the OS notifier withdraws the
// previous person's notifications.
type withdrawingNotifier struct {
	mu    gosync.Mutex
	clear int
}

func (n *withdrawingNotifier) Notify(app.Notification) {}
func (n *withdrawingNotifier) Clear(string)            {}
func (n *withdrawingNotifier) ClearAll() {
	n.mu.Lock()
	n.clear++
	n.mu.Unlock()
}
func (n *withdrawingNotifier) withdrawn() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.clear
}

// fakeShift is a settings screen's actions with the shift actions.
type fakeShift struct {
	fakeActions
	locked, ended int
	endErr        error
}

func (f *fakeShift) LockNow() { f.locked++ }
func (f *fakeShift) ShiftHandover() (app.ShiftHandover, error) {
	return app.ShiftHandover{Alerts: 1, Escalations: 1, Roles: []string{"Ward 3 charge nurse"}}, nil
}
func (f *fakeShift) EndShift() (app.ShiftHandover, error) {
	f.ended++
	return app.ShiftHandover{}, f.endErr
}

// TestSettingsLockNowAndEndShift: settings offer "Lock now" and "End
// shift…"; End shift says what it hands over before it acts, and a
// hand-over that could not be sent is shown, not swallowed.
func TestSettingsLockNowAndEndShift(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeShift{endErr: app.ErrHandoverNotSent}
	w := test.NewTempWindow(t, SettingsScreen(settingsState(), f))
	w.Resize(fyne.NewSize(390, 844))
	test.Tap(labelledButton(w, "Lock now"))
	if f.locked != 1 {
		t.Fatal("Lock now did not lock")
	}
	test.Tap(labelledButton(w, "End shift…"))
	txt := screenTexts(w)
	for _, want := range []string{"End your shift?", "1 alert waiting for you goes back", "1 escalation you started", "Ward 3 charge nurse", "removed from this device"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("confirmation lacks %q:\n%s", want, txt)
		}
	}
	if f.ended != 0 {
		t.Fatal("ended before confirming")
	}
	var end *widget.Button
	for _, o := range w.Canvas().Overlays().List() {
		walk(o, func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.Button); ok && b.Text == "End shift" {
				end = b
			}
		})
	}
	if end == nil {
		t.Fatal("no End shift button in the confirmation")
	}
	test.Tap(end)
	if !waitFor(func() bool { return strings.Contains(screenTexts(w), app.ErrHandoverNotSent.Error()) }) {
		t.Fatalf("hand-over failure not shown:\n%s", screenTexts(w))
	}
	if f.ended != 1 {
		t.Fatalf("EndShift called %d times", f.ended)
	}
}

// TestOSNotifierClearAll: after a switch of user no conversation counts as
// already notified, so the next person's first message from the same
// colleague is shown.
func TestOSNotifierClearAll(t *testing.T) {
	o := NewOSNotifier(test.NewTempApp(t))
	o.Notify(app.Notification{ConversationID: "dr.osei@rounds.test", Title: "Rounds", Body: "New message from Dr Osei"})
	o.Notify(app.Notification{ConversationID: "icu@rooms.rounds.test", Title: "Rounds", Body: "New message in ICU team"})
	last := -1
	o.OnChange = func(n int) { last = n }
	o.ClearAll()
	if last != 0 {
		t.Fatalf("outstanding after ClearAll: %d", last)
	}
	o.Notify(app.Notification{ConversationID: "dr.osei@rounds.test", Title: "Rounds", Body: "New message from Dr Osei"})
	if last != 1 {
		t.Fatalf("a conversation notified before the switch stayed silenced: %d", last)
	}
}

// TestSwitchUserBackKeepsListening: alice locks the shared phone and it
// keeps listening for her. Someone taps Switch user and Back, or picks bob
// and types a wrong PIN: alice is still signed in, listening, and a STAT
// page to her still counts on her lock screen. Only bob's right PIN signs
// her out. Before, looking at the list signed her out and left the phone
// deaf to her pages.
func TestSwitchUserBackKeepsListening(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	c, w, alice, carol := phoneLockedByAlice(t, srv, "bob")
	unlockWith := func(pin string) {
		t.Helper()
		_, pw := entries(w)
		if len(pw) != 1 {
			t.Fatalf("%d PIN fields", len(pw))
		}
		pw[0].SetText(pin)
		test.Tap(labelledButton(w, "Unlock"))
	}

	test.Tap(waitButton(t, w, "Switch user"))
	test.Tap(waitButton(t, w, "Back"))
	drainUI()
	if c.current() != alice || !alice.Listening() {
		t.Fatalf("Switch user and Back: alice current %v, listening %v", c.current() == alice, alice.Listening())
	}
	test.Tap(waitButton(t, w, "Switch user"))
	test.Tap(waitButton(t, w, "bob  ("+srv.JID("bob")+")"))
	unlockWith("999999")
	time.Sleep(300 * time.Millisecond)
	drainUI()
	if !alice.Listening() {
		t.Fatal("a wrong PIN for bob stopped alice's listening")
	}
	if _, err := carol.SendUrgent(srv.JID("alice"), "MARKER-SW page for alice", securestore.UrgencyCritical); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "alice's page counted while bob's PIN screen shows", func() bool {
		text, _ := alice.LockedBanner()
		return text == "1 STAT message waiting"
	})
	drainUI()
	if strings.Contains(screenTexts(w), "STAT message waiting") {
		t.Fatalf("alice's count on bob's PIN screen:\n%s", screenTexts(w))
	}
	unlockWith("333333")
	eventually(t, 20*time.Second, "bob's shell", func() bool {
		cl := c.current()
		return cl != nil && cl.Account() == srv.JID("bob") && c.currentShell() != nil
	})
	if alice.Listening() {
		t.Fatal("alice still listening once bob unlocked")
	}
	if _, err := alice.Inbox(""); !errors.Is(err, app.ErrSignedOut) {
		t.Fatalf("alice's Client still open: %v", err)
	}
}

// TestSignInAnotherBackKeepsListening: the phone's owner has locked it and
// it listens for her. Someone taps "Sign in another person" and goes Back:
// the owner's Client is still the one listening (a STAT for her still
// counts), as after Switch user and Back. Only when the new person has
// signed in (password checked, PIN chosen) is the owner locked and signed
// out.
func TestSignInAnotherBackKeepsListening(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	c, w, alice, carol := phoneLockedByAlice(t, srv)

	test.Tap(waitButton(t, w, "Sign in another person"))
	test.Tap(waitButton(t, w, "Back"))
	drainUI()
	if c.current() != alice || !alice.Listening() {
		t.Fatalf("Sign in another person and Back: alice current %v, listening %v", c.current() == alice, alice.Listening())
	}
	if _, err := carol.SendUrgent(srv.JID("alice"), "MARKER-SA page for alice", securestore.UrgencyCritical); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "alice's page counted after Back", func() bool {
		text, _ := alice.LockedBanner()
		return text == "1 STAT message waiting"
	})

	// bob signs in as the next person: only now is alice signed out.
	test.Tap(waitButton(t, w, "Sign in another person"))
	eventually(t, 20*time.Second, "the sign-in form", func() bool {
		plain, password := entries(w)
		return len(plain) >= 1 && len(password) == 1
	})
	plain, password := entries(w)
	plain[0].SetText(srv.JID("bob"))
	password[0].SetText(testserver.Password)
	if !alice.Listening() {
		t.Fatal("alice stopped listening while bob was typing his sign-in")
	}
	test.Tap(labelledButton(w, "Sign in"))
	eventually(t, 20*time.Second, "PIN screen", func() bool { return strings.Contains(screenTexts(w), "Choose a PIN") })
	_, pins := entries(w)
	pins[0].SetText("482913")
	pins[1].SetText("482913")
	test.Tap(labelledButton(w, "Save PIN"))
	eventually(t, 20*time.Second, "bob's shell", func() bool {
		cl := c.current()
		return cl != nil && cl.Account() == srv.JID("bob") && c.currentShell() != nil
	})
	if alice.Listening() {
		t.Fatal("alice still listening once bob signed in")
	}
	if _, err := alice.Inbox(""); !errors.Is(err, app.ErrSignedOut) {
		t.Fatalf("alice's Client still open: %v", err)
	}
}

// phoneLockedByAlice is a shared phone (phone size) whose profiles are
// alice's and those of others (signed in once, PIN 333333), with alice the
// last to use it: the Controller starts at her lock screen, she unlocks
// (PIN 222222) and locks with Ctrl+L, and her Client stays listening.
// carol, on a device of her own, can page her.
func phoneLockedByAlice(t *testing.T, srv *testserver.Server, others ...string) (c *Controller, w fyne.Window, alice, carol *app.Client) {
	t.Helper()
	cfg := sharedConfig(t, 0)
	ctx := context.Background()
	carol, err := app.SignIn(ctx, sharedConfig(t, 0), srv.JID("carol"), testserver.Password, srv.WSURL(), []byte("111111"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(carol.SignOut)
	type profile struct{ name, pin string }
	var profiles []profile
	for _, o := range others {
		profiles = append(profiles, profile{o, "333333"})
	}
	for _, u := range append(profiles, profile{"alice", "222222"}) { // alice last: her lock screen
		cl, err := app.SignIn(ctx, cfg, srv.JID(u.name), testserver.Password, srv.WSURL(), []byte(u.pin))
		if err != nil {
			t.Fatal(err)
		}
		cl.SignOut()
	}
	fa := test.NewTempApp(t)
	w = test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(screenSizes["phone"])
	c = &Controller{App: fa, Window: w, Config: cfg, Defaults: SignIn{ServerURL: srv.WSURL()}}
	c.Start()
	t.Cleanup(func() {
		if cl := c.current(); cl != nil {
			cl.SignOut()
		}
		drainUI()
	})
	_, pw := entries(w)
	if len(pw) != 1 {
		t.Fatalf("%d PIN fields on alice's lock screen", len(pw))
	}
	pw[0].SetText("222222")
	test.Tap(labelledButton(w, "Unlock"))
	eventually(t, 20*time.Second, "alice's shell", func() bool { return c.currentShell() != nil })
	alice = c.current()
	w.Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(LockShortcut)
	eventually(t, 10*time.Second, "alice locked and listening", func() bool {
		return alice.Locked() && alice.Listening() && strings.Contains(screenTexts(w), "Rounds is locked")
	})
	return c, w, alice, carol
}

