package xmpp

import (
	"errors"
	"strings"
	"testing"

	"rounds/internal/testserver"
)

func TestConnectWSSCRAMSHA256(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{SCRAMSHA256: true}, "alice")
	c := dialT(t, baseConfig(s, "alice"))
	if c.JID().Bare().String() != s.JID("alice") || c.JID().Resource == "" {
		t.Fatalf("bound %v", c.JID())
	}
	if m := c.Mechanism(); m != "SCRAM-SHA-256" {
		t.Fatalf("mechanism %q, want SCRAM-SHA-256 (ws:// has no channel binding)", m)
	}
	if k := c.SCRAMKeys(); k == nil || k.Hash != "SHA-256" || len(k.ClientKey) != 32 {
		t.Fatalf("keys %+v", k)
	}
	if on, res := c.StreamManagement(); !on || !res {
		t.Fatalf("stream management on=%v resumable=%v", on, res)
	}
	if err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestConnectWSSVerifiesAndBinds(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{SCRAMSHA256: true}, "alice")
	cfg := baseConfig(s, "alice")
	cfg.URL = s.WSSURL()
	cfg.TLSConfig = s.TLSConfig()
	c := dialT(t, cfg)
	t.Logf("wss mechanism: %s, features: %s", c.Mechanism(), c.Features())
	if err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	// Without the test CA the certificate must not verify.
	bad := baseConfig(s, "alice")
	bad.URL = s.WSSURL()
	if _, err := Dial(ctxT(t), bad); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("dial with unknown CA: %v", err)
	}
}

func TestConnectSCRAMSHA1AndStoredKeys(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice")
	c := dialT(t, baseConfig(s, "alice"))
	if c.Mechanism() != "SCRAM-SHA-1" {
		t.Fatalf("mechanism %q", c.Mechanism())
	}
	keys := c.SCRAMKeys()
	c.Close()

	// Log in again with the keys only: no password kept anywhere.
	cfg := baseConfig(s, "alice")
	cfg.Credentials = Credentials{Keys: []SCRAMKeys{*keys}}
	c2 := dialT(t, cfg)
	if c2.Mechanism() != "SCRAM-SHA-1" {
		t.Fatalf("mechanism %q", c2.Mechanism())
	}

	// Tampered keys: the server refuses the proof.
	bad := *keys
	bad.ClientKey = append([]byte(nil), keys.ClientKey...)
	bad.ClientKey[0] ^= 1
	cfg.Credentials = Credentials{Keys: []SCRAMKeys{bad}}
	if _, err := Dial(ctxT(t), cfg); !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("tampered ClientKey: %v", err)
	}
	// Wrong ServerKey: the server's signature does not verify -> auth failure.
	bad = *keys
	bad.ServerKey = append([]byte(nil), keys.ServerKey...)
	bad.ServerKey[0] ^= 1
	cfg.Credentials = Credentials{Keys: []SCRAMKeys{bad}}
	_, err := Dial(ctxT(t), cfg)
	var ae *AuthError
	if !errors.Is(err, ErrNotAuthorized) || !errors.As(err, &ae) || ae.Condition != "server-signature" {
		t.Fatalf("wrong ServerKey: %v", err)
	}
}

func TestWrongPasswordIsNotAuthorized(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{SCRAMSHA256: true}, "alice")
	cfg := baseConfig(s, "alice")
	cfg.Credentials.Password = "wrong"
	_, err := Dial(ctxT(t), cfg)
	if !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("err = %v, want ErrNotAuthorized", err)
	}
	if errors.Is(err, ErrDisconnected) {
		t.Fatal("auth failure must not look like a network error")
	}
}

func TestPlainWSRefusedOffLoopback(t *testing.T) {
	for _, u := range []string{"ws://hospital.example/xmpp-websocket", "ws://10.0.0.1:5280/ws", "http://127.0.0.1/", "ws://127.0.0.1.evil.example/"} {
		_, err := NewClient(Config{URL: u, JID: "a@b"})
		var ie *InsecureTransportError
		if !errors.Is(err, ErrInsecureTransport) || !errors.As(err, &ie) {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"ws://127.0.0.1:1/x", "ws://[::1]:1/x", "ws://localhost:1/x", "ws://127.5.0.1/x", "wss://hospital.example/ws"} {
		if _, err := CheckURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}
