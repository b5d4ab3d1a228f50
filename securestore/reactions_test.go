package securestore

import (
	"slices"
	"testing"
	"time"
)

// TestSetReaction: one set per author, replaced by a later one, kept
// against an older one arriving late (archive after live), unchanged by the
// same set again (a duplicate), and gone when withdrawn.
func TestSetReaction(t *testing.T) {
	s, _, _ := newTestStore(t)
	m := mustAppend(t, s, searchMsg("ana@h.example", "ana@h.example", "Bed 4 K+ 6.1", 1, UrgencyNormal))[0]
	t0 := searchDay.Add(time.Hour)
	step := func(author string, values []string, at time.Time, wantChanged bool) {
		t.Helper()
		changed, err := s.SetReaction(m.ID, author, values, at)
		if err != nil || changed != wantChanged {
			t.Fatalf("SetReaction(%s, %q) = %v, %v; want changed %v", author, values, changed, err, wantChanged)
		}
	}
	get := func() map[string]Reaction {
		got, err := s.Message(m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return Reactions(got)
	}
	step("ben@h.example", []string{"👍"}, t0, true)
	step("ben@h.example", []string{"👍"}, t0, false) // the same stanza again
	step("me@h.example", []string{"👍", "✅"}, t0.Add(time.Minute), true)
	step("ben@h.example", []string{"❤️"}, t0.Add(2*time.Minute), true)
	step("ben@h.example", []string{"👎"}, t0.Add(time.Minute), false) // older, arrived late
	r := get()
	if len(r) != 2 || !slices.Equal(r["ben@h.example"].Values, []string{"❤️"}) || !slices.Equal(r["me@h.example"].Values, []string{"👍", "✅"}) {
		t.Fatalf("reactions %+v", r)
	}
	step("ben@h.example", nil, t0.Add(3*time.Minute), true)
	step("me@h.example", []string{}, t0.Add(3*time.Minute), true)
	if r := get(); r != nil {
		t.Fatalf("after withdrawal %+v", r)
	}
	if _, err := s.SetReaction(m.ID, "", []string{"👍"}, t0); err == nil {
		t.Error("a reaction without an author was stored")
	}
	if _, err := s.SetReaction(m.ID+100, "ben@h.example", []string{"👍"}, t0); err == nil {
		t.Error("a reaction to no message was stored")
	}
}
