package securestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// commitCounter counts a store's committed write transactions (OnCommit).
type commitCounter struct {
	mu sync.Mutex
	cs []CommitStats
}

func (c *commitCounter) add(cs CommitStats) { c.mu.Lock(); c.cs = append(c.cs, cs); c.mu.Unlock() }
func (c *commitCounter) n() int             { c.mu.Lock(); defer c.mu.Unlock(); return len(c.cs) }

func newCountedStore(t *testing.T, opts Options) (*Store, *commitCounter, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "account.db")
	c := &commitCounter{}
	opts.OnCommit = c.add
	s, err := Create(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c, path
}

type markDone struct {
	mu      sync.Mutex
	calls   int
	changed bool
	err     error
}

func (d *markDone) done(changed bool, err error) {
	d.mu.Lock()
	d.calls++
	d.changed, d.err = changed, err
	d.mu.Unlock()
}

func (d *markDone) get() (int, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls, d.changed, d.err
}

func outboxIDs(t *testing.T, s *Store) []MessageID {
	t.Helper()
	out, err := s.view2Outbox()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// view2Outbox lists the Outbox without writing waiting marks (Outbox would).
func (s *Store) view2Outbox() ([]MessageID, error) {
	var ids []MessageID
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			ids = append(ids, MessageID(beUint64(v)))
			return nil
		})
	})
	return ids, err
}

