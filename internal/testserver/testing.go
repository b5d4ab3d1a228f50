//go:build unix

package testserver

import "testing"

// StartT starts a server for one test and stops it in t.Cleanup. It fails the test
// (never skips) when prosody cannot start: CI must not pass without a server.
func StartT(t testing.TB, opts Options, accounts ...string) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("prosody: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prosody log (%s):\n%s", s.Dir, s.tailLog())
		}
		s.Stop()
	})
	for _, a := range accounts {
		if err := s.CreateAccount(a, Password); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// Password is the password StartT gives every account it creates.
const Password = "correct horse battery staple"
