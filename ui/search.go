package ui

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// SearchActions is what the inbox's search field asks of the app beyond
// InboxActions: the messages of every conversation, and opening one of them
// in its conversation. The controller's actions answer it; an InboxActions
// without it searches conversation titles only.
type SearchActions interface {
	// PrepareSearch builds the search index in the background.
	PrepareSearch()
	SearchMessages(q app.MessageSearch) ([]app.SearchHit, error)
	// OpenAt shows conv scrolled to message id.
	OpenAt(conv string, id app.MessageID)
}

// searchDelay: the search runs when typing pauses this long.
const searchDelay = 150 * time.Millisecond

// messageHits is the inbox's list of messages found by the search field,
// under the conversations whose titles match.
type messageHits struct {
	head *widget.Label
	list *widget.List
	hits []app.SearchHit
	box  *fyne.Container
	// relayout lays the inbox's body out again (the hits' share changed).
	relayout func()

	mu       sync.Mutex
	seq      int  // the latest query typed; older answers are dropped
	prepared bool // PrepareSearch asked once
}

func newMessageHits(open func(app.SearchHit)) *messageHits {
	h := &messageHits{head: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	h.head.SizeName = theme.SizeNameCaptionText
	h.list = widget.NewList(func() int { return len(h.hits) }, newHitRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < len(h.hits) {
			o.(*hitRow).bind(h.hits[id])
		}
	})
	h.list.OnSelected = func(id widget.ListItemID) {
		if id < len(h.hits) {
			open(h.hits[id])
		}
		h.list.UnselectAll()
	}
	h.box = container.NewBorder(h.head, nil, nil, nil, h.list)
	h.box.Hide()
	return h
}

// search runs q (debounced, off the UI goroutine) and shows the answer;
// label names the query in the "no match" line.
func (h *messageHits) search(sa SearchActions, ms app.MessageSearch, label string) {
	q := strings.TrimSpace(label)
	h.mu.Lock()
	h.seq++
	seq := h.seq
	if !h.prepared && q != "" {
		h.prepared = true
		sa.PrepareSearch()
	}
	h.mu.Unlock()
	if q == "" {
		h.show(nil, "")
		return
	}
	go func() {
		time.Sleep(searchDelay)
		h.mu.Lock()
		stale := seq != h.seq
		h.mu.Unlock()
		if stale {
			return
		}
		hits, err := sa.SearchMessages(ms)
		if err != nil {
			hits = nil
		}
		doUI(func() {
			h.mu.Lock()
			stale := seq != h.seq
			h.mu.Unlock()
			if !stale {
				h.show(hits, q)
			}
		})
	}()
}

func (h *messageHits) show(hits []app.SearchHit, q string) {
	drawn := h.box.Visible() // the list has a renderer to scroll
	if !drawn && q == "" {
		// Hidden and staying hidden (its hits were cleared when it was
		// hidden): refreshing would only build and measure the unseen
		// list, as the filters' defaults did three times per shell.
		h.hits = nil
		return
	}
	h.hits = hits
	switch {
	case q == "":
		h.box.Hide()
	case len(hits) == 0:
		h.head.SetText("No message matches “" + q + "”")
		h.box.Show()
	case len(hits) == 1:
		h.head.SetText("1 message")
		h.box.Show()
	default:
		more := ""
		if len(hits) >= 50 {
			more = " (newest 50)"
		}
		h.head.SetText(strconv.Itoa(len(hits)) + " messages" + more)
		h.box.Show()
	}
	h.list.UnselectAll()
	if drawn && len(hits) > 0 {
		h.list.ScrollToTop()
	}
	h.list.Refresh()
	h.box.Refresh()
	if h.relayout != nil {
		h.relayout()
	}
}

// hitRow draws one message found: the conversation and who wrote it, when,
// and the line with the words found.
type hitRow struct {
	widget.BaseWidget
	icon    *widget.Icon
	title   *widget.Label
	when    *widget.Label
	snippet *widget.Label
}

func newHitRow() fyne.CanvasObject {
	r := &hitRow{icon: widget.NewIcon(themedPerson), title: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		when: widget.NewLabel(""), snippet: widget.NewLabel("")}
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.snippet.Truncation = fyne.TextTruncateEllipsis
	r.when.SizeName = theme.SizeNameCaptionText
	r.ExtendBaseWidget(r)
	return r
}

