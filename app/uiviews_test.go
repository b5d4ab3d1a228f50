package app

import (
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestMarksOfAnOrder: an order's mark is read back on the sender's and the
// recipient's device; plain messages have none.
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
	marks, err := alice.c.Marks(conv, []securestore.MessageID{plain, sent.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) != 1 || !marks[sent.ID].Order {
		t.Fatalf("sender's marks %+v", marks)
	}
	in := bob.waitIncoming(srv.JID("alice"), "calcium gluconate")
	waitFor(t, "bob's order mark", 10*time.Second, func() bool {
		m, err := bob.c.Marks(srv.JID("alice"), []securestore.MessageID{in.ID})
		return err == nil && m[in.ID].Order
	})
	// Another conversation's id is not answered.
	if m, _ := bob.c.Marks("someone@rounds.test", []securestore.MessageID{in.ID}); len(m) != 0 {
		t.Fatalf("marks across conversations: %+v", m)
	}
}
