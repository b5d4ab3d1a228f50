package app

import (
	"errors"
	"fmt"
)

// Errors the UI branches on with errors.Is. Each names something the user can
// act on; the wrapped detail (for logs and a "details" disclosure) never holds
// a password or message text.
var (
	// ErrInvalidAddress: the address is not name@domain.
	ErrInvalidAddress = errors.New("enter your address as name@hospital.org")
	// ErrWrongPassword: the server refused the address or password.
	ErrWrongPassword = errors.New("the server did not accept this address and password")
	// ErrServerUnreachable: no connection (DNS, refused, timeout, cut).
	ErrServerUnreachable = errors.New("the server cannot be reached; check the network or the server address")
	// ErrBadCertificate: the server's TLS certificate is not trusted.
	ErrBadCertificate = errors.New("the server's certificate is not trusted; ask your IT department")
	// ErrNoServerFound: XEP-0156 discovery found no WebSocket endpoint; the
	// user should enter the server URL (wss://...) by hand.
	ErrNoServerFound = errors.New("no Rounds server found for this address; enter the server URL")
	// ErrInsecureURL: ws:// to a host other than loopback (or another scheme).
	ErrInsecureURL = errors.New("the server URL must start with wss://")
	// ErrNoAccount: no account is set up on this device.
	ErrNoAccount = errors.New("no account on this device")
	// ErrWrongPIN: the PIN did not unlock; see *WrongPINError for the
	// attempts left.
	ErrWrongPIN = errors.New("wrong PIN")
	// ErrWiped: the wrong-PIN limit was reached (or the device was wiped):
	// the local data is gone and the account must be set up again.
	ErrWiped = errors.New("too many wrong PINs: the data on this device was erased")
	// ErrLocked: the Client is locked (no store key in memory); unlock first.
	ErrLocked = errors.New("locked")
	// ErrSignedOut: the Client was signed out or the device wiped.
	ErrSignedOut = errors.New("signed out")
	// ErrEmptyMessage: nothing to send after trimming white space.
	ErrEmptyMessage = errors.New("the message is empty")
	// ErrMessageTooLong: over MaxMessageRunes characters.
	ErrMessageTooLong = fmt.Errorf("the message is too long (at most %d characters)", MaxMessageRunes)
	// ErrInvalidPresence: SetPresence got a show value other than
	// "", "away", "dnd", "xa" or "chat".
	ErrInvalidPresence = errors.New("unknown presence")
	// ErrKeyringNotAllowed: policy forbids unlocking with the OS keyring, or
	// the store has no keyring slot.
	ErrKeyringNotAllowed = errors.New("unlocking without PIN is not enabled on this device")
	// ErrRoomNotFound: there is no room at that address (joining never
	// creates one).
	ErrRoomNotFound = errors.New("there is no room at this address; check it, or ask for the room to be created")
	// ErrRoomExists: CreateRoom found a room already at that address.
	ErrRoomExists = errors.New("a room already exists at this address")
)

// MaxMessageRunes bounds one message's text.
const MaxMessageRunes = 10_000

// WrongPINError reports a wrong PIN and how many attempts remain before the
// store erases itself. It matches ErrWrongPIN.
type WrongPINError struct{ Remaining int }

// AttemptsLeft is how many more wrong PINs wipe the store (the unlock screen
// shows it).
func (e *WrongPINError) AttemptsLeft() int { return e.Remaining }

func (e *WrongPINError) Error() string {
	if e.Remaining == 1 {
		return "wrong PIN: 1 attempt left before the data on this device is erased"
	}
	return fmt.Sprintf("wrong PIN: %d attempts left before the data on this device is erased", e.Remaining)
}

// Is makes errors.Is(err, ErrWrongPIN) true.
func (e *WrongPINError) Is(target error) bool { return target == ErrWrongPIN }

// signInError keeps the classified sentinel (for errors.Is) and the cause (for
// the details view and logs).
type signInError struct {
	kind  error
	cause error
}

func (e *signInError) Error() string {
	if e.cause == nil {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.cause.Error()
}
func (e *signInError) Is(target error) bool { return target == e.kind }
func (e *signInError) Unwrap() error        { return e.cause }
