package sync

import (
	"context"
	"fmt"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestInteropWithSlixmpp meets a client Rounds did not write (Debian's
// slixmpp, over TCP c2s on the same Prosody): it sends to us and gets our
// receipts; we send to it and get its receipts and displayed markers; it reads
// our messages from its archive.
func TestInteropWithSlixmpp(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(), AutoDisplayed: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	alice := startDevice(t, srv, "alice", deviceOptions{})

	const n = 25
	for i := range n {
		if err := carol.Send(alice.jid, fmt.Sprintf("from-carol-%04d", i), fmt.Sprintf("c%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	alice.waitFor("carol's messages", 30*time.Second, func() bool { return len(alice.bodies(srv.JID("carol"), securestore.Incoming)) >= n })
	expectExactlyOnce(t, alice.bodies(srv.JID("carol"), securestore.Incoming), "from-carol", n)
	receipts := map[string]bool{}
	for len(receipts) < n {
		e, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "receipt" })
		if err != nil {
			t.Fatalf("carol got %d of %d receipts: %v", len(receipts), n, err)
		}
		receipts[e.ID] = true
	}

	ids := alice.send(srv.JID("carol"), "to-carol", n)
	got := map[string]int{}
	for len(got) < n {
		e, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" })
		if err != nil {
			t.Fatalf("carol received %d of %d: %v", len(got), n, err)
		}
		got[e.Body]++
		if !e.ReceiptRequest || !e.Markable || e.OriginID == "" || e.OriginID != e.ID {
			t.Fatalf("our stanza lacks receipt request, markable or origin-id=id: %+v", e)
		}
	}
	expectExactlyOnce(t, got, "to-carol", n)
	alice.allAtLeast(ids, securestore.ReceiptRead, 30*time.Second)

	mam, err := carol.MAM(ctx, alice.jid, false)
	if err != nil {
		t.Fatal(err)
	}
	archived := map[string]int{}
	for _, m := range mam.Messages {
		archived[m.Body]++
	}
	expectExactlyOnce(t, archived, "to-carol", n)
}
