package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"rounds/app"
	"rounds/assets"
)

// sharedDeviceScreens are the shared phone's screens in TestScreenshots: the
// lock screen naming who is signed in, switch user, and the end-of-shift
// confirmation, at 960x680 and 390x844.
func sharedDeviceScreens() []screenshot {
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	desk := fyne.NewSize(960, 680)
	ended := fixedNow.Add(-40 * time.Minute)
	profiles := []app.Profile{
		{ID: "a1", Account: "nurse.kim@rounds.test", Name: "nurse.kim", LastUsed: fixedNow},
		{ID: "b2", Account: "nurse.ade@rounds.test", Name: "nurse.ade", LastUsed: fixedNow.Add(-12 * time.Hour)},
		{ID: "c3", Account: "dr.osei@rounds.test", Name: "dr.osei", LastUsed: ended, ShiftEnded: ended, KeepUntil: ended.Add(12 * time.Hour)},
	}
	return []screenshot{
		{name: "lock-shared", desktop: desk, build: func() fyne.CanvasObject {
			return LockScreen(icon, LockWhoOf(profiles[0]), func(string) error { return nil }, func() {}, func() {})
		}},
		{name: "switch-user", desktop: desk, build: func() fyne.CanvasObject {
			return SwitchUserScreen(profiles, func(app.Profile) {}, func() {}, func() {})
		}},
		{name: "end-shift", desktop: desk, build: func() fyne.CanvasObject {
			return SettingsScreen(settingsState(), &fakeShift{})
		}, after: func(t *testing.T, w fyne.Window) {
			b := labelledButton(w, "End shift…")
			if b == nil {
				t.Fatal("no End shift button in settings")
			}
			test.Tap(b)
		}},
	}
}
