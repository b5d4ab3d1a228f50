package securestore

import (
	"errors"
	"testing"
)

// fromSender is an incoming message without a trusted stanza-id whose
// sender chose originID, as a lab gateway or a room member's client does.
func fromSender(conv, sender, originID, body string) Message {
	m := incoming(conv, "", body, day0)
	m.OriginID = originID
	m.Extra = map[string]string{ExtraSender: sender}
	return m
}

// TestSenderChosenIDsNeverDropDifferentText: an id a sender chose is scoped
// to that sender and never alone enough to drop a message that says
// something else. A lab gateway whose counter restarts: both results
// stored. Two room members whose clients both count from "1": both stored,
// even with the same text. A genuine resend (same sender, id and text):
// stored once, also within one batch. A recalled message is not brought
// back by a copy. A trusted stanza-id alone decides.
func TestSenderChosenIDsNeverDropDifferentText(t *testing.T) {
	s, _, _ := newTestStore(t)
	lab, room := "lab-gw@h.example", "icu@rooms.h.example"
	if got := mustAppend(t, s, fromSender(lab, lab, "1", "K+ 4.1")); len(got) != 1 {
		t.Fatal("first lab result not stored")
	}
	if got := mustAppend(t, s, fromSender(lab, lab, "1", "K+ 6.9")); len(got) != 1 {
		t.Fatal(`"K+ 6.9" dropped as a duplicate of "K+ 4.1" (gateway counter restarted)`)
	}
	got := mustAppend(t, s,
		fromSender(room, "occupant-id:A", "1", "ok"),
		fromSender(room, "occupant-id:B", "1", "ok"),
		fromSender(room, "occupant-id:B", "1", "ok"), // B's client resent
	)
	if len(got) != 2 {
		t.Fatalf("two members' id 1: %d stored, want 2", len(got))
	}
	if got := mustAppend(t, s, fromSender(lab, lab, "1", "K+ 6.9")); len(got) != 0 {
		t.Fatal("a genuine resend was stored twice")
	}
	for sender, body := range map[string]string{"occupant-id:A": "ok", "occupant-id:B": "ok"} {
		m, err := s.MessageBySenderOriginID(room, sender, "1")
		if err != nil || m.Body != body || m.Extra[ExtraSender] != sender {
			t.Errorf("%s's id 1: %+v %v", sender, m, err)
		}
	}
	if _, err := s.MessageBySenderOriginID(room, "occupant-id:C", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a third member's id 1 found: %v", err)
	}

	// A recalled message stays recalled when a copy arrives again.
	rec := mustAppend(t, s, fromSender(lab, lab, "2", "Na 150"))[0]
	if _, err := s.Retract(rec.ID, day0); err != nil {
		t.Fatal(err)
	}
	if got := mustAppend(t, s, fromSender(lab, lab, "2", "Na 150")); len(got) != 0 {
		t.Fatal("a copy brought a recalled message back")
	}

	// A trusted stanza-id decides alone: same archive id, same message.
	a := fromSender(lab, lab, "3", "Cl 101")
	a.StanzaID, a.StanzaIDBy = "arch-1", "me@hospital.example"
	b := a
	b.OriginID, b.Body = "", "Cl 101"
	if got := mustAppend(t, s, a, b); len(got) != 1 {
		t.Fatalf("same stanza-id: %d stored", len(got))
	}
}

// TestSenderIDsInStoresWrittenBefore: a store written before origin-ids
// were scoped (testdata/good_small.db: 's' and 'o' keys only, no
// ExtraSender) still dedupes a resend of one of its messages, stores a
// different text under the same id, and finds its messages by sender.
func TestSenderIDsInStoresWrittenBefore(t *testing.T) {
	s, err := Open(copyFixture(t, "good_small.db"), fixturePIN, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conv := "a@h.example"
	old, err := s.MessageBySenderOriginID(conv, conv, "o-a0")
	if err != nil || old.Extra[ExtraSender] != "" {
		t.Fatalf("fixture message by sender: %+v %v", old, err)
	}
	if got := mustAppend(t, s, fromSender(conv, conv, "o-a0", old.Body)); len(got) != 0 {
		t.Fatal("a resend of a message stored before scoping was stored again")
	}
	if got := mustAppend(t, s, fromSender(conv, conv, "o-a0", "different text")); len(got) != 1 {
		t.Fatal("a different text under an old id was dropped")
	}
}
