package ui

import (
	"slices"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"rounds/app"
)

// replyingActions records replies and reactions the ⋮ menu asks for.
type replyingActions struct {
	*clinicalActions
	mu      sync.Mutex
	reacted []string
}

func (f *replyingActions) Reply(conv string, to app.MessageID, text string) error { return nil }

func (f *replyingActions) React(conv string, id app.MessageID, emoji string) error {
	f.mu.Lock()
	f.reacted = append(f.reacted, conv+" "+emoji)
	f.mu.Unlock()
	return nil
}

func labels(as []rowAction) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Label)
	}
	return out
}

// TestReplyActions: the ⋮ menu offers a quoted reply and the quick
// reactions when the app can send them, "Take back" for one the user gave,
// nothing for a recalled message, and a tap reacts in that conversation.
func TestReplyActions(t *testing.T) {
	test.NewTempApp(t)
	f := &replyingActions{clinicalActions: newClinicalActions()}
	rows := chatMessages()
	rows[0].Reactions = []app.ReactionView{{Emoji: "👍", Count: 1, Mine: true, Who: []string{"You"}}}
	v := NewConversationView(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, rows, f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	got := labels(v.rowActions(rows[0]))
	for _, want := range []string{"Reply with quote…", "Take back 👍", "React ✅"} {
		if !slices.Contains(got, want) {
			t.Errorf("menu %q lacks %q", got, want)
		}
	}
	for _, a := range v.rowActions(rows[0]) {
		if a.Label == "React ✅" {
			a.Run()
		}
	}
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.reacted) == 1 }) || f.reacted[0] != "dr.osei@rounds.test ✅" {
		t.Errorf("reacted %q", f.reacted)
	}
	recalled := rows[1]
	recalled.Recalled = fixedNow
	if got := labels(v.replyActions(recalled)); len(got) != 0 {
		t.Errorf("recalled message offers %q", got)
	}
	plain := NewConversationView(ConversationInfo{ID: "dr.osei@rounds.test"}, rows, newClinicalActions())
	if got := labels(plain.replyActions(rows[0])); len(got) != 0 {
		t.Errorf("actions without replies offer %q", got)
	}
}
