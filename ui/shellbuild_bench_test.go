package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// BenchmarkShellAtUnlock is the shell's work at unlock as the Controller does
// it (showShell onto a 1280x800 window, then refreshAll handing the
// settings state again): allocations per build are the load-independent figure
// (docs/BENCHMARKS.md, catch-up through the app).
//
//	go test ./ui/ -run '^$' -bench ShellAtUnlock -benchmem -count 1
func BenchmarkShellAtUnlock(b *testing.B) {
	test.NewTempApp(b)
	st := settingsState()
	b.ReportAllocs()
	for b.Loop() {
		w := test.NewWindow(nil)
		w.Resize(fyne.NewSize(1280, 800))
		s := NewShell(newClinicalActions(), st)
		s.SetPINChangeRequired(false, 0)
		w.SetContent(s.Content())
		s.SetSettings(settingsState())
		w.Close()
	}
}
