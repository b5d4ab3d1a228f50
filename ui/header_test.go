package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// TestConversationHeaderDotInline: the presence dot sits on the title's
// line, before the name and vertically centred with it; the subtitle lines
// up with the name; a room has no dot and no gap where it would be.
func TestConversationHeaderDotInline(t *testing.T) {
	test.NewTempApp(t)
	abs := func(o fyne.CanvasObject) fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	}
	for _, size := range []fyne.Size{screenSizes["desktop"], screenSizes["phone"]} {
		v, _, _ := openConversation(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei", Presence: "dnd"}, chatMessages(), size)
		dot, title, sub := abs(v.dot), abs(v.title), abs(v.subtitle)
		if !v.dot.Visible() || v.dot.Size().Width == 0 {
			t.Fatal("no presence dot in a chat")
		}
		dotMid := dot.Y + v.dot.Size().Height/2
		titleMid := title.Y + v.title.Size().Height/2
		if d := dotMid - titleMid; d > 1 || d < -1 {
			t.Errorf("%v: dot centred at y %v, title at %v", size, dotMid, titleMid)
		}
		if dot.X+v.dot.Size().Width > title.X+4 { // the label's own padding leads its text
			t.Errorf("%v: dot at x %v..%v runs into the title at %v", size, dot.X, dot.X+v.dot.Size().Width, title.X)
		}
		if sub.X != title.X {
			t.Errorf("%v: subtitle at x %v, title at %v", size, sub.X, title.X)
		}
		if sub.Y < title.Y+v.title.Size().Height-1 {
			t.Errorf("%v: subtitle at y %v overlaps the title line", size, sub.Y)
		}
	}
	v, _, _ := openConversation(t, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, roomMessages(), screenSizes["desktop"])
	if v.dotBox.Visible() {
		t.Fatal("presence dot shown for a room")
	}
	if title, sub := abs(v.title), abs(v.subtitle); sub.X != title.X || title.X > abs(v).X+3*theme.Padding() {
		t.Errorf("room header: title x %v, subtitle x %v", title.X, sub.X)
	}
}
