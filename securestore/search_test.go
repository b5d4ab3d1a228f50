package securestore

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

var searchDay = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)

func searchMsg(conv, sender, body string, minute int, urg Urgency) Message {
	return Message{ConversationID: conv, From: sender + "/phone", Direction: Incoming, Body: body,
		Urgency: urg, Timestamp: searchDay.Add(time.Duration(minute) * time.Minute),
		Extra: map[string]string{ExtraSender: sender}}
}

func hitBodies(t *testing.T, s *Store, q SearchQuery) []string {
	t.Helper()
	res, err := s.Search(q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	var out []string
	for _, m := range res.Hits {
		out = append(out, m.Body)
	}
	return out
}

func wantHits(t *testing.T, s *Store, q SearchQuery, want ...string) {
	t.Helper()
	got := hitBodies(t, s, q)
	if !slices.Equal(got, want) {
		t.Errorf("Search(%+v) = %q, want %q", q, got, want)
	}
}

// TestSearchAcrossConversations: words match the start of words, any case,
// all required, newest first, across conversations; each filter narrows.
func TestSearchAcrossConversations(t *testing.T) {
	s, _, _ := newTestStore(t)
	ward := "ward4@rooms.hospital.example"
	mustAppend(t, s,
		searchMsg("ana@h.example", "ana@h.example", "Bed 4 hypoglycaemia, glucose 2.9", 1, UrgencyHigh),
		searchMsg("ben@h.example", "ben@h.example", "glucose rechecked in bed 7", 2, UrgencyNormal),
		searchMsg(ward, "ana@h.example", "Hypo treated in BED 4, glucose 5.1", 3, UrgencyNormal),
		searchMsg(ward, "ben@h.example", "Lunch at 12?", 4, UrgencyNormal),
		searchMsg("ben@h.example", "ben@h.example", "Ünïcode Glukose Übergabe", 5, UrgencyCritical),
	)
	wantHits(t, s, SearchQuery{Text: "glucose"}, "Hypo treated in BED 4, glucose 5.1", "glucose rechecked in bed 7", "Bed 4 hypoglycaemia, glucose 2.9")
	wantHits(t, s, SearchQuery{Text: "HYPO bed 4"}, "Hypo treated in BED 4, glucose 5.1", "Bed 4 hypoglycaemia, glucose 2.9")
	wantHits(t, s, SearchQuery{Text: "ypo"}) // not the start of a word
	wantHits(t, s, SearchQuery{Text: "glucose lunch"})
	wantHits(t, s, SearchQuery{Text: "übergabe"}, "Ünïcode Glukose Übergabe")
	wantHits(t, s, SearchQuery{Text: "glucose", Conversation: ward}, "Hypo treated in BED 4, glucose 5.1")
	wantHits(t, s, SearchQuery{Text: "glucose", Sender: "ana@h.example"}, "Hypo treated in BED 4, glucose 5.1", "Bed 4 hypoglycaemia, glucose 2.9")
	wantHits(t, s, SearchQuery{MinUrgency: UrgencyHigh}, "Ünïcode Glukose Übergabe", "Bed 4 hypoglycaemia, glucose 2.9")
	wantHits(t, s, SearchQuery{Text: "bed", Since: searchDay.Add(2 * time.Minute), Until: searchDay.Add(3 * time.Minute)}, "glucose rechecked in bed 7")
	wantHits(t, s, SearchQuery{Text: "glucose", Limit: 1}, "Hypo treated in BED 4, glucose 5.1")
	wantHits(t, s, SearchQuery{Text: "glucose", Conversation: "nobody@h.example"})
	wantHits(t, s, SearchQuery{Text: "  ,;  ", Sender: "ben@h.example"}, "Ünïcode Glukose Übergabe", "Lunch at 12?", "glucose rechecked in bed 7")
}

// TestSearchFollowsTheStore: once built, the index sees new messages,
// corrections (old words no longer find the message, new words do),
// recalls and purges, and it is rebuilt after the store is locked and opened
// again.
func TestSearchFollowsTheStore(t *testing.T) {
	s, path, opts := newTestStore(t)
	added := mustAppend(t, s, searchMsg("ana@h.example", "ana@h.example", "potassium 5.9 repeat sample", 1, UrgencyNormal))
	wantHits(t, s, SearchQuery{Text: "potassium"}, "potassium 5.9 repeat sample")

	mustAppend(t, s, searchMsg("ben@h.example", "ben@h.example", "potassium replaced", 2, UrgencyNormal))
	wantHits(t, s, SearchQuery{Text: "potassium"}, "potassium replaced", "potassium 5.9 repeat sample")

	if _, err := s.Correct(added[0].ID, "sodium 129 repeat sample", searchDay.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantHits(t, s, SearchQuery{Text: "potassium"}, "potassium replaced")
	wantHits(t, s, SearchQuery{Text: "sodium"}, "sodium 129 repeat sample")

	if _, err := s.Retract(added[0].ID, searchDay.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantHits(t, s, SearchQuery{Text: "sodium"})
	wantHits(t, s, SearchQuery{Text: "repeat"})

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(SearchQuery{Text: "potassium"}); err == nil {
		t.Fatal("a locked store searched")
	}
	s2, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	wantHits(t, s2, SearchQuery{Text: "potassium"}, "potassium replaced")
}

// TestSearchLeavesNoWordsOnDisk: building and using the index writes
// nothing: the file's bytes are the same before and after, and no searched
// word is in it in clear.
func TestSearchLeavesNoWordsOnDisk(t *testing.T) {
	s, path, _ := newTestStore(t)
	mustAppend(t, s, searchMsg("ana@h.example", "ana@h.example", "Zyloprimwordx for bed 9", 1, UrgencyNormal))
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantHits(t, s, SearchQuery{Text: "zyloprim"}, "Zyloprimwordx for bed 9")
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("searching changed the store file")
	}
	for _, w := range []string{"zyloprim", "Zyloprim"} {
		if bytes.Contains(after, []byte(w)) {
			t.Errorf("%q in clear in the file", w)
		}
	}
}

// TestSearchWhileAppending: messages committed while the index is being
// built are found once it is (run with -race).
func TestSearchWhileAppending(t *testing.T) {
	s, _, _ := newTestStore(t)
	var seed []Message
	for i := range 2000 {
		seed = append(seed, searchMsg("ana@h.example", "ana@h.example", fmt.Sprintf("routine note %d", i), i, UrgencyNormal))
	}
	mustAppend(t, s, seed...)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			mustAppend(t, s, searchMsg("ben@h.example", "ben@h.example", fmt.Sprintf("latecomer %d", i), 3000+i, UrgencyNormal))
		}
	}()
	if err := s.BuildSearchIndex(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	res, err := s.Search(SearchQuery{Text: "latecomer", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 50 {
		t.Errorf("found %d of 50 messages appended during the build", len(res.Hits))
	}
}

// TestSearchByPatient: a patient filter finds the messages whose tag
// matches (bed and MRN whole, any case and spacing; name by the start of
// its words), alone or with words and other filters; a message with no
// tag is never a hit; Any takes the fields as alternatives; a message
// appended after the index was built is found by its tag too.
func TestSearchByPatient(t *testing.T) {
	s, _, _ := newTestStore(t)
	tagged := func(m Message, mrn, name, bed string) Message {
		m.Extra[ExtraPatientMRN], m.Extra[ExtraPatientName], m.Extra[ExtraPatientBed] = mrn, name, bed
		return m
	}
	mustAppend(t, s,
		tagged(searchMsg("ana@h.example", "ana@h.example", "BP 80/50", 1, UrgencyHigh), "123456", "Ama Osei", "4"),
		tagged(searchMsg("ben@h.example", "ben@h.example", "glucose 2.9", 2, UrgencyNormal), "777", "Kofi Mensah", "14"),
		searchMsg("ben@h.example", "ben@h.example", "bed 4 is free", 3, UrgencyNormal),
		tagged(searchMsg("ana@h.example", "ana@h.example", "BP 95/60 now", 4, UrgencyNormal), "123456", "Ama Osei", "ICU  4B"),
	)
	wantHits(t, s, SearchQuery{Patient: PatientMatch{Bed: "4"}}, "BP 80/50")
	wantHits(t, s, SearchQuery{Patient: PatientMatch{Bed: " icu 4b "}}, "BP 95/60 now")
	wantHits(t, s, SearchQuery{Patient: PatientMatch{MRN: "123456"}}, "BP 95/60 now", "BP 80/50")
	wantHits(t, s, SearchQuery{Patient: PatientMatch{MRN: "12345"}})
	wantHits(t, s, SearchQuery{Patient: PatientMatch{Name: "osei am"}}, "BP 95/60 now", "BP 80/50")
	wantHits(t, s, SearchQuery{Patient: PatientMatch{Name: "sei"}})
	wantHits(t, s, SearchQuery{Text: "bp", Patient: PatientMatch{Bed: "4"}}, "BP 80/50")
	wantHits(t, s, SearchQuery{MinUrgency: UrgencyHigh, Patient: PatientMatch{MRN: "123456"}}, "BP 80/50")
	wantHits(t, s, SearchQuery{Patient: PatientMatch{MRN: "14", Bed: "14", Name: "14", Any: true}}, "glucose 2.9")
	wantHits(t, s, SearchQuery{Patient: PatientMatch{MRN: "777", Bed: "4"}})
	mustAppend(t, s, tagged(searchMsg("cat@h.example", "cat@h.example", "transfer to ward", 5, UrgencyNormal), "888", "", "4"))
	wantHits(t, s, SearchQuery{Patient: PatientMatch{Bed: "4"}}, "transfer to ward", "BP 80/50")
}
