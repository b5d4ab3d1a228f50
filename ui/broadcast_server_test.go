package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"rounds/app"
	"rounds/internal/testserver"
)

// TestBroadcastViewFollowsReceipts, with the real Controller over a real
// Client against Prosody: alice's broadcast view of a broadcast to bob
// says "Read …" once bob reads it, without a tap on Refresh.
func TestBroadcastViewFollowsReceipts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prosody")
	}
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	fa := test.NewTempApp(t)
	alice, aliceUI := signInController(t, srv, fa, "alice")
	bob, _ := signInController(t, srv, fa, "bob")
	b, err := alice.SendBroadcast([]string{bob.Account()}, "", "Fire drill at 15:00", app.ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var s *Shell
	eventually(t, 10*time.Second, "alice's shell", func() bool { drainUI(); s = aliceUI.currentShell(); return s != nil })
	s.Directory.showBroadcastView(&actions{c: aliceUI, cl: alice}, b)
	var atBob app.MessageRow
	eventually(t, 30*time.Second, "the broadcast at bob", func() bool {
		rows, _ := bob.Messages(alice.Account(), 50)
		for _, r := range rows {
			if r.Body == "Fire drill at 15:00" {
				atBob = r
			}
		}
		return atBob.ID != 0
	})
	if err := bob.MarkShown(alice.Account(), atBob.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "alice's view says read", func() bool {
		drainUI()
		return s.Directory.popup != nil && strings.Contains(labelsIn(s.Directory.popup.Content), "Read ")
	})
}
