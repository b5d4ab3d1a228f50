package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/assets"
)

// lockedScreens are the lock screen with what arrived while locked, for
// TestScreenshots (960x680 and 390x844).
func lockedScreens() []screenshot {
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	p := app.Profile{ID: "a1", Account: "nurse.kim@rounds.test", Name: "nurse.kim", LastUsed: fixedNow}
	return []screenshot{
		{name: "lock-stat-waiting", desktop: fyne.NewSize(960, 680), build: func() fyne.CanvasObject {
			b := NewLockBanner()
			b.Set("1 STAT message waiting", true)
			return LockScreenWithBanner(icon, LockWhoOf(p), b, func(string) error { return nil }, nil, func() {})
		}},
		{name: "lock-not-listening", desktop: fyne.NewSize(960, 680), build: func() fyne.CanvasObject {
			b := NewLockBanner()
			b.SetNote(app.ColdStartNote(app.ErrNotListening))
			return LockScreenWithBanner(icon, LockWhoOf(p), b, func(string) error { return nil }, nil, func() {})
		}},
		{name: "lock-offline", desktop: fyne.NewSize(960, 680), build: func() fyne.CanvasObject {
			b := NewLockBanner()
			b.SetNote(app.OfflineNote())
			return LockScreenWithBanner(icon, LockWhoOf(p), b, func(string) error { return nil }, nil, func() {})
		}},
	}
}

// TestLockScreenBanner: the lock screen shows the content-free count above
// who is signed in, hides it when nothing waits, and the PIN field can be
// focused so a nurse types the PIN at once; a routine count is drawn
// without the alert colour.
func TestLockScreenBanner(t *testing.T) {
	a := test.NewTempApp(t)
	_ = a
	b := NewLockBanner()
	p := app.Profile{ID: "a1", Account: "nurse.kim@rounds.test", Name: "nurse.kim"}
	w := test.NewTempWindow(t, LockScreenWithBanner(nil, LockWhoOf(p), b, func(string) error { return nil }, nil, nil))
	w.Resize(fyne.NewSize(960, 680))
	if b.Text() != "" || b.box.Visible() {
		t.Fatal("banner shown with nothing waiting")
	}
	b.Set("1 STAT message waiting", true)
	if b.Text() != "1 STAT message waiting" || !b.box.Visible() {
		t.Fatalf("banner %q visible %v", b.Text(), b.box.Visible())
	}
	urgentFill := b.bg.FillColor
	b.FocusPIN(w.Canvas())
	e, ok := w.Canvas().Focused().(*widget.Entry)
	if !ok || !e.Password {
		t.Fatalf("focused %T, want the PIN field", w.Canvas().Focused())
	}
	test.Type(e, "2468")
	if e.Text != "2468" {
		t.Fatalf("typed into the focused field: %q", e.Text)
	}
	b.Set("2 new messages waiting", false)
	if b.bg.FillColor == urgentFill {
		t.Fatal("a routine count is drawn as an alert")
	}
	b.Set("", false)
	if b.box.Visible() {
		t.Fatal("banner still shown after the unlock took what waited")
	}
}
