package xmpp

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"rounds/internal/testserver"
)

func testLogger() *slog.Logger {
	if os.Getenv("XMPP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// cutter records the TCP connections a client dials so a test can cut them
// abruptly, as a lost Wi-Fi would (no WebSocket close, no XMPP <close/>).
type cutter struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (k *cutter) client(s *testserver.Server) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: s.TLSConfig(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				k.mu.Lock()
				k.conns = append(k.conns, c)
				k.mu.Unlock()
			}
			return c, err
		},
	}
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return &http.Client{Transport: tr}
}

func (k *cutter) cut() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		c.Close()
	}
	k.conns = nil
}

func baseConfig(s *testserver.Server, user string) Config {
	return Config{
		URL:         s.WSURL(),
		JID:         s.JID(user),
		Credentials: Credentials{Password: testserver.Password},
		Resource:    "test",
		Logger:      testLogger(),
	}
}

func dialT(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := Dial(ctxT(t), cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", cfg.JID, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, what, 10*time.Second, cond)
}

// waitForWithin is waitFor with its own limit, for work the server does
// in bulk (archiving megabytes), which on a loaded CI machine takes longer.
func waitForWithin(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inbox collects messages from OnMessage.
type inbox struct {
	mu   sync.Mutex
	msgs []*Message
}

func (b *inbox) add(m *Message) { b.mu.Lock(); b.msgs = append(b.msgs, m); b.mu.Unlock() }

func (b *inbox) snapshot() []*Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Message(nil), b.msgs...)
}

func (b *inbox) find(f func(*Message) bool) *Message {
	for _, m := range b.snapshot() {
		if f(m) {
			return m
		}
	}
	return nil
}
