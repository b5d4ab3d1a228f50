package ui

import (
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

// teamActions answers the care-team and invitation screens from fixtures.
type teamActions struct {
	*clinicalActions
	mu       sync.Mutex
	members  []app.RoomMemberRow
	readBy   []app.ReadByRow
	invites  []app.InvitationRow
	admins   []string
	removed  []string
	added    []string
	accepted []string
}

func newTeamActions() *teamActions {
	return &teamActions{
		clinicalActions: newClinicalActions(),
		members: []app.RoomMemberRow{
			{Address: "dr.osei@rounds.test", Name: "Dr Osei", Role: app.RoomRoleOwner},
			{Address: "me@rounds.test", Name: "You", Role: app.RoomRoleAdmin, Self: true},
			{Address: "nurse.kim@rounds.test", Name: "Nurse Kim", Role: app.RoomRoleMember},
			{Address: "dr.patel@rounds.test", Name: "Dr Patel", Role: app.RoomRoleMember},
		},
		readBy: []app.ReadByRow{
			{Address: "nurse.kim@rounds.test", Name: "Nurse Kim", Read: true, At: fixedNow.Add(-40 * time.Minute)},
			{Address: "dr.osei@rounds.test", Name: "Dr Osei", Read: true, At: fixedNow.Add(-31 * time.Minute)},
			{Address: "dr.patel@rounds.test", Name: "Dr Patel"},
		},
		invites: []app.InvitationRow{{Room: "theatre-3@conference.rounds.test", Title: "theatre-3", From: "dr.patel@rounds.test",
			FromName: "Dr Patel", Reason: "Theatre 3 list today", At: fixedNow.Add(-5 * time.Minute)}},
	}
}

func (f *teamActions) RoomMembers(string) ([]app.RoomMemberRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]app.RoomMemberRow(nil), f.members...), nil
}
func (f *teamActions) AddRoomMember(_, a string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, a)
	return nil
}
func (f *teamActions) RemoveRoomMember(_, a string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, a)
	return nil
}
func (f *teamActions) MakeRoomAdmin(_, a string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.admins = append(f.admins, a)
	return nil
}
func (f *teamActions) ReadBy(string, app.MessageID) ([]app.ReadByRow, error) { return f.readBy, nil }
func (f *teamActions) Invitations() ([]app.InvitationRow, error)             { return f.invites, nil }
func (f *teamActions) AcceptInvitation(room string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepted = append(f.accepted, room)
	return room, nil
}
func (f *teamActions) DeclineInvitation(string) error { return nil }

var icuInfo = ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}

// TestCareTeamScreen: the room's care team lists each member with their
// role; an admin may make a member admin, remove a member and add one, but
// is offered nothing on the owner or themselves.
func TestCareTeamScreen(t *testing.T) {
	test.NewTempApp(t)
	f := newTeamActions()
	v := NewConversationView(icuInfo, roomMessages(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(900, 640))
	v.showCareTeam(f)
	pop := v.popup
	if !waitFor(func() bool { return strings.Contains(labelsIn(pop.Content), "Nurse Kim") }) {
		t.Fatalf("members not shown: %q", labelsIn(pop.Content))
	}
	text := labelsIn(pop.Content)
	for _, want := range []string{"4 members", "Dr Osei", "Owner", "You", "Admin", "Dr Patel", "nurse.kim@rounds.test", "Add a member"} {
		if !strings.Contains(text, want) {
			t.Errorf("care team screen lacks %q: %q", want, text)
		}
	}
	if n := len(findAll[*widget.Button](pop.Content)); n != 2*2+2 { // two members × (make admin, remove), Add, Close
		t.Errorf("%d buttons, want 6 (nothing on the owner or oneself)", n)
	}
	test.Tap(buttonIn(pop.Content, "Make admin"))
	entry := findAll[*widget.Entry](pop.Content)[0]
	test.Type(entry, "dr.lee@rounds.test")
	test.Tap(buttonIn(pop.Content, "Add"))
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.admins) == 1 && len(f.added) == 1 }) {
		t.Fatalf("actions not run: admins %v added %v", f.admins, f.added)
	}
	if f.admins[0] != "nurse.kim@rounds.test" || f.added[0] != "dr.lee@rounds.test" {
		t.Fatalf("admins %v added %v", f.admins, f.added)
	}
}

