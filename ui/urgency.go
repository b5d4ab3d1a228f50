package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"rounds/app"
)

// A clinical message must be unmistakable on screen: its level is a badge
// with words and colour (never colour alone), the sender follows its
// acknowledgement live under the bubble, and each quick response shows with
// its time. The decisions (who may receive an order, when an alert stops,
// what a recall removes) are the app's; the screens only draw them and
// forward the user's choice. This file is a level's words and colours on
// screen; the composer's options are composeroptions.go, a row's badge and
// status lines rowclinical.go, the alert card alert.go.

// urgencyLevels are the choices of the composer's picker, lowest first.
var urgencyLevels = []app.Urgency{app.UrgencyNormal, app.UrgencyHigh, app.UrgencyCritical}

// urgencyColorName is the theme colour of a level's badge and bubble
// outline: STAT red, urgent amber, a routine message asking for an
// acknowledgement the primary colour.
func urgencyColorName(u app.Urgency) fyne.ThemeColorName {
	switch {
	case u >= app.UrgencyCritical:
		return theme.ColorNameError
	case u >= app.UrgencyHigh:
		return theme.ColorNameWarning
	}
	return theme.ColorNamePrimary
}

func urgencyOnColorName(u app.Urgency) fyne.ThemeColorName {
	switch {
	case u >= app.UrgencyCritical:
		return theme.ColorNameForegroundOnError
	case u >= app.UrgencyHigh:
		return theme.ColorNameForegroundOnWarning
	}
	return theme.ColorNameForegroundOnPrimary
}

// badgeText is the words on a row's badge ("" when it has none).
func badgeText(levels app.UrgencyLevelNames, r app.MessageRow, mk app.MessageMarks) string {
	var b string
	switch {
	case !r.Recalled.IsZero() || r.Notice:
		return ""
	case r.Urgency != app.UrgencyNormal:
		b = strings.ToUpper(levels.Name(r.Urgency))
	case r.AckRequired:
		b = "ACK REQUESTED"
	}
	if mk.Order {
		if b == "" {
			return "ORDER"
		}
		b += " · ORDER"
	}
	return b
}

// badge is r's badge text with its marks.
func (v *ConversationView) badge(r app.MessageRow) string {
	return badgeText(v.clin.levels, r, r.Marks)
}

// SetLevels sets the urgency levels' display names (the org policy's).
func (v *ConversationView) SetLevels(l app.UrgencyLevelNames) {
	v.clin.levels = l
	if v.clin.urg != nil {
		sel := v.urgency()
		v.clin.urg.Options = levelNames(l)
		v.clin.urg.SetSelectedIndex(levelIndex(sel))
	}
	v.syncAwaiting()
	v.invalidate()
}

func levelNames(l app.UrgencyLevelNames) []string {
	out := make([]string, len(urgencyLevels))
	for i, u := range urgencyLevels {
		out[i] = l.Name(u)
	}
	return out
}

func levelIndex(u app.Urgency) int {
	for i, x := range urgencyLevels {
		if x == u {
			return i
		}
	}
	return 0
}
