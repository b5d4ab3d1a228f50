package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// On a phone (390x844) the Settings tab's scrolling area ends clearly
// above the bottom tab bar, behind a rule: a button scrolled to the edge
// ("Wipe this device", "View audit log") is cut off above the bar, not
// drawn against it or under its selection indicator (issue 14, glitch 5d/f).
func TestPhoneTabContentClearOfTabBar(t *testing.T) {
	test.NewTempApp(t)
	restore := isMobile
	isMobile = func() bool { return true }
	defer func() { isMobile = restore }()
	s := NewShell(newClinicalActions(), settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(390, 844))
	s.SelectTab(2)
	d := fyne.CurrentApp().Driver()
	tab := s.layout.tabs.Items[2].Content
	barTop := d.AbsolutePositionForObject(tab).Y + tab.Size().Height + theme.Padding() // AppTabs: content, a padding divider, the bar
	scrolls := findAll[*container.Scroll](s.Settings)
	if len(scrolls) == 0 {
		t.Fatal("settings has no scroll")
	}
	sc := scrolls[0]
	bottom := d.AbsolutePositionForObject(sc).Y + sc.Size().Height
	if gap := barTop - bottom; gap < 2*theme.Padding() {
		t.Fatalf("settings scroll ends %.0f px above the tab bar (at %.0f, bar at %.0f); want at least %.0f", gap, bottom, barTop, 2*theme.Padding())
	}
	rule := false
	for _, sep := range findAll[*widget.Separator](tab) {
		y := d.AbsolutePositionForObject(sep).Y
		if y >= bottom && y < barTop && sep.Size().Width >= sc.Size().Width {
			rule = true
		}
	}
	if !rule {
		t.Fatal("no rule between the settings and the tab bar")
	}
	wipe := buttonNamed(t, s.Settings, "Wipe this device")
	if wy := d.AbsolutePositionForObject(wipe).Y + wipe.Size().Height; wy <= bottom && barTop-wy < 2*theme.Padding() {
		t.Fatalf("Wipe this device ends %.0f px above the tab bar", barTop-wy)
	}
}
