package securestore

import (
	"fmt"
	"testing"
	"time"
)

// TestAppliedOnce: a reaction or an edit that carries its archive's id is
// applied once, whichever path brings it again; a reaction set the caller
// knows to be the newest in the archive's order replaces the stored one
// whatever the stamps (live: this device's clock; archived: the server's
// whole seconds), one of unknown order only when not older. Purge drops
// the records with their period.
func TestAppliedOnce(t *testing.T) {
	s, _, _ := newTestStore(t)
	m := mustAppend(t, s, searchMsg("ana@h.example", "ana@h.example", "Bed 4 K+ 6.1", 1, UrgencyNormal))[0]
	live := searchDay.Add(time.Hour + 700*time.Millisecond)
	archived := searchDay.Add(time.Hour) // the withdrawal, in the same second
	const own = "me@h.example"
	if ch, err := s.SetReactionOnce(m.ID, "ana@h.example", []string{"👀"}, live, own, "r1", false); err != nil || !ch {
		t.Fatalf("reaction: %v %v", ch, err)
	}
	if ch, err := s.SetReactionOnce(m.ID, "ana@h.example", nil, archived, own, "r2", false); err != nil || ch {
		t.Fatalf("withdrawal stamped before the live reaction's time, order unknown: changed %v %v, want kept", ch, err)
	}
	if ch, err := s.SetReactionOnce(m.ID, "ana@h.example", nil, archived, own, "r3", true); err != nil || !ch {
		t.Fatalf("withdrawal stamped in the reaction's second: changed %v %v, want applied", ch, err)
	}
	if ch, err := s.SetReactionOnce(m.ID, "ana@h.example", []string{"👀"}, archived.Add(time.Minute), own, "r1", true); err != nil || ch {
		t.Fatalf("the reaction read again: changed %v %v, want nothing", ch, err)
	}
	got, _ := s.Message(m.ID)
	if r := Reactions(got); len(r) != 0 {
		t.Fatalf("reactions %+v, want withdrawn", r)
	}
	// An edit recorded once is not recorded (or applied) again.
	e := ReceivedEdit{Kind: EditRetract, Ref: "o1", Edit: Message{ConversationID: m.ConversationID,
		Direction: Incoming, OriginID: "x1", StanzaID: "e1", StanzaIDBy: own, Timestamp: archived}}
	if rec, err := s.RecordEdits([]ReceivedEdit{e}); err != nil || len(rec) != 1 {
		t.Fatalf("first record: %v %v", rec, err)
	}
	if rec, err := s.RecordEdits([]ReceivedEdit{e}); err != nil || len(rec) != 0 {
		t.Fatalf("the same edit again recorded: %v %v", rec, err)
	}
	if seen, _ := s.Applied(own, "r1"); !seen {
		t.Fatal("r1 not recorded")
	}
	if _, err := s.Purge(searchDay.Add(72 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2", "r3", "e1"} {
		if seen, _ := s.Applied(own, id); seen {
			t.Errorf("%s still recorded after its period was purged", id)
		}
	}
}

// TestTrimmedEditNotRecordedApplied: an edit dropped unapplied from the
// pending edits (MaxPendingEdits: a room member sends recalls of ids that
// never arrive) loses its once-only record with it. bob's recall of a
// message this device has not got yet waits; mallory's flood pushes it
// out; when the room's archive brings bob's message and his recall again,
// the recall is recorded again and can apply, not skipped as if applied.
func TestTrimmedEditNotRecordedApplied(t *testing.T) {
	s, _, _ := newTestStore(t)
	defer s.Close()
	const room = "icu@rooms.hospital.test"
	recall := ReceivedEdit{Kind: EditRetract, Ref: "s-bob", Edit: Message{ConversationID: room, From: room + "/bob",
		OriginID: "r-bob", StanzaID: "s-recall", StanzaIDBy: room, Timestamp: time.Now()}}
	if rec, err := s.RecordEdits([]ReceivedEdit{recall}); err != nil || len(rec) != 1 {
		t.Fatalf("bob's recall: %v %v", rec, err)
	}
	var flood []ReceivedEdit
	for i := range MaxPendingEdits {
		flood = append(flood, ReceivedEdit{Kind: EditRetract, Ref: fmt.Sprintf("nope-%d", i), Edit: Message{ConversationID: room,
			From: room + "/mallory", OriginID: fmt.Sprintf("m-%d", i), StanzaID: fmt.Sprintf("s-%d", i), StanzaIDBy: room, Timestamp: time.Now()}})
	}
	if _, err := s.RecordEdits(flood); err != nil {
		t.Fatal(err)
	}
	if es, _ := s.ReceivedEdits(room); len(es) != MaxPendingEdits || es[0].Edit.OriginID == "r-bob" {
		t.Fatalf("%d pending, first %q: want bob's recall pushed out", len(es), es[0].Edit.OriginID)
	}
	if seen, _ := s.Applied(room, "s-recall"); seen {
		t.Error("bob's recall, dropped unapplied, is still recorded as applied")
	}
	if rec, err := s.RecordEdits([]ReceivedEdit{recall}); err != nil || len(rec) != 1 {
		t.Fatalf("bob's recall read again from the room's archive: recorded %d (%v), want 1", len(rec), err)
	}
	if seen, _ := s.Applied(room, "s-1"); !seen {
		t.Error("a kept pending edit lost its record")
	}
}
