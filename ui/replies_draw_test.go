package ui

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// openingActions answers replies, reactions, drafts and "open at" (a quote
// whose original is not among the rows drawn).
type openingActions struct {
	*replyingActions
	mu2    sync.Mutex
	opened []string
	draft  string
	saved  []string
}

func newOpeningActions() *openingActions {
	return &openingActions{replyingActions: &replyingActions{clinicalActions: newClinicalActions()}}
}

func (f *openingActions) PrepareSearch() {}
func (f *openingActions) SearchMessages(app.MessageSearch) ([]app.SearchHit, error) {
	return nil, nil
}
func (f *openingActions) OpenAt(conv string, id app.MessageID) {
	f.mu2.Lock()
	f.opened = append(f.opened, conv+" "+strconv.FormatUint(uint64(id), 10))
	f.mu2.Unlock()
}
func (f *openingActions) Draft(string) string { return f.draft }
func (f *openingActions) SaveDraft(conv, text string) error {
	f.mu2.Lock()
	f.saved = append(f.saved, text)
	f.mu2.Unlock()
	return nil
}
func (f *openingActions) savedDrafts() []string {
	f.mu2.Lock()
	defer f.mu2.Unlock()
	return append([]string(nil), f.saved...)
}

// replyMessages is a chat with a reply quoting a stored message, a reply
// whose original is not here (the sender's quote), one quoting a message
// older than the page, reactions, and a mention of the user.
func replyMessages() []app.MessageRow {
	rows := chatMessages()[:3]
	t := rows[2].Timestamp
	rows[0].Reactions = []app.ReactionView{{Emoji: "👍", Count: 2, Mine: true, Who: []string{"Dr Osei", "You"}}, {Emoji: "✅", Count: 1, Who: []string{"Dr Osei"}}}
	rows = append(rows,
		app.MessageRow{ID: 20, Outgoing: true, Sender: "You", Body: "Drain clamped, will recheck at 16:00.", Timestamp: t.Add(time.Minute),
			ReplyTo: &app.QuotedView{ID: 11, Sender: "Dr Osei", Snippet: "Can you check the drain output for bed 7?"}, Receipt: receipt(app.ReceiptRead, t)},
		app.MessageRow{ID: 21, Sender: "Dr Osei", Body: "Yes, that one too.", Timestamp: t.Add(2 * time.Minute),
			ReplyTo: &app.QuotedView{FromSender: true, Sender: "Nurse Kim", Snippet: "Bed 2 obs due at 15:00"}},
		app.MessageRow{ID: 22, Sender: "Dr Osei", Body: "Thanks, noted.", Timestamp: t.Add(3 * time.Minute),
			ReplyTo:   &app.QuotedView{ID: 5, Sender: "You", Snippet: "Morning bloods sent"},
			Reactions: []app.ReactionView{{Emoji: "🙏", Count: 1, Who: []string{"Dr Osei"}}}},
		app.MessageRow{ID: 23, Sender: "Dr Osei", Body: "@kim can you check bed 4 before the round? cc @kimberly", Timestamp: t.Add(4 * time.Minute),
			MentionsMe: []string{"@kim"}},
	)
	return rows
}

// rowParts are the drawn rows by message id.
func rowParts(v *ConversationView) map[app.MessageID]*messageLayout {
	out := map[app.MessageID]*messageLayout{}
	for _, c := range findAll[*fyne.Container](v) {
		if l, ok := c.Layout.(*messageLayout); ok && l.i >= 0 && l.i < len(v.rows) {
			out[v.rows[l.i].ID] = l
		}
	}
	return out
}

