package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"rounds/app"
)

// BenchmarkPrependHistory: a user scrolling back through a 10,000-message
// conversation, 200 rows a page, each page laid out before the next comes
// (as LoadOlder's answers arrive). What grows with the rows already held is
// the cost per page; allocs/op and B/op are for the whole history.
//
//	go test ./ui/ -run '^$' -bench PrependHistory -benchmem -count 3
func BenchmarkPrependHistory(b *testing.B) {
	test.NewTempApp(b)
	all := manyMessages(10000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v, _, _ := openConversation(b, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, HasOlder: true}, append([]app.MessageRow(nil), all[len(all)-200:]...), fyne.NewSize(900, 640))
		r := test.WidgetRenderer(v)
		r.Layout(v.Size())
		b.StartTimer()
		for end := len(all) - 200; end > 0; end -= 200 {
			v.Prepend(all[end-200:end], end > 200)
			r.Layout(v.Size()) // the next layout builds the list again
		}
		b.StopTimer()
		if len(v.rows) != len(all) || len(v.metrics) != len(all) {
			b.Fatalf("%d rows, %d heights", len(v.rows), len(v.metrics))
		}
	}
}

// Prepend keeps the heights it measured for the older page and those of the
// rows already shown: after paging back through the history the rows are in
// order and every height is what measuring the whole list afresh gives.
func TestPrependKeepsRowsAndHeights(t *testing.T) {
	test.NewTempApp(t)
	all := manyMessages(1000)
	all = all[:len(all):len(all)]
	v, _, _ := openConversation(t, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, HasOlder: true}, append([]app.MessageRow(nil), all[len(all)-100:]...), fyne.NewSize(900, 640))
	r := test.WidgetRenderer(v)
	r.Layout(v.Size())
	for end := len(all) - 100; end > 0; end -= 100 {
		v.Prepend(all[end-100:end], end > 100)
		if end%300 == 0 { // a new message meanwhile: the rows move to a new array
			n := manyMessages(1)[0]
			n.ID = app.MessageID(100000 + end)
			v.Append(n)
			all = append(all, n)
		}
		r.Layout(v.Size())
	}
	if len(v.rows) != len(all) {
		t.Fatalf("%d rows, want %d", len(v.rows), len(all))
	}
	g := v.geometry()
	for i := range all {
		if v.rows[i].ID != all[i].ID {
			t.Fatalf("row %d is message %d, want %d", i, v.rows[i].ID, all[i].ID)
		}
		if m := v.measure(&g, all[i], v.bubbleMax); v.metrics[i] != m {
			t.Fatalf("row %d height %+v, measured afresh %+v", i, v.metrics[i], m)
		}
	}
}

// After an older page, a correction of a row already shown and a new message
// reach the right rows (the index moved by the page) and get the heights a
// fresh measure gives.
func TestPrependThenCorrectionAndNewMessage(t *testing.T) {
	test.NewTempApp(t)
	all := manyMessages(300)
	all = all[:len(all):len(all)]
	v, _, _ := openConversation(t, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, HasOlder: true}, append([]app.MessageRow(nil), all[100:]...), fyne.NewSize(900, 640))
	r := test.WidgetRenderer(v)
	r.Layout(v.Size())
	v.Prepend(all[:100], false)
	c := all[250]
	c.Body = "corrected: bed 4 obs due at 14:00, please check the drain and the fluid balance before the round"
	v.Update(c)
	all[250] = c
	n := manyMessages(1)[0]
	n.ID = 100000
	v.Append(n)
	all = append(all, n)
	r.Layout(v.Size())
	g := v.geometry()
	for i := range all {
		if v.rows[i].ID != all[i].ID || v.rows[i].Body != all[i].Body {
			t.Fatalf("row %d is message %d %q, want %d %q", i, v.rows[i].ID, v.rows[i].Body, all[i].ID, all[i].Body)
		}
		if m := v.measure(&g, all[i], v.bubbleMax); v.metrics[i] != m {
			t.Fatalf("row %d height %+v, measured afresh %+v", i, v.metrics[i], m)
		}
	}
}
