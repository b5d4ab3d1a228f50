package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

func hitSnippets(hits []SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Snippet)
	}
	return out
}

// TestSearchMessages: messages that travelled through the real Prosody, in
// a chat and a care-team room, are found by words across conversations and
// narrowed by conversation, person, urgency and time; a hit names its
// conversation and sender, and ThreadAround opens the conversation on it
// even when it is older than the latest page. A locked app searches
// nothing.
func TestSearchMessages(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	room := "ward4@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid, carol.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(bob.jid, "Bed 4 potassium 5.9, repeat sample please"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.SendClinical(bob.jid, "Bed 4 hypotensive, BP 82/40, please come", ClinicalOptions{Urgency: securestore.UrgencyHigh}); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.c.Send(bob.jid, "Potassium replaced in bed 9"); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(alice.jid, 2)
	bob.waitUnread(carol.jid, 1)
	if _, err := bob.c.Send(room, "Team: bed 4 potassium rechecked, 4.1 now"); err != nil {
		t.Fatal(err)
	}
	// The newest page of the chat with alice no longer holds the first message.
	for i := range 60 {
		if _, err := alice.c.Send(bob.jid, fmt.Sprintf("routine line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "60 more messages", 30*time.Second, func() bool {
		hits, err := bob.c.SearchMessages(MessageSearch{Text: "routine line", Limit: 100})
		return err == nil && len(hits) == 60
	})

	bob.c.PrepareSearch()
	hits, err := bob.c.SearchMessages(MessageSearch{Text: "POTASS"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Team: bed 4 potassium rechecked, 4.1 now", "Potassium replaced in bed 9", "Bed 4 potassium 5.9, repeat sample please"}
	if got := hitSnippets(hits); !slices.Equal(got, want) {
		t.Fatalf("hits %q, want %q", got, want)
	}
	if h := hits[0]; h.Conversation != room || !h.IsRoom || h.Title != "ward4" || h.Sender != "You" {
		t.Errorf("room hit %+v", h)
	}
	if h := hits[2]; h.Conversation != alice.jid || h.IsRoom || h.Sender != alice.jid || h.Time == "" {
		t.Errorf("chat hit %+v", h)
	}
	for _, c := range []struct {
		q    MessageSearch
		want []string
	}{
		{MessageSearch{Text: "bed 4", Conversation: alice.jid}, []string{"Bed 4 hypotensive, BP 82/40, please come", "Bed 4 potassium 5.9, repeat sample please"}},
		{MessageSearch{Text: "potassium", Person: carol.jid + "/phone"}, []string{"Potassium replaced in bed 9"}},
		{MessageSearch{Text: "bed", Urgent: true}, []string{"Bed 4 hypotensive, BP 82/40, please come"}},
		{MessageSearch{Text: "bed", Since: time.Now().Add(time.Hour)}, nil},
		{MessageSearch{Text: "glucose"}, nil},
		{MessageSearch{}, nil},
	} {
		hits, err := bob.c.SearchMessages(c.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := hitSnippets(hits); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.q, got, c.want)
		}
	}

	// Open the oldest hit: the thread reaches back to it.
	first := hits[2]
	rows, hasOlder, found, err := bob.c.ThreadAround(first.Conversation, first.Message)
	if err != nil || !found {
		t.Fatalf("ThreadAround: found %v, %v", found, err)
	}
	if rows[0].ID != first.Message || hasOlder || !strings.HasPrefix(rows[len(rows)-1].Body, "routine line 59") {
		t.Errorf("thread from %q to %q, older %v", rows[0].Body, rows[len(rows)-1].Body, hasOlder)
	}

	bob.c.Lock()
	if _, err := bob.c.SearchMessages(MessageSearch{Text: "potassium"}); err != ErrLocked {
		t.Errorf("locked search: %v", err)
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("word ", 40) + "Potassium 5.9 " + strings.Repeat("tail ", 40)
	for _, c := range []struct{ body, q, want string }{
		{"first line\nsecond has Glucose 5", "gluc", "second has Glucose 5"},
		{"  only line  ", "", "only line"},
		{"no match here", "zzz", "no match here"},
		{"apotassium potassium", "potassium", "apotassium potassium"},
	} {
		if got := snippet(c.body, c.q); got != c.want {
			t.Errorf("snippet(%q, %q) = %q, want %q", c.body, c.q, got, c.want)
		}
	}
	got := snippet(long, "potassium")
	if !strings.Contains(got, "Potassium 5.9") || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") || len([]rune(got)) > snippetRunes+2 {
		t.Errorf("long snippet %q", got)
	}
}