// TestQuoteAboveReply: a reply draws the message it answers above its text,
// inside its bubble: the original's sender and first line, or the sender's
// own quote marked as theirs. A tap on a quote of a message drawn scrolls
// to it and highlights it; one of a message older than the page opens the
// thread at it; one whose original is not here says so.
func TestQuoteAboveReply(t *testing.T) {
	test.NewTempApp(t)
	f := newOpeningActions()
	v := NewConversationView(oseiInfo(ConversationInfo{}), replyMessages(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	parts := rowParts(v)
	for _, id := range []app.MessageID{20, 21, 22} {
		l := parts[id]
		if l == nil {
			t.Fatalf("row %d not drawn", id)
		}
		q := l.reply.quote
		if !q.Visible() {
			t.Fatalf("row %d: no quote", id)
		}
		qp, bp, bg := q.Position(), l.body.Position(), l.bg.Position()
		if qp.Y < bg.Y || qp.Y+q.Size().Height > bp.Y+2 || qp.X < bg.X || qp.X+q.Size().Width > bg.X+l.bg.Size().Width+0.5 {
			t.Errorf("row %d: quote at %v size %v, bubble at %v size %v, text at %v", id, qp, q.Size(), bg, l.bg.Size(), bp)
		}
	}
	if h, x := parts[20].reply.quote.heading.Text, parts[20].reply.quote.text.Text; h != "Dr Osei" || !strings.HasPrefix(x, "Can you check") {
		t.Errorf("stored original quoted as %q / %q", h, x)
	}
	if q := parts[21].reply.quote; q.heading.Text != "Nurse Kim · as quoted by the sender" || !q.text.TextStyle.Italic {
		t.Errorf("sender's quote drawn as %q (italic %v)", q.heading.Text, q.text.TextStyle.Italic)
	}
	if parts[11].reply.quote.Visible() {
		t.Error("a message that answers nothing draws a quote")
	}

	parts[20].reply.quote.Tapped(nil)
	if v.Highlighted() != 11 || v.scrollTo != v.index[11] {
		t.Errorf("tap on the quote: highlighted %d, scrolling to row %d", v.Highlighted(), v.scrollTo)
	}
	drainUI()
	if l := rowParts(v)[11]; l == nil || l.bg.StrokeWidth != 3 {
		t.Error("the original is not highlighted")
	}
	parts = rowParts(v)
	parts[21].reply.quote.Tapped(nil)
	if !v.sendErr.Visible() || v.sendErr.Text != app.OriginalNotHere {
		t.Errorf("tap on the sender's quote says %q", v.sendErr.Text)
	}
	parts[22].reply.quote.Tapped(nil)
	f.mu2.Lock()
	opened := strings.Join(f.opened, ",")
	f.mu2.Unlock()
	if opened != "dr.osei@rounds.test 5" {
		t.Errorf("a quote of an older message opened %q", opened)
	}
	if !waitFor(func() bool { return v.Highlighted() == 0 }) {
		time.Sleep(highlightFor)
		if !waitFor(func() bool { return v.Highlighted() == 0 }) {
			t.Error("the highlight stays")
		}
	}
}

// TestReactionChips: reactions are chips under the bubble, emoji and
// count, the user's own with a border and in bold; a tap toggles the
// user's reaction; hovering, a long press (secondary tap) and the ⋮ menu
// say who gave each; many
// reactions end in a "+N" chip.
func TestReactionChips(t *testing.T) {
	test.NewTempApp(t)
	f := newOpeningActions()
	rows := replyMessages()
	v := NewConversationView(oseiInfo(ConversationInfo{}), rows, f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	l := rowParts(v)[11]
	var chips []*reactionChip
	for _, c := range l.reply.chips {
		if c.Visible() {
			chips = append(chips, c)
		}
	}
	if len(chips) != 2 || chips[0].label.Text != "👍 2" || chips[1].label.Text != "✅ 1" {
		t.Fatalf("chips %v", chips)
	}
	if !chips[0].label.TextStyle.Bold || chips[0].bg.StrokeWidth == 0 || chips[1].label.TextStyle.Bold || chips[1].bg.StrokeWidth != 0 {
		t.Error("the user's reaction is not marked by border and weight")
	}
	bottom := l.bg.Position().Y + l.bg.Size().Height
	for _, c := range chips {
		if c.Position().Y < bottom || c.Position().Y+c.Size().Height > float32(v.metrics[v.index[11]].h) {
			t.Errorf("chip %q at %v is not under the bubble (bottom %v, row %v)", c.label.Text, c.Position(), bottom, v.metrics[v.index[11]].h)
		}
	}
	chips[1].Tapped(nil)
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.reacted) == 1 }) || f.reacted[0] != "dr.osei@rounds.test ✅" {
		t.Errorf("tap on a chip reacted %q", f.reacted)
	}
	chips[1].MouseIn(nil) // desktop: the pointer rests on the chip
	if chips[1].tip == nil || !chips[1].tip.Visible() || chips[1].who != "✅ Dr Osei" {
		t.Errorf("hover shows %q", chips[1].who)
	}
	chips[1].MouseOut()
	if chips[1].tip != nil {
		t.Error("the hover's pop-up stays")
	}
	chips[0].TappedSecondary(nil)
	if v.clin.popup == nil || !v.clin.popup.Visible() {
		t.Fatal("a long press shows nobody")
	}
	var said []string
	for _, lb := range findAll[*widget.Label](v.clin.popup.Content) {
		said = append(said, lb.Text)
	}
	if got := strings.Join(said, "|"); !strings.Contains(got, "👍 Dr Osei, You") || !strings.Contains(got, "✅ Dr Osei") {
		t.Errorf("who reacted: %q", got)
	}
	v.clin.popup.Hide()
	found := false
	for _, a := range v.rowActions(rows[0]) {
		found = found || a.Label == "Who reacted"
	}
	if !found {
		t.Error("the ⋮ menu does not say who reacted")
	}

	// Many reactions: up to maxChips, then "+N".
	var many []app.ReactionView
	for _, e := range []string{"👍", "✅", "👀", "❤️", "🙏", "😀", "🎉", "🔥", "💯"} {
		many = append(many, app.ReactionView{Emoji: e, Count: 1, Who: []string{"Dr Osei"}})
	}
	g := v.geo
	labels, _ := g.chipTexts(app.MessageRow{Reactions: many}, v.bubbleMax)
	if len(labels) > maxChips+1 || !strings.HasPrefix(labels[len(labels)-1], "+") {
		t.Errorf("nine reactions drawn as %q", labels)
	}
}

