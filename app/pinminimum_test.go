package app

import (
	"context"
	"errors"
	"testing"
)

// TestSignInPINMinimum: the minimum the first-sign-in screen states is the
// one SignIn enforces, and SignIn refuses a shorter PIN with it before
// anything goes on the wire or to disk.
func TestSignInPINMinimum(t *testing.T) {
	for _, tc := range []struct{ configured, want int }{{0, DefaultMinPINLength}, {6, 6}, {8, 8}} {
		cfg := Config{DataDir: t.TempDir(), Policy: Policy{MinPINLength: tc.configured}}
		if got := SignInPINMinimum(cfg); got != tc.want {
			t.Fatalf("configured %d: minimum %d, want %d", tc.configured, got, tc.want)
		}
		short := make([]byte, tc.want-1)
		for i := range short {
			short[i] = '7'
		}
		// An unroutable server URL: reaching the network would fail differently.
		_, err := SignIn(context.Background(), cfg, "nurse@rounds.invalid", "pw", "wss://rounds.invalid/ws", short)
		var e *PINTooShortError
		if !errors.As(err, &e) || e.Min != tc.want {
			t.Fatalf("configured %d, %d-digit PIN: %v", tc.configured, len(short), err)
		}
		if HasAccount(cfg) {
			t.Fatal("a refused PIN created a store")
		}
	}
}
