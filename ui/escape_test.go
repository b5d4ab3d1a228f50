package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// pressEscape delivers Escape as the desktop driver does: to the focused
// widget if there is one, else to the canvas.
func pressEscape(c fyne.Canvas) {
	k := &fyne.KeyEvent{Name: fyne.KeyEscape}
	if f := c.Focused(); f != nil {
		f.TypedKey(k)
	} else if h := c.OnTypedKey(); h != nil {
		h(k)
	}
}

// Escape closes a dialog and the pop-ups (issue 14, glitch 5).
func TestEscapeClosesDialog(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel("inbox"))
	w.Resize(fyne.NewSize(390, 844))
	closeOnEscape(w.Canvas())
	dialog.ShowInformation("Shift ended", "Handed over.", w)
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("no dialog shown")
	}
	pressEscape(w.Canvas())
	if w.Canvas().Overlays().Top() != nil {
		t.Fatal("dialog still open after Escape")
	}
	pressEscape(w.Canvas()) // nothing left to close: no panic
}

// Escape closes the image viewer like its close button (the picture is
// dropped, the conversation has no viewer any more).
func TestEscapeClosesViewer(t *testing.T) {
	test.NewTempApp(t)
	v, _, w := openFiles(t, fileMessages(), fyne.NewSize(900, 640))
	closeOnEscape(w.Canvas())
	var c *attachmentCellView
	waitFor(func() bool { c = cellFor(v, "a1"); return c != nil && c.img.Image != nil })
	test.Tap(c)
	if !waitFor(func() bool { return v.viewer != nil && v.viewer.image.Image != nil }) {
		t.Fatal("viewer shows no picture")
	}
	vw := v.viewer
	pressEscape(w.Canvas())
	if v.viewer != nil || w.Canvas().Overlays().Top() != nil {
		t.Fatal("viewer still open after Escape")
	}
	if vw.image.Image != nil {
		t.Fatal("closed viewer keeps the decoded picture")
	}
}
