package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

func TestInboxOrderOpenSearch(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeActions{}
	v := NewInboxView(inboxRows(), f)
	var opened []string
	v.OnOpen = func(r app.ConversationRow) { opened = append(opened, r.Title) }
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	// Urgent first, then newest first.
	want := []string{"ICU team", "Dr Osei", "Pharmacy", "Ward 7 handover", "Dr Patel", "Front desk"}
	for i, r := range v.shown {
		if r.Title != want[i] {
			t.Fatalf("row %d is %q, want %q", i, r.Title, want[i])
		}
	}
	rows := findAll[*inboxRow](v)
	if len(rows) < 6 {
		t.Fatalf("%d rows drawn", len(rows))
	}
	if !rows[0].urgentTag.Visible() || rows[0].urgent.Text != "URGENT" || rows[1].urgentTag.Visible() {
		t.Error("urgent row not marked, or a normal row marked")
	}
	if rows[1].presence.Text != "Do not disturb" || rows[0].presence.Text != "Room" {
		t.Errorf("presence texts %q %q", rows[0].presence.Text, rows[1].presence.Text)
	}
	if rows[1].badgeText.Text != "2" || !rows[1].badgeBox.Visible() || rows[2].badgeBox.Visible() {
		t.Error("unread badges wrong")
	}
	if rows[1].when.Text != "13 min" || rows[3].when.Text != "Yesterday" {
		t.Errorf("times %q %q", rows[1].when.Text, rows[3].when.Text)
	}
	v.list.Select(1)
	if len(f.opened) == 0 || f.opened[len(f.opened)-1] != "dr.osei@rounds.test" || len(opened) == 0 {
		t.Fatalf("Open got %q", f.opened)
	}
	test.Type(v.search, "pharm")
	if len(v.shown) != 1 || v.shown[0].Title != "Pharmacy" {
		t.Fatalf("search 'pharm' shows %v", v.shown)
	}
	v.search.SetText("K+ 6.1")
	if len(v.shown) != 1 || v.shown[0].Title != "ICU team" {
		t.Fatalf("search by preview shows %v", v.shown)
	}
	v.search.SetText("nobody")
	if len(v.shown) != 0 || !v.empty.Visible() {
		t.Fatal("no 'no match' message")
	}
}

func TestStatusBar(t *testing.T) {
	test.NewTempApp(t)
	v := NewInboxView(nil, &fakeActions{})
	signIn := 0
	v.OnSignInAgain = func() { signIn++ }
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(900, 640))
	v.SetConnection(app.Connection{Connectivity: app.Online})
	if v.status.Visible() {
		t.Error("status bar shown while online")
	}
	v.SetConnection(app.Connection{Connectivity: app.Offline, Reason: errors.New("connection reset"), RetryAt: fixedNow.Add(20 * time.Second)})
	if s := v.status.Text(); !v.status.Visible() || !strings.Contains(s, "Offline: connection reset") || !strings.Contains(s, "retrying in 20 s") {
		t.Errorf("offline bar: %q", s)
	}
	refused := fmt.Errorf("sign in: %w", app.ErrWrongPassword)
	v.SetConnection(app.Connection{Connectivity: app.AuthFailed, Reason: refused})
	if s := v.status.Text(); s != app.SignInErrorText(refused) || !v.status.action.Visible() {
		t.Errorf("auth failed bar: %q", s)
	}
	test.Tap(v.status.action)
	if signIn != 1 {
		t.Error("Sign in again not forwarded")
	}
	_ = widget.NewLabel
}

func BenchmarkInbox1000(b *testing.B) {
	a := test.NewApp()
	defer a.Quit()
	rows := manyConversations(1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := NewInboxView(rows, &fakeActions{})
		w := test.NewWindow(v)
		w.Resize(fyne.NewSize(900, 640))
		w.Canvas().Capture()
		w.Close()
	}
}
