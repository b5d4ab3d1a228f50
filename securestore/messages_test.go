package securestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestAppendDeduplicatesAndCounts(t *testing.T) {
	s, _, _ := newTestStore(t)
	conv := "dr.lee@hospital.example"
	a := incoming(conv, "s1", "one", day0)
	b := incoming(conv, "s2", "two", day0.Add(time.Minute))
	dupInBatch := incoming(conv, "s2", "two again", day0.Add(time.Minute))
	added := mustAppend(t, s, a, b, dupInBatch)
	if len(added) != 2 {
		t.Fatalf("added %d, want 2", len(added))
	}
	// Same stanza-id again (MAM overlap): skipped. Same origin-id with a new
	// stanza-id (carbon of our own message): skipped.
	carbon := incoming(conv, "s9", "one", day0)
	carbon.OriginID = a.OriginID
	out := Message{ConversationID: conv, Direction: Outgoing, Body: "reply", OriginID: "o-out", Timestamp: day0.Add(2 * time.Minute)}
	added = mustAppend(t, s, a, carbon, out)
	if len(added) != 1 || added[0].Body != "reply" {
		t.Fatalf("second batch added %+v", added)
	}
	// Same stanza-id in another conversation is a different message.
	if got := mustAppend(t, s, incoming("other@h.example", "s1", "x", day0)); len(got) != 1 {
		t.Fatal("stanza-id dedupe leaked across conversations")
	}
	c, err := s.Conversation(conv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Unread != 2 || !c.LastActivity.Equal(day0.Add(2*time.Minute)) {
		t.Fatalf("conversation %+v", c)
	}
	m, err := s.MessageByStanzaID(conv, "s2")
	if err != nil || m.Body != "two" {
		t.Fatalf("by stanza-id: %+v %v", m, err)
	}
	m2, err := s.MessageByOriginID(conv, "o-out")
	if err != nil || m2.Body != "reply" {
		t.Fatalf("by origin-id: %+v %v", m2, err)
	}
	if m3, err := s.Message(m.ID); err != nil || m3.StanzaID != "s2" {
		t.Fatalf("by id: %v", err)
	}
	_, err = s.Message(99999)
	wantErr(t, err, ErrNotFound)
	_, err = s.AppendMessages([]Message{{Body: "no conv"}})
	wantErr(t, err, ErrInvalid)
}

func TestPagingAndInboxOrder(t *testing.T) {
	s, _, _ := newTestStore(t)
	var batch []Message
	for i := 0; i < 25; i++ {
		// Out of order arrival (MAM backfill): the index sorts by server time.
		j := (i * 7) % 25
		batch = append(batch, incoming("room@muc.h.example", fmt.Sprint("s", j), fmt.Sprint("msg ", j), day0.Add(time.Duration(j)*time.Second)))
	}
	mustAppend(t, s, batch...)
	mustAppend(t, s, incoming("b@h.example", "x", "later", day0.Add(time.Hour)))
	if err := s.SetConversation("room@muc.h.example", KindRoom, "ICU team"); err != nil {
		t.Fatal(err)
	}
	last, err := s.Latest("room@muc.h.example", 10)
	if err != nil || len(last) != 10 || last[0].Body != "msg 15" || last[9].Body != "msg 24" {
		t.Fatalf("Latest: %v %v", bodies(last), err)
	}
	older, err := s.Before("room@muc.h.example", last[0].ID, 10)
	if err != nil || len(older) != 10 || older[0].Body != "msg 5" || older[9].Body != "msg 14" {
		t.Fatalf("Before: %v %v", bodies(older), err)
	}
	oldest, _ := s.Before("room@muc.h.example", older[0].ID, 10)
	if len(oldest) != 5 || oldest[0].Body != "msg 0" {
		t.Fatalf("oldest: %v", bodies(oldest))
	}
	if none, _ := s.Before("room@muc.h.example", oldest[0].ID, 10); len(none) != 0 {
		t.Fatal("paged past the start")
	}
	convs, err := s.Conversations()
	if err != nil || len(convs) != 2 || convs[0].ID != "b@h.example" || convs[1].Title != "ICU team" || convs[1].Kind != KindRoom || convs[1].Unread != 25 {
		t.Fatalf("Conversations: %+v %v", convs, err)
	}
	if got, _ := s.Latest("nobody@h.example", 5); len(got) != 0 {
		t.Fatal("messages for unknown conversation")
	}
}

func bodies(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Body)
	}
	return out
}

