package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// LockBanner is the lock screen's line about messages that arrived while
// Rounds was locked ("1 STAT message waiting", app.Client.LockedBanner):
// a count and a level, never a sender or text. Hidden while empty. It
// also knows the screen's PIN field, so the Controller can focus it.
type LockBanner struct {
	box  *fyne.Container
	bg   *canvas.Rectangle
	text *canvas.Text
	icon *widget.Icon
	pin  fyne.Focusable
	// note says plainly when the locked screen hears nothing
	// (app.Client.LockedNote, app.ColdStartNote); hidden while empty.
	note *widget.Label
}

// NewLockBanner makes an empty (hidden) banner.
func NewLockBanner() *LockBanner {
	b := &LockBanner{bg: canvas.NewRectangle(color.Transparent), text: canvas.NewText("", color.White),
		icon: widget.NewIcon(theme.WarningIcon())}
	b.bg.CornerRadius = theme.InputRadiusSize()
	b.text.TextStyle = fyne.TextStyle{Bold: true}
	b.text.TextSize = theme.TextSize() + 2
	b.text.Alignment = fyne.TextAlignCenter
	b.box = container.NewStack(b.bg, container.NewPadded(container.NewCenter(container.NewHBox(b.icon, b.text))))
	b.box.Hide()
	b.note = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	b.note.Importance = widget.WarningImportance
	b.note.Wrapping = fyne.TextWrapWord
	b.note.Hide()
	return b
}

// SetNote shows text under the banner ("" hides it): that messages will
// arrive only after the unlock. Call on the UI goroutine.
func (b *LockBanner) SetNote(text string) {
	b.note.SetText(text)
	if text == "" {
		b.note.Hide()
	} else {
		b.note.Show()
	}
}

// Note is what the note says ("" when hidden).
func (b *LockBanner) Note() string {
	if !b.note.Visible() {
		return ""
	}
	return b.note.Text
}

// Set shows text ("" hides the banner); urgent draws it as an alert.
// Call on the UI goroutine.
func (b *LockBanner) Set(text string, urgent bool) {
	if text == "" {
		b.box.Hide()
		return
	}
	b.text.Text = text
	if urgent {
		b.bg.FillColor = theme.Color(theme.ColorNameError)
		b.text.Color = theme.Color(theme.ColorNameForegroundOnError)
		b.icon.SetResource(theme.NewColoredResource(theme.WarningIcon(), theme.ColorNameForegroundOnError))
	} else {
		b.bg.FillColor = theme.Color(theme.ColorNamePrimary)
		b.text.Color = theme.Color(theme.ColorNameForegroundOnPrimary)
		b.icon.SetResource(theme.NewColoredResource(theme.MailComposeIcon(), theme.ColorNameForegroundOnPrimary))
	}
	b.box.Show()
	b.box.Refresh()
}

// Text is what the banner says ("" when hidden).
func (b *LockBanner) Text() string {
	if !b.box.Visible() {
		return ""
	}
	return b.text.Text
}

// FocusPIN puts the keyboard in the PIN field (desktop; the phone's PIN pad
// needs none).
func (b *LockBanner) FocusPIN(c fyne.Canvas) {
	if b.pin != nil && c != nil {
		c.Focus(b.pin)
	}
}
