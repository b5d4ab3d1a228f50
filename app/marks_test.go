package app

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestMarksOfAnOrder: an order's row carries its mark on the sender's and
// the recipient's device; plain messages have none.
func TestMarksOfAnOrder(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{Policy: Policy{OrderRecipients: []string{srv.JID("bob")}}})
	bob := signIn(t, srv, "bob", Config{})
	conv, err := alice.c.StartChat(srv.JID("bob"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := alice.c.Send(conv, "plain note")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := alice.c.SendClinical(conv, "Give 10 ml calcium gluconate 10% IV", ClinicalOptions{Order: true})
	if err != nil {
		t.Fatal(err)
	}
	marks := func(d *device, conv string, id securestore.MessageID) (MessageMarks, bool) {
		rows, err := d.c.Messages(conv, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.ID == id {
				return r.Marks, true
			}
		}
		return MessageMarks{}, false
	}
	if mk, ok := marks(alice, conv, plain); !ok || mk != (MessageMarks{}) {
		t.Fatalf("plain message's marks %+v (found %v)", mk, ok)
	}
	if mk, ok := marks(alice, conv, sent.ID); !ok || !mk.Order {
		t.Fatalf("sender's order marks %+v (found %v)", mk, ok)
	}
	in := bob.waitIncoming(srv.JID("alice"), "calcium gluconate")
	waitFor(t, "bob's order mark", 10*time.Second, func() bool {
		mk, _ := marks(bob, srv.JID("alice"), in.ID)
		return mk.Order
	})
}
