package ui

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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

// search runs q (debounced, off the UI goroutine) and shows the answer.
func (h *messageHits) search(sa SearchActions, q string) {
	q = strings.TrimSpace(q)
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
		hits, err := sa.SearchMessages(app.MessageSearch{Text: q})
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
	r.snippet.SetText(h.Snippet)
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
	filter := v.search.OnChanged
	v.search.OnChanged = func(s string) {
		filter(s)
		v.hits.search(sa, s)
	}
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
