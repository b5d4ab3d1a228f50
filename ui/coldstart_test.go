package ui

import (
	"context"
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// lockNote is what the lock screen's note says now ("" hidden).
func (c *Controller) lockNote() string {
	c.mu.Lock()
	b := c.banner
	c.mu.Unlock()
	if b == nil {
		return ""
	}
	return b.Note()
}

// TestStartListensAfterRestart: Rounds starts (after a reboot) with a
// listen ticket the last unlock kept: the lock screen comes up over a
// locked Client that listens, with no note, and a STAT page for the
// person is counted on it before anyone types the PIN. Started with a
// keyring that lacks the ticket's item, the lock screen says that
// messages arrive only after the unlock.
func TestStartListensAfterRestart(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	cfg := sharedConfig(t, 0)
	ctx := context.Background()
	alice, err := app.SignIn(ctx, sharedConfig(t, 0), srv.JID("alice"), testserver.Password, srv.WSURL(), []byte("111111"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(alice.SignOut)
	bob, err := app.SignIn(ctx, cfg, srv.JID("bob"), testserver.Password, srv.WSURL(), []byte("222222"))
	if err != nil {
		t.Fatal(err)
	}
	// A restart: what is on disk and in the keyring when the process
	// ends without signing out (SignOut would remove the ticket).
	ticket := securestore.ListenPath(app.StorePath(cfg.DataDir, srv.JID("bob")))
	var raw []byte
	eventually(t, 10*time.Second, "the listen ticket on disk", func() bool { raw, err = os.ReadFile(ticket); return err == nil })
	kept := map[any]any{}
	cfg.Secrets.(*memKeyring).m.Range(func(k, v any) bool { kept[k] = v; return true })
	bob.SignOut()
	time.Sleep(200 * time.Millisecond)
	if err := os.WriteFile(ticket, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range kept {
		cfg.Secrets.(*memKeyring).m.Store(k, v)
	}

	fa := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(screenSizes["desktop"])
	c := &Controller{App: fa, Window: w, Config: cfg}
	c.Start()
	t.Cleanup(func() {
		if cl := c.current(); cl != nil {
			cl.SignOut()
		}
		drainUI()
	})
	cl := c.current()
	if cl == nil || !cl.Locked() || !cl.Listening() {
		t.Fatalf("after a restart: client %v", cl != nil)
	}
	if n := c.lockNote(); n != "" {
		t.Fatalf("listening, the lock screen says %q", n)
	}
	if _, err := alice.SendUrgent(srv.JID("bob"), "MARKER-CS page for bob", securestore.UrgencyCritical); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the page counted on the lock screen", func() bool {
		c.mu.Lock()
		b := c.banner
		c.mu.Unlock()
		return b != nil && b.Text() == "1 STAT message waiting"
	})

	deaf := cfg
	deaf.Secrets = &memKeyring{}
	w2 := test.NewTempWindow(t, widget.NewLabel(""))
	c2 := &Controller{App: fa, Window: w2, Config: deaf}
	c2.Start()
	drainUI()
	if c2.current() != nil || c2.lockNote() != "Messages will arrive only after you unlock." {
		t.Fatalf("without the keyring item: client %v, note %q", c2.current() != nil, c2.lockNote())
	}
}
