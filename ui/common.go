package ui

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
)

// nowFunc is the clock the screens read for relative times; tests pin it.
var nowFunc = time.Now

// isMobile says whether to draw touch variants (PIN pad, send button only).
// Tests override it to look at both variants on one machine.
var isMobile = func() bool { return fyne.CurrentDevice().IsMobile() }

// presenceText is the words shown next to every presence dot, so colour is
// never the only cue.
func presenceText(p string) string {
	switch p {
	case "available":
		return "Available"
	case "away":
		return "Away"
	case "xa":
		return "Away (long)"
	case "dnd":
		return "Do not disturb"
	}
	return "Offline"
}

func presenceColor(p string) color.Color {
	th := fyne.CurrentApp().Settings().Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	switch p {
	case "available":
		return th.Color(theme.ColorNameSuccess, v)
	case "away", "xa":
		return th.Color(theme.ColorNameWarning, v)
	case "dnd":
		return th.Color(theme.ColorNameError, v)
	}
	return th.Color(theme.ColorNameDisabled, v)
}

func newPresenceDot() *canvas.Circle {
	c := canvas.NewCircle(color.Transparent)
	c.StrokeWidth = 0
	return c
}

// stampFormat is how receipt details print a time: seconds matter in an audit.
const stampFormat = "Mon 2 Jan 15:04:05"

// firstLine shortens s to one line for previews.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

// doUI runs f on the UI goroutine (fyne.Do); tests swap it for a queue they
// drain on their own goroutine, since Fyne's test driver runs fyne.Do inline.
var doUI = fyne.Do
