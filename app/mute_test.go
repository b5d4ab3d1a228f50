package app

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestMuteRoutineOnly, through Prosody: a muted conversation's routine
// message counts as unread but neither notifies nor plays a sound; another
// conversation still notifies; unmuted, the same conversation notifies
// again; muted again, an urgent message still notifies and rings.
func TestMuteRoutineOnly(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})

	if err := alice.c.MuteConversation(bob.jid, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if muted, until := alice.c.Muted(bob.jid); !muted || !until.IsZero() {
		t.Fatalf("Muted = %v %v", muted, until)
	}
	if _, err := bob.c.Send(alice.jid, "routine while muted"); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(bob.jid, 1)
	if _, err := carol.c.Send(alice.jid, "routine from carol"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's notification", 30*time.Second, func() bool { return alice.notifier.countFor(carol.jid) == 1 })
	if n := alice.notifier.countFor(bob.jid); n != 0 {
		t.Fatalf("muted conversation notified %d times", n)
	}
	if plays, _ := alice.sound.counts(); plays != 1 {
		t.Fatalf("%d sounds, want carol's only", plays)
	}
	if r, _ := alice.row(bob.jid); !r.Muted || r.Unread != 1 {
		t.Fatalf("inbox row %+v", r)
	}

	if err := alice.c.UnmuteConversation(bob.jid); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Send(alice.jid, "routine after unmute"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "notification after unmute", 30*time.Second, func() bool { return alice.notifier.countFor(bob.jid) == 1 })

	if err := alice.c.MuteConversation(bob.jid, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.SendClinical(alice.jid, "urgent while muted", ClinicalOptions{Urgency: securestore.UrgencyHigh}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "urgent rings while muted", 30*time.Second, func() bool {
		_, urgent := alice.sound.counts()
		return urgent >= 1 && alice.notifier.countFor(bob.jid) >= 2
	})
	if err := alice.c.MuteConversation(bob.jid, time.Now().Add(-time.Minute)); err == nil {
		t.Error("a mute ending in the past was accepted")
	}
}

func TestMuteActive(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		raw  string
		want bool
	}{
		{untilUnmuted, true},
		{now.Add(time.Minute).Format(time.RFC3339), true},
		{now.Format(time.RFC3339), false}, // ended
		{now.Add(-time.Hour).Format(time.RFC3339), false},
		{"garbage", false},
		{"", false},
	} {
		if got, _ := muteActive(c.raw, now); got != c.want {
			t.Errorf("muteActive(%q) = %v", c.raw, got)
		}
	}
}

// TestDrafts: a draft is kept per conversation exactly as typed, survives
// lock and unlock, is sealed in the store (not in the file in clear), and a
// blank one deletes it.
func TestDrafts(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	alice := signIn(t, srv, "alice", Config{})
	draft := "  Bed 4: DRAFTMARKER K+ 6.1\nrepeat? "
	if err := alice.c.SaveDraft("bob@"+srv.Domain+"/phone", draft); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.SaveDraft("carol@"+srv.Domain, "other"); err != nil {
		t.Fatal(err)
	}
	alice.c.Lock()
	if got := alice.c.Draft("bob@" + srv.Domain); got != "" {
		t.Fatalf("locked app returned a draft %q", got)
	}
	for _, f := range storeFilesIn(t, alice.cfg.DataDir) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("DRAFTMARKER")) {
			t.Fatalf("draft in clear in %s", f)
		}
	}
	if err := alice.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	if got := alice.c.Draft("bob@" + srv.Domain); got != draft {
		t.Fatalf("draft %q, want %q", got, draft)
	}
	if got := alice.c.Draft("carol@" + srv.Domain); got != "other" {
		t.Fatalf("carol's draft %q", got)
	}
	// The inbox row says there is a draft, by its first line.
	if _, err := alice.c.Send("bob@"+srv.Domain, "earlier message"); err != nil {
		t.Fatal(err)
	}
	if r, ok := alice.row("bob@" + srv.Domain); !ok || r.Draft != "Bed 4: DRAFTMARKER K+ 6.1" || r.Preview != "earlier message" {
		t.Fatalf("inbox row with a draft: %+v", r)
	}
	if err := alice.c.SaveDraft("bob@"+srv.Domain, " \n "); err != nil {
		t.Fatal(err)
	}
	if got := alice.c.Draft("bob@" + srv.Domain); got != "" {
		t.Fatalf("blank draft kept: %q", got)
	}
	if r, _ := alice.row("bob@" + srv.Domain); r.Draft != "" {
		t.Fatalf("inbox row keeps a deleted draft: %q", r.Draft)
	}
}

// TestMentionNotifiesWhenMuted, through Prosody: in a care-team room alice
// muted, bob's "@alice" goes out as an XEP-0372 mention of alice's JID and
// notifies her; a routine message without it does not.
func TestMentionNotifiesWhenMuted(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	room := "ward4@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.MuteConversation(room, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Send(room, "bed 7 obs done"); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(room, 1)
	time.Sleep(300 * time.Millisecond)
	if n := alice.notifier.countFor(room); n != 0 {
		t.Fatalf("muted room notified %d times without a mention", n)
	}
	id, err := bob.c.Send(room, "@alice can you check bed 4?")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "mention notifies in a muted room", 30*time.Second, func() bool { return alice.notifier.countFor(room) == 1 })
	// It says it is a mention, by whom and where, and no text (the
	// default policy).
	for _, n := range alice.notifier.notifications() {
		if n.ConversationID == room && (n.Body != "Dr Bob mentioned you in ward4" || containsAny(n, "bed 4")) {
			t.Errorf("mention notification %+v", n)
		}
	}
	// The thread marks the word that mentions her, and only for her.
	var row MessageRow
	waitFor(t, "the mention's row", 30*time.Second, func() bool {
		row, _ = alice.rowWhere(room, func(r MessageRow) bool { return strings.Contains(r.Body, "check bed 4") })
		return row.ID != 0
	})
	if !slices.Equal(row.MentionsMe, []string{"@alice"}) {
		t.Errorf("alice's row marks %q", row.MentionsMe)
	}
	if r, ok := bob.rowWhere(room, func(r MessageRow) bool { return strings.Contains(r.Body, "check bed 4") }); !ok || len(r.MentionsMe) != 0 {
		t.Errorf("bob's own row marks %q", r.MentionsMe)
	}
	st, err := bob.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	sent, err := st.Message(id)
	if err != nil || sent.Extra["mentions"] != alice.jid+"=alice" {
		t.Fatalf("bob's stored mention %q, %v", sent.Extra["mentions"], err)
	}
}