// TestMentionMarked: the words that mention the user are drawn bold in
// the primary colour (not by colour alone); the same letters
// inside a longer name or an address are not.
func TestMentionMarked(t *testing.T) {
	test.NewTempApp(t)
	segs := mentionSegments(bodySegments("@kim can you check bed 4? cc @kimberly, mail x@kim or @kim."), []string{"@kim"})
	var marked, all []string
	for _, s := range segs {
		ts := s.(*widget.TextSegment)
		all = append(all, ts.Text)
		if ts.Style.TextStyle.Bold && ts.Style.ColorName == theme.ColorNamePrimary {
			marked = append(marked, ts.Text)
		}
	}
	if strings.Join(all, "") != "@kim can you check bed 4? cc @kimberly, mail x@kim or @kim." {
		t.Fatalf("text changed: %q", all)
	}
	if strings.Join(marked, ",") != "@kim,@kim" {
		t.Errorf("marked %q in %q", marked, all)
	}
	v := NewConversationView(oseiInfo(ConversationInfo{}), replyMessages(), newOpeningActions())
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	l := rowParts(v)[23]
	if l == nil || len(l.body.Segments) < 2 || !l.body.Segments[0].(*widget.TextSegment).Style.TextStyle.Bold {
		t.Errorf("the bubble does not mark the mention")
	}
}

