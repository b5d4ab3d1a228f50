package ui

import (
	"io"
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

// broadcastingActions records broadcasts and answers with a fixed view.
type broadcastingActions struct {
	*fakeActions
	mu   sync.Mutex
	sent []string
	// urgency and asks: each broadcast's level and whether it asked for
	// an acknowledgement.
	urgency []app.Urgency
	asks    []bool
}

func sampleBroadcast() app.BroadcastView {
	at := fixedNow.Add(-12 * time.Minute)
	r := func(s app.ReceiptState, d time.Duration) app.Receipt {
		return receipt(s, at.Add(d))
	}
	return app.BroadcastView{ID: "b-0123456789abcdef", At: at, AckRequired: true,
		Preview: "Fire drill at 15:00: ward 7 stays staffed, everyone else to the day room",
		Summary: "3 people · 1 acknowledged · 1 read · 1 sent",
		Recipients: []app.BroadcastRecipient{
			{JID: "dr.osei@rounds.test", Name: "Dr Osei", Message: 41, Receipt: r(app.ReceiptAcknowledged, 3*time.Minute), State: "Acknowledged " + at.Add(3*time.Minute).Format("15:04")},
			{JID: "nurse.kim@rounds.test", Name: "Nurse Kim", Message: 42, Receipt: r(app.ReceiptRead, 2*time.Minute), State: "Read " + at.Add(2*time.Minute).Format("15:04") + " · not acknowledged"},
			{JID: "dr.patel@rounds.test", Name: "Dr Patel", Message: 43, Receipt: r(app.ReceiptSent, 0), State: "Sent " + at.Format("15:04") + " · not delivered yet"},
		}}
}

func (f *broadcastingActions) SendBroadcast(to []string, role, text string, u app.Urgency, ack bool) (app.BroadcastView, error) {
	f.mu.Lock()
	f.sent = append(f.sent, strings.Join(to, ",")+"|"+role+"|"+text)
	f.urgency, f.asks = append(f.urgency, u), append(f.asks, ack)
	f.mu.Unlock()
	return sampleBroadcast(), nil
}
func (f *broadcastingActions) Broadcasts() ([]app.BroadcastView, error) {
	return []app.BroadcastView{sampleBroadcast()}, nil
}
func (f *broadcastingActions) Broadcast(id string) (app.BroadcastView, error) {
	return sampleBroadcast(), nil
}
func (f *broadcastingActions) ExportBroadcast(w io.Writer, id string) error { return nil }

// TestBroadcastComposer: the directory offers Broadcast only with
// BroadcastActions; the composer refuses to send to nobody, sends the text
// to the ticked people, and shows each recipient's state after.
func TestBroadcastComposer(t *testing.T) {
	test.NewTempApp(t)
	if buttonIn(NewDirectoryView(contacts(), &fakeActions{}), "Broadcast") != nil {
		t.Error("Broadcast offered without BroadcastActions")
	}
	f := &broadcastingActions{fakeActions: &fakeActions{}}
	v := NewDirectoryView(contacts(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	b := buttonIn(v, "Broadcast")
	if b == nil {
		t.Fatal("no Broadcast button")
	}
	test.Tap(b)
	pop := v.popup
	test.Tap(buttonIn(pop.Content, "Send to each"))
	if !strings.Contains(labelsIn(pop.Content), "Tick people or choose a role group") {
		t.Errorf("sent to nobody: %q", labelsIn(pop.Content))
	}
	checks := findAll[*widget.Check](pop.Content)
	test.Tap(checks[0])
	test.Tap(checks[1])
	for _, e := range findAll[*widget.Entry](pop.Content) {
		if e.MultiLine {
			test.Type(e, "Fire drill at 15:00")
		}
	}
	test.Tap(buttonIn(pop.Content, "Send to each"))
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.sent) == 1 }) {
		t.Fatal("nothing sent")
	}
	want := contacts()
	slices.SortFunc(want, func(a, b app.ContactRow) int {
		return strings.Compare(strings.ToLower(name(a)), strings.ToLower(name(b)))
	})
	if f.sent[0] != want[0].JID+","+want[1].JID+"||Fire drill at 15:00" {
		t.Errorf("sent %q", f.sent[0])
	}
	if !waitFor(func() bool { return v.popup != pop && strings.Contains(labelsIn(v.popup.Content), "Read ") }) {
		t.Fatal("the broadcast view did not open")
	}
	got := labelsIn(v.popup.Content)
	for _, s := range []string{"Dr Osei", "Acknowledged ", "Nurse Kim", "Dr Patel", "not delivered yet", "3 people · 1 acknowledged"} {
		if !strings.Contains(got, s) {
			t.Errorf("broadcast view lacks %q: %q", s, got)
		}
	}

	// A receipt arrives: the controller hands the view the new states.
	nb := sampleBroadcast()
	if v.OpenBroadcast() != nb.ID {
		t.Fatalf("open broadcast %q", v.OpenBroadcast())
	}
	nb.Recipients[2].State, nb.Summary = "Delivered 14:30 · not read yet", "3 people · 1 acknowledged · 1 read · 1 delivered"
	v.ShowBroadcastState(nb)
	if got := labelsIn(v.popup.Content); !strings.Contains(got, "Delivered 14:30") || !strings.Contains(got, "1 delivered") {
		t.Errorf("after the receipt: %q", got)
	}
	v.popup.Hide()
	if v.OpenBroadcast() != "" {
		t.Error("a closed broadcast view still counts as open")
	}
}

