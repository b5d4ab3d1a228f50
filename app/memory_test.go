package app

import (
	"fmt"
	"testing"
	"time"

	"rounds/securestore"
)

// Paging back through a long conversation returns the freed heap to the OS
// once, historySettle after the last older page, never per page (each
// return is a full GC). The clock is injected: nothing waits on real time.
func TestOlderPagesReturnHeapOnceSettled(t *testing.T) {
	c := offlineClient(t)
	clock := c.cfg.Clock.(*fakeClock)
	frees := 0
	c.heap.free = func() { frees++ }
	const conv = "ward4@hospital.test"
	var ms []securestore.Message
	for i := 0; i < 30; i++ {
		ts := clock.Now().Add(time.Duration(i-30) * time.Minute)
		ms = append(ms, securestore.Message{ConversationID: conv, Body: "obs", Direction: securestore.Incoming,
			From: conv + "/phone", To: c.account, OriginID: fmt.Sprintf("o-%d", i), Timestamp: ts, ReceivedAt: ts})
	}
	if _, err := c.store.AppendMessages(ms); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Messages(conv, 10)
	if err != nil || len(rows) != 10 {
		t.Fatalf("newest page: %d rows, %v", len(rows), err)
	}
	first := rows[0].ID
	for page := 0; page < 2; page++ { // the user scrolls up, a page a second
		older, err := c.Older(conv, first, 10)
		if err != nil || len(older) != 10 {
			t.Fatalf("older page %d: %d rows, %v", page, len(older), err)
		}
		first = older[0].ID
		clock.Advance(time.Second)
		if frees != 0 {
			t.Fatalf("heap returned %d times while pages were still coming", frees)
		}
	}
	clock.Advance(historySettle)
	if frees != 1 {
		t.Fatalf("heap returned %d times %v after the last older page, want 1", frees, historySettle+time.Second)
	}
	clock.Advance(time.Hour)
	if frees != 1 {
		t.Fatalf("heap returned %d times after an idle hour, want 1 (once per settled load)", frees)
	}
}