// TestInboxDraftAndMuted: a conversation with a draft says "Draft: …" in
// italics where the last message would be (an urgent one still shows its
// alert); a muted one shows the bell-off mark and the word "Muted".
func TestInboxDraftAndMuted(t *testing.T) {
	test.NewTempApp(t)
	rows := inboxRows()
	rows[0].Draft, rows[0].Muted = "Bed 4 K+ repeat due", true
	rows[1].Draft = "not shown: the alert speaks"
	v := NewInboxView(rows, &fakeActions{})
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	drawn := findAll[*inboxRow](v)
	byTitle := map[string]*inboxRow{}
	for _, r := range drawn {
		byTitle[r.title.Text] = r
	}
	osei, icu, pharmacy := byTitle["Dr Osei"], byTitle["ICU team"], byTitle["Pharmacy"]
	if osei == nil || icu == nil || pharmacy == nil {
		t.Fatalf("rows drawn: %d", len(drawn))
	}
	if osei.preview.Text != "Draft: Bed 4 K+ repeat due" || !osei.preview.TextStyle.Italic {
		t.Errorf("draft row says %q (italic %v)", osei.preview.Text, osei.preview.TextStyle.Italic)
	}
	if !strings.HasPrefix(icu.preview.Text, "Nurse Kim:") || icu.preview.TextStyle.Italic {
		t.Errorf("urgent row with a draft says %q", icu.preview.Text)
	}
	if !osei.mutedTag.Visible() || pharmacy.mutedTag.Visible() {
		t.Errorf("muted mark: muted row %v, other row %v", osei.mutedTag.Visible(), pharmacy.mutedTag.Visible())
	}
	words := findAll[*widget.Label](osei.mutedTag)
	if len(words) != 1 || words[0].Text != "Muted" {
		t.Errorf("the muted mark has no word")
	}
}

// TestHeaderMuted: the header of a muted conversation shows the bell-off
// mark and says "Muted"; unmuted, neither.
func TestHeaderMuted(t *testing.T) {
	test.NewTempApp(t)
	v := NewConversationView(oseiInfo(ConversationInfo{Muted: true}), chatMessages(), newOpeningActions())
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(960, 680))
	if !v.mutedBox.Visible() || !strings.HasPrefix(v.subtitle.Text, "Muted · ") {
		t.Errorf("muted header: mark %v, %q", v.mutedBox.Visible(), v.subtitle.Text)
	}
	v.SetHeader(oseiInfo(ConversationInfo{}))
	if v.mutedBox.Visible() || strings.Contains(v.subtitle.Text, "Muted") {
		t.Errorf("unmuted header: mark %v, %q", v.mutedBox.Visible(), v.subtitle.Text)
	}
}

// TestComposerKeepsDraft: the composer opens with the conversation's draft,
// keeps what is typed once typing pauses, and sending deletes it.
func TestComposerKeepsDraft(t *testing.T) {
	test.NewTempApp(t)
	f := newOpeningActions()
	f.draft = "Bed 4: repeat K+ at"
	v := NewConversationView(oseiInfo(ConversationInfo{}), chatMessages(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	if v.composer.Text != f.draft {
		t.Fatalf("composer opens with %q", v.composer.Text)
	}
	v.composer.SetText("Bed 4: repeat K+ at 16:00")
	if !waitFor(func() bool { s := f.savedDrafts(); return len(s) == 1 && s[0] == "Bed 4: repeat K+ at 16:00" }) {
		t.Fatalf("kept %q", f.savedDrafts())
	}
	v.submit()
	if !waitFor(func() bool { s := f.savedDrafts(); return len(s) == 2 && s[1] == "" }) {
		t.Fatalf("after sending, kept %q", f.savedDrafts())
	}
}

// repliesScreens are the screenshots of replies, reactions, mentions,
// drafts and mute (docs/screenshots), at the desktop window's 960x680.
func repliesScreens() []screenshot {
	return []screenshot{
		{name: "conversation-replies", desktop: fyne.NewSize(960, 680), build: func() fyne.CanvasObject {
			v := NewConversationView(oseiInfo(ConversationInfo{Presence: "available", Muted: true}), replyMessages(), newOpeningActions())
			v.OnBack = func() {}
			return v
		}},
		{name: "conversation-replies-highlight", desktop: fyne.NewSize(960, 680), build: func() fyne.CanvasObject {
			return NewConversationView(oseiInfo(ConversationInfo{Presence: "available"}), replyMessages(), newOpeningActions())
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			v.ScrollToMessage(11)
			drainUI()
			v.Refresh()
		}},
		{name: "inbox-drafts", desktop: fyne.NewSize(960, 680), build: func() fyne.CanvasObject {
			rows := inboxRows()
			rows[0].Draft, rows[0].Muted = "Bed 4 K+ repeat due at 16:00", true
			rows[3].Muted = true
			v := NewInboxView(rows, &fakeActions{})
			v.SetConnection(app.Connection{Connectivity: app.Online})
			return v
		}},
	}
}
