package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Material Design icons (Apache 2.0), as SVG so the theme recolours them.
func svg(name, path string) fyne.Resource {
	return fyne.NewStaticResource(name+".svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24"><path fill="#000000" d="`+path+`"/></svg>`))
}

var (
	iconPeople  = svg("people", "M16 11c1.66 0 2.99-1.34 2.99-3S17.66 5 16 5c-1.66 0-3 1.34-3 3s1.34 3 3 3zm-8 0c1.66 0 2.99-1.34 2.99-3S9.66 5 8 5C6.34 5 5 6.34 5 8s1.34 3 3 3zm0 2c-2.33 0-7 1.17-7 3.5V19h14v-2.5c0-2.33-4.67-3.5-7-3.5zm8 0c-.29 0-.62.02-.97.05 1.16.84 1.97 1.97 1.97 3.45V19h6v-2.5c0-2.33-4.67-3.5-7-3.5z")
	iconDone    = svg("done", "M9 16.2L4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4L9 16.2z")
	iconDoneAll = svg("done_all", "M18 7l-1.41-1.41-6.34 6.34 1.41 1.41L18 7zm4.24-1.41L11.66 16.17 7.48 12l-1.41 1.41L11.66 19l12-12-1.42-1.41zM.41 13.41L6 19l1.41-1.41L1.83 12 .41 13.41z")
	iconPin     = svg("push_pin", "M16 9V4h1c.55 0 1-.45 1-1s-.45-1-1-1H7c-.55 0-1 .45-1 1s.45 1 1 1h1v5c0 1.66-1.34 3-3 3v2h5.97v7l1 1 1-1v-7H19v-2c-1.66 0-3-1.34-3-3z")
	iconBellOff = svg("notifications_off", "M20 18.69L7.84 6.14 5.27 3.49 4 4.76l2.8 2.8v.01c-.52.99-.8 2.16-.8 3.42v5l-2 2v1h13.73l2 2L21 19.72l-1-1.03zM12 22c1.11 0 2-.89 2-2h-4c0 1.11.89 2 2 2zm6-7.32V11c0-3.08-1.64-5.64-4.5-6.32V4c0-.83-.67-1.5-1.5-1.5s-1.5.67-1.5 1.5v.68c-.15.03-.29.08-.42.12-.1.03-.2.07-.3.11h-.01c-.01 0-.01 0-.02.01-.23.09-.46.2-.68.31 0 0-.01 0-.01.01L18 14.68z")
	iconChat    = svg("chat", "M20 2H4c-1.1 0-1.99.9-1.99 2L2 22l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2zM6 9h12v2H6V9zm8 5H6v-2h8v2zm4-6H6V6h12v2z")
)

// Themed variants, built once.
var (
	themedPeople  = theme.NewThemedResource(iconPeople)
	themedPerson  = theme.NewThemedResource(theme.DefaultTheme().Icon(theme.IconNameAccount))
	tickQueued    = theme.NewThemedResource(theme.DefaultTheme().Icon(theme.IconNameHistory))
	tickSent      = theme.NewThemedResource(iconDone)
	tickDelivered = theme.NewThemedResource(iconDoneAll)
	// Each receipt state has its own glyph, not only its own colour: read
	// is an eye, acknowledged a ticked box (TestReceiptStatesByShape).
	tickRead      = theme.NewPrimaryThemedResource(theme.DefaultTheme().Icon(theme.IconNameVisibility))
	tickAcked     = theme.NewSuccessThemedResource(theme.DefaultTheme().Icon(theme.IconNameCheckButtonChecked))
	tickFailed    = theme.NewErrorThemedResource(theme.DefaultTheme().Icon(theme.IconNameError))
	themedUrgent  = theme.NewErrorThemedResource(iconPin)
	themedNewChat = theme.NewThemedResource(iconChat)
	themedMuted   = theme.NewThemedResource(iconBellOff)
)
