//go:build unix

package testserver

import (
	"os"
	"testing"
)

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

// NeedEjabberd lets an ejabberd test run only where ejabberd is wanted
// (ROUNDS_EJABBERD=1, which `make unit` and `make test-ejabberd` set). A plain
// `go test ./...` skips it, since ejabberd is heavy; under CI (CI set) a run
// without ROUNDS_EJABBERD=1 fails instead, because there a missing server
// must never pass as a skip.
func NeedEjabberd(t testing.TB) {
	t.Helper()
	if os.Getenv("ROUNDS_EJABBERD") == "1" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI runs every ejabberd test: set ROUNDS_EJABBERD=1 (make unit does)")
	}
	t.Skip("set ROUNDS_EJABBERD=1 or run make test-ejabberd")
}
