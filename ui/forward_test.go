package ui

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// forwardingActions records the forwards "Forward…" asks for.
type forwardingActions struct {
	*clinicalActions
	mu        sync.Mutex
	forwarded []string
}

func (f *forwardingActions) ForwardTargets() ([]app.ConversationRow, error) { return inboxRows(), nil }

func (f *forwardingActions) Forward(id app.MessageID, to string, u app.Urgency) error {
	f.mu.Lock()
	f.forwarded = append(f.forwarded, to+" "+levelNames(app.UrgencyLevelNames{})[levelIndex(u)])
	f.mu.Unlock()
	return nil
}

// forwardedMessages: a chat where Dr Osei forwarded Nurse Kim's message.
func forwardedMessages() []app.MessageRow {
	t := fixedNow.Add(-20 * time.Minute)
	at := t.Add(-6 * time.Minute)
	return []app.MessageRow{
		{ID: 1, Outgoing: true, Sender: "You", Body: "Any news on bed 12?", Timestamp: t, DayBreak: true,
			Receipt: receipt(app.ReceiptRead, t)},
		{ID: 2, Sender: "Dr Osei", Body: "Bed 12 K+ 6.1 on the repeat sample, ECG normal", Timestamp: t.Add(time.Minute),
			Forward: &app.ForwardView{By: "Dr Osei", From: "Nurse Kim", FromJID: "nurse.kim@rounds.test", At: at,
				Header: "Forwarded · from Nurse Kim · " + at.Format("15:04")},
			Status: []string{"Forwarded by Dr Osei: originally from Nurse Kim (nurse.kim@rounds.test) at " + at.Format("15:04")}},
		{ID: 3, Sender: "Dr Osei", Body: "Please start the insulin-dextrose per protocol.", Timestamp: t.Add(2 * time.Minute)},
	}
}

// TestForwardPicker: the ⋮ menu offers "Forward…" for a message with text
// (not a recalled one, not without ForwardActions); the picker lists the
// conversations, filters them as typed, refuses to forward before one is
// chosen, and forwards routine unless another urgency is picked. A
// forwarded row draws its "Forwarded · from …" header.
func TestForwardPicker(t *testing.T) {
	test.NewTempApp(t)
	f := &forwardingActions{clinicalActions: newClinicalActions()}
	rows := forwardedMessages()
	v := NewConversationView(oseiInfo(ConversationInfo{}), rows, f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	if got := labels(v.rowActions(rows[2])); !slices.Contains(got, "Forward…") {
		t.Fatalf("menu %q lacks Forward…", got)
	}
	recalled := rows[2]
	recalled.Recalled = fixedNow
	if got := labels(v.forwardAction(recalled)); len(got) != 0 {
		t.Errorf("recalled message offers %q", got)
	}
	plain := NewConversationView(oseiInfo(ConversationInfo{}), rows, newClinicalActions())
	if got := labels(plain.forwardAction(rows[2])); len(got) != 0 {
		t.Errorf("actions without forwarding offer %q", got)
	}
	if !v.showSender(rows[1]) || v.senderLine(rows[1]) != rows[1].Forward.Header {
		t.Errorf("forwarded row header %q", v.senderLine(rows[1]))
	}

	v.showForward(f, rows[2])
	pop := v.clin.popup
	if pop == nil || buttonIn(pop.Content, "Pharmacy") == nil || buttonIn(pop.Content, "ICU team") == nil {
		t.Fatal("the picker lists no conversations")
	}
	test.Tap(buttonIn(pop.Content, "Forward"))
	if !strings.Contains(labelsIn(pop.Content), "Choose a conversation first") {
		t.Errorf("forwarded with no conversation chosen: %q", labelsIn(pop.Content))
	}
	for _, e := range findAll[*widget.Entry](pop.Content) {
		test.Type(e, "pharm")
	}
	if buttonIn(pop.Content, "ICU team") != nil || buttonIn(pop.Content, "Pharmacy") == nil {
		t.Error("the filter did not narrow the list")
	}
	test.Tap(buttonIn(pop.Content, "Pharmacy"))
	test.Tap(buttonIn(pop.Content, "Forward"))
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.forwarded) == 1 }) ||
		f.forwarded[0] != "pharmacy@rounds.test "+levelNames(app.UrgencyLevelNames{})[0] {
		t.Errorf("forwarded %q", f.forwarded)
	}
}

func forwardScreens() []screenshot {
	var conv *ConversationView
	shell := func() fyne.CanvasObject {
		s := NewShell(&forwardingActions{clinicalActions: newClinicalActions()}, settingsState())
		s.Inbox.SetRows(inboxRows())
		s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
		s.ShowConversation(oseiInfo(ConversationInfo{}), forwardedMessages(), false)
		conv = s.Conversation()
		return s.Content()
	}
	return []screenshot{
		{name: "forward-thread", build: shell},
		{name: "forward-picker", build: shell, after: func(t *testing.T, w fyne.Window) {
			f := &forwardingActions{clinicalActions: newClinicalActions()}
			rows := forwardedMessages()
			conv.showForward(f, rows[2])
			test.Tap(buttonIn(conv.clin.popup.Content, "ICU team"))
		}},
	}
}
