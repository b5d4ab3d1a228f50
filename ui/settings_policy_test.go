package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// TestSettingsFollowPolicy: when the hospital's policy tightens (shorter lock
// limit, no sender in notifications), the settings screen stops offering what
// it no longer allows, without a restart.
func TestSettingsFollowPolicy(t *testing.T) {
	test.NewTempApp(t)
	st := settingsState()
	s := NewShell(&fakeActions{}, st)
	w := test.NewTempWindow(t, s.Content())
	w.Resize(s.Content().MinSize().Max(w.Canvas().Size()))

	options := func() (lock, preview []string) {
		for _, sel := range findAll[*widget.Select](s.Settings) {
			lock = sel.Options
		}
		for _, rg := range findAll[*widget.RadioGroup](s.Settings) {
			if len(rg.Options) > 0 && len(rg.Options) <= 3 {
				preview = rg.Options
			}
		}
		return lock, preview
	}
	lock, preview := options()
	if !slices.Contains(lock, lockText(10*time.Minute)) || len(preview) != 2 {
		t.Fatalf("before: lock %v, preview %v", lock, preview)
	}

	st.Policy.LockAfter = 2 * time.Minute
	st.Policy.Preview = app.PreviewNone
	st.LockAfter, st.Preview = 2*time.Minute, app.PreviewNone
	s.SetSettings(st)
	lock, preview = options()
	if slices.Contains(lock, lockText(5*time.Minute)) || !slices.Contains(lock, lockText(2*time.Minute)) {
		t.Fatalf("after the policy capped the lock at 2 min the screen offers %v", lock)
	}
	if len(preview) != 1 || preview[0] != previewText(app.PreviewNone) {
		t.Fatalf("after the policy forbade sender names the screen offers %v", preview)
	}
}

// TestSettingsSameStateKeepsScreen: refreshAll hands the shell the state it
// was just built with; the settings screen stays as it is (no rebuild, no
// re-measuring of every tab at unlock), and a changed state still rebuilds.
func TestSettingsSameStateKeepsScreen(t *testing.T) {
	test.NewTempApp(t)
	st := settingsState()
	s := NewShell(&fakeActions{}, st)
	w := test.NewTempWindow(t, s.Content())
	w.Resize(s.Content().MinSize().Max(w.Canvas().Size()))
	built := s.Settings
	s.SetSettings(settingsState())
	if s.Settings != built {
		t.Fatal("the same settings state rebuilt the settings screen")
	}
	st.Status = "In theatre"
	s.SetSettings(st)
	if s.Settings == built {
		t.Fatal("a changed settings state left the old screen")
	}
}
