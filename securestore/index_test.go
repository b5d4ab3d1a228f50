package securestore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// withMergeEvery lowers the ordering-tail merge threshold so small tests
// cross several merges.
func withMergeEvery(t *testing.T, n uint64) {
	old := mergeEvery
	mergeEvery = n
	t.Cleanup(func() { mergeEvery = old })
}

// TestOrderingAcrossMerges checks Latest/Before/MarkRead against a model
// while messages arrive out of order and the tail is merged into cix every
// few batches, including across a reopen.
func TestOrderingAcrossMerges(t *testing.T) {
	withMergeEvery(t, 7)
	s, path, opts := newTestStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	convs := []string{"a@h.example", "b@h.example", "room@muc.h.example"}
	type ref struct {
		id MessageID
		at time.Time
		in bool
	}
	model := map[string][]ref{}
	for batch := 0; batch < 12; batch++ {
		var ms []Message
		for i := 0; i < 1+rng.IntN(6); i++ {
			c := convs[rng.IntN(len(convs))]
			at := day0.Add(time.Duration(rng.IntN(3600)) * time.Second)
			m := incoming(c, fmt.Sprintf("s%d-%d", batch, i), "b", at)
			if rng.IntN(3) == 0 {
				m.Direction = Outgoing
			}
			ms = append(ms, m)
		}
		for _, m := range mustAppend(t, s, ms...) {
			model[m.ConversationID] = append(model[m.ConversationID], ref{m.ID, m.Timestamp, m.Direction == Incoming})
		}
		if batch == 6 {
			s.Close()
			var err error
			if s, err = Open(path, testPIN, opts); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
		}
	}
	for _, c := range convs {
		want := model[c]
		slices.SortFunc(want, func(a, b ref) int {
			if x := a.at.Compare(b.at); x != 0 {
				return x
			}
			return int(a.id) - int(b.id)
		})
		var got []MessageID
		page, err := s.Latest(c, 4)
		for len(page) > 0 && err == nil {
			ids := make([]MessageID, len(page))
			for i, m := range page {
				ids[i] = m.ID
			}
			got = append(ids, got...)
			page, err = s.Before(c, page[0].ID, 4)
		}
		if err != nil {
			t.Fatal(err)
		}
		var wantIDs []MessageID
		for _, r := range want {
			wantIDs = append(wantIDs, r.id)
		}
		if !slices.Equal(got, wantIDs) {
			t.Fatalf("%s: paged %v, want %v", c, got, wantIDs)
		}
		mid := len(want) / 2
		if err := s.MarkRead(c, want[mid].id); err != nil {
			t.Fatal(err)
		}
		unread := 0
		for _, r := range want[mid+1:] {
			if r.in {
				unread++
			}
		}
		if cv, _ := s.Conversation(c); cv.Unread != unread {
			t.Fatalf("%s: unread %d, want %d", c, cv.Unread, unread)
		}
	}
}

func TestSetStanzaID(t *testing.T) {
	s, path, opts := newTestStore(t)
	room := "icu@muc.h.example"
	out, err := s.Enqueue(Message{ConversationID: room, Body: "K+ 6.1, repeat?", OriginID: "o-1", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	other := mustAppend(t, s, incoming(room, "room-2", "on it", day0.Add(time.Minute)))[0]
	if _, err := s.MessageByStanzaID(room, "room-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before: %v", err)
	}
	if err := s.SetStanzaID(out.ID, "room-1", room); err != nil {
		t.Fatal(err)
	}
	m, err := s.MessageByStanzaID(room, "room-1")
	if err != nil || m.ID != out.ID || m.StanzaID != "room-1" || m.StanzaIDBy != room || m.Receipt.State != ReceiptQueued {
		t.Fatalf("by stanza-id: %+v %v", m, err)
	}
	// Same again: no-op. Another message's stanza-id: ErrDuplicate.
	if err := s.SetStanzaID(out.ID, "room-1", room); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.SetStanzaID(out.ID, "room-2", room), ErrDuplicate)
	wantErr(t, s.SetStanzaID(other.ID, "room-1", room), ErrDuplicate)
	wantErr(t, s.SetStanzaID(9999, "x", room), ErrNotFound)
	wantErr(t, s.SetStanzaID(out.ID, "", room), ErrInvalid)
	// The reflected copy arriving later through MAM is a duplicate.
	dup := incoming(room, "room-1", "K+ 6.1, repeat?", day0)
	dup.OriginID = ""
	if got := mustAppend(t, s, dup); len(got) != 0 {
		t.Fatal("MAM copy of the reflected message stored twice")
	}
	// The same stanza-id in another conversation is someone else's business.
	if got := mustAppend(t, s, incoming("x@h.example", "room-1", "x", day0)); len(got) != 1 {
		t.Fatal("stanza-id dedupe leaked across conversations")
	}
	// A second archive's id replaces the record's; both stay indexed.
	if err := s.SetStanzaID(out.ID, "own-9", "me@h.example"); err != nil {
		t.Fatal(err)
	}
	// Survives a reopen (map rebuilt from dix).
	s.Close()
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"room-1", "own-9"} {
		if m, err := s.MessageByStanzaID(room, id); err != nil || m.ID != out.ID || m.StanzaID != "own-9" {
			t.Fatalf("%s after reopen: %+v %v", id, m, err)
		}
	}
	if m, err := s.MessageByOriginID(room, "o-1"); err != nil || m.ID != out.ID {
		t.Fatalf("origin-id: %v", err)
	}
}

// TestDedupeMapOnlyAfterCommit: a batch that fails rolls back and leaves no
// entry in the in-memory dedupe map (the next append of the same ids stores
// them), and entries of a committed batch are seen by the next one.
func TestDedupeMapOnlyAfterCommit(t *testing.T) {
	s, _, _ := newTestStore(t)
	conv := "a@h.example"
	mustAppend(t, s, incoming(conv, "warm", "x", day0)) // builds the map
	_, err := s.AppendMessages([]Message{incoming(conv, "s1", "one", day0), {Body: "no conversation"}})
	wantErr(t, err, ErrInvalid)
	if _, err := s.MessageByStanzaID(conv, "s1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rolled-back message visible: %v", err)
	}
	if got := mustAppend(t, s, incoming(conv, "s1", "one", day0)); len(got) != 1 {
		t.Fatal("phantom dedupe entry from a rolled-back batch")
	}
	if got := mustAppend(t, s, incoming(conv, "s1", "one", day0)); len(got) != 0 {
		t.Fatal("committed entry not seen by the next batch")
	}
	// Two messages, three keys each: stanza-id, origin-id in the sender's
	// scope, origin-id in the conversation.
	if n := s.dedupe.len(); n != 6 {
		t.Fatalf("map has %d entries, want 6", n)
	}
}
