package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/internal/testserver"
)

// dndActions are fakeActions with do-not-disturb controls.
type dndActions struct {
	*fakeActions
	state app.DNDView
	set   []app.DNDSettings
}

func (d *dndActions) SetDND(s app.DNDSettings) error {
	d.set = append(d.set, s)
	d.state = app.DNDView{On: true, DNDSettings: s, Line: "Do not disturb"}
	return nil
}
func (d *dndActions) EndDND() error    { d.state = app.DNDView{}; return nil }
func (d *dndActions) DND() app.DNDView { return d.state }

var _ DNDActions = (*dndActions)(nil)

func dndOn() app.DNDView {
	return app.DNDView{On: true, DNDSettings: app.DNDSettings{Until: fixedNow.Add(3 * time.Hour), Reply: "In theatre until 14:00 — urgent: page Dr Osei",
		Cover: "dr.patel@rounds.test"}, CoverName: "Dr Patel", Line: "Do not disturb until 14:00 · Dr Patel covers"}
}

// dndMessages: a chat where Dr Osei's client answered automatically, and a
// STAT forward from a covered colleague.
func dndMessages() []app.MessageRow {
	t := fixedNow.Add(-20 * time.Minute)
	return []app.MessageRow{
		{ID: 1, Outgoing: true, Sender: "You", Body: "Can you review bed 12's potassium?", Timestamp: t, DayBreak: true,
			Receipt: receipt(app.ReceiptDelivered, t)},
		{ID: 2, Sender: "Dr Osei", Body: "In theatre until 14:00 — urgent: page Dr Osei\nCovering for me: Dr Patel.", Timestamp: t.Add(time.Second),
			Automatic: true, Status: []string{"Automatic reply"}},
		{ID: 3, Sender: "Dr Osei", Body: "Bed 4 arrest, come now", Timestamp: t.Add(5 * time.Minute), Urgency: app.UrgencyCritical, AckRequired: true,
			Automatic: true, Forward: &app.ForwardView{By: "Dr Osei", From: "Nurse Kim", FromJID: "nurse.kim@rounds.test", At: t.Add(4 * time.Minute),
				Header: "Forwarded · from Nurse Kim · " + t.Add(4*time.Minute).Format("15:04")},
			Status: []string{"Forwarded by Dr Osei: originally from Nurse Kim (nurse.kim@rounds.test) at " + t.Add(4*time.Minute).Format("15:04")}},
	}
}

func dndScreens() []screenshot {
	return []screenshot{
		{name: "dnd-dialog", build: func() fyne.CanvasObject {
			s := NewShell(&dndActions{fakeActions: &fakeActions{}}, settingsState())
			s.Inbox.SetRows(inboxRows())
			s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
			return s.Content()
		}, after: func(t *testing.T, w fyne.Window) {
			ShowDNDDialog(w.Canvas(), &dndActions{fakeActions: &fakeActions{}})
		}},
		{name: "dnd-on", build: func() fyne.CanvasObject {
			s := NewShell(&dndActions{fakeActions: &fakeActions{}, state: dndOn()}, settingsState())
			s.Inbox.SetRows(inboxRows())
			s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
			s.Inbox.SetDND(dndOn())
			s.ShowConversation(oseiInfo(ConversationInfo{Presence: "dnd"}), dndMessages(), false)
			return s.Content()
		}},
		{name: "dnd-settings", build: func() fyne.CanvasObject {
			st := settingsState()
			st.DND = dndOn()
			return SettingsScreen(st, &dndActions{fakeActions: &fakeActions{}, state: dndOn()})
		}},
	}
}

// TestDNDControls: the inbox's quick toggle opens the dialog; Start hands
// the app what was chosen (an address covers as a colleague, a name as a
// role); the bar then says so and End turns it off. Screens over actions
// without the controls show none.
func TestDNDControls(t *testing.T) {
	test.NewTempApp(t)
	acts := &dndActions{fakeActions: &fakeActions{}}
	v := NewInboxView(inboxRows(), acts)
	w := test.NewTempWindow(t, v)
	w.Resize(screenSizes["desktop"])
	if v.dnd.Visible() {
		t.Fatal("do-not-disturb line shown while off")
	}
	test.Tap(v.dnd.toggle)
	pop := v.dnd.popup
	if pop == nil || !pop.Visible() {
		t.Fatal("the toggle opened no dialog")
	}
	var entries []*widget.Entry
	var start *widget.Button
	walk(pop.Content, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *field:
			entries = append(entries, &x.Entry)
		case *composerEntry: // the reply: clinical text, the exact field
			entries = append(entries, &x.Entry)
		case *widget.Button:
			if x.Text == "Start" {
				start = x
			}
		}
	})
	if len(entries) != 2 || start == nil {
		t.Fatalf("dialog: %d entries, start %v", len(entries), start != nil)
	}
	test.Type(entries[0], "In theatre")
	test.Type(entries[1], "Cardiology on call")
	test.Tap(start)
	if len(acts.set) != 1 {
		t.Fatal("Start did not reach the app")
	}
	got := acts.set[0]
	if got.Reply != "In theatre" || got.CoverRole != "Cardiology on call" || got.Cover != "" || got.Until.Sub(nowFunc()) != time.Hour {
		t.Fatalf("settings handed over: %+v", got)
	}
	v.SetDND(acts.DND())
	if !v.dnd.Visible() || v.dnd.line.Text != "Do not disturb" {
		t.Fatalf("bar while on: visible %v, %q", v.dnd.Visible(), v.dnd.line.Text)
	}
	test.Tap(v.dnd.end)
	if acts.state.On || v.dnd.Visible() {
		t.Fatal("End did not turn it off")
	}
	if plain := NewInboxView(nil, &fakeActions{}); plain.dnd != nil {
		t.Fatal("controls over actions without them")
	}
}

// TestDNDControlsAgainstProsody: the real Controller over a real Client:
// the settings section starts do not disturb, the inbox says so, and the
// quick toggle ends it in the app.
func TestDNDControlsAgainstProsody(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prosody")
	}
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	fa := test.NewTempApp(t)
	alice, ui := signInController(t, srv, fa, "alice")
	if err := (&actions{c: ui, cl: alice}).SetDND(app.DNDSettings{Reply: "In theatre"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the inbox's do-not-disturb line", func() bool {
		s := ui.currentShell()
		return s != nil && s.Inbox.dnd != nil && s.Inbox.dnd.Visible() && strings.HasPrefix(s.Inbox.dnd.line.Text, "Do not disturb")
	})
	test.Tap(ui.currentShell().Inbox.dnd.toggle)
	eventually(t, 10*time.Second, "off in the app", func() bool { return !alice.DND().On })
	eventually(t, 10*time.Second, "the line gone", func() bool { return !ui.currentShell().Inbox.dnd.Visible() })
}
