package ui

import (
	"time"

	"rounds/app"
)

// How the screens say a message's time and a quick response: shared by the
// thread, the alert card, the awaiting list, broadcasts and roles.

// clock is a time as the thread shows it: "14:02", with the day when not today.
func clock(t time.Time) string {
	t = t.Local()
	now := nowFunc().Local()
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}

// responseButton is a quick response as a button says it.
func responseButton(k app.ResponseKind) string {
	switch k {
	case app.ResponseAck:
		return "Acknowledge"
	case app.ResponseDecline:
		return "Decline"
	}
	return app.ResponseLabel(k)
}

// whenText is the meta line's text: the time, "edited" when corrected.
func whenText(r app.MessageRow) string {
	t := r.Timestamp.Local().Format("15:04")
	if r.Corrected && r.Recalled.IsZero() {
		return "edited · " + t
	}
	return t
}
