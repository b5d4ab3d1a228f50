package app

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestConnectionLine: the status bar's words are app's, each state said
// once: offline with why and when it retries (seconds within a minute, a
// clock time after), a refused sign-in in the sign-in screen's words.
func TestConnectionLine(t *testing.T) {
	now := time.Date(2025, 3, 12, 14, 30, 0, 0, time.UTC)
	reset := errors.New("connection reset")
	refused := fmt.Errorf("sign in: %w", ErrWrongPassword)
	const waits = ". Messages you send wait and go out when back online."
	for _, c := range []struct {
		c    Connection
		want string
	}{
		{Connection{Connectivity: Online}, "Online"},
		{Connection{Connectivity: Connecting}, "Connecting…"},
		{Connection{Connectivity: Offline}, "Offline" + waits},
		{Connection{Connectivity: Offline, Reason: reset, RetryAt: now.Add(19600 * time.Millisecond)}, "Offline: " + SignInErrorText(reset) + " · retrying in 20 s" + waits},
		{Connection{Connectivity: Offline, RetryAt: now.Add(3 * time.Minute)}, "Offline · retrying at 14:33" + waits},
		{Connection{Connectivity: Offline, RetryAt: now.Add(-time.Second)}, "Offline · retrying at 14:29" + waits},
		{Connection{Connectivity: AuthFailed, Reason: refused}, SignInErrorText(refused)},
		{Connection{Connectivity: AuthFailed}, "Sign-in refused by the server"},
	} {
		if got := ConnectionLine(c.c, now); got != c.want {
			t.Errorf("%+v: %q, want %q", c.c, got, c.want)
		}
	}
}
