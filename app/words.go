package app

import (
	"fmt"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// The words the screens use for messages, their urgency, their receipts
// and the connection are the app's: the UI names them here and imports
// nothing below app/. They are aliases because the store's values pass
// through unchanged (a MessageID the UI hands back is the store's id), so
// there is nothing to convert; what each value means is documented where
// it is kept (securestore/types.go, sync/state.go).

// MessageID is a message's local id on this device (never a protocol id).
type MessageID = securestore.MessageID

// Urgency is a message's clinical urgency; the policy's level names
// (UrgencyLevelNames) say how each is called on screen.
type Urgency = securestore.Urgency

const (
	UrgencyNormal   = securestore.UrgencyNormal
	UrgencyHigh     = securestore.UrgencyHigh
	UrgencyCritical = securestore.UrgencyCritical
)

// ReceiptState is where an outgoing message is in its delivery story; it
// only moves forward.
type ReceiptState = securestore.ReceiptState

const (
	ReceiptNone         = securestore.ReceiptNone
	ReceiptQueued       = securestore.ReceiptQueued
	ReceiptSent         = securestore.ReceiptSent
	ReceiptDelivered    = securestore.ReceiptDelivered
	ReceiptRead         = securestore.ReceiptRead
	ReceiptAcknowledged = securestore.ReceiptAcknowledged
	ReceiptFailed       = securestore.ReceiptFailed
)

// ReceiptStateName is a receipt state as the screens name it in a
// message's receipt table ("Delivered"; "Not sent" for none).
func ReceiptStateName(s ReceiptState) string {
	switch s {
	case ReceiptQueued:
		return "Queued"
	case ReceiptSent:
		return "Sent"
	case ReceiptDelivered:
		return "Delivered"
	case ReceiptRead:
		return "Read"
	case ReceiptAcknowledged:
		return "Acknowledged"
	case ReceiptFailed:
		return "Failed"
	}
	return "Not sent"
}

// Receipt is a message's receipt state with the time each state was
// reached (or one room member's copy of it).
type Receipt = securestore.Receipt

// Connectivity is the connection's state as the status bar names it.
type Connectivity = sync.Connectivity

const (
	Offline    = sync.Offline
	Connecting = sync.Connecting
	Online     = sync.Online
	AuthFailed = sync.AuthFailed
)

// ConnectionLine is what the inbox's status bar says about the connection
// c at now (the screens' clock): "Online", "Connecting…", why it is offline
// and when it tries again ("retrying in 20 s", or at a clock time a minute
// or more away, in now's time zone), or why the server refused the sign-in.
func ConnectionLine(c Connection, now time.Time) string {
	switch c.Connectivity {
	case Online:
		return "Online"
	case Connecting:
		return "Connecting…"
	case AuthFailed:
		if c.Reason != nil {
			return SignInErrorText(c.Reason)
		}
		return "Sign-in refused by the server"
	}
	msg := "Offline"
	if c.Reason != nil {
		msg += ": " + SignInErrorText(c.Reason)
	}
	if !c.RetryAt.IsZero() {
		if d := c.RetryAt.Sub(now); d > 0 && d < time.Minute {
			msg += fmt.Sprintf(" · retrying in %d s", int(d.Seconds()+0.5))
		} else {
			msg += " · retrying at " + c.RetryAt.In(now.Location()).Format("15:04")
		}
	}
	return msg + ". Messages you send wait and go out when back online."
}

// InboxTime is the inbox's short time: "now", "5 min", "14:32", "Yesterday",
// "Mon", "12 Mar", "12 Mar 2024".
func InboxTime(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute && d > -time.Minute:
		return "now"
	case d > 0 && d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	ny, nm, nd := now.Date()
	ty, tm, td := t.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, now.Location())
	switch {
	case ty == ny && tm == nm && td == nd:
		return t.Format("15:04")
	case !t.Before(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case !t.Before(today.AddDate(0, 0, -6)):
		return t.Format("Mon")
	case ty == ny:
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

// DayLabel is the text of a day separator in a conversation ("Today",
// "Yesterday", "Monday 2 January").
func DayLabel(now, t time.Time) string {
	ny, nm, nd := now.Date()
	ty, tm, td := t.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, now.Location())
	switch {
	case ty == ny && tm == nm && td == nd:
		return "Today"
	case !t.Before(today.AddDate(0, 0, -1)) && t.Before(today):
		return "Yesterday"
	case ty == ny:
		return t.Format("Monday 2 January")
	}
	return t.Format("Monday 2 January 2006")
}
