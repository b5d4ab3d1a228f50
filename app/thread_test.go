package app

import (
	"testing"
	"time"
)

// TestThreadFresh: a refresh returns only the rows not drawn yet; a fresh
// row older than the newest drawn (a catch-up filling a gap) asks for a
// redraw; an earlier page and a redraw count as drawn.
func TestThreadFresh(t *testing.T) {
	t0 := time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC)
	row := func(id MessageID, min int) MessageRow {
		return MessageRow{ID: id, Timestamp: t0.Add(time.Duration(min) * time.Minute)}
	}
	th := NewThread("icu@rooms.rounds.test", []MessageRow{row(1, 0), row(2, 1)})
	if th.Conversation() != "icu@rooms.rounds.test" || (*Thread)(nil).Conversation() != "" {
		t.Fatal("conversation")
	}
	// A receipt changed on a known row, and one new row: only the new one is fresh.
	fresh, gap := th.Fresh([]MessageRow{row(1, 0), row(2, 1), row(3, 2)})
	if len(fresh) != 1 || fresh[0].ID != 3 || gap {
		t.Fatalf("fresh %v gap %v", fresh, gap)
	}
	if fresh, gap := th.Fresh([]MessageRow{row(2, 1), row(3, 2)}); len(fresh) != 0 || gap {
		t.Fatalf("nothing new: fresh %v gap %v", fresh, gap)
	}
	// A catch-up brings a message from before the newest drawn, with a
	// higher id: it is fresh, and it goes in the middle.
	fresh, gap = th.Fresh([]MessageRow{row(1, 0), row(9, 1), row(2, 1), row(3, 2)})
	if len(fresh) != 1 || fresh[0].ID != 9 || !gap {
		t.Fatalf("gap not seen: fresh %v gap %v", fresh, gap)
	}
	th.Redrawn([]MessageRow{row(1, 0), row(9, 1), row(2, 1), row(3, 2)})
	if fresh, gap := th.Fresh([]MessageRow{row(9, 1), row(3, 2), row(4, 3)}); len(fresh) != 1 || fresh[0].ID != 4 || gap {
		t.Fatalf("after redraw: fresh %v gap %v", fresh, gap)
	}
	// Rows of an earlier page are known afterwards.
	th.Prepended([]MessageRow{row(0, -5)})
	if fresh, _ := th.Fresh([]MessageRow{row(0, -5), row(4, 3)}); len(fresh) != 0 {
		t.Fatalf("earlier page fresh again: %v", fresh)
	}
}
