package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// A long search that matches nothing says so in full on a phone: the
// "no match" line wraps inside the screen instead of running off both
// edges (issue 14, glitch 5e).
func TestNoMatchFitsPhone(t *testing.T) {
	const q = "potassium chloride infusion rate for bed twelve"
	test.NewTempApp(t)
	inbox := NewInboxView(inboxRows(), &fakeActions{})
	dir := NewDirectoryView(contacts(), &fakeActions{})
	for _, sc := range []struct {
		name   string
		view   fyne.CanvasObject
		search *widget.Entry
		empty  *widget.Label
	}{{"inbox", inbox, inbox.search, inbox.empty}, {"directory", dir, dir.search, dir.empty}} {
		w := test.NewTempWindow(t, sc.view)
		w.Resize(fyne.NewSize(390, 844))
		sc.search.SetText(q)
		if !sc.empty.Visible() {
			t.Fatalf("%s: no 'no match' line", sc.name)
		}
		x := fyne.CurrentApp().Driver().AbsolutePositionForObject(sc.empty).X
		width := sc.empty.Size().Width
		if x < 0 || x+width > 390 {
			t.Fatalf("%s: %q drawn from x=%.0f to %.0f in a 390 wide screen", sc.name, sc.empty.Text, x, x+width)
		}
		// the label is as tall as its wrapped lines
		if h, min := sc.empty.Size().Height, sc.empty.MinSize().Height; h < min {
			t.Fatalf("%s: 'no match' line %.0f high, its text needs %.0f", sc.name, h, min)
		}
	}
}
