package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// TestUnreadablePlaceholderShown: the engine's placeholder for a message it
// could not read (stored with no body, the reason in Extra) is drawn as a
// notice naming the sender and the reason, in the conversation and in the
// inbox preview, never as an empty bubble.
func TestUnreadablePlaceholderShown(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	bob := signIn(t, srv, "bob", Config{})
	conv := srv.JID("alice")
	st, err := bob.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendMessages([]securestore.Message{{ConversationID: conv, From: conv + "/ward", To: srv.JID("bob"),
		Direction: securestore.Incoming, OriginID: "big-1", StanzaID: "arch-1", StanzaIDBy: srv.JID("bob"), Timestamp: time.Now(),
		Extra: map[string]string{sync.ExtraUnreadable: xmpp.ReasonTooLarge, sync.ExtraUnreadableSize: "3145728"}}}); err != nil {
		t.Fatal(err)
	}
	rows, err := bob.c.Messages(conv, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	want := "A message from " + r.Sender + " could not be shown (too large)"
	if !r.Notice || !strings.HasPrefix(r.Body, want) || r.Sender == "" {
		t.Fatalf("row: notice %v body %q, want a notice starting %q", r.Notice, r.Body, want)
	}
	row, ok := bob.row(conv)
	if !ok || !strings.HasPrefix(row.Preview, "A message from") {
		t.Fatalf("inbox preview %q", row.Preview)
	}
}

// TestUnreadablePlaceholderExported: a conversation export (JSON and CSV)
// gives an unreadable message's placeholder the words the conversation
// shows and its reason, never an empty body a reviewer would read as a
// message that said nothing.
func TestUnreadablePlaceholderExported(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	bob := signIn(t, srv, "bob", Config{})
	conv := srv.JID("alice")
	st, err := bob.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendMessages([]securestore.Message{{ConversationID: conv, From: conv + "/ward", To: srv.JID("bob"),
		Direction: securestore.Incoming, OriginID: "big-1", StanzaID: "arch-1", StanzaIDBy: srv.JID("bob"), Timestamp: time.Now(),
		Extra: map[string]string{sync.ExtraUnreadable: xmpp.ReasonTooLarge, sync.ExtraUnreadableSize: "3145728"}}}); err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := bob.c.ExportConversation(&js, conv, "json"); err != nil {
		t.Fatal(err)
	}
	var x struct {
		Messages []ExportedMessage `json:"messages"`
	}
	if err := json.Unmarshal(js.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if len(x.Messages) != 1 {
		t.Fatalf("%d messages exported", len(x.Messages))
	}
	e := x.Messages[0]
	if !strings.Contains(e.Body, "could not be shown (too large)") || e.Unreadable != xmpp.ReasonTooLarge {
		t.Fatalf("JSON export: body %q, unreadable %q; want the placeholder's words and reason %q", e.Body, e.Unreadable, xmpp.ReasonTooLarge)
	}
	var csv bytes.Buffer
	if err := bob.c.ExportConversation(&csv, conv, "csv"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), "could not be shown (too large)") {
		t.Fatalf("CSV export has no placeholder words:\n%s", csv.String())
	}
}
