package sync

import (
	"errors"
	"strings"
	"testing"
)

// TestServerEndpoints: a server URL holding a cluster's nodes (separated by
// spaces, as host-meta discovery and --server give them) becomes the first
// endpoint and its alternates, in order; each is checked.
func TestServerEndpoints(t *testing.T) {
	cfg := Server{URL: " wss://n1.hospital.example/ws  wss://n2.hospital.example/ws\n"}.XMPP()
	if cfg.URL != "wss://n1.hospital.example/ws" || strings.Join(cfg.Alternates, ",") != "wss://n2.hospital.example/ws" {
		t.Fatalf("URL %q alternates %q", cfg.URL, cfg.Alternates)
	}
	if cfg := (Server{URL: "wss://one.example/ws"}).XMPP(); cfg.URL != "wss://one.example/ws" || cfg.Alternates != nil {
		t.Fatalf("one endpoint: %q %q", cfg.URL, cfg.Alternates)
	}
	if err := CheckServerURL("wss://n1.hospital.example/ws wss://n2.hospital.example/ws"); err != nil {
		t.Fatal(err)
	}
	if err := CheckServerURL("wss://n1.hospital.example/ws ws://n2.hospital.example/ws"); !errors.Is(err, ErrInsecureTransport) {
		t.Fatalf("a plain ws:// node off loopback: %v", err)
	}
	if err := CheckServerURL(""); err == nil {
		t.Fatal("empty URL accepted")
	}
}
