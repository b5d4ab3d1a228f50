package ui

import (
	"fmt"
	"image"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

func openConversation(t testing.TB, info ConversationInfo, rows []app.MessageRow, size fyne.Size) (*ConversationView, *fakeActions, fyne.Window) {
	t.Helper()
	f := &fakeActions{}
	v := NewConversationView(info, rows, f)
	w := test.NewTempWindow(t, v)
	w.Resize(size)
	return v, f, w
}

func TestComposerSendsOnEnter(t *testing.T) {
	test.NewTempApp(t)
	v, f, w := openConversation(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), fyne.NewSize(900, 640))
	w.Canvas().Focus(v.composer)
	test.Type(v.composer, "Bed 12 K+ 6.1")
	// Shift+Enter is a new line, not a send.
	v.composer.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	v.composer.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	test.Type(v.composer, "please review")
	if len(f.sent) != 0 {
		t.Fatalf("Shift+Enter sent: %q", f.sent)
	}
	v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(f.sent) != 1 || f.sent[0] != "dr.osei@rounds.test: Bed 12 K+ 6.1\nplease review" {
		t.Fatalf("sent %q", f.sent)
	}
	if v.composer.Text != "" {
		t.Fatalf("composer not cleared: %q", v.composer.Text)
	}
	// A failed send keeps the text and says why.
	f.sendErr = errTest("the store is locked")
	test.Type(v.composer, "Repeat K+")
	test.Tap(v.send)
	if v.composer.Text != "Repeat K+" || !v.sendErr.Visible() || !strings.Contains(v.sendErr.Text, "the store is locked") {
		t.Fatalf("failed send: text %q, error %q visible %v", v.composer.Text, v.sendErr.Text, v.sendErr.Visible())
	}
}

func TestComposerMobileEnterIsNewline(t *testing.T) {
	test.NewTempApp(t)
	restore := isMobile
	isMobile = func() bool { return true }
	defer func() { isMobile = restore }()
	v, f, _ := openConversation(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), fyne.NewSize(390, 844))
	test.Type(v.composer, "On my way")
	v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(f.sent) != 0 {
		t.Fatalf("Enter sent on mobile: %q", f.sent)
	}
	test.Tap(v.send)
	if len(f.sent) != 1 || f.sent[0] != "dr.osei@rounds.test: On my way" {
		t.Fatalf("send button sent %q", f.sent)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func findAll[T any](o fyne.CanvasObject) []T {
	var out []T
	walk(o, func(o fyne.CanvasObject) {
		if v, ok := o.(T); ok && o.Visible() {
			out = append(out, v)
		}
		if f, ok := o.(*field); ok && f.Visible() { // a dialog's text field is an Entry too
			if v, ok := any(&f.Entry).(T); ok {
				out = append(out, v)
			}
		}
		if f, ok := o.(*composerEntry); ok && f.onSend == nil && f.Visible() { // so is a dialog's clinical field
			if v, ok := any(&f.Entry).(T); ok {
				out = append(out, v)
			}
		}
	})
	return out
}

// TestReceiptDetail taps a tick and finds every state with its time, per member
// in a room.
func TestReceiptDetail(t *testing.T) {
	test.NewTempApp(t)
	rows := roomMessages()
	v, _, w := openConversation(t, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, rows, fyne.NewSize(900, 640))
	ticks := findAll[*tapIcon](v)
	if len(ticks) == 0 {
		t.Fatal("no receipt ticks drawn")
	}
	var tapped bool
	for _, tk := range ticks {
		if tk.img.Resource == tickDelivered {
			test.Tap(tk)
			tapped = true
			break
		}
	}
	if !tapped {
		t.Fatal("no delivered tick for message 5")
	}
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("tapping the tick opened nothing")
	}
	var texts []string
	for _, l := range findAll[*widget.Label](top) {
		texts = append(texts, l.Text)
	}
	all := strings.Join(texts, "|")
	r := rows[4]
	for _, s := range []app.ReceiptState{app.ReceiptQueued, app.ReceiptSent, app.ReceiptDelivered} {
		if !strings.Contains(all, r.Receipt.At[s].Local().Format(stampFormat)) {
			t.Errorf("detail lacks the %v time: %s", s, all)
		}
	}
	for _, want := range []string{"Dr Osei", "Nurse Kim", "Pharmacy", "Read", "Acknowledged", r.Members["Dr Osei"].At[app.ReceiptRead].Local().Format(stampFormat)} {
		if !strings.Contains(all, want) {
			t.Errorf("detail lacks %q: %s", want, all)
		}
	}
}