func TestMarkRead(t *testing.T) {
	s, _, _ := newTestStore(t)
	conv := "a@h.example"
	var batch []Message
	for i := 0; i < 6; i++ {
		m := incoming(conv, fmt.Sprint(i), "m", day0.Add(time.Duration(i)*time.Minute))
		if i == 4 {
			m.Direction = Outgoing
		}
		batch = append(batch, m)
	}
	added := mustAppend(t, s, batch...)
	if err := s.MarkRead(conv, added[2].ID); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Conversation(conv)
	if c.Unread != 2 || c.LastReadID != added[2].ID { // 3 and 5 are incoming; 4 is ours
		t.Fatalf("after MarkRead: %+v", c)
	}
	// An older marker (from another device, late) does not move backwards.
	s.MarkRead(conv, added[0].ID)
	if c2, _ := s.Conversation(conv); c2.Unread != 2 || c2.LastReadID != added[2].ID {
		t.Fatalf("marker moved backwards: %+v", c2)
	}
	// A backfilled message older than the read position is not unread.
	mustAppend(t, s, incoming(conv, "old", "old", day0.Add(-time.Hour)))
	if c3, _ := s.Conversation(conv); c3.Unread != 2 {
		t.Fatalf("backfill counted unread: %+v", c3)
	}
	mustAppend(t, s, incoming(conv, "new", "new", day0.Add(time.Hour)))
	if c4, _ := s.Conversation(conv); c4.Unread != 3 {
		t.Fatalf("new message not unread: %+v", c4)
	}
}

