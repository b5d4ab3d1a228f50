package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// The lock screen of a shared phone says whose phone it is right now and
// lets the next person in without touching the first person's data:
// "Switch user" lists the profiles on the device (app.Profiles, which the
// lock screen may read: it holds who uses the phone and nothing else) and
// "Sign in another person" adds one. The Controller signs the current
// Client out only once the next person is in (controller.go, signedIn and
// leave), so looking at either and going Back leaves the phone listening
// for its locked owner.

// LockWho is who the lock screen says is signed in.
type LockWho struct {
	Name    string // the profile's label ("kim")
	Account string // the bare JID, "" when not known before unlock
	// Note says the profile's state ("Shift ended 07:02 · kept until 19:02").
	Note string
}

// LockWhoOf is what the lock screen shows for p.
func LockWhoOf(p app.Profile) LockWho {
	w := LockWho{Name: p.Label(), Account: p.Account}
	if !p.ShiftEnded.IsZero() {
		w.Note = "Shift ended " + p.ShiftEnded.Local().Format("Mon 15:04") + " · kept until " + p.KeepUntil.Local().Format("Mon 15:04")
	}
	return w
}

// LockScreen asks who.Name for their PIN, with "Switch user" and "Sign in
// another person" under it (either may be nil: not offered).
func LockScreen(icon fyne.Resource, who LockWho, unlock func(pin string) error, switchUser, signInAnother func()) fyne.CanvasObject {
	return LockScreenWithBanner(icon, who, nil, unlock, switchUser, signInAnother)
}

// LockScreenWithBanner is LockScreen with banner (nil: none) above who is
// signed in: what arrived while locked, without sender or text.
func LockScreenWithBanner(icon fyne.Resource, who LockWho, banner *LockBanner, unlock func(pin string) error, switchUser, signInAnother func()) fyne.CanvasObject {
	u := &unlockScreen{unlock: unlock, banner: banner}
	name := widget.NewLabelWithStyle(who.Name, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	lines := []fyne.CanvasObject{widget.NewLabelWithStyle("Signed in on this device", fyne.TextAlignCenter, fyne.TextStyle{Italic: true}), name}
	if who.Account != "" && who.Account != who.Name {
		lines = append(lines, widget.NewLabelWithStyle(who.Account, fyne.TextAlignCenter, fyne.TextStyle{}))
	}
	if who.Note != "" {
		note := widget.NewLabelWithStyle(who.Note, fyne.TextAlignCenter, fyne.TextStyle{})
		note.Importance = widget.WarningImportance
		note.Wrapping = fyne.TextWrapWord
		lines = append(lines, note)
	}
	var buttons []fyne.CanvasObject
	if switchUser != nil {
		buttons = append(buttons, widget.NewButtonWithIcon("Switch user", theme.AccountIcon(), switchUser))
	}
	if signInAnother != nil {
		buttons = append(buttons, widget.NewButtonWithIcon("Sign in another person", theme.ContentAddIcon(), signInAnother))
	}
	var extra fyne.CanvasObject
	if len(buttons) > 0 {
		extra = container.NewVBox(append([]fyne.CanvasObject{widget.NewSeparator()}, buttons...)...)
	}
	return u.build(icon, container.NewVBox(lines...), extra)
}

// SwitchUserScreen lists the people set up on this device; choosing one
// shows the lock screen for their PIN. Nothing of anyone's messages is on
// it: the list is app.Profiles.
func SwitchUserScreen(profiles []app.Profile, choose func(app.Profile), signInAnother, back func()) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Who is using this device?", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	help := widget.NewLabel("Choose your name, then enter your own PIN.")
	help.Alignment = fyne.TextAlignCenter
	help.Wrapping = fyne.TextWrapWord
	items := []fyne.CanvasObject{title, help}
	for _, p := range profiles {
		p := p
		w := LockWhoOf(p)
		label := w.Name
		if w.Account != "" && w.Account != w.Name {
			label += "  (" + w.Account + ")"
		}
		b := widget.NewButtonWithIcon(label, theme.AccountIcon(), func() { choose(p) })
		b.Alignment = widget.ButtonAlignLeading
		items = append(items, b)
		if w.Note != "" {
			n := widget.NewLabel(w.Note)
			n.SizeName = theme.SizeNameCaptionText
			n.Importance = widget.WarningImportance
			items = append(items, n)
		}
	}
	items = append(items, widget.NewSeparator())
	if signInAnother != nil {
		items = append(items, widget.NewButtonWithIcon("Sign in another person", theme.ContentAddIcon(), signInAnother))
	}
	if back != nil {
		items = append(items, widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), back))
	}
	return container.NewVScroll(container.New(layout.NewCustomPaddedLayout(24, 24, 24, 24),
		container.New(&maxWidth{width: 420}, container.NewVBox(items...))))
}

// withBack puts a "Back" button above a screen (sign-in for another person
// can be abandoned for the lock screen).
func withBack(screen fyne.CanvasObject, back func()) fyne.CanvasObject {
	if back == nil {
		return screen
	}
	b := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), back)
	b.Importance = widget.LowImportance
	return container.NewBorder(container.NewHBox(b), nil, nil, nil, screen)
}
