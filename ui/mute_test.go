package ui

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

type mutingActions struct {
	*clinicalActions
	mu    sync.Mutex
	muted map[string]time.Time
	has   map[string]bool
}

func (f *mutingActions) MuteConversation(conv string, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.muted[conv], f.has[conv] = until, true
	return nil
}

func (f *mutingActions) UnmuteConversation(conv string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.has, conv)
	return nil
}

func (f *mutingActions) Muted(conv string) (bool, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.has[conv], f.muted[conv]
}

// TestMuteItems: the header menu offers to mute routine messages for an
// hour or until unmuted, and once muted, to unmute, saying until when.
func TestMuteItems(t *testing.T) {
	test.NewTempApp(t)
	f := &mutingActions{clinicalActions: newClinicalActions(), muted: map[string]time.Time{}, has: map[string]bool{}}
	v := NewConversationView(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), f)
	items := v.muteItems()
	if len(items) != 2 || items[0].Label != "Mute routine for 1 hour" || items[1].Label != "Mute routine until I unmute" {
		t.Fatalf("items %v", items)
	}
	items[0].Action()
	if !waitFor(func() bool { m, _ := f.Muted("dr.osei@rounds.test"); return m }) {
		t.Fatal("not muted")
	}
	if _, until := f.Muted("dr.osei@rounds.test"); !until.Equal(fixedNow.Add(time.Hour)) {
		t.Errorf("muted until %v", until)
	}
	items = v.muteItems()
	if len(items) != 1 || items[0].Label != "Unmute (muted until "+fixedNow.Add(time.Hour).Format("15:04")+")" {
		t.Fatalf("muted items %v", items[0].Label)
	}
	items[0].Action()
	if !waitFor(func() bool { m, _ := f.Muted("dr.osei@rounds.test"); return !m }) {
		t.Fatal("not unmuted")
	}
	if got := NewConversationView(ConversationInfo{ID: "x@h"}, nil, newClinicalActions()).muteItems(); got != nil {
		t.Errorf("actions without mute offer %v", got)
	}
}