// TestSentMarkRidesTheNextWrite: the server's ack of message 1 costs no
// commit of its own when the next message is queued: Enqueue writes it in
// its own transaction, after which message 1 is sent and off the Outbox and
// its done has run.
func TestSentMarkRidesTheNextWrite(t *testing.T) {
	s, commits, _ := newCountedStore(t, testOptions())
	conv := "a@h.example"
	m1, err := s.Enqueue(Message{ConversationID: conv, Body: "K+ 6.1, repeat?", OriginID: "o-1", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	var d markDone
	before := commits.n()
	s.MarkSentSoon(m1.ID, day0.Add(time.Second), d.done)
	if got, _ := s.Message(m1.ID); got.Receipt.State != ReceiptQueued {
		t.Fatalf("written at once: %v", got.Receipt.State)
	}
	if _, err := s.Enqueue(Message{ConversationID: conv, Body: "and Mg", OriginID: "o-2", Timestamp: day0.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if n := commits.n() - before; n != 1 {
		t.Fatalf("%d commits for an ack and an Enqueue, want 1", n)
	}
	if calls, changed, err := d.get(); calls != 1 || !changed || err != nil {
		t.Fatalf("done: %d calls, changed %v, err %v", calls, changed, err)
	}
	got, _ := s.Message(m1.ID)
	if got.Receipt.State != ReceiptSent || !got.Receipt.At[ReceiptSent].Equal(day0.Add(time.Second)) {
		t.Fatalf("receipt %+v", got.Receipt)
	}
	if ids := outboxIDs(t, s); len(ids) != 1 || ids[0] == m1.ID {
		t.Fatalf("outbox %v, want only message 2", ids)
	}
	// The linger timer was stopped: nothing more is written.
	time.Sleep(2 * s.opts.SentLinger)
	if n := commits.n() - before; n != 1 {
		t.Fatalf("%d commits after the linger, want 1", n)
	}
}

// TestSentMarkWrittenAlone: with no other write, the mark is written by a
// transaction of its own within the linger.
func TestSentMarkWrittenAlone(t *testing.T) {
	s, _, _ := newCountedStore(t, testOptions())
	m1, err := s.Enqueue(Message{ConversationID: "a@h.example", Body: "x", OriginID: "o-1", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	var d markDone
	s.MarkSentSoon(m1.ID, day0, d.done)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if calls, changed, err := d.get(); calls == 1 {
			if !changed || err != nil {
				t.Fatalf("changed %v err %v", changed, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mark never written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ids := outboxIDs(t, s); len(ids) != 0 {
		t.Fatalf("outbox %v", ids)
	}
}

// TestSentMarkSurvivesAFailedWrite: a transaction whose own work fails (a
// duplicate Enqueue) rolls back; the mark it carried waits for the next one.
// A mark for a message that is gone fails alone, without failing the write
// it rode.
func TestSentMarkSurvivesAFailedWrite(t *testing.T) {
	s, _, _ := newCountedStore(t, testOptions())
	conv := "a@h.example"
	m1, err := s.Enqueue(Message{ConversationID: conv, Body: "x", OriginID: "o-1", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	var d, gone markDone
	s.MarkSentSoon(m1.ID, day0, d.done)
	s.MarkSentSoon(9999, day0, gone.done)
	_, err = s.Enqueue(Message{ConversationID: conv, Body: "x", OriginID: "o-1", Timestamp: day0})
	wantErr(t, err, ErrDuplicate)
	if calls, _, _ := d.get(); calls != 0 {
		t.Fatal("mark reported with a rolled-back transaction")
	}
	if got, _ := s.Message(m1.ID); got.Receipt.State != ReceiptQueued {
		t.Fatalf("rolled back, yet %v", got.Receipt.State)
	}
	if _, err := s.Enqueue(Message{ConversationID: conv, Body: "y", OriginID: "o-2", Timestamp: day0}); err != nil {
		t.Fatalf("a gone message's mark failed the write it rode: %v", err)
	}
	if calls, changed, err := d.get(); calls != 1 || !changed || err != nil {
		t.Fatalf("done: %d %v %v", calls, changed, err)
	}
	if calls, _, err := gone.get(); calls != 1 || !errors.Is(err, ErrNotFound) {
		t.Fatalf("gone: %d %v", calls, err)
	}
}

// TestSentMarkOutboxAndClose: Outbox writes waiting marks first (an acked
// message is not resent), and Close writes them (reopened, it is sent); a
// mark that arrives after Close fails with ErrLocked and leaves its message
// on the Outbox.
func TestSentMarkOutboxAndClose(t *testing.T) {
	opts := testOptions()
	s, _, path := newCountedStore(t, opts)
	conv := "a@h.example"
	var ms []Message
	for i := range 3 {
		m, err := s.Enqueue(Message{ConversationID: conv, Body: "x", OriginID: fmt.Sprint("o-", i), Timestamp: day0})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	s.MarkSentSoon(ms[0].ID, day0, nil)
	out, err := s.Outbox()
	if err != nil || len(out) != 2 || out[0].ID != ms[1].ID {
		t.Fatalf("outbox %v %v", out, err)
	}
	s.MarkSentSoon(ms[1].ID, day0, nil)
	s.Close()
	var late markDone
	s.MarkSentSoon(ms[2].ID, day0, late.done)
	s2, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, _ := s2.Message(ms[1].ID)
	if got.Receipt.State != ReceiptSent {
		t.Fatalf("mark lost on Close: %v", got.Receipt.State)
	}
	if ids := outboxIDs(t, s2); !slices.Equal(ids, []MessageID{ms[2].ID}) {
		t.Fatalf("outbox after reopen %v", ids)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if calls, _, err := late.get(); calls == 1 {
			wantErr(t, err, ErrLocked)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("late mark never reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTailMergeIsBounded: no append pays for merging more than mergeEvery
// (+ its own batch) tail entries, and paging stays in order across the
// merges. With the threshold at 4,096 the append that crossed it merged
// all 4,096 at once.
func TestTailMergeIsBounded(t *testing.T) {
	opts := testOptions()
	opts.NoSync = true
	s, commits, _ := newCountedStore(t, opts)
	conv := "a@h.example"
	const n = 4200
	for i := range n {
		// Out of time order every 7th message: the merge sorts by time.
		at := day0.Add(time.Duration(i) * time.Second)
		if i%7 == 3 {
			at = at.Add(-90 * time.Second)
		}
		mustAppend(t, s, incoming(conv, fmt.Sprint("s", i), "obs", at))
	}
	merges := 0
	for _, c := range commits.cs {
		if c.Merged > 0 {
			merges++
		}
		if c.Merged > 512+1 {
			t.Fatalf("one append merged %d tail entries", c.Merged)
		}
	}
	if merges < n/512 {
		t.Fatalf("%d merges over %d messages", merges, n)
	}
	all, err := s.Latest(conv, n+1)
	if err != nil || len(all) != n {
		t.Fatalf("%d messages, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Timestamp.After(b.Timestamp) || (a.Timestamp.Equal(b.Timestamp) && a.ID > b.ID) {
			t.Fatalf("out of order at %d: %v after %v", i, b.Timestamp, a.Timestamp)
		}
	}
}

// TestOutboxWaitsForAMarkBeingWritten: a mark another write has taken but
// not committed yet is not "waiting" any more, yet its message is still on
// the Outbox until that write commits. Outbox (and so the engine's resend)
// must not list it meanwhile: FlushSent waits for such a write.
func TestOutboxWaitsForAMarkBeingWritten(t *testing.T) {
	s, _, _ := newCountedStore(t, testOptions())
	m, err := s.Enqueue(Message{ConversationID: "a@h.example", Body: "x", OriginID: "o-1", Timestamp: day0})
	if err != nil {
		t.Fatal(err)
	}
	s.MarkSentSoon(m.ID, day0, nil)
	inside, release := make(chan struct{}), make(chan struct{})
	carried := make(chan error, 1)
	go func() {
		carried <- s.update(func(*bbolt.Tx) error { close(inside); <-release; return nil })
	}()
	<-inside // the carrier holds the mark, uncommitted
	listed := make(chan []Message, 1)
	go func() {
		out, err := s.Outbox()
		if err != nil {
			t.Error(err)
		}
		listed <- out
	}()
	select {
	case out := <-listed:
		close(release)
		t.Fatalf("Outbox returned %d messages while the write carrying the ack of %d was uncommitted", len(out), m.ID)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-carried; err != nil {
		t.Fatal(err)
	}
	if out := <-listed; len(out) != 0 {
		t.Fatalf("Outbox lists %d messages after the write carrying the ack committed", len(out))
	}
}
