package ui

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"rounds/app"
)

// searchActions answers the search field from a fixed list of hits and
// records what it was asked.
type searchActions struct {
	*clinicalActions
	mu       sync.Mutex
	queries  []string
	prepared int
	openedAt []string
}

func newSearchActions() *searchActions { return &searchActions{clinicalActions: newClinicalActions()} }

func searchHits() []app.SearchHit {
	return []app.SearchHit{
		{Conversation: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, Message: 41, Sender: "Nurse Kim",
			Snippet: "Bed 12 K+ 6.1, potassium repeat sent, please review", Time: "13:40", Urgency: app.UrgencyHigh},
		{Conversation: "dr.osei@rounds.test", Title: "Dr Osei", Message: 17, Sender: "Dr Osei",
			Snippet: "Potassium replaced, recheck at 18:00", Time: "11 Mar 09:12"},
		{Conversation: "pharmacy@rounds.test", Title: "Pharmacy", Message: 3, Sender: "You",
			Snippet: "…oral potassium for bed 4 when you can, thanks", Time: "10 Mar 16:55"},
	}
}

func (f *searchActions) PrepareSearch() { f.mu.Lock(); f.prepared++; f.mu.Unlock() }

func (f *searchActions) SearchMessages(q app.MessageSearch) ([]app.SearchHit, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q.Text)
	f.mu.Unlock()
	if q.Text == "zzz" {
		return nil, nil
	}
	return searchHits(), nil
}

func (f *searchActions) OpenAt(conv string, id app.MessageID) {
	f.mu.Lock()
	f.openedAt = append(f.openedAt, conv+"#"+itoaID(id))
	f.mu.Unlock()
}

func itoaID(id app.MessageID) string { return time.Duration(id).String() }

func (f *searchActions) snap() (queries []string, prepared int, opened []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...), f.prepared, append([]string(nil), f.openedAt...)
}

// TestInboxSearchesMessages: typing in the inbox's search field asks the
// app for messages once typing pauses (the index prepared once), shows
// the hits under the matching conversations, and tapping a hit opens its
// conversation at that message; clearing the field hides the hits.
func TestInboxSearchesMessages(t *testing.T) {
	test.NewTempApp(t)
	f := newSearchActions()
	v := NewInboxView(inboxRows(), f)
	var opened []app.ConversationRow
	v.OnOpen = func(r app.ConversationRow) { opened = append(opened, r) }
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))

	test.Type(v.search, "pot")
	if !waitFor(func() bool { return v.hits.box.Visible() && len(v.hits.hits) == 3 }) {
		t.Fatal("no hits shown")
	}
	queries, prepared, _ := f.snap()
	if prepared != 1 || len(queries) != 1 || queries[0] != "pot" {
		t.Errorf("typing three letters asked %q, prepared %d times; want one query after the pause", queries, prepared)
	}
	if v.hits.head.Text != "3 messages" {
		t.Errorf("head %q", v.hits.head.Text)
	}
	v.hits.list.Select(1)
	if !waitFor(func() bool { _, _, o := f.snap(); return len(o) == 1 }) {
		t.Fatal("tapping a hit opened nothing")
	}
	if _, _, o := f.snap(); o[0] != "dr.osei@rounds.test#17ns" {
		t.Errorf("opened %q", o[0])
	}
	if len(opened) != 1 || opened[0].ID != "dr.osei@rounds.test" || opened[0].Title != "Dr Osei" {
		t.Errorf("shell told %+v", opened)
	}

	v.search.SetText("zzz")
	if !waitFor(func() bool { return v.hits.head.Text == "No message matches “zzz”" }) {
		t.Errorf("no-match head %q", v.hits.head.Text)
	}
	v.search.SetText("")
	drainUI()
	if v.hits.box.Visible() {
		t.Error("hits still shown after the field was cleared")
	}
}

// TestInboxWithoutMessageSearch: actions that cannot search messages keep
// the title filter alone.
func TestInboxWithoutMessageSearch(t *testing.T) {
	test.NewTempApp(t)
	v := NewInboxView(inboxRows(), &fakeActions{})
	if v.hits != nil || v.search.PlaceHolder != "Search conversations" {
		t.Fatal("message search offered without an app to ask")
	}
	v.search.SetText("osei")
	if len(v.shown) != 1 {
		t.Errorf("title filter: %d rows", len(v.shown))
	}
}

// TestScrollToMessage: a thread opened on a search hit far above the
// newest message is scrolled to that message, not to the bottom.
func TestScrollToMessage(t *testing.T) {
	test.NewTempApp(t)
	rows := manyMessages(300)
	v := NewConversationView(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, rows, &fakeActions{})
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	drainUI()
	bottom := v.list.GetScrollOffset()
	v.SetMessages(rows, true)
	v.ScrollToMessage(rows[20].ID)
	w.Resize(fyne.NewSize(391, 844)) // lay out again
	w.Resize(fyne.NewSize(390, 844))
	drainUI()
	got := v.list.GetScrollOffset()
	if bottom <= 0 || got <= 0 || got >= bottom/2 {
		t.Errorf("offset %v after ScrollToMessage (bottom is %v)", got, bottom)
	}
}

func searchScreens() []screenshot {
	var inbox *InboxView
	return []screenshot{
		{name: "search", build: func() fyne.CanvasObject {
			s := NewShell(newSearchActions(), settingsState())
			s.Inbox.SetRows(inboxRows())
			s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
			inbox = s.Inbox
			return s.Content()
		}, after: func(t *testing.T, w fyne.Window) {
			inbox.search.SetText("potassium")
			if !waitFor(func() bool { return len(inbox.hits.hits) == 3 }) {
				t.Fatal("no hits")
			}
		}},
	}
}

// TestHiddenHitsStayUnbuilt: an empty query on the hidden hits list (the
// search filters' defaults, set three times while the shell is built) does
// no work: no renderer built and measured for a list nobody sees.
func TestHiddenHitsStayUnbuilt(t *testing.T) {
	test.NewTempApp(t)
	build := testing.AllocsPerRun(20, func() { newMessageHits(func(app.SearchHit) {}) })
	cleared := testing.AllocsPerRun(20, func() {
		h := newMessageHits(func(app.SearchHit) {})
		for range 3 {
			h.show(nil, "")
		}
	})
	if cleared != build {
		t.Fatalf("clearing a hidden hits list allocated %.0f times (building it %.0f): it built what nobody sees", cleared-build, build)
	}
}
