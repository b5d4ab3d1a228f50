//go:build linux

package cli

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// TestCheckArchiveProbeReachesNoDevice: on a young account the check sends
// itself short messages to measure the archive's page size. Run with an
// account someone also has signed in (a real person's, by mistake), those
// messages must reach the archive only, never that person's phone: 251
// alerts at a bedside. The check still measures the page.
func TestCheckArchiveProbeReachesNoDevice(t *testing.T) {
	checkProbeQuiet(t, testserver.StartT(t, testserver.Options{}, "rounds.check"))
}

// TestCheckArchiveProbeReachesNoDeviceEjabberd: the same on ejabberd.
func TestCheckArchiveProbeReachesNoDeviceEjabberd(t *testing.T) {
	testserver.NeedEjabberd(t)
	checkProbeQuiet(t, testserver.StartEjabberdT(t, testserver.Options{}, "rounds.check"))
}

func checkProbeQuiet(t *testing.T, srv *testserver.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got atomic.Int32
	phone, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("rounds.check"),
		Credentials: xmpp.Credentials{Password: testserver.Password}, Resource: "phone",
		OnMessage: func(m *xmpp.Message) {
			if m.Body != "" {
				got.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	if err := phone.EnableCarbons(ctx); err != nil {
		t.Fatal(err)
	}
	if err := phone.Send(xmpp.NewElement(xmpp.NSClient, "presence")); err != nil {
		t.Fatal(err)
	}
	if err := phone.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"admin", "check"}, botArgs(t, srv, "rounds.check", t.TempDir())...)
	_, out, _ := runCLI(t, "", args...)
	if !strings.Contains(out, "ok    archive            archive pages of 250 messages (the check sent") {
		t.Fatalf("the check did not measure the archive page by filling it:\n%s", out)
	}
	if err := phone.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := got.Load(); n != 0 {
		t.Fatalf("the account's other device got %d of the check's probe messages", n)
	}
}
