package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// TestHeaderPresenceFollowsOtherDevices: alice has bob's conversation open
// while bob's devices, two connections of another client (a desk and a
// phone resource), come online, change show and leave. The header says what
// the directory says at every step: it is drawn from the same inbox row,
// redrawn at every inbox change, not captured once when the conversation
// opened (which left it "Offline" while the list said "Available").
func TestHeaderPresenceFollowsOtherDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prosody")
	}
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	fa := test.NewTempApp(t)
	alice, aliceUI := signInController(t, srv, fa, "alice")
	bobJID := srv.JID("bob")

	conv, err := alice.StartChat(bobJID)
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.AddContact(bobJID, "Dr Bob Osei"); err != nil {
		t.Fatal(err)
	}
	v := openRealConversation(t, alice, aliceUI, conv)
	if got := v.subtitle.Text; !strings.HasPrefix(got, "Offline") {
		t.Fatalf("header before bob is online: %q", got)
	}

	dial := func(resource string) *xmpp.Client {
		c, err := xmpp.Dial(t.Context(), xmpp.Config{URL: srv.WSURL(), JID: bobJID, Resource: resource,
			Credentials: xmpp.Credentials{Password: testserver.Password}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	directory := func() string {
		s := aliceUI.currentShell()
		if s == nil {
			return ""
		}
		for _, c := range s.Directory.all {
			if c.JID == bobJID {
				return presenceText(c.Presence)
			}
		}
		return ""
	}
	// consistent waits until the directory says want, then requires the
	// header to say it too.
	consistent := func(want string) {
		t.Helper()
		eventually(t, 30*time.Second, "directory says "+want, func() bool { return directory() == want })
		eventually(t, 10*time.Second, "header says "+want+" like the directory", func() bool {
			return strings.HasPrefix(v.subtitle.Text, want+" · ")
		})
	}

	desk := dial("desk")
	if err := desk.ApproveSubscription(alice.Account()); err != nil {
		t.Fatal(err)
	}
	if err := desk.SetPresence(xmpp.ShowDND, "In theatre"); err != nil {
		t.Fatal(err)
	}
	consistent("Do not disturb")

	// A second device available: the best of the two shows.
	phone := dial("phone")
	if err := phone.SetPresence(xmpp.ShowAvailable, ""); err != nil {
		t.Fatal(err)
	}
	consistent("Available")

	// The phone leaves: back to the desk's do-not-disturb, not Offline.
	phone.Close()
	consistent("Do not disturb")

	desk.Close()
	consistent("Offline")
}