// TestMarkupIsLiteral: markup in a body is drawn as the characters typed, and
// nothing is fetched from the "remote image" server.
func TestMarkupIsLiteral(t *testing.T) {
	test.NewTempApp(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	body := "![x](" + srv.URL + "/a.png) <img src=\"" + srv.URL + "/b.png\"> **bold** [link](" + srv.URL + "/c)"
	rows := []app.MessageRow{{ID: 1, Sender: "Unknown", Body: body, Timestamp: fixedNow, DayBreak: true}}
	v, _, w := openConversation(t, ConversationInfo{ID: "x@rounds.test", Title: "x"}, rows, fyne.NewSize(900, 640))
	w.Canvas().Capture()
	var rts []*widget.RichText
	walk(v, func(o fyne.CanvasObject) {
		if rt, ok := o.(*widget.RichText); ok && o.Visible() && strings.Contains(rt.String(), "bold") {
			rts = append(rts, rt)
		}
	})
	if len(rts) == 0 {
		t.Fatal("body not drawn")
	}
	var text strings.Builder
	for _, s := range rts[0].Segments {
		switch s := s.(type) {
		case *widget.TextSegment:
			text.WriteString(s.Text)
		case *widget.HyperlinkSegment:
			if s.URL.Scheme != "http" && s.URL.Scheme != "https" {
				t.Errorf("link with scheme %q", s.URL.Scheme)
			}
			text.WriteString(s.Text)
		default:
			t.Errorf("segment %T drawn from an untrusted body", s)
		}
	}
	for _, lit := range []string{"![x](", "<img src=", "**bold**", "[link]("} {
		if !strings.Contains(text.String(), lit) {
			t.Errorf("%q not drawn literally in %q", lit, text.String())
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := hits.Load(); n != 0 {
		t.Fatalf("drawing a message made %d HTTP requests", n)
	}
}

func TestBodySegments(t *testing.T) {
	segs := bodySegments("see https://intranet.hospital.org/a?b=1. and javascript:alert(1) file:///etc/passwd ftp://x.org/y")
	var links []string
	for _, s := range segs {
		if h, ok := s.(*widget.HyperlinkSegment); ok {
			links = append(links, h.URL.String())
		}
	}
	if len(links) != 1 || links[0] != "https://intranet.hospital.org/a?b=1" {
		t.Fatalf("links %q", links)
	}
}

// TestTenThousandMessages: every height is set before the list is shown, the
// view opens at the newest message, and "jump to first unread" and "load
// older" work.
func TestTenThousandMessages(t *testing.T) {
	test.NewTempApp(t)
	rows := manyMessages(10000)
	v, f, w := openConversation(t, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, Unread: 30, HasOlder: true}, rows, fyne.NewSize(900, 640))
	if len(v.metrics) != 10000 {
		t.Fatalf("%d heights computed", len(v.metrics))
	}
	if v.list.GetScrollOffset() == 0 {
		t.Fatal("did not open at the newest message")
	}
	if !v.jump.Visible() || v.firstUnread < 0 {
		t.Fatal("no jump-to-unread")
	}
	test.Tap(v.jump)
	if v.jump.Visible() {
		t.Fatal("jump button still shown")
	}
	v.list.ScrollToTop()
	w.Canvas().Capture()
	if !waitFor(func() bool { return f.snapshot(func(f *fakeActions) int { return len(f.older) }) == 1 }) {
		t.Fatal("scrolling to the top did not load older messages")
	}
	if f.older[0] != rows[0].ID {
		t.Fatalf("LoadOlder before %d, want %d", f.older[0], rows[0].ID)
	}
	older := manyMessages(50)
	for i := range older {
		older[i].ID += 100000
	}
	v.Prepend(older, false)
	w.Canvas().Capture()
	if len(v.rows) != 10050 || v.list.GetScrollOffset() == 0 {
		t.Fatalf("after prepend: %d rows, offset %v", len(v.rows), v.list.GetScrollOffset())
	}
	v.flushShown()
	if !waitFor(func() bool { return f.snapshot(func(f *fakeActions) int { return len(f.shown) }) > 0 }) {
		t.Fatal("MarkShown never called")
	}
	// New messages at the bottom keep the list (no rebuild) and get heights.
	list := v.list
	v.list.ScrollToBottom()
	v.Append(app.MessageRow{ID: 200000, Sender: "Dr Osei", Body: "Bed 12 K+ 5.2 on repeat", Timestamp: fixedNow})
	if v.list != list || len(v.metrics) != len(v.rows) {
		t.Fatal("append rebuilt the list or skipped a height")
	}
}

func BenchmarkOpenConversation10k(b *testing.B) {
	a := test.NewApp()
	defer a.Quit()
	rows := manyMessages(10000)
	bodyMeasurer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := NewConversationView(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, HasOlder: true}, rows, &fakeActions{})
		w := test.NewWindow(v)
		w.Resize(fyne.NewSize(900, 640))
		w.Canvas().Capture()
		w.Close()
	}
}

// TestClickInTheThreadSelectsNothing: clicking a message (the list selects
// the row it is in) leaves the screen as it was: no row painted in the
// selection colour (issue 14's navy row).
func TestClickInTheThreadSelectsNothing(t *testing.T) {
	test.NewTempApp(t)
	v, _, w := openConversation(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), fyne.NewSize(900, 640))
	before := w.Canvas().Capture()
	v.list.Select(len(v.rows) - 1 + v.offset())
	after := w.Canvas().Capture()
	if msg := imageDiff(before, after); msg != "" {
		t.Fatalf("selecting a message changed the screen: %s", msg)
	}
}

func imageDiff(a, b image.Image) string {
	if a.Bounds() != b.Bounds() {
		return "size changed"
	}
	n := 0
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				n++
			}
		}
	}
	if n > 0 {
		return fmt.Sprintf("%d pixels differ", n)
	}
	return ""
}
