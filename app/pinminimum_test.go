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

// TestSignInAppliesThePINRule: SignIn, not only the screens' CheckNewPIN,
// refuses a PIN with anything but digits and one below the floor
// MinPINLength that a lower configured minimum would allow, before
// anything goes on the wire or to disk.
func TestSignInAppliesThePINRule(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Policy: Policy{MinPINLength: 2}}
	if got := SignInPINMinimum(cfg); got != MinPINLength {
		t.Fatalf("configured 2: the screen states %d, want the floor %d", got, MinPINLength)
	}
	for _, tc := range []struct {
		pin  string
		want error
	}{{"12", ErrPINTooShort}, {"12ab56", ErrPINDigits}, {"１２３４", ErrPINDigits}} {
		_, err := SignIn(context.Background(), cfg, "nurse@rounds.invalid", "pw", "wss://rounds.invalid/ws", []byte(tc.pin))
		if !errors.Is(err, tc.want) {
			t.Fatalf("PIN %q: %v, want %v", tc.pin, err, tc.want)
		}
	}
	if HasAccount(cfg) {
		t.Fatal("a refused PIN created a store")
	}
}
