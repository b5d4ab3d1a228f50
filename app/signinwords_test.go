package app

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"rounds/sync/xmpp"
)

func TestSignInErrorText(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("app: sign in: %w", &xmpp.AuthError{Mechanism: "SCRAM-SHA-256", Condition: "not-authorized"}), "Wrong address or password"},
		{fmt.Errorf("dial: %w", x509.UnknownAuthorityError{}), "certificate could not be verified"},
		{fmt.Errorf("discover: %w", xmpp.ErrNoWebSocketEndpoint), "No Rounds server was found"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, "could not be reached"},
		{&net.DNSError{Name: "hospital.invalid", Err: "no such host"}, "No server was found for this address (hospital.invalid)"},
		{errors.New("something else"), "something else"},
	}
	for _, c := range cases {
		if got := SignInErrorText(c.err); !strings.Contains(got, c.want) {
			t.Errorf("SignInErrorText(%v) = %q, want it to contain %q", c.err, got, c.want)
		}
	}
}
