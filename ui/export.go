package ui

import (
	"errors"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
)

// Saving an export (a conversation, the audit log) to a file the user picks.

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// saveExport shows Fyne's save dialog over obj's window and hands the chosen
// file to write; done reports the outcome on the UI goroutine.
func saveExport(obj fyne.CanvasObject, name string, write func(io.Writer) error, done func(string, error)) {
	win := windowFor(obj)
	if win == nil {
		done("", errors.New("no window to show the save dialog in"))
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			if err != nil {
				done("", err)
			}
			return
		}
		go writeExport(w, write, done)
	}, win)
	d.SetFileName(name)
	d.Show()
}

// writeExport writes the chosen file and reports on the UI goroutine; a
// failed export leaves no partial file behind.
func writeExport(w fyne.URIWriteCloser, write func(io.Writer) error, done func(string, error)) {
	err := write(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = storage.Delete(w.URI())
	}
	doUI(func() { done("Exported to "+w.URI().Name(), err) })
}

// windowFor finds the window showing obj.
func windowFor(obj fyne.CanvasObject) fyne.Window {
	a := fyne.CurrentApp()
	if a == nil {
		return nil
	}
	c := a.Driver().CanvasForObject(obj)
	for _, w := range a.Driver().AllWindows() {
		if c == nil || w.Canvas() == c {
			return w
		}
	}
	return nil
}
