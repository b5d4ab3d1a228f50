package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/internal/testserver"
	// securestore only for the fast KDF of the real store these real-server
	// tests build; the screens use app/ alone.
	"rounds/securestore"
)

// signInController signs user in to srv as a real app.Client (a fast KDF, a
// memory keyring, no auto-lock) and puts a real Controller over it in a
// desktop-sized test window of fa, as main does.
func signInController(t *testing.T, srv *testserver.Server, fa fyne.App, user string) (*app.Client, *Controller) {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), KDF: securestore.KDFParams{Time: 1, Memory: 64, Threads: 1},
		Secrets: &memKeyring{}, Policy: app.Policy{LockAfter: time.Hour}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := app.SignIn(ctx, cfg, srv.JID(user), testserver.Password, srv.WSURL(), []byte("482913"))
	if err != nil {
		t.Fatalf("%s signs in: %v", user, err)
	}
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(screenSizes["desktop"])
	c := &Controller{App: fa, Window: w, Config: cfg}
	c.signedIn(cl)
	t.Cleanup(func() {
		cl.SignOut()
		drainUI()
	})
	return cl, c
}

// openRealConversation opens conv through the Controller, as a tap in the inbox
// does, and returns its view once the shell shows it.
func openRealConversation(t *testing.T, cl *app.Client, ui *Controller, conv string) *ConversationView {
	t.Helper()
	(&actions{c: ui, cl: cl}).Open(conv)
	var v *ConversationView
	eventually(t, 10*time.Second, "conversation "+conv+" open", func() bool {
		if s := ui.currentShell(); s != nil && s.Conversation() != nil && s.Conversation().ID() == conv {
			v = s.Conversation()
			return true
		}
		return false
	})
	return v
}