// TestBroadcastComposerAckAlways: as in the other composers, urgent and
// STAT tick "Ask each to acknowledge" and lock it (app.AckAlways); routine
// frees it again, and a STAT broadcast asks for an acknowledgement.
func TestBroadcastComposerAckAlways(t *testing.T) {
	test.NewTempApp(t)
	f := &broadcastingActions{fakeActions: &fakeActions{}}
	v := NewDirectoryView(contacts(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	test.Tap(buttonIn(v, "Broadcast"))
	pop := v.popup
	var ack *widget.Check
	for _, c := range findAll[*widget.Check](pop.Content) {
		if c.Text == "Ask each to acknowledge" {
			ack = c
		}
	}
	urg := findAll[*widget.RadioGroup](pop.Content)
	if ack == nil || len(urg) != 1 {
		t.Fatalf("composer: ack box %v, %d level choices", ack != nil, len(urg))
	}
	if ack.Checked || ack.Disabled() {
		t.Fatalf("routine: ack checked %v, disabled %v", ack.Checked, ack.Disabled())
	}
	levels := urg[0].Options
	urg[0].SetSelected(levels[2]) // STAT
	if !ack.Checked || !ack.Disabled() {
		t.Errorf("STAT: ack checked %v, disabled %v; want ticked and locked", ack.Checked, ack.Disabled())
	}
	urg[0].SetSelected(levels[0])
	if ack.Disabled() {
		t.Error("routine again: the ack box stays locked")
	}
	ack.SetChecked(false)
	urg[0].SetSelected(levels[1]) // urgent
	test.Tap(findAll[*widget.Check](pop.Content)[0])
	for _, e := range findAll[*widget.Entry](pop.Content) {
		if e.MultiLine {
			test.Type(e, "Fire drill at 15:00")
		}
	}
	test.Tap(buttonIn(pop.Content, "Send to each"))
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.sent) == 1 }) {
		t.Fatal("nothing sent")
	}
	if f.urgency[0] != app.UrgencyHigh || !f.asks[0] {
		t.Errorf("sent at %v asking for an ack %v; want urgent, asking", f.urgency[0], f.asks[0])
	}
}

func broadcastScreens() []screenshot {
	var dir *DirectoryView
	build := func() fyne.CanvasObject {
		dir = NewDirectoryView(contacts(), &broadcastingActions{fakeActions: &fakeActions{}})
		dir.SetRoles(clinicalRoles())
		return dir
	}
	return []screenshot{
		{name: "broadcast-compose", build: build, after: func(t *testing.T, w fyne.Window) {
			test.Tap(buttonIn(dir, "Broadcast"))
			checks := findAll[*widget.Check](dir.popup.Content)
			test.Tap(checks[0])
			test.Tap(checks[2])
			for _, e := range findAll[*widget.Entry](dir.popup.Content) {
				if e.MultiLine {
					e.SetText("Fire drill at 15:00: ward 7 stays staffed, everyone else to the day room")
				}
			}
		}},
		{name: "broadcast-view", build: build, after: func(t *testing.T, w fyne.Window) {
			dir.showBroadcastView(&broadcastingActions{fakeActions: &fakeActions{}}, sampleBroadcast())
		}},
	}
}
