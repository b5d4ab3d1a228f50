package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/securestore"
)

// jumpClock is a fakeClock whose wall time can jump without time passing,
// as a device clock does when a time server or a user sets it wrong. It
// tells real elapsed time as the real Clock does through Go's monotonic
// reading.
type jumpClock struct {
	*fakeClock
	jumped time.Duration
}

func (c *jumpClock) Jump(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.jumped += d
	c.mu.Unlock()
}

func (c *jumpClock) Elapsed(since time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(since) - c.jumped
}

// TestRetentionClockJumpKeepsHistoryAndQueue: with 30 days' retention, the
// device clock jumping a year ahead shreds neither the history still within
// retention nor a queued message: the retention clock moves at most
// maxClockStep past the last known time (audited), and an unsent message
// whose period does expire (a store purged by a caller without that bound)
// is failed with a reason the user sees, not deleted.
func TestRetentionClockJumpKeepsHistoryAndQueue(t *testing.T) {
	cfg := testConfig(t)
	clk := &jumpClock{fakeClock: &fakeClock{now: time.Now()}}
	cfg.Clock = clk
	cfg.Policy.Retention = 30 * 24 * time.Hour
	cfg = cfg.withDefaults()
	path := filepath.Join(cfg.DataDir, "a.db")
	st, err := securestore.Create(path, testPIN, cfg.storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := newClient(cfg, path)
	t.Cleanup(c.changes.close)
	done := make(chan struct{})
	close(done)
	c.store, c.account, c.stop, c.done = st, "nurse.ana@hospital.test", func() {}, done

	const ward = "ward7@hospital.test"
	msg := func(id string, age time.Duration) securestore.Message {
		return securestore.Message{ConversationID: ward, From: ward + "/desk", To: "nurse.ana@hospital.test",
			Direction: securestore.Incoming, Body: "obs " + id, StanzaID: id, StanzaIDBy: "hospital.test",
			Timestamp: clk.Now().Add(-age)}
	}
	added, err := st.AppendMessages([]securestore.Message{msg("old", 40*24*time.Hour), msg("recent", 2*24*time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := st.Enqueue(securestore.Message{ConversationID: ward, To: ward, Body: "K+ 6.9 recheck", OriginID: "o-q"})
	if err != nil {
		t.Fatal(err)
	}
	if c.purge(st) {
		t.Fatal("compaction pending after a plain purge")
	}
	if _, err := st.Message(added[0].ID); err == nil {
		t.Fatal("40-day-old message kept with 30 days' retention")
	}

	clk.Jump(365 * 24 * time.Hour)
	c.purge(st)
	if _, err := st.Message(added[1].ID); err != nil {
		t.Fatalf("a clock jump shredded history within retention: %v", err)
	}
	m, err := st.Message(q.ID)
	if err != nil || m.Receipt.State != securestore.ReceiptQueued {
		t.Fatalf("a clock jump touched the queued message: %+v %v", m.Receipt, err)
	}
	if ob, _ := st.Outbox(); len(ob) != 1 {
		t.Fatalf("outbox after the jump: %d", len(ob))
	}
	es, _ := st.AuditLog()
	if last := es[len(es)-1]; !strings.Contains(last.Detail, "retention clock held back") {
		es2 := es[max(len(es)-3, 0):]
		t.Fatalf("held-back clock not audited: %+v", es2)
	}

	// A purge with an unbounded clock (what cli's state store or a
	// caller without this policy does): the queued message fails with a
	// reason and stays visible.
	if _, err := st.Purge(clk.Now()); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Messages(ward, 10)
	if err != nil {
		t.Fatal(err)
	}
	var failed *MessageRow
	for i := range rows {
		if rows[i].ID == q.ID {
			failed = &rows[i]
		}
	}
	if failed == nil || failed.Receipt.State != securestore.ReceiptFailed || failed.Receipt.Reason != securestore.ReasonRetention {
		t.Fatalf("queued message after an expiring purge: %+v", failed)
	}
}

// TestRetentionRetriesPendingCompaction: the compaction after a purge fails
// (here: something occupies the path of the compacted copy, as a full disk
// would fail it); the purge is committed, the app retries every
// retentionRetry on its clock, and the retry completes once it can, also
// after the retention policy was lifted.
func TestRetentionRetriesPendingCompaction(t *testing.T) {
	for _, lifted := range []bool{false, true} {
		cfg := testConfig(t)
		clk := &fakeClock{now: time.Now()}
		cfg.Clock = clk
		cfg.Policy.Retention = 24 * time.Hour
		cfg = cfg.withDefaults()
		path := filepath.Join(cfg.DataDir, "a.db")
		st, err := securestore.Create(path, testPIN, cfg.storeOptions())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		c := newClient(cfg, path)
		t.Cleanup(c.changes.close)
		done := make(chan struct{})
		close(done)
		c.store, c.account, c.stop, c.done = st, "nurse.ana@hospital.test", func() {}, done
		old, err := st.AppendMessages([]securestore.Message{{ConversationID: "ward7@hospital.test", From: "ward7@hospital.test/desk",
			Direction: securestore.Incoming, Body: "obs", StanzaID: "s1", StanzaIDBy: "hospital.test", Timestamp: clk.Now().Add(-72 * time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		block := path + ".compact"
		if err := os.MkdirAll(filepath.Join(block, "x"), 0o700); err != nil {
			t.Fatal(err)
		}
		c.armRetention(st, true)
		retryArmed := func() bool {
			clk.mu.Lock()
			defer clk.mu.Unlock()
			for _, tm := range clk.timers {
				if !tm.stopped && tm.at.Equal(clk.now.Add(retentionRetry)) {
					return true
				}
			}
			return false
		}
		waitFor(t, "purge committed, compaction pending, retry armed", 10*time.Second, func() bool {
			p, _ := st.CompactionPending()
			_, gone := st.Message(old[0].ID)
			return p && gone != nil && retryArmed()
		})
		if lifted {
			c.mu.Lock()
			c.cfg.Policy.Retention = 0
			c.mu.Unlock()
		}
		clk.Advance(retentionRetry) // still blocked: the retry fails, another is armed
		if p, _ := st.CompactionPending(); !p || !retryArmed() {
			t.Fatal("compaction done while blocked, or no further retry armed")
		}
		os.RemoveAll(block)
		clk.Advance(retentionRetry)
		if p, err := st.CompactionPending(); p || err != nil {
			t.Fatalf("lifted=%v: compaction still pending after a retry with room: %v", lifted, err)
		}
	}
}
