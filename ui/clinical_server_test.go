package ui

import (
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"rounds/app"
	"rounds/internal/testserver"
	// securestore only because the keyring stand-in of these real-server
	// tests must answer the store's ErrNotFound; the screens use app/ alone.
	"rounds/securestore"
)

// memKeyring is the platform keyring stand-in (a platform service: faked).
type memKeyring struct{ m gosync.Map }

func (k *memKeyring) Get(id string) ([]byte, error) {
	v, ok := k.m.Load(id)
	if !ok {
		return nil, securestore.ErrNotFound
	}
	return append([]byte(nil), v.([]byte)...), nil
}
func (k *memKeyring) Set(id string, s []byte) error {
	k.m.Store(id, append([]byte(nil), s...))
	return nil
}
func (k *memKeyring) Delete(id string) error { k.m.Delete(id); return nil }

// eventually runs the UI queue until cond holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		drainUI()
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestUrgentAlertEndToEnd wires two real Clients on a real Prosody to two
// Controllers: alice sends a STAT message from her composer, bob's shell
// raises the alert, alice's row says it is alerting on bob's device, bob
// taps Acknowledge, his alert goes, and alice's row turns to
// "Acknowledged … by bob".
func TestUrgentAlertEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prosody")
	}
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	fa := test.NewTempApp(t)
	signIn := func(user string) (*app.Client, *Controller) { return signInController(t, srv, fa, user) }
	alice, aliceUI := signIn("alice")
	bob, bobUI := signIn("bob")
	_ = bob

	conv, err := alice.StartChat(srv.JID("bob"))
	if err != nil {
		t.Fatal(err)
	}
	v := openRealConversation(t, alice, aliceUI, conv)

	// An order to bob, who is on no order list: refused under the
	// composer, the text kept, nothing sent.
	v.clin.order.SetChecked(true)
	test.Type(v.composer, "Give 10 units insulin IV")
	test.Tap(v.send)
	if !strings.HasPrefix(v.sendErr.Text, "Order not sent: ") || v.composer.Text != "Give 10 units insulin IV" {
		t.Fatalf("order to bob: note %q, composer %q", v.sendErr.Text, v.composer.Text)
	}
	v.clin.order.SetChecked(false)
	v.composer.SetText("")

	// Alice picks STAT ("Ack required" is implied) and sends.
	v.clin.urg.SetSelectedIndex(2)
	if !v.clin.ack.Checked {
		t.Fatal("STAT does not imply an acknowledgement")
	}
	text := "Bed 12 K+ 6.8, come now"
	test.Type(v.composer, text)
	test.Tap(v.send)
	if v.sendErr.Visible() {
		t.Fatalf("send refused: %s", v.sendErr.Text)
	}

	// Bob's shell raises the alert.
	var bobShell *Shell
	eventually(t, 30*time.Second, "the alert on bob's shell", func() bool {
		bobShell = bobUI.currentShell()
		return bobShell != nil && bobShell.Alert.Visible()
	})
	cur, _ := bobShell.Alert.Current()
	if cur.Urgency != app.UrgencyCritical || !cur.AckRequired || cur.Body != text {
		t.Fatalf("bob's alert: %+v", cur)
	}
	if got := drawnTexts(bobShell.Alert); !strings.Contains(got, "STAT") || !strings.Contains(got, "Repeats until acknowledged") {
		t.Fatalf("alert drawing: %s", got)
	}

	// Alice's live view: alerting on bob's device.
	outgoing := func() app.MessageRow {
		for i := len(v.rows) - 1; i >= 0; i-- {
			if v.rows[i].Outgoing && v.rows[i].Body == text {
				return v.rows[i]
			}
		}
		return app.MessageRow{}
	}
	eventually(t, 30*time.Second, "alice's row to say it is alerting", func() bool {
		return strings.Contains(strings.Join(v.rowStatus(outgoing()), "|"), "Alerting on ")
	})

	// Bob acknowledges from the alert; the app ends it and the overlay goes.
	test.Tap(buttonNamed(t, bobShell.Alert, "Acknowledge"))
	eventually(t, 30*time.Second, "bob's alert to end", func() bool { return !bobShell.Alert.Visible() })
	if len(bob.Alerts()) != 0 {
		t.Fatalf("bob's app still lists %d alerts", len(bob.Alerts()))
	}

	// Alice's row turns to "Acknowledged … by bob", in the model and drawn.
	eventually(t, 30*time.Second, "alice's row to say acknowledged", func() bool {
		lines := strings.Join(v.rowStatus(outgoing()), "|")
		return strings.Contains(lines, "Acknowledged ") && strings.Contains(lines, " by ")
	})
	v.list.ScrollToBottom()
	eventually(t, 5*time.Second, "the acknowledgement drawn", func() bool {
		return strings.Contains(drawnTexts(v), "Acknowledged ")
	})
	t.Logf("alice sees: %q", v.rowStatus(outgoing()))
	_ = fyne.NewSize
}
