package app

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

func TestSignInErrors(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx := context.Background()

	t.Run("wrong password creates no store", func(t *testing.T) {
		cfg := testConfig(t)
		_, err := SignIn(ctx, cfg, srv.JID("alice"), "not the password", srv.WSURL(), testPIN)
		wantErr(t, err, ErrWrongPassword)
		if f := storeFilesIn(t, cfg.DataDir); len(f) != 0 || HasAccount(cfg) {
			t.Fatalf("store created after a wrong password: %v", f)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // a closed port: connection refused
		cfg := testConfig(t)
		_, err = SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, "ws://"+addr+"/xmpp-websocket", testPIN)
		wantErr(t, err, ErrServerUnreachable)
		if HasAccount(cfg) {
			t.Fatal("store created")
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		cfg := testConfig(t)
		_, err := SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, srv.WSSURL(), testPIN)
		wantErr(t, err, ErrBadCertificate)
		if HasAccount(cfg) {
			t.Fatal("store created")
		}
	})
	t.Run("trusted certificate", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.TLSConfig = srv.TLSConfig()
		c, err := SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, srv.WSSURL(), testPIN)
		if err != nil {
			t.Fatal(err)
		}
		defer c.SignOut()
		waitFor(t, "online over wss", 30*time.Second, func() bool { return c.Connection().Connectivity == 2 })
	})
	t.Run("ws off loopback", func(t *testing.T) {
		cfg := testConfig(t)
		_, err := SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, "ws://xmpp.example.org/xmpp-websocket", testPIN)
		wantErr(t, err, ErrInsecureURL)
		_, err = SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, "http://127.0.0.1/", testPIN)
		wantErr(t, err, ErrInsecureURL)
	})
	t.Run("bad address", func(t *testing.T) {
		cfg := testConfig(t)
		for _, a := range []string{"", "alice", "@rounds.test", "alice@rounds.test/phone", "a b@c d"} {
			_, err := SignIn(ctx, cfg, a, "pw", srv.WSURL(), testPIN)
			wantErr(t, err, ErrInvalidAddress)
		}
	})
	t.Run("no server found", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.ConnectTimeout = 3 * time.Second
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext: (&net.Dialer{}).DialContext, // DNS for rounds.invalid fails
		}}
		_, err := SignIn(ctx, cfg, "alice@rounds.invalid", "pw", "", testPIN)
		wantErr(t, err, ErrNoServerFound)
	})
	t.Run("second account is a second profile, same account re-signs in", func(t *testing.T) {
		cfg := testConfig(t)
		c, err := SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, srv.WSURL(), testPIN)
		if err != nil {
			t.Fatal(err)
		}
		c.SignOut()
		c, err = SignIn(ctx, cfg, srv.JID("bob"), testserver.Password, srv.WSURL(), testPIN)
		if err != nil {
			t.Fatalf("second profile: %v", err)
		}
		c.SignOut()
		if f := storeFilesIn(t, cfg.DataDir); len(f) != 2 {
			t.Fatalf("store files %v", f)
		}
		c, err = SignIn(ctx, cfg, strings.ToUpper("alice")+"@"+srv.Domain, testserver.Password, srv.WSURL(), testPIN)
		if err != nil {
			t.Fatalf("re-sign-in: %v", err)
		}
		c.SignOut()
		if f := storeFilesIn(t, cfg.DataDir); len(f) != 2 {
			t.Fatalf("store files %v", f)
		}
	})
}

// TestNoPasswordKept: the store keeps SCRAM keys, never the password, and a
// later Unlock signs in with them.
func TestNoPasswordKept(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	d := signIn(t, srv, "alice", Config{})
	d.c.SignOut()
	files := storeFilesIn(t, d.cfg.DataDir)
	if len(files) != 1 || !strings.HasSuffix(files[0], StorePath(d.cfg.DataDir, d.jid)[len(d.cfg.DataDir):]) {
		t.Fatalf("store files %v", files)
	}
	if strings.Contains(files[0], "alice") {
		t.Fatal("JID in the file name")
	}
	st, err := securestore.Open(files[0], testPIN, d.cfg.storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Account()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if a.Credentials.PlainPassword != "" || len(a.Credentials.ClientKey) == 0 || a.JID != d.jid || a.WebSocketURL != srv.WSURL() {
		t.Fatalf("account record: plain=%v keys=%d jid=%q", a.Credentials.PlainPassword != "", len(a.Credentials.ClientKey), a.JID)
	}
	c, err := Unlock(context.Background(), d.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	defer c.SignOut()
	waitFor(t, "online from stored keys", 30*time.Second, func() bool { return c.Connection().Connectivity == 2 })
}

// TestUpdatePassword: a wrong password changes nothing; the right one
// restarts syncing with fresh keys.
func TestUpdatePassword(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	alice := signIn(t, srv, "alice", Config{})
	if alice.c.NeedsPassword() {
		t.Fatal("NeedsPassword while online")
	}
	err := alice.c.UpdatePassword(context.Background(), "wrong")
	wantErr(t, err, ErrWrongPassword)
	if alice.c.Connection().Connectivity != 2 {
		t.Fatal("a wrong password disturbed the session")
	}
	if err := alice.c.UpdatePassword(context.Background(), testserver.Password); err != nil {
		t.Fatal(err)
	}
	alice.waitOnline()
	st, _ := alice.c.unlocked()
	if a, _ := st.Account(); a.Credentials.PlainPassword != "" || len(a.Credentials.ClientKey) == 0 {
		t.Fatal("credentials not kept as SCRAM keys")
	}
}