func (r *hitRow) bind(h app.SearchHit) {
	if h.IsRoom {
		r.icon.SetResource(themedPeople)
	} else {
		r.icon.SetResource(themedPerson)
	}
	title := h.Title
	if h.IsRoom || h.Sender == "You" {
		title += " · " + h.Sender
	}
	r.title.SetText(title)
	r.when.SetText(h.Time)
	r.snippet.Importance = widget.MediumImportance
	if h.Urgency > app.UrgencyNormal {
		r.snippet.Importance = widget.DangerImportance
	}
	snip := h.Snippet
	if h.Patient != "" {
		snip = "[" + h.Patient + "] " + snip
	}
	r.snippet.SetText(snip)
	r.Refresh()
}

func (r *hitRow) CreateRenderer() fyne.WidgetRenderer {
	s := theme.IconInlineSize() * 1.6
	line1 := container.NewBorder(nil, nil, nil, r.when, r.title)
	body := container.NewBorder(nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSize(s, s), r.icon)), nil,
		container.NewVBox(line1, r.snippet))
	return widget.NewSimpleRenderer(body)
}

// searchSplit lays out the inbox while searching: the conversations whose
// titles match on top, as tall as their rows (at most 40% of the height),
// and the messages found below; without a search, the conversations alone.
type searchSplit struct{ v *InboxView }

func (l searchSplit) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := objs[0].MinSize()
	if objs[1].Visible() {
		m := objs[1].MinSize()
		s = fyne.NewSize(max(s.Width, m.Width), s.Height+m.Height)
	}
	return s
}

func (l searchSplit) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	convs, hits := objs[0], objs[1]
	if !hits.Visible() {
		convs.Move(fyne.NewPos(0, 0))
		convs.Resize(size)
		return
	}
	rowH := newInboxRow().MinSize().Height + theme.Padding()
	n := len(l.v.shown)
	top := float32(n) * rowH
	if n == 0 {
		top = l.v.empty.MinSize().Height
	}
	top = min(top, size.Height*0.4)
	convs.Move(fyne.NewPos(0, 0))
	convs.Resize(fyne.NewSize(size.Width, top))
	hits.Move(fyne.NewPos(0, top+theme.Padding()))
	hits.Resize(fyne.NewSize(size.Width, max(0, size.Height-top-theme.Padding())))
}

// searchBody is the inbox's body: the conversation list with its empty
// label, and the messages found when the search field has words and the
// app can search messages.
func (v *InboxView) searchBody(convs fyne.CanvasObject) fyne.CanvasObject {
	if v.hits == nil {
		return convs
	}
	split := container.New(searchSplit{v}, convs, v.hits.box)
	v.hits.relayout = split.Refresh
	return split
}

// initSearch wires the search field to the message search when actions can.
func (v *InboxView) initSearch() {
	sa, ok := v.actions.(SearchActions)
	if !ok {
		return
	}
	v.search.SetPlaceHolder("Search conversations and messages")
	v.hits = newMessageHits(func(h app.SearchHit) {
		sa.OpenAt(h.Conversation, h.Message)
		if v.OnOpen != nil {
			v.OnOpen(app.ConversationRow{ID: h.Conversation, Title: h.Title, IsRoom: h.IsRoom})
		}
	})
	v.filters = newSearchFilters(v, func() { v.runSearch(sa) })
	filter := v.search.OnChanged
	v.search.OnChanged = func(s string) {
		filter(s)
		v.runSearch(sa)
	}
}

// runSearch searches messages for the field's words and the filters set.
func (v *InboxView) runSearch(sa SearchActions) {
	q := app.MessageSearch{Text: strings.TrimSpace(v.search.Text)}
	label := q.Text
	if f := v.filters; f != nil {
		f.apply(&q)
		if d := f.describe(); d != "" {
			label = strings.TrimSpace(label + " · " + d)
		}
	}
	v.hits.search(sa, q, label)
}

// searchFilters narrow the message search: by person, by room, to urgent
// messages, to a time span, and to a patient (a bed, an MRN or a name).
// They show under the search field when its filter button is on.
type searchFilters struct {
	person, room, when *widget.Select
	urgent             *widget.Check
	patient            *widget.Entry
	toggle             *widget.Button
	box                *fyne.Container
	// people and rooms map the choices' titles to addresses.
	people, rooms map[string]string
}

// searchSpans are the time filters offered, from now back.
var searchSpans = []struct {
	label string
	d     time.Duration
}{{"Any time", 0}, {"Last 24 hours", 24 * time.Hour}, {"Last 7 days", 7 * 24 * time.Hour}, {"Last 30 days", 30 * 24 * time.Hour}}

const anyone, anyRoom = "Anyone", "Any conversation"