// TestRemoveMemberTakesSecondTap: the remove button beside a member asks
// "Remove?" on the first tap and removes only on the second. Before, one tap
// on the icon (beside "Make admin", small at phone width) removed the
// colleague from the care team at once.
func TestRemoveMemberTakesSecondTap(t *testing.T) {
	test.NewTempApp(t)
	f := newTeamActions()
	v := NewConversationView(icuInfo, roomMessages(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	v.showCareTeam(f)
	pop := v.popup
	if !waitFor(func() bool { return strings.Contains(labelsIn(pop.Content), "Nurse Kim") }) {
		t.Fatalf("members not shown: %q", labelsIn(pop.Content))
	}
	var rm *widget.Button
	for _, b := range findAll[*widget.Button](pop.Content) {
		if b.Text == "" && b.Importance == widget.DangerImportance {
			rm = b
			break
		}
	}
	if rm == nil {
		t.Fatal("no remove button")
	}
	test.Tap(rm)
	time.Sleep(300 * time.Millisecond)
	f.mu.Lock()
	removed := append([]string(nil), f.removed...)
	f.mu.Unlock()
	if len(removed) != 0 {
		t.Fatalf("one tap removed %v", removed)
	}
	if rm.Text != "Remove?" {
		t.Fatalf("after one tap the button says %q, want \"Remove?\"", rm.Text)
	}
	test.Tap(rm)
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.removed) == 1 }) {
		t.Fatal("the second tap did not remove")
	}
}

// TestReadByScreen: "Read by" from our message's menu lists the two who
// read it with their times and the one who has not yet.
func TestReadByScreen(t *testing.T) {
	test.NewTempApp(t)
	f := newTeamActions()
	rows := roomMessages()
	v := NewConversationView(icuInfo, rows, f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(900, 640))
	var own app.MessageRow
	for _, r := range rows {
		if r.Outgoing {
			own = r
		}
	}
	found := false
	for _, a := range v.rowActions(own) {
		if a.Label == "Read by…" {
			found = true
			a.Run()
		}
	}
	if !found {
		t.Fatal("no Read by in the menu of our room message")
	}
	pop := v.popup
	if !waitFor(func() bool { return strings.Contains(labelsIn(pop.Content), "Not yet") }) {
		t.Fatalf("read-by not shown: %q", labelsIn(pop.Content))
	}
	text := labelsIn(pop.Content)
	for _, want := range []string{"2 of 3 have read it", "Nurse Kim", "Read " + fixedNow.Add(-40*time.Minute).Local().Format(stampFormat), "Dr Patel", "Not yet"} {
		if !strings.Contains(text, want) {
			t.Errorf("read-by lacks %q: %q", want, text)
		}
	}
	for _, a := range v.rowActions(rows[0]) {
		if a.Label == "Read by…" {
			t.Fatal("Read by offered on someone else's message")
		}
	}
}

// TestInvitationInInbox: a waiting invitation shows in the inbox with who,
// which room and why; Join accepts it.
func TestInvitationInInbox(t *testing.T) {
	test.NewTempApp(t)
	f := newTeamActions()
	v := NewInboxView(inboxRows(), f)
	v.SetInvitations(f.invites)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(900, 640))
	text := labelsIn(v.invites.box)
	if !strings.Contains(text, "Dr Patel invites you to the room theatre-3\n“Theatre 3 list today”") {
		t.Fatalf("invitation card: %q", text)
	}
	test.Tap(buttonIn(v.invites.box, "Join"))
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.accepted) == 1 }) {
		t.Fatal("Join did not accept")
	}
	v.SetInvitations(nil)
	if v.invites.box.Visible() {
		t.Fatal("the invitation bar stays with no invitations")
	}
}

// TestInvitationFromStrangerAtPhoneWidth: an invitation from someone not in
// the user's contacts shows their whole address, uncut at phone width, and
// the app's caution. Before, the address followed the room's on one line
// and was cut ("from dr.patel@r…"), and the name was the local part alone,
// so dr.patel@another-server read as the colleague.
func TestInvitationFromStrangerAtPhoneWidth(t *testing.T) {
	test.NewTempApp(t)
	f := newTeamActions()
	stranger := "dr.patel@rounds-test.example"
	f.invites = []app.InvitationRow{{Room: "theatre-3@conference.rounds-test.example", Title: "theatre-3", From: stranger,
		FromName: stranger, Reason: "Theatre 3 list today", At: fixedNow, Caution: app.InvitationNotAContact}}
	v := NewInboxView(inboxRows(), f)
	v.SetInvitations(f.invites)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	var from, caution *widget.Label
	for _, l := range findAll[*widget.Label](v.invites.box) {
		if strings.Contains(l.Text, "From "+stranger) || strings.Contains(l.Text, "from "+stranger) {
			from = l
		}
		if strings.Contains(l.Text, app.InvitationNotAContact) {
			caution = l
		}
	}
	if from == nil || caution == nil {
		t.Fatalf("invitation card without the sender's address or the caution: %q", labelsIn(v.invites.box))
	}
	for _, l := range []*widget.Label{from, caution} {
		need := fyne.MeasureText(l.Text, theme.TextSize(), l.TextStyle).Width + 2*theme.InnerPadding()
		if need > l.Size().Width {
			t.Fatalf("%q is cut at phone width: needs %.0f px, has %.0f", l.Text, need, l.Size().Width)
		}
	}
}

