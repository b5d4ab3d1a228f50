package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"rounds/app"
)

// TestInboxPinnedLabelNamesTheLevel: a pinned row says which level pins it,
// by the policy's names: STAT is not labelled "URGENT"; a renamed level
// shows its hospital name; a routine message asking for an acknowledgement
// says so.
func TestInboxPinnedLabelNamesTheLevel(t *testing.T) {
	test.NewTempApp(t)
	rows := []app.ConversationRow{
		{ID: "a@rounds.test", Title: "Dr Osei", LastActivity: fixedNow, Urgent: true, UrgentLevel: app.UrgencyCritical},
		{ID: "b@rounds.test", Title: "Dr Patel", LastActivity: fixedNow.Add(-1), Urgent: true, UrgentLevel: app.UrgencyHigh},
		{ID: "c@rounds.test", Title: "Pharmacy", LastActivity: fixedNow.Add(-2), Urgent: true},
		{ID: "d@rounds.test", Title: "Front desk", LastActivity: fixedNow.Add(-3)},
	}
	v := NewInboxView(rows, &fakeActions{})
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	labels := func() []string {
		var out []string
		for _, r := range findAll[*inboxRow](v)[:4] {
			if r.urgentTag.Visible() {
				out = append(out, r.urgent.Text)
			} else {
				out = append(out, "")
			}
		}
		return out
	}
	want := []string{"STAT", "URGENT", "ACK REQUESTED", ""}
	if got := labels(); !equalStrings(got, want) {
		t.Fatalf("pinned labels %q, want %q", got, want)
	}
	v.SetLevels(app.UrgencyLevelNames{Urgent: "Priority", STAT: "Code"})
	want = []string{"CODE", "PRIORITY", "ACK REQUESTED", ""}
	if got := labels(); !equalStrings(got, want) {
		t.Fatalf("pinned labels with the policy's names %q, want %q", got, want)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNotificationTitleNamesTheLevel: an urgent OS notification's title
// names its level as the app gives it (the policy's name), never "urgent"
// for a STAT; a routine one keeps the plain title.
func TestNotificationTitleNamesTheLevel(t *testing.T) {
	a := test.NewTempApp(t)
	n := NewOSNotifier(a)
	test.AssertNotificationSent(t, fyne.NewNotification("Rounds — STAT", "STAT message from Dr Osei"), func() {
		n.Notify(app.Notification{ConversationID: "osei", Title: "Rounds", Body: "STAT message from Dr Osei", Urgent: true, Level: "STAT"})
	})
	test.AssertNotificationSent(t, fyne.NewNotification("Nurse Kim in ICU team — Code", "CODE: bed 12"), func() {
		n.Notify(app.Notification{ConversationID: "icu", Title: "Nurse Kim in ICU team", Body: "CODE: bed 12", Urgent: true, Level: "Code"})
	})
	test.AssertNotificationSent(t, fyne.NewNotification("Rounds", "New message from Dr Patel"), func() {
		n.Notify(app.Notification{ConversationID: "patel", Title: "Rounds", Body: "New message from Dr Patel"})
	})
}