func newSearchFilters(v *InboxView, changed func()) *searchFilters {
	f := &searchFilters{people: map[string]string{}, rooms: map[string]string{}}
	f.person = widget.NewSelect([]string{anyone}, func(string) { changed() })
	f.room = widget.NewSelect([]string{anyRoom}, func(string) { changed() })
	spans := make([]string, len(searchSpans))
	for i, s := range searchSpans {
		spans[i] = s.label
	}
	f.when = widget.NewSelect(spans, func(string) { changed() })
	f.urgent = widget.NewCheck("Urgent and STAT only", func(bool) { changed() })
	f.patient = widget.NewEntry()
	f.patient.SetPlaceHolder("Bed 4, MRN or name")
	f.patient.OnChanged = func(string) { changed() }
	f.person.SetSelectedIndex(0)
	f.room.SetSelectedIndex(0)
	f.when.SetSelectedIndex(0)
	clear := widget.NewButton("Clear filters", func() {
		f.person.SetSelectedIndex(0)
		f.room.SetSelectedIndex(0)
		f.when.SetSelectedIndex(0)
		f.urgent.SetChecked(false)
		f.patient.SetText("")
	})
	clear.Importance = widget.LowImportance
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Person"), f.person,
		widget.NewLabel("In"), f.room,
		widget.NewLabel("When"), f.when,
		widget.NewLabel("Patient"), f.patient)
	f.box = container.NewVBox(form, container.NewBorder(nil, nil, nil, clear, f.urgent), widget.NewSeparator())
	f.box.Hide()
	f.toggle = widget.NewButtonWithIcon("", theme.ListIcon(), func() {
		f.box.Hidden = !f.box.Hidden
		if f.box.Hidden {
			f.toggle.Importance = widget.LowImportance
		} else {
			f.toggle.Importance = widget.HighImportance
			f.setChoices(v.all)
		}
		f.toggle.Refresh()
		v.Refresh()
	})
	f.toggle.Importance = widget.LowImportance
	return f
}

// setChoices offers the people of the user's chats and the conversations
// in the person and room pickers, keeping what is chosen.
func (f *searchFilters) setChoices(rows []app.ConversationRow) {
	people, rooms := []string{anyone}, []string{anyRoom}
	f.people, f.rooms = map[string]string{}, map[string]string{}
	for _, r := range rows {
		title := r.Title
		if _, dup := f.rooms[title]; dup {
			title += " (" + r.ID + ")"
		}
		f.rooms[title] = r.ID
		rooms = append(rooms, title)
		if !r.IsRoom {
			f.people[title] = r.ID
			people = append(people, title)
		}
	}
	keep := func(s *widget.Select, opts []string) {
		sel := s.Selected
		s.Options = opts
		s.SetSelected(sel)
		if s.SelectedIndex() < 0 {
			s.SetSelectedIndex(0)
		}
	}
	keep(f.person, people)
	keep(f.room, rooms)
}

// apply narrows q by the filters chosen.
func (f *searchFilters) apply(q *app.MessageSearch) {
	q.Person = f.people[f.person.Selected]
	q.Conversation = f.rooms[f.room.Selected]
	q.Urgent = f.urgent.Checked
	q.Patient = strings.TrimSpace(f.patient.Text)
	if i := f.when.SelectedIndex(); i > 0 {
		q.Since = nowFunc().Add(-searchSpans[i].d)
	}
}

// describe names the filters set, for the "no match" line ("" for none).
func (f *searchFilters) describe() string {
	var parts []string
	if id := f.people[f.person.Selected]; id != "" {
		parts = append(parts, "from "+f.person.Selected)
	}
	if id := f.rooms[f.room.Selected]; id != "" {
		parts = append(parts, "in "+f.room.Selected)
	}
	if f.urgent.Checked {
		parts = append(parts, "urgent")
	}
	if i := f.when.SelectedIndex(); i > 0 {
		parts = append(parts, strings.ToLower(searchSpans[i].label))
	}
	if p := strings.TrimSpace(f.patient.Text); p != "" {
		parts = append(parts, "patient "+p)
	}
	return strings.Join(parts, " · ")
}

// ScrollToMessage scrolls the thread to message id after the next layout
// and highlights it for a moment (a search hit or a quote opened it).
func (v *ConversationView) ScrollToMessage(id app.MessageID) {
	i, ok := v.index[id]
	if !ok {
		return
	}
	v.scrollTo = i
	v.scrollEnd, v.keepAt = false, -1
	v.highlight(id) // replies.go
	if v.list != nil && v.ready && v.bubbleMax != 0 {
		// No rebuild pending (SetMessages asks for one): scroll now; the
		// next layout scrolls there once more and forgets it.
		v.list.ScrollTo(i + v.offset())
	}
}
