package app

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestBackdatedUrgentStillRings: a live STAT message whose sender stamped it
// 30 minutes in the past (a <delay/> of its own, even one naming the user's
// server) is not "late": the engine does not believe the stamp, so the app
// rings at once and keeps repeating.
func TestBackdatedUrgentStillRings(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "bob", "carol")
	clk := clinicalClock()
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	other := dialRaw(t, srv, "carol")
	carol := srv.JID("carol")
	stamp := time.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339)
	for i, by := range []string{"", srv.Domain} {
		id := xmpp.NewID()
		delay := xmpp.NewElement(xmpp.NSDelay, "delay", "stamp", stamp)
		if by != "" {
			delay = xmpp.NewElement(xmpp.NSDelay, "delay", "stamp", stamp, "from", by)
		}
		msg := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", phone.jid, "id", id).Append(
			xmpp.NewElement(xmpp.NSClient, "body").SetText("MARKER-B bed 2 pressure falling"),
			xmpp.NewUrgency(xmpp.UrgencySTAT, true), delay,
			xmpp.NewElement(xmpp.NSSID, "origin-id", "id", id))
		if err := other.Send(msg); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "backdated STAT rings", 30*time.Second, func() bool { return urgentSounds(phone) == i+1 })
		a, ok := alertOn(phone, carol)
		if !ok || a.Urgency != securestore.UrgencyCritical {
			t.Fatalf("alert %+v %v", a, ok)
		}
		if err := phone.c.Respond(carol, a.Message, ResponseAck, ""); err != nil {
			t.Fatal(err)
		}
	}
}
