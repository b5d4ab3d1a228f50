package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// Controller.Follow over a Client that is locked (its Locked change already
// taken by whoever held it before) shows the lock screen, never the shell:
// the shell over a locked Client would look unlocked, offer no PIN field,
// and hide the locked banner of a STAT page waiting.
func TestFollowLockedClientShowsLockScreen(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	cfg := app.Config{DataDir: t.TempDir(), KDF: securestore.KDFParams{Time: 1, Memory: 64, Threads: 1},
		Secrets: &memKeyring{}, Policy: app.Policy{LockAfter: time.Hour}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := app.SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, srv.WSURL(), []byte("482913"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl.SignOut()
		drainUI()
	})
	locked := make(chan struct{})
	go func() {
		for ch := range cl.Changes() {
			if ch.Kind == app.Locked {
				close(locked)
				return
			}
		}
	}()
	cl.Lock()
	select {
	case <-locked:
	case <-time.After(30 * time.Second):
		t.Fatal("no Locked change within 30 s")
	}

	fa := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(screenSizes["desktop"])
	c := &Controller{App: fa, Window: w, Config: cfg}
	c.Follow(cl)
	drainUI()
	if s := c.currentShell(); s != nil || !strings.Contains(screenTexts(w), "Rounds is locked") {
		t.Fatalf("Follow of a locked Client: shell %v, screen:\n%s", s != nil, screenTexts(w))
	}
	if c.current() != cl {
		t.Fatal("the Controller does not hold the locked Client (its unlock would open another)")
	}
}
