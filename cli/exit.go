package cli

import (
	"errors"
	"fmt"
)

// Exit codes. A lab system or a monitoring script decides what to do next from
// the code alone (page someone else, retry later, alert IT), so each one means
// exactly one thing and they never change meaning between releases.
const (
	ExitOK          = 0 // done: the asked-for state was reached (or the audit export verified)
	ExitFailure     = 1 // anything else: store trouble, tampered audit export, server refused a publish
	ExitUsage       = 2 // bad flags, unusable secret (file readable by others), invalid input file
	ExitCredentials = 3 // the server refused the account's credentials
	ExitUnreachable = 4 // the server could not be reached (or its certificate is not trusted) in time
	ExitTimedOut    = 5 // sent, but the asked-for state was not reached in --timeout
	ExitDeclined    = 6 // the recipient declined the message
	ExitRefused     = 7 // not sent or bounced: order to someone not authorised, role without a holder, server error
)

// exitError carries an exit code with the message printed on stderr.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// fail wraps a message with the exit code it stands for.
func fail(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// withCode gives an existing error an exit code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// codeOf is the exit code for err: its own, or ExitFailure.
func codeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitFailure
}
