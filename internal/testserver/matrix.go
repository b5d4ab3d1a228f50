//go:build unix

package testserver

import (
	"os"
	"strings"
	"testing"
)

// Kind names one of the real XMPP servers the end-to-end suites run against.
type Kind string

const (
	Prosody  Kind = "prosody"
	Ejabberd Kind = "ejabberd"
)

// Servers is the server matrix: every suite that runs through EachServer runs
// once per entry, from the same test code, so a feature cannot be done on one
// server only.
var Servers = []Kind{Prosody, Ejabberd}

// EachServer runs body once per server in Servers, as subtests named by the
// server ("TestX/prosody", "TestX/ejabberd"). The ejabberd subtest is gated by
// NeedEjabberd (skipped outside CI without ROUNDS_EJABBERD=1, failed in CI).
// ROUNDS_SERVERS (a comma-separated list of kinds) narrows the matrix for
// one run: `make test-ejabberd` runs only the ejabberd half.
func EachServer(t *testing.T, body func(t *testing.T, k Kind)) {
	t.Helper()
	only := os.Getenv("ROUNDS_SERVERS")
	for _, k := range Servers {
		k := k
		if only != "" && !listed(strings.Split(only, ","), string(k)) {
			continue
		}
		t.Run(string(k), func(t *testing.T) {
			if k == Ejabberd {
				NeedEjabberd(t)
			}
			body(t, k)
		})
	}
}

// StartT starts a server of this kind for one test (StartT or StartEjabberdT).
func (k Kind) StartT(t testing.TB, opts Options, accounts ...string) *Server {
	t.Helper()
	if k == Ejabberd {
		return StartEjabberdT(t, opts, accounts...)
	}
	return StartT(t, opts, accounts...)
}

// Kind tells which server s is.
func (s *Server) Kind() Kind {
	if s.kind == kindEjabberd {
		return Ejabberd
	}
	return Prosody
}

func listed(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}