func careTeamScreens() []screenshot {
	own := func(rows []app.MessageRow) app.MessageRow {
		for _, r := range rows {
			if r.Outgoing {
				return r
			}
		}
		return rows[0]
	}
	return []screenshot{
		{name: "room-care-team", build: func() fyne.CanvasObject {
			return NewConversationView(icuInfo, roomMessages(), newTeamActions())
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			v.showCareTeam(v.actions.(*teamActions))
			waitFor(func() bool { return strings.Contains(labelsIn(v.popup.Content), "Nurse Kim") })
		}},
		{name: "room-read-by", build: func() fyne.CanvasObject {
			return NewConversationView(icuInfo, roomMessages(), newTeamActions())
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			v.showReadBy(v.actions.(*teamActions), own(roomMessages()))
			waitFor(func() bool { return strings.Contains(labelsIn(v.popup.Content), "Not yet") })
		}},
		{name: "directory-new-care-team", build: func() fyne.CanvasObject {
			return NewDirectoryView(nil, &creatingActions{fakeActions: &fakeActions{}})
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*DirectoryView)
			v.showJoin()
			test.Tap(buttonIn(v.popup.Content, "New care team…"))
			entries := findAll[*widget.Entry](v.popup.Content)
			entries[0].SetText("icu-team@rooms.rounds.test")
			entries[1].SetText("ICU team")
			entries[2].SetText("kim@rounds.test, dr.osei@rounds.test")
		}},
		{name: "inbox-invitation", build: func() fyne.CanvasObject {
			f := newTeamActions()
			v := NewInboxView(inboxRows(), f)
			v.SetInvitations(f.invites)
			v.SetConnection(app.Connection{Connectivity: app.Online})
			return v
		}},
	}
}

// creatingActions records CreateRoom.
type creatingActions struct {
	*fakeActions
	mu      sync.Mutex
	created []string
}

func (f *creatingActions) CreateRoom(address, name string, members []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, address+"|"+name+"|"+strings.Join(members, ","))
	return nil
}

// TestCreateCareTeamDialog: "Join room" offers "New care team…", whose
// dialog creates the room with its name and the members typed (comma or
// line separated), refuses a member that is not an address, and opens the
// room.
func TestCreateCareTeamDialog(t *testing.T) {
	test.NewTempApp(t)
	f := &creatingActions{fakeActions: &fakeActions{}}
	v := NewDirectoryView(nil, f)
	var opened string
	v.OnStarted = func(conv string) { opened = conv }
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(900, 640))
	v.showJoin()
	test.Tap(buttonIn(v.popup.Content, "New care team…"))
	entries := findAll[*widget.Entry](v.popup.Content)
	if len(entries) != 3 {
		t.Fatalf("%d fields, want address, name, members", len(entries))
	}
	test.Type(entries[0], "icu-team@rooms.rounds.test")
	test.Type(entries[1], "ICU team")
	test.Type(entries[2], "kim@rounds.test, not an address")
	test.Tap(buttonIn(v.popup.Content, "Create"))
	if got := labelsIn(v.popup.Content); !strings.Contains(got, "Not an address: not") {
		t.Fatalf("a bad member was not refused: %q", got)
	}
	entries[2].SetText("kim@rounds.test,\nosei@rounds.test")
	test.Tap(buttonIn(v.popup.Content, "Create"))
	if !waitFor(func() bool { return opened != "" }) {
		t.Fatal("the room was not opened")
	}
	if len(f.created) != 1 || f.created[0] != "icu-team@rooms.rounds.test|ICU team|kim@rounds.test,osei@rounds.test" {
		t.Fatalf("created %v", f.created)
	}
}
