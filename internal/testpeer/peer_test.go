package testpeer

import (
	"context"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// TestTwoPeersExchangeReceiptsAndMarkers proves the scripted peer itself against a
// real Prosody: messages, automatic receipts, displayed markers and MAM.
func TestTwoPeersExchangeReceiptsAndMarkers(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := func(user string, displayed bool) *Peer {
		p, err := Start(ctx, t.TempDir(), Options{JID: s.JID(user), Password: testserver.Password, Addr: s.C2SAddr(), CAFile: s.CertFile(), AutoDisplayed: displayed})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	alice, bob := start("alice", false), start("bob", true)

	if err := alice.Send(s.JID("bob"), "BP 90/60, please review", "m1"); err != nil {
		t.Fatal(err)
	}
	got, err := bob.Next(ctx, func(e Event) bool { return e.Event == "message" })
	if err != nil {
		t.Fatal(err)
	}
	if got.Body != "BP 90/60, please review" || got.OriginID != "m1" || !got.ReceiptRequest || !got.Markable {
		t.Fatalf("bob got %+v", got)
	}
	// The displayed marker may overtake the receipt: wait for both in any order.
	seen := map[string]bool{}
	for !seen["receipt"] || !seen["displayed"] {
		e, err := alice.Next(ctx, func(e Event) bool { return (e.Event == "receipt" || e.Event == "displayed") && e.ID == "m1" })
		if err != nil {
			t.Fatalf("after %v: %v", seen, err)
		}
		seen[e.Event] = true
	}
	mam, err := bob.MAM(ctx, s.JID("alice"), false)
	if err != nil {
		t.Fatal(err)
	}
	if mam.Count < 1 || mam.Messages[0].OriginID != "m1" || mam.Messages[0].StanzaID == "" {
		t.Fatalf("bob's archive: %+v", mam)
	}
}