func TestReceiptsMoveForwardOnly(t *testing.T) {
	s, _, _ := newTestStore(t)
	m, err := s.Enqueue(Message{ConversationID: "icu@muc.h.example", Body: "K+ 6.1", OriginID: "o1", Urgency: UrgencyCritical, Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	if m.Receipt.State != ReceiptQueued || m.Receipt.At[ReceiptQueued].IsZero() {
		t.Fatalf("enqueued receipt %+v", m.Receipt)
	}
	t1 := day0.Add(time.Second)
	step := func(member string, st ReceiptState, want bool) {
		t.Helper()
		changed, err := s.AdvanceReceipt(m.ID, member, st, t1, "no route")
		if err != nil || changed != want {
			t.Fatalf("advance %q to %v: changed=%v err=%v", member, st, changed, err)
		}
	}
	step("", ReceiptSent, true)
	step("", ReceiptRead, true)
	step("", ReceiptDelivered, false) // late delivery receipt after read
	step("", ReceiptFailed, false)    // cannot fail after read
	step("", ReceiptAcknowledged, true)
	step("nurse1@h.example", ReceiptDelivered, true)
	step("nurse1@h.example", ReceiptDelivered, false)
	step("nurse2@h.example", ReceiptFailed, true)
	step("nurse2@h.example", ReceiptRead, false) // failed is final
	got, _ := s.Message(m.ID)
	// Read implies delivered: the skipped state carries the time we learned
	// it, so an export never shows read without delivered.
	if got.Receipt.State != ReceiptAcknowledged || got.Receipt.At[ReceiptRead].IsZero() ||
		!got.Receipt.At[ReceiptDelivered].Equal(got.Receipt.At[ReceiptRead]) || !got.Receipt.At[ReceiptFailed].IsZero() {
		t.Fatalf("receipt %+v", got.Receipt)
	}
	if got.Members["nurse1@h.example"].State != ReceiptDelivered || got.Members["nurse2@h.example"].Reason != "no route" {
		t.Fatalf("members %+v", got.Members)
	}
	_, err = s.AdvanceReceipt(12345, "", ReceiptSent, t1, "")
	wantErr(t, err, ErrNotFound)
	if err := s.UpdateExtra(m.ID, map[string]string{"retracted": "1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Message(m.ID); got.Extra["retracted"] != "1" || got.Receipt.State != ReceiptAcknowledged {
		t.Fatalf("UpdateExtra: %+v", got)
	}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	s, path, opts := newTestStore(t)
	var ids []MessageID
	for i := 0; i < 3; i++ {
		m, err := s.Enqueue(Message{ConversationID: "a@h.example", Body: fmt.Sprint("out ", i), OriginID: fmt.Sprint("o", i), Timestamp: day0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	dup, err := s.Enqueue(Message{ConversationID: "a@h.example", Body: "again", OriginID: "o1"})
	wantErr(t, err, ErrDuplicate)
	if dup.ID != ids[1] {
		t.Fatalf("duplicate returned %d, want %d", dup.ID, ids[1])
	}
	s.Close() // "crash" after persisting, before sending
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Outbox()
	if err != nil || len(out) != 3 || out[0].ID != ids[0] || out[2].Body != "out 2" {
		t.Fatalf("Outbox: %v %v", bodies(out), err)
	}
	if err := s.OutboxRemove(ids[1]); err != nil {
		t.Fatal(err)
	}
	out, _ = s.Outbox()
	if len(out) != 2 || out[1].ID != ids[2] {
		t.Fatalf("after remove: %v", bodies(out))
	}
	if c, _ := s.Conversation("a@h.example"); c.Unread != 0 {
		t.Fatal("outgoing counted as unread")
	}
}

func TestCursorAdvancesWithBatch(t *testing.T) {
	s, _, _ := newTestStore(t)
	if c, err := s.Cursor("me@h.example"); err != nil || c != "" {
		t.Fatalf("fresh cursor %q %v", c, err)
	}
	if _, err := s.AppendMessagesWithCursor([]Message{incoming("a@h.example", "s1", "x", day0)}, "me@h.example", "s1"); err != nil {
		t.Fatal(err)
	}
	// A failing batch must not move the cursor.
	_, err := s.AppendMessagesWithCursor([]Message{incoming("a@h.example", "s2", "y", day0), {Body: "bad"}}, "me@h.example", "s2")
	wantErr(t, err, ErrInvalid)
	if c, _ := s.Cursor("me@h.example"); c != "s1" {
		t.Fatalf("cursor %q after failed batch", c)
	}
	if _, err := s.MessageByStanzaID("a@h.example", "s2"); !errors.Is(err, ErrNotFound) {
		t.Fatal("failed batch partly committed")
	}
	if err := s.SetCursor("room@muc.h.example", "r9"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursor("room@muc.h.example"); c != "r9" {
		t.Fatal("SetCursor")
	}
}

func TestContactsSettingsAttachments(t *testing.T) {
	s, _, _ := newTestStore(t)
	for _, c := range []Contact{{JID: "b@h.example", Name: "Dr B", Subscription: "both", Groups: []string{"Cardiology"}}, {JID: "a@h.example", Name: "Nurse A"}} {
		if err := s.PutContact(c); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Contacts()
	if err != nil || len(cs) != 2 || cs[0].JID != "a@h.example" || cs[1].Groups[0] != "Cardiology" {
		t.Fatalf("Contacts %+v %v", cs, err)
	}
	s.DeleteContact("a@h.example")
	_, err = s.Contact("a@h.example")
	wantErr(t, err, ErrNotFound)

	if err := s.SetSetting("autolock", []byte("300")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Setting("autolock"); err != nil || string(v) != "300" {
		t.Fatalf("Setting %q %v", v, err)
	}
	s.DeleteSetting("autolock")
	_, err = s.Setting("autolock")
	wantErr(t, err, ErrNotFound)

	m := mustAppend(t, s, incoming("a@h.example", "s1", "see scan", day0))[0]
	att := Attachment{ID: "att1", MessageID: m.ID, Name: "xray.png", MIME: "image/png", Size: 12345, URL: "aesgcm://up.h.example/x", Key: []byte("k"), SHA256: []byte("h")}
	if err := s.PutAttachment(att); err != nil {
		t.Fatal(err)
	}
	got, err := s.Attachment("att1")
	if err != nil || got.Name != "xray.png" || got.Size != 12345 || got.MessageID != m.ID {
		t.Fatalf("Attachment %+v %v", got, err)
	}
	list, _ := s.Attachments(m.ID)
	if len(list) != 1 {
		t.Fatal("Attachments")
	}
	wantErr(t, s.PutAttachment(Attachment{ID: "x", MessageID: 999}), ErrNotFound)
}

func TestConcurrentUse(t *testing.T) {
	s, _, _ := newTestStore(t)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				conv := fmt.Sprintf("c%d@h.example", w%2)
				if _, err := s.AppendMessages([]Message{incoming(conv, fmt.Sprint(w, "-", i), "b", day0.Add(time.Duration(i)*24*time.Hour))}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Latest(conv, 5); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Conversations(); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 3; i++ {
			if _, err := s.Purge(day0.Add(time.Duration(i*3) * 24 * time.Hour)); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
}

func TestLockedAfterClose(t *testing.T) {
	s, _, _ := newTestStore(t)
	s.Close()
	_, err := s.AppendMessages([]Message{incoming("a@h.example", "1", "x", day0)})
	wantErr(t, err, ErrLocked)
	wantErr(t, s.Wipe(), ErrLocked)
	_, err = Open(filepath.Join(t.TempDir(), "missing.db"), testPIN, testOptions())
	if err == nil {
		t.Fatal("opened a missing file")
	}
}

// TestMarkSentDequeuesInOneStep: the server's ack moves a queued message to
// sent and off the outbox together.
func TestMarkSentDequeuesInOneStep(t *testing.T) {
	s, _, _ := newTestStore(t)
	m, err := s.Enqueue(Message{ConversationID: "bob@h.example", Body: "BP 90/60", OriginID: "o-sent", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	changed, err := s.MarkSent(m.ID, day0.Add(time.Second))
	if err != nil || !changed {
		t.Fatalf("MarkSent = %v, %v", changed, err)
	}
	if out, _ := s.Outbox(); len(out) != 0 {
		t.Fatalf("outbox still holds %d", len(out))
	}
	got, _ := s.Message(m.ID)
	if got.Receipt.State != ReceiptSent || got.Receipt.At[ReceiptSent].IsZero() {
		t.Fatalf("receipt %+v", got.Receipt)
	}
	if changed, err := s.MarkSent(m.ID, day0.Add(2*time.Second)); err != nil || changed {
		t.Fatalf("second MarkSent = %v, %v", changed, err)
	}
	if _, err := s.MarkSent(999999, day0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

// TestRequeue: a message taken off the outbox goes back at its end with its
// receipt kept; one still listed is not listed twice; an incoming message is
// refused.
func TestRequeue(t *testing.T) {
	s, _, _ := newTestStore(t)
	var ids []MessageID
	for i := 0; i < 2; i++ {
		m, err := s.Enqueue(Message{ConversationID: "room@muc.h.example", Body: fmt.Sprint("out ", i), OriginID: fmt.Sprint("r", i), Timestamp: day0})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if _, err := s.MarkSentKeepingEdits(ids[0], day0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ids[1]); err != nil {
		t.Fatal(err)
	}
	out, err := s.Outbox()
	if err != nil || len(out) != 2 || out[0].ID != ids[1] || out[1].ID != ids[0] {
		t.Fatalf("outbox after requeue: %v %v", bodies(out), err)
	}
	if out[1].Receipt.State != ReceiptSent {
		t.Fatalf("requeued message's receipt %v, want it kept (sent)", out[1].Receipt.State)
	}
	in, err := s.AppendMessages([]Message{incoming("a@h.example", "s1", "x", day0)})
	if err != nil || len(in) != 1 {
		t.Fatal(err)
	}
	if err := s.Requeue(in[0].ID); err == nil {
		t.Fatal("an incoming message was put on the outbox")
	}
}
