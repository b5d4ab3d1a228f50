package securestore

import (
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestLearnOwnArchived: one page of our own archived messages is one
// transaction: stanza-ids are learned, the messages count as sent and leave
// the Outbox, except one with a pending correction; a stanza-id another
// message owns is skipped without failing the rest; reading the same page
// again writes nothing.
func TestLearnOwnArchived(t *testing.T) {
	s, commits, _ := newCountedStore(t, testOptions())
	const conv, me = "bob@h.example", "alice@h.example"
	var own []Message
	for i, o := range []string{"o-1", "o-2", "o-3"} {
		m, err := s.Enqueue(Message{ConversationID: conv, Body: "K+ 6.1", OriginID: o, Timestamp: day0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		own = append(own, m)
	}
	if err := s.QueueCorrection(own[1].ID, "c-1", "K+ 6.2", day0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	theirs := mustAppend(t, s, incoming(conv, "s-taken", "repeat?", day0.Add(2*time.Minute)))[0]
	items := []OwnArchived{
		{Conversation: conv, Sender: me, OriginID: "o-1", StanzaID: "s-1", By: me},
		{Conversation: conv, Sender: me, OriginID: "o-2", StanzaID: "s-2", By: me},
		{Conversation: conv, Sender: me, OriginID: "o-3", StanzaID: "s-taken", By: me},
		{Conversation: conv, Sender: me, OriginID: "o-unknown", StanzaID: "s-9", By: me},
	}
	at := day0.Add(time.Hour)
	before := commits.n()
	r, err := s.LearnOwnArchived(items, at)
	if err != nil {
		t.Fatalf("LearnOwnArchived: %v", err)
	}
	if got := commits.n() - before; got != 1 {
		t.Errorf("a page of %d own messages took %d commits, want 1", len(items), got)
	}
	if r.Conflicts != 1 || len(r.Found) != 3 || len(r.Sent) != 3 {
		t.Errorf("result %+v, want 3 found, 3 sent, 1 conflict", r)
	}
	for i, sid := range []string{"s-1", "s-2"} {
		m, err := s.MessageByStanzaID(conv, sid)
		if err != nil || m.ID != own[i].ID {
			t.Errorf("stanza-id %s finds %d (%v), want message %d", sid, m.ID, err, own[i].ID)
		}
	}
	if m, err := s.MessageByStanzaID(conv, "s-taken"); err != nil || m.ID != theirs.ID {
		t.Errorf("conflicting stanza-id now finds %d (%v), want the message that owned it, %d", m.ID, err, theirs.ID)
	}
	for _, o := range own {
		m, err := s.Message(o.ID)
		if err != nil || m.Receipt.State != ReceiptSent {
			t.Errorf("message %d receipt %v (%v), want sent", o.ID, m.Receipt.State, err)
		}
	}
	queued, err := s.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0].ID != own[1].ID {
		ids := []MessageID{}
		for _, m := range queued {
			ids = append(ids, m.ID)
		}
		t.Errorf("Outbox holds %v, want only %d (its correction is pending)", ids, own[1].ID)
	}

	before = commits.n()
	r, err = s.LearnOwnArchived(items, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := commits.n() - before; got != 0 {
		t.Errorf("the same page again took %d commits, want 0 (nothing changes)", got)
	}
	if len(r.Sent) != 0 || len(r.Found) != 3 {
		t.Errorf("again: %+v, want 3 found, none newly sent", r)
	}
	if changed, err := s.MarkSentKeepingEdits(own[0].ID, at); err != nil || changed {
		t.Errorf("MarkSentKeepingEdits of a sent message: %v, %v; want false, nil", changed, err)
	}
	if got := commits.n() - before; got != 0 {
		t.Errorf("MarkSentKeepingEdits of a message already sent and off the Outbox committed %d times, want 0", got)
	}
}

// TestLearnOwnArchivedCarriesSentMarks: a LearnOwnArchived that changes
// nothing itself still commits the sent marks waiting to ride a write
// (MarkSentSoon), rather than rolling them back to wait for another.
func TestLearnOwnArchivedCarriesSentMarks(t *testing.T) {
	opts := testOptions()
	opts.SentLinger = time.Hour
	s, commits, _ := newCountedStore(t, opts)
	const conv, me = "bob@h.example", "alice@h.example"
	m1, err := s.Enqueue(Message{ConversationID: conv, Body: "x", OriginID: "o-1", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := s.Enqueue(Message{ConversationID: conv, Body: "y", OriginID: "o-2", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	item := []OwnArchived{{Conversation: conv, Sender: me, OriginID: "o-1", StanzaID: "s-1", By: me}}
	if _, err := s.LearnOwnArchived(item, day0); err != nil {
		t.Fatal(err)
	}
	var d markDone
	s.MarkSentSoon(m2.ID, day0, d.done)
	before := commits.n()
	if _, err := s.LearnOwnArchived(item, day0); err != nil {
		t.Fatal(err)
	}
	if calls, changed, err := d.get(); calls != 1 || !changed || err != nil {
		t.Fatalf("waiting sent mark: %d calls, changed %v, err %v; want written by the no-op batch's transaction", calls, changed, err)
	}
	if got := commits.n() - before; got != 1 {
		t.Errorf("%d commits, want 1 (the mark's)", got)
	}
	if m, err := s.Message(m1.ID); err != nil || m.StanzaID != "s-1" {
		t.Fatalf("m1 stanza-id %q (%v)", m.StanzaID, err)
	}
}

// TestLearnOwnArchivedSkipsUnreadable: one own message whose record cannot
// be read (bit rot) is counted and skipped; the page's other own messages
// still count as sent and leave the Outbox. Before, the whole page's
// transaction failed, and since the page and its cursor commit anyway, the
// Outbox flush sent every own message of that page a second time.
func TestLearnOwnArchivedSkipsUnreadable(t *testing.T) {
	s, _, _ := newCountedStore(t, testOptions())
	const conv, me = "bob@h.example", "alice@h.example"
	var own []Message
	for i, o := range []string{"o-1", "o-2"} {
		m, err := s.Enqueue(Message{ConversationID: conv, Body: "K+ 6.1", OriginID: o, Timestamp: day0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		own = append(own, m)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMsg)
		k := be64(uint64(own[0].ID))
		v := clone(b.Get(k))
		v[len(v)/2] ^= 0x40
		return b.Put(k, v)
	}); err != nil {
		t.Fatal(err)
	}
	items := []OwnArchived{
		{Conversation: conv, Sender: me, OriginID: "o-1", StanzaID: "s-1", By: me},
		{Conversation: conv, Sender: me, OriginID: "o-2", StanzaID: "s-2", By: me},
	}
	r, err := s.LearnOwnArchived(items, day0.Add(time.Hour))
	if err != nil {
		t.Fatalf("LearnOwnArchived with one unreadable record: %v; want the rest applied", err)
	}
	if r.Unreadable != 1 || len(r.Sent) != 1 || r.Sent[0] != own[1].ID {
		t.Errorf("result %+v, want 1 unreadable and message %d sent", r, own[1].ID)
	}
	if m, err := s.Message(own[1].ID); err != nil || m.Receipt.State != ReceiptSent || m.StanzaID != "s-2" {
		t.Errorf("readable message: receipt %v, stanza-id %q (%v); want sent, s-2", m.Receipt.State, m.StanzaID, err)
	}
	var queued int
	s.db.View(func(tx *bbolt.Tx) error { queued = len(outboxEntries(tx)[own[1].ID]); return nil })
	if queued != 0 {
		t.Errorf("the readable archived message is still on the Outbox (the flush would send it again)")
	}
}
