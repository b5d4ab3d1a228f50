//go:build unix

package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// BenchmarkPage measures one `rounds send` from start to exit against a real
// Prosody on loopback, with the recipient online:
//
//	raw-sent:       baseline in the same run: sign in with xmpp.Dial, send one
//	                chat message, wait for the server's XEP-0198 ack, close.
//	                The least any sender can do.
//	cli-sent:       rounds send --wait sent (reused state slot)
//	cli-delivered:  rounds send --wait delivered (the phone's XEP-0184 receipt)
//
// go test ./cli -run XXX -bench Page -benchtime 20x
func BenchmarkPage(b *testing.B) {
	srv, err := testserver.Start(testserver.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	for _, u := range []string{"lab.bot", "dr.osei"} {
		if err := srv.CreateAccount(u, testserver.Password); err != nil {
			b.Fatal(err)
		}
	}
	phone := benchPeer(b, srv)
	defer phone()

	state := b.TempDir()
	secret := b.TempDir() + "/bot.secret"
	if err := writeFileMode(secret, testserver.Password+"\n", 0o600); err != nil {
		b.Fatal(err)
	}
	args := func(wait string) []string {
		return []string{"send", "--account", srv.JID("lab.bot"), "--secret-file", secret, "--server", srv.WSURL(),
			"--state-dir", state, "--to", srv.JID("dr.osei"), "--wait", wait, "--timeout", "30s"}
	}
	// Create the slot before timing: the first run makes the store.
	if code := Main(context.Background(), args("sent"), strings.NewReader("warm-up"), io.Discard, io.Discard); code != 0 {
		b.Fatalf("warm-up exit %d", code)
	}
	b.Run("raw-sent", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			acked := make(chan struct{}, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("lab.bot"), Resource: "raw",
				Credentials: xmpp.Credentials{Password: testserver.Password}, Logger: quiet,
				OnAcked: func(el *xmpp.Element) {
					if el.Name.Local == "message" {
						acked <- struct{}{}
					}
				}})
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Send(xmpp.NewChat(srv.JID("dr.osei"), "page")); err != nil {
				b.Fatal(err)
			}
			select {
			case <-acked:
			case <-ctx.Done():
				b.Fatal("no ack")
			}
			c.Close()
			cancel()
		}
	})
	for _, wait := range []string{"sent", "delivered"} {
		b.Run("cli-"+wait, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var errb bytes.Buffer
				if code := Main(context.Background(), args(wait), strings.NewReader("page"), io.Discard, &errb); code != 0 {
					b.Fatalf("exit %d: %s", code, errb.String())
				}
			}
		})
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func writeFileMode(path, s string, mode os.FileMode) error {
	if err := os.WriteFile(path, []byte(s), mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// benchPeer signs dr.osei in with a Rounds session (it sends delivery
// receipts) and returns its stop function.
func benchPeer(b *testing.B, srv *testserver.Server) func() {
	st, err := securestore.Create(filepath.Join(b.TempDir(), "phone.db"), []byte("2468"),
		securestore.Options{KDF: app.SlotKDF, Secrets: app.NoKeySecrets{}})
	if err != nil {
		b.Fatal(err)
	}
	s, err := sync.New(sync.Config{Store: st, XMPP: xmpp.Config{URL: srv.WSURL(), JID: srv.JID("dr.osei"), Resource: "phone",
		Credentials: xmpp.Credentials{Password: testserver.Password}}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		for range s.Events() {
		}
	}()
	go func() { _ = s.Run(ctx); close(done) }()
	for s.State().Connectivity != sync.Online {
		time.Sleep(20 * time.Millisecond)
	}
	return func() { cancel(); <-done; st.Close() }
}
