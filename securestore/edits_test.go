package securestore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestRetractLeavesTombstone: a recalled message keeps its row, ids and time
// but loses its body, its history and its attachments (with their keys);
// recalling again changes nothing, and a correction cannot revive it.
func TestRetractLeavesTombstone(t *testing.T) {
	s, path, _ := newTestStore(t)
	added := mustAppend(t, s, incoming("ward7@hospital.example", "s1", "RECALLME wrong patient", day0))
	id := added[0].ID
	if err := s.PutAttachment(Attachment{ID: "att1", MessageID: id, Name: "scan.png", Key: []byte("0123456789abcdef0123456789abcdef"), URL: "aesgcm://x"}); err != nil {
		t.Fatal(err)
	}
	w, err := s.CreateBlob("att1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("RECALLME scan bytes")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateExtra(id, map[string]string{"attachment.url": "aesgcm://x/scan.png#00ff", "attachment": "att1"}); err != nil {
		t.Fatal(err)
	}
	if len(s.vaultFiles()) != 1 {
		t.Fatalf("vault before recall: %v", s.vaultFiles())
	}
	if _, err := s.Correct(id, "RECALLME v2", day0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	at := day0.Add(2 * time.Minute)
	changed, err := s.Retract(id, at)
	if err != nil || !changed {
		t.Fatalf("Retract: %v %v", changed, err)
	}
	m, err := s.Message(id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Body != "" || m.Extra[ExtraRetracted] != at.Format(time.RFC3339) || m.Extra[ExtraHistory] != "" || History(m) != nil {
		t.Fatalf("tombstone %+v", m)
	}
	if m.StanzaID != "s1" || m.OriginID != "o-s1" || !m.Timestamp.Equal(day0) {
		t.Errorf("tombstone lost its ids or time: %+v", m)
	}
	if atts, err := s.Attachments(id); err != nil || len(atts) != 0 {
		t.Errorf("attachments after recall: %v %v", atts, err)
	}
	if _, err := s.Attachment("att1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("attachment by id after recall: %v", err)
	}
	if m.Extra["attachment.url"] != "" || m.Extra["attachment"] != "" {
		t.Errorf("attachment link (with its key) kept on the tombstone: %v", m.Extra)
	}
	if files := s.vaultFiles(); len(files) != 0 {
		t.Errorf("vault files after recall: %v", files)
	}
	if _, err := s.OpenBlob("att1"); err == nil {
		t.Error("vault copy still opens after recall")
	}
	if changed, err := s.Retract(id, at.Add(time.Hour)); err != nil || changed {
		t.Errorf("second Retract: %v %v", changed, err)
	}
	if changed, err := s.Correct(id, "revived", at.Add(time.Hour)); err != nil || changed {
		t.Errorf("Correct after recall: %v %v", changed, err)
	}
	if m2, _ := s.Message(id); m2.Extra[ExtraRetracted] != m.Extra[ExtraRetracted] {
		t.Errorf("second Retract moved the recall time")
	}
	if _, err := s.Retract(MessageID(9999), at); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retract of a missing message: %v", err)
	}
	// By found again through the same indexes.
	if got, err := s.MessageByOriginID("ward7@hospital.example", "o-s1"); err != nil || got.ID != id {
		t.Errorf("tombstone not found by origin-id: %v", err)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("RECALLME")) {
		t.Error("recalled text in clear in the file")
	}
}

// TestCorrectKeepsHistory: corrections keep the prior texts in order with
// their times; replays of a correction (live, then from the archive) and
// corrections to the current text change nothing; the message stays in its
// period, so purging that period removes every version.
func TestCorrectKeepsHistory(t *testing.T) {
	s, _, _ := newTestStore(t)
	id := mustAppend(t, s, incoming("ward7@hospital.example", "s1", "Heparin 5000", day0))[0].ID
	t1, t2 := day0.Add(time.Minute), day0.Add(2*time.Minute)
	for _, c := range []struct {
		cid, body string
		at        time.Time
		want      bool
	}{
		{"c1", "Heparin 500", t1, true},
		{"c2", "Heparin 5000 SC", t2, true},
		{"c1", "Heparin 500", t1, false},     // replay of an older correction
		{"c2", "Heparin 5000 SC", t2, false}, // replay of the current one
		{"c3", "Heparin 5000 SC", t2, false}, // same text
	} {
		changed, err := s.ApplyCorrection(id, c.cid, c.body, c.at)
		if err != nil || changed != c.want {
			t.Fatalf("ApplyCorrection(%s): %v %v, want changed=%v", c.cid, changed, err, c.want)
		}
	}
	if _, err := s.ApplyCorrection(id, "c4", "", t2); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty correction: %v", err)
	}
	m, _ := s.Message(id)
	h := History(m)
	if m.Body != "Heparin 5000 SC" || len(h) != 2 || h[0].Body != "Heparin 5000" || h[1].Body != "Heparin 500" ||
		!h[0].At.Equal(t1) || !h[1].At.Equal(t2) || h[1].ID != "c1" || m.Extra[ExtraCorrected] != t2.Format(time.RFC3339) {
		t.Fatalf("after corrections: body %q history %+v extra %v", m.Body, h, m.Extra)
	}
	s.keysMu.Lock()
	periods := len(s.periodKeys)
	s.keysMu.Unlock()
	if periods != 1 {
		t.Errorf("%d period keys after corrections, want the message's one", periods)
	}
	if _, err := s.Purge(day0.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Message(id); err == nil {
		t.Error("corrected message survived the purge of its period")
	}
}

// TestQueuedEditsOutlastRestart: a recall of our own message is on the
// Outbox in the same commit as the tombstone, still there after reopening,
// and leaves only when the server acknowledged that very edit.
func TestQueuedEditsOutlastRestart(t *testing.T) {
	s, path, opts := newTestStore(t)
	m, err := s.Enqueue(Message{ConversationID: "dr.osei@hospital.example", To: "dr.osei@hospital.example", Body: "Wrong bed", OriginID: "o1", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkSent(m.ID, day0); err != nil {
		t.Fatal(err)
	}
	in := mustAppend(t, s, incoming("dr.osei@hospital.example", "s9", "theirs", day0))[0]
	if err := s.QueueRetraction(in.ID, "e0", day0); !errors.Is(err, ErrInvalid) {
		t.Errorf("recall of someone else's message: %v", err)
	}
	if err := s.QueueRetraction(m.ID, "bad:id", day0); !errors.Is(err, ErrInvalid) {
		t.Errorf("edit id with a colon: %v", err)
	}
	if err := s.QueueCorrection(m.ID, "e1", "Bed 4", day0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueRetraction(m.ID, "e2", day0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueCorrection(m.ID, "e3", "again", day0.Add(3*time.Minute)); !errors.Is(err, ErrInvalid) {
		t.Errorf("correction of a recalled message: %v", err)
	}
	s.Close()
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Outbox()
	if err != nil || len(out) != 1 || out[0].ID != m.ID {
		t.Fatalf("outbox after reopen: %+v %v", out, err)
	}
	if kind, eid := PendingEdit(out[0]); kind != "retract" || eid != "e2" || out[0].Body != "" {
		t.Fatalf("pending edit %q %q body %q", kind, eid, out[0].Body)
	}
	if _, err := s.EditSent(m.ID, "e1", day0); err != nil { // the superseded correction's ack
		t.Fatal(err)
	}
	if out, _ := s.Outbox(); len(out) != 1 {
		t.Fatal("an older edit's ack took the recall off the Outbox")
	}
	if _, err := s.EditSent(m.ID, "e2", day0); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.Outbox(); len(out) != 0 {
		t.Fatalf("outbox after the recall's ack: %d", len(out))
	}
	if got, _ := s.Message(m.ID); got.Extra[ExtraEditPending] != "" || got.Extra[ExtraRetracted] == "" {
		t.Errorf("after ack: %+v", got.Extra)
	}
}

// TestMarkSentKeepsPendingEdit: the server's ack of a message that was
// recalled after it went on the wire marks it sent but leaves the recall on
// the Outbox; without a pending edit it behaves as MarkSent.
func TestMarkSentKeepsPendingEdit(t *testing.T) {
	s, _, _ := newTestStore(t)
	a, err := s.Enqueue(Message{ConversationID: "kim@hospital.example", To: "kim@hospital.example", Body: "one", OriginID: "a", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Enqueue(Message{ConversationID: "kim@hospital.example", To: "kim@hospital.example", Body: "two", OriginID: "b", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.QueueRetraction(a.ID, "ra", day0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []MessageID{a.ID, b.ID} {
		if changed, err := s.MarkSentKeepingEdits(id, day0.Add(time.Second)); err != nil || !changed {
			t.Fatalf("MarkSentKeepingEdits(%d): %v %v", id, changed, err)
		}
	}
	out, _ := s.Outbox()
	if len(out) != 1 || out[0].ID != a.ID || out[0].Receipt.State != ReceiptSent {
		t.Fatalf("outbox %+v", out)
	}
	if changed, _ := s.MarkSentKeepingEdits(b.ID, day0.Add(2*time.Second)); changed {
		t.Error("second ack changed the receipt")
	}
}

// TestReceivedEditsDurableUntilApplied: a page's recall and correction are
// recorded in the page's transaction (with its cursor), survive a reopen
// sealed (no text in clear), and leave only in the transaction that applies
// them; applying twice changes nothing; a recall whose target is not stored
// waits; a bad record is refused; Purge shreds records of expired periods.
func TestReceivedEditsDurableUntilApplied(t *testing.T) {
	s, path, opts := newTestStore(t)
	const conv = "ward7@hospital.example"
	target := incoming(conv, "s1", "Potassium 6.9", day0)
	recall := ReceivedEdit{Kind: EditRetract, Ref: "s1", Edit: Message{ConversationID: conv, From: conv + "/phone",
		Direction: Incoming, OriginID: "r1", Timestamp: day0.Add(time.Minute)}}
	fix := ReceivedEdit{Kind: EditCorrect, Ref: "s2", Edit: Message{ConversationID: conv, From: conv + "/phone",
		Direction: Incoming, OriginID: "c1", Body: "CORRECTEDTEXT Na 135", Timestamp: day0.Add(2 * time.Minute)}}
	early := ReceivedEdit{Kind: EditRetract, Ref: "not-yet", Edit: Message{ConversationID: "other@hospital.example",
		Direction: Incoming, OriginID: "r9", Timestamp: day0}}
	added, rec, err := s.AppendMessagesWithEdits([]Message{target, incoming(conv, "s2", "Na 153", day0)},
		[]ReceivedEdit{recall, fix, early}, "mam:me", "cursor-1")
	if err != nil || len(added) != 2 || len(rec) != 3 || rec[0].Seq == 0 || rec[0].Seq == rec[1].Seq {
		t.Fatalf("append: %d added, %+v, %v", len(added), rec, err)
	}
	if _, err := s.RecordEdits([]ReceivedEdit{{Kind: EditCorrect, Ref: "s2", Edit: Message{ConversationID: conv}}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty correction recorded: %v", err)
	}

	// A crash here: the page, its cursor and its edits are all on disk.
	s.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("CORRECTEDTEXT")) {
		t.Fatal("a pending correction's text in clear in the file")
	}
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, err := s.Cursor("mam:me"); err != nil || c != "cursor-1" {
		t.Fatalf("cursor %q %v", c, err)
	}
	pend, err := s.ReceivedEdits(conv)
	if err != nil || len(pend) != 2 || pend[0].Kind != EditRetract || pend[1].Edit.Body != "CORRECTEDTEXT Na 135" || pend[0].Edit.From != conv+"/phone" {
		t.Fatalf("pending after reopen: %+v %v", pend, err)
	}
	if all, _ := s.ReceivedEdits(""); len(all) != 3 {
		t.Fatalf("all pending: %d", len(all))
	}

	for i, id := range []MessageID{added[0].ID, added[1].ID} {
		changed, err := s.ApplyReceivedEdit(pend[i], id)
		if err != nil || !changed {
			t.Fatalf("apply %s: %v %v", pend[i].Kind, changed, err)
		}
		if changed, err := s.ApplyReceivedEdit(pend[i], id); err != nil || changed {
			t.Fatalf("apply again: %v %v", changed, err)
		}
	}
	if m, _ := s.Message(added[0].ID); m.Body != "" || m.Extra[ExtraRetracted] == "" {
		t.Fatalf("recalled message %+v", m)
	}
	if m, _ := s.Message(added[1].ID); m.Body != "CORRECTEDTEXT Na 135" {
		t.Fatalf("corrected message %q", m.Body)
	}
	if pend, _ := s.ReceivedEdits(conv); len(pend) != 0 {
		t.Fatalf("applied edits still pending: %+v", pend)
	}
	if pend, _ := s.ReceivedEdits("other@hospital.example"); len(pend) != 1 {
		t.Fatal("the early recall did not wait for its target")
	}
	if _, err := s.Purge(day0.AddDate(0, 3, 0)); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.ReceivedEdits(""); len(all) != 0 {
		t.Fatalf("Purge left %d pending edits of expired periods", len(all))
	}
}

// TestAppendMessagesAudited: the audit entry a batch asks for is written
// with it, naming the message added by its ID, none for a batch that adds
// only a duplicate of a message already stored; the chain still verifies, and a store reopened
// holds both.
func TestAppendMessagesAudited(t *testing.T) {
	s, path, opts := newTestStore(t)
	const conv = "ward7@hospital.example"
	audit := func(added []Message) (string, string) {
		for _, m := range added {
			if m.Extra["unreadable"] != "" {
				return AuditUnreadable, fmt.Sprintf("message %d stanza-id %s", m.ID, m.StanzaID)
			}
		}
		return "", ""
	}
	ph := incoming(conv, "s1", "", day0)
	ph.Extra = map[string]string{"unreadable": "too-large"}
	added, _, err := s.AppendMessagesAudited([]Message{ph, incoming(conv, "s2", "Na 153", day0)}, nil, "mam:me", "c1", audit)
	if err != nil || len(added) != 2 {
		t.Fatalf("append: %d added, %v", len(added), err)
	}
	if _, _, err := s.AppendMessagesAudited([]Message{ph}, nil, "mam:me", "c2", audit); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log, err := s.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if e.Kind == AuditUnreadable {
			got = append(got, e.Detail)
		}
	}
	if want := fmt.Sprintf("message %d stanza-id s1", added[0].ID); len(got) != 1 || got[0] != want {
		t.Fatalf("audit entries %q, want [%q]", got, want)
	}
	if err := s.VerifyAudit(); err != nil {
		t.Fatal(err)
	}
}

// TestPendingEditsBounded: a conversation keeps at most MaxPendingEdits
// edits waiting for their targets, the newest; the oldest are dropped.
// Every message arriving there reads them all, so a correspondent or room
// member sending recalls of ids that never arrive must not make each later
// message cost more without end. Other conversations are untouched.
func TestPendingEditsBounded(t *testing.T) {
	st, _, _ := newTestStore(t)
	defer st.Close()
	const room, other = "icu@rooms.hospital.test", "bob@hospital.test"
	total := MaxPendingEdits + 54
	var batch []ReceivedEdit
	for i := range total {
		batch = append(batch, ReceivedEdit{Kind: EditRetract, Ref: fmt.Sprintf("nope-%d", i),
			Edit: Message{ConversationID: room, From: room + "/mallory", OriginID: fmt.Sprintf("r-%d", i), Timestamp: time.Now()}})
		if len(batch) == 100 || i == total-1 {
			if _, err := st.RecordEdits(batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	if _, err := st.RecordEdits([]ReceivedEdit{{Kind: EditRetract, Ref: "x", Edit: Message{ConversationID: other, From: other + "/p", OriginID: "r", Timestamp: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	es, err := st.ReceivedEdits(room)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != MaxPendingEdits {
		t.Fatalf("%d edits pending in the room, want at most %d", len(es), MaxPendingEdits)
	}
	if es[0].Ref != fmt.Sprintf("nope-%d", total-MaxPendingEdits) || es[len(es)-1].Ref != fmt.Sprintf("nope-%d", total-1) {
		t.Fatalf("kept %s … %s, want the newest", es[0].Ref, es[len(es)-1].Ref)
	}
	if es, err := st.ReceivedEdits(other); err != nil || len(es) != 1 {
		t.Fatalf("other conversation: %d pending, %v", len(es), err)
	}
}
