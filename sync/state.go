package sync

import (
	"fmt"
	"time"
)

// Connectivity is what the app shows in its status bar.
type Connectivity int

const (
	// Offline: not connected; Reason says why and the Session is retrying
	// unless it was stopped.
	Offline Connectivity = iota
	// Connecting: a socket, sign-in or resumption is under way.
	Connecting
	// Online: signed in, caught up, outbox flushed; new messages flow live.
	Online
	// AuthFailed: the server refused the credentials. The Session stops
	// retrying: retrying a wrong password only locks the account.
	AuthFailed
)

func (c Connectivity) String() string {
	switch c {
	case Offline:
		return "offline"
	case Connecting:
		return "connecting"
	case Online:
		return "online"
	case AuthFailed:
		return "auth failed"
	}
	return fmt.Sprintf("Connectivity(%d)", int(c))
}

// ConnState is the visible connection state of a Session.
type ConnState struct {
	Connectivity Connectivity
	// Reason is the last error for Offline and AuthFailed.
	Reason error
	Since  time.Time
	// Attempt counts consecutive failed attempts (0 when online).
	Attempt int
	// RetryAt is when the next attempt starts, while Offline.
	RetryAt time.Time
}
