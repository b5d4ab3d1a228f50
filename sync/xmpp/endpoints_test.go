package xmpp

import (
	"net"
	"testing"

	"rounds/internal/testserver"
)

// TestAlternateEndpoint: the first endpoint refuses (nothing listens there,
// as on a killed cluster node); the client signs in through the next one and
// stays on it.
func TestAlternateEndpoint(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + l.Addr().String() + s.WSPath()
	l.Close()
	cfg := baseConfig(s, "alice")
	cfg.URL, cfg.Alternates = dead, []string{s.WSURL()}
	c := dialT(t, cfg)
	if got := c.Endpoint(); got != s.WSURL() {
		t.Fatalf("endpoint %q, want %q", got, s.WSURL())
	}
	if _, err := NewClient(Config{URL: s.WSURL(), Alternates: []string{"ws://hospital.example/ws"}, JID: "a@b"}); err == nil {
		t.Fatal("a plain ws:// alternate off loopback was accepted")
	}
}
