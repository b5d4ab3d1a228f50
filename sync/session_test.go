package sync

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestSignInAgainWithoutPassword: after one sign-in the store keeps the SCRAM
// keys, never the password, and the next start signs in from them alone.
func TestSignInAgainWithoutPassword(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{SCRAMSHA256: true}, "alice")
	path := filepath.Join(t.TempDir(), "alice.db")
	d := startDevice(t, srv, "alice", deviceOptions{storePath: path})
	a, err := d.store.Account()
	if err != nil {
		t.Fatal(err)
	}
	if a.Credentials.PlainPassword != "" || len(a.Credentials.ClientKey) == 0 || a.Credentials.Mechanism != "SCRAM-SHA-256" {
		t.Fatalf("stored credentials: mechanism %q, plain %q, client key %d bytes", a.Credentials.Mechanism, a.Credentials.PlainPassword, len(a.Credentials.ClientKey))
	}
	d.stop()

	st := openStore(t, path)
	defer st.Close()
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: srv.WSURL(), JID: srv.JID("alice")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for s.State().Connectivity != Online {
		if time.Now().After(deadline) {
			t.Fatalf("no sign-in from stored keys: %+v", s.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

// TestWrongPasswordStopsRetrying: a refused password is AuthFailed, once; the
// Session does not hammer the server (which would lock the account).
func TestWrongPasswordStopsRetrying(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	defer st.Close()
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: srv.WSURL(), JID: srv.JID("alice"),
		Credentials: xmpp.Credentials{Password: "wrong"}}, Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range s.Events() {
		}
	}()
	err = s.Run(context.Background())
	if !errors.Is(err, xmpp.ErrNotAuthorized) {
		t.Fatalf("Run = %v, want not-authorized", err)
	}
	if st := s.State(); st.Connectivity != AuthFailed || st.Reason == nil {
		t.Fatalf("state %+v", st)
	}
	if _, err := st.Account(); !errors.Is(err, securestore.ErrNotFound) {
		t.Fatalf("a failed sign-in stored credentials: %v", err)
	}
}

// TestOfflineSendWaitsThenGoes: a message written while the server is down is
// stored as queued, shown, and sent once the server is back.
func TestOfflineSendWaitsThenGoes(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	pa, url := proxiedURL(t, srv)
	alice := startDevice(t, srv, "alice", deviceOptions{url: url})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	pa.Refuse(true)
	pa.Cut()
	alice.waitFor("offline", 10*time.Second, func() bool { return alice.session.State().Connectivity == Offline })
	ids := alice.send(bob.jid, "offline", 5)
	for _, id := range ids {
		if st := alice.receiptState(id); st != securestore.ReceiptQueued {
			t.Fatalf("message sent while offline is %v, want queued", st)
		}
	}
	if st := alice.session.State(); st.Reason == nil || st.Attempt == 0 {
		t.Fatalf("offline state lacks reason or attempt: %+v", st)
	}
	pa.Refuse(false)
	alice.allAtLeast(ids, securestore.ReceiptDelivered, 30*time.Second)
	expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), "offline", 5)
}
