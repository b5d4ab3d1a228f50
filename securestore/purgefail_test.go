package securestore

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestPurgeCompactionFailureLeavesNothingAndIsRetried: the compaction after
// a purge fails as on a full disk. The purge is still committed, the file's
// free pages hold no purged record and no purged period key (an attacker
// with the file and the PIN recovers nothing purged), the pending compaction
// is recorded in the file, survives Close/Open, and is retried by the next
// Purge (which has nothing left to purge) until it succeeds.
func TestPurgeCompactionFailureLeavesNothingAndIsRetried(t *testing.T) {
	s, path, opts := newTestStore(t)
	const days, perDay = 4, 30
	marker := func(d, i int) string { return fmt.Sprintf("MARKER-D%d-M%03d-", d, i) }
	for d := 0; d < days; d++ {
		var batch []Message
		for i := 0; i < perDay; i++ {
			batch = append(batch, incoming("ward7@hospital.example", fmt.Sprintf("d%d-%d", d, i),
				marker(d, i)+"Bed 12 potassium", day0.Add(time.Duration(d)*24*time.Hour+time.Duration(i)*time.Minute)))
		}
		added := mustAppend(t, s, batch...)
		if _, err := s.AdvanceReceipt(added[1].ID, "", ReceiptRead, day0, ""); err != nil {
			t.Fatal(err)
		}
	}
	master := clone(s.master)
	full := fmt.Errorf("compact: %w", syscall.ENOSPC)
	compactFault = func() error { return full }
	t.Cleanup(func() { compactFault = nil })

	cut := day0.Truncate(24 * time.Hour).Add(2 * 24 * time.Hour) // days 0 and 1
	rep, err := s.Purge(cut)
	if err == nil || !rep.CompactionPending || !rep.Scrubbed || rep.Periods != 2 || rep.Messages != 2*perDay {
		t.Fatalf("purge with a full disk: %+v, %v", rep, err)
	}
	if p, err := s.CompactionPending(); err != nil || !p {
		t.Fatalf("pending not recorded: %v %v", p, err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recovered, _ := forensicRecover(t, raw, master, nil)
	for d := 0; d < days; d++ {
		for i := 0; i < perDay; i++ {
			if found := bytes.Contains(recovered, []byte(marker(d, i))); found != (d >= 2) {
				t.Fatalf("uncompacted file: message day %d #%d recovered=%v (purged days must not be)", d, i, found)
			}
		}
	}

	// The mark survives Close/Open; a Purge with nothing to purge retries.
	if s, err = Open(path, testPIN, opts); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, _ := s.CompactionPending(); !p {
		t.Fatal("pending compaction forgotten at reopen")
	}
	tries := 0
	compactFault = func() error { tries++; return full }
	if rep, err = s.Purge(cut); err == nil || !rep.CompactionPending || tries != 1 {
		t.Fatalf("second purge did not retry the compaction: %+v %v (tries %d)", rep, err, tries)
	}
	compactFault = nil
	if rep, err = s.Purge(cut); err != nil || rep.CompactionPending || rep.Periods != 0 {
		t.Fatalf("retry with space: %+v %v", rep, err)
	}
	if p, _ := s.CompactionPending(); p {
		t.Fatal("still pending after a successful compaction")
	}
	if done, err := s.FinishPurge(); done || err != nil {
		t.Fatalf("FinishPurge with nothing pending: %v %v", done, err)
	}
	if _, err := os.Stat(path + compactSuffix); !os.IsNotExist(err) {
		t.Fatalf("temp file left: %v", err)
	}
	if got, err := s.Latest("ward7@hospital.example", 1000); err != nil || len(got) != 2*perDay {
		t.Fatalf("kept days after the retried compaction: %d %v", len(got), err)
	}
	if err := s.VerifyAudit(); err != nil {
		t.Fatal(err)
	}
}

// TestPurgeNeverDropsUnsentSilently: an unsent message (in the outbox) in an
// expired period is not deleted by the purge that finds it, even when the
// caller's clock jumped a year ahead: it fails with ReasonRetention, leaves
// the outbox, and its period stays until a purge at least unsentGrace later.
func TestPurgeNeverDropsUnsentSilently(t *testing.T) {
	clk := &testClock{t: day0}
	s, _, _ := newTestStore(t)
	s.opts.Now = clk.Now
	old := incoming("ward7@hospital.example", "s-old", "old history", day0.Add(-48*time.Hour))
	old = mustAppend(t, s, old)[0]
	q, err := s.Enqueue(Message{ConversationID: "ward7@hospital.example", To: "ward7@hospital.example", Body: "K+ 6.9 recheck", OriginID: "o-q"})
	if err != nil {
		t.Fatal(err)
	}
	// A message sent days ago whose recall has not gone out yet.
	r, err := s.Enqueue(Message{ConversationID: "ward7@hospital.example", To: "ward7@hospital.example", Body: "Bed 3: wrong patient", OriginID: "o-r"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkSent(r.ID, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueRetraction(r.ID, "retract-1", clk.Now()); err != nil {
		t.Fatal(err)
	}
	// The clock jumps a year ahead; retention of 30 days says everything
	// stored so far is expired.
	clk.Advance(365 * 24 * time.Hour)
	rep, err := s.Purge(clk.Now().Add(-30 * 24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0] != q.ID || rep.Held != 1 { // q and r share a period
		t.Fatalf("purge report %+v, want the queued message failed and its period held", rep)
	}
	m, err := s.Message(q.ID)
	if err != nil {
		t.Fatalf("queued message deleted by the purge: %v", err)
	}
	if m.Receipt.State != ReceiptFailed || m.Receipt.Reason != ReasonRetention {
		t.Fatalf("queued message receipt %+v, want failed with the retention reason", m.Receipt)
	}
	if ob, _ := s.Outbox(); len(ob) != 1 || ob[0].ID != r.ID {
		t.Fatalf("outbox after the purge: %d entries, want only the pending recall", len(ob))
	}
	// History in another expired period, with nothing unsent, did go.
	wantErr(t, func() error { _, err := s.Message(old.ID); return err }(), ErrNotFound)
	// Within the grace it stays; after it, a purge removes it.
	clk.Advance(unsentGrace - time.Minute)
	if _, err := s.Purge(clk.Now().Add(-30 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Message(q.ID); err != nil {
		t.Fatalf("failed message removed within the grace: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if rep, err = s.Purge(clk.Now().Add(-30 * 24 * time.Hour)); err != nil || rep.Messages != 0 || rep.Held != 1 {
		t.Fatalf("after the grace, recall still pending: %+v %v", rep, err)
	}
	if _, err := s.Message(r.ID); err != nil {
		t.Fatalf("message with a pending recall purged: %v", err)
	}
	// The recall goes; then the period goes.
	if _, err := s.EditSent(r.ID, "retract-1", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if rep, err = s.Purge(clk.Now().Add(-30 * 24 * time.Hour)); err != nil || rep.Messages != 2 {
		t.Fatalf("after the grace and the recall: %+v %v", rep, err)
	}
	wantErr(t, func() error { _, err := s.Message(q.ID); return err }(), ErrNotFound)
	wantErr(t, func() error { _, err := s.Message(r.ID); return err }(), ErrNotFound)
}
