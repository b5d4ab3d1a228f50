package app

import (
	"bytes"
	"context"
	"log/slog"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// TestRoom: a care-team room — titles, sender names, per-member receipts
// keyed by display name, notifications naming the room only.
func TestRoom(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	room := "icu-team@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	id, err := alice.c.Send(room, marker)
	if err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(room, 1)
	r, _ := bob.row(room)
	if !r.IsRoom || r.Title != "icu-team" || r.Presence != "" {
		t.Fatalf("room row %+v", r)
	}
	waitFor(t, "room notification", 30*time.Second, func() bool { return bob.notifier.countFor(room) == 1 })
	if n := bob.notifier.notifications()[0]; n.Body != "New message in icu-team" || containsAny(n, "MARKER") {
		t.Fatalf("room notification %+v", n)
	}
	ms, err := bob.c.Messages(room, 10)
	if err != nil || len(ms) != 1 || ms[0].Sender != "alice" {
		t.Fatalf("bob's room messages %+v %v", ms, err)
	}
	if err := bob.c.MarkShown(room, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "per-member read receipt", 30*time.Second, func() bool {
		ms, err := alice.c.Messages(room, 10)
		if err != nil || len(ms) != 1 || ms[0].ID != id {
			return false
		}
		for name, rc := range ms[0].Members {
			if rc.State == securestore.ReceiptRead && (name == "bob" || name == "Dr Bob") {
				return true
			}
		}
		return false
	})
	if ms, _ := alice.c.Messages(room, 10); ms[0].Sender != "You" {
		t.Fatalf("own room message sender %q", ms[0].Sender)
	}
}

// TestDayBreaks: local calendar days, including across a page boundary.
func TestDayBreaks(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	alice := signIn(t, srv, "alice", Config{})
	st, err := alice.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	conv := "dana@elsewhere.example"
	d1 := time.Date(2025, 3, 3, 10, 0, 0, 0, time.Local)
	var batch []securestore.Message
	for i, at := range []time.Time{d1, d1.Add(time.Hour), d1.Add(23 * time.Hour), d1.Add(24 * time.Hour), d1.Add(49 * time.Hour)} {
		batch = append(batch, securestore.Message{ConversationID: conv, From: conv + "/x", Direction: securestore.Incoming,
			Body: "m", OriginID: string(rune('a' + i)), Timestamp: at, ReceivedAt: at})
	}
	if _, err := st.AppendMessages(batch); err != nil {
		t.Fatal(err)
	}
	ms, err := alice.c.Messages(conv, 10)
	if err != nil || len(ms) != 5 {
		t.Fatalf("%d %v", len(ms), err)
	}
	want := []bool{true, false, true, false, true}
	for i, m := range ms {
		if m.DayBreak != want[i] {
			t.Fatalf("row %d DayBreak=%v want %v", i, m.DayBreak, want[i])
		}
	}
	// A page starting mid-day has no break on its first row.
	page, _ := alice.c.Messages(conv, 2)
	if page[0].DayBreak || !page[1].DayBreak {
		t.Fatalf("page day breaks %v %v", page[0].DayBreak, page[1].DayBreak)
	}
	if first, ok := alice.c.FirstUnread(conv); !ok || first != ms[0].ID {
		t.Fatalf("FirstUnread %d %v", first, ok)
	}
}

// TestPresenceAggregation: the best presence over a contact's devices.
func TestPresenceAggregation(t *testing.T) {
	c := newClient(Config{}.withDefaults(), "")
	defer c.changes.close()
	c.account = "me@h.example"
	ev := func(from string, avail bool, show, status string) bool {
		return c.notePresence(sync.PresenceChanged{From: from, Available: avail, Show: show, Status: status})
	}
	ev("dr@h.example/phone", true, "away", "")
	ev("dr@h.example/desk", true, "dnd", "In surgery")
	if s, st := c.presenceOf("dr@h.example"); s != "dnd" || st != "In surgery" {
		t.Fatalf("got %q %q", s, st)
	}
	ev("dr@h.example/desk", false, "", "")
	if s, _ := c.presenceOf("dr@h.example"); s != "away" {
		t.Fatalf("got %q", s)
	}
	ev("dr@h.example/phone", true, "", "")
	if s, _ := c.presenceOf("dr@h.example"); s != "available" {
		t.Fatalf("got %q", s)
	}
	if ev("me@h.example/other", true, "", "") {
		t.Fatal("own devices tracked")
	}
	if ev("dr@h.example/phone", true, "", "") {
		t.Fatal("unchanged presence reported as a change")
	}
}

// TestNoPHIInLogs: message text never reaches the log.
func TestNoPHIInLogs(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	cfg := testConfig(t)
	cfg.Logger = logger
	bob := signIn(t, srv, "bob", cfg)
	if _, err := alice.c.Send(bob.jid, marker); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(alice.jid, 1)
	if _, err := bob.c.Send(alice.jid, marker+" reply"); err != nil {
		t.Fatal(err)
	}
	bob.c.Lock()
	if buf.Len() == 0 {
		t.Fatal("nothing logged: the test would prove nothing")
	}
	if bytes.Contains(buf.Bytes(), []byte("MARKER")) || bytes.Contains(buf.Bytes(), []byte("Jane")) {
		t.Fatalf("message text in the log:\n%s", buf.String())
	}
}

type syncBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) Len() int { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }
func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}
func (s *syncBuffer) String() string { return string(s.Bytes()) }

// TestRoomGoneWhileSignedOut: bob's room is destroyed while he is signed
// out. His next unlock comes online anyway, the room's row says it no
// longer exists, the audit log records it, and his other conversations work.
func TestRoomGoneWhileSignedOut(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	room := "night-shift@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, ""); err != nil {
		t.Fatal(err)
	}
	bob.c.SignOut()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	owner, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: alice.jid, Resource: "admin",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if err := owner.DestroyRoom(ctx, room, "shift over"); err != nil {
		t.Fatal(err)
	}

	c2, err := Unlock(t.Context(), bob.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	again := &device{t: t, cfg: bob.cfg, c: c2, notifier: bob.notifier, sound: bob.sound, jid: bob.jid}
	again.collect()
	t.Cleanup(c2.SignOut)
	again.waitOnline()
	waitFor(t, "room row says it is gone", 30*time.Second, func() bool {
		r, ok := again.row(room)
		return ok && r.Unavailable == "This room no longer exists."
	})
	rows, err := c2.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		found = found || (r.Kind == AuditRoomUnavailable && r.Detail == room+" gone")
	}
	if !found {
		t.Fatalf("no %s audit entry: %+v", AuditRoomUnavailable, rows)
	}
	if _, err := alice.c.Send(bob.jid, marker); err != nil {
		t.Fatal(err)
	}
	again.waitUnread(alice.jid, 1)
}
