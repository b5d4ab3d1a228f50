package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// unavailableRooms is the inbox with Ward 7's room gone at the last sign-in;
// the sentence is app's (onRoomUnavailable), ui draws it as given.
func unavailableRooms() []app.ConversationRow {
	rows := inboxRows()
	for i := range rows {
		if rows[i].ID == "ward7@rooms.rounds.test" {
			rows[i].Unavailable = "This room no longer exists."
		}
	}
	return rows
}

// TestRoomUnavailableDrawn: a room app marks unavailable says so on its inbox
// row, where its last message would be, and under the conversation's header
// when it is opened from there; other rows and a room that is fine show
// their previews and no such line.
func TestRoomUnavailableDrawn(t *testing.T) {
	test.NewTempApp(t)
	for _, sizeName := range []string{"desktop", "phone"} {
		s := NewShell(&fakeActions{}, settingsState())
		w := test.NewTempWindow(t, s.Content())
		w.Resize(screenSizes[sizeName])
		s.Inbox.SetRows(unavailableRooms())
		var ward, icu *inboxRow
		for _, r := range findAll[*inboxRow](s.Inbox) {
			switch r.title.Text {
			case "Ward 7 handover":
				ward = r
			case "ICU team":
				icu = r
			}
		}
		if ward == nil || icu == nil {
			t.Fatalf("%s: rows not drawn", sizeName)
		}
		if ward.preview.Text != "This room no longer exists." || ward.preview.Importance != widget.WarningImportance {
			t.Errorf("%s: unavailable room's row reads %q (importance %v)", sizeName, ward.preview.Text, ward.preview.Importance)
		}
		if icu.preview.Text != "Nurse Kim: Bed 12 K+ 6.1, please review" || icu.preview.Importance != widget.MediumImportance {
			t.Errorf("%s: available room's row reads %q (importance %v)", sizeName, icu.preview.Text, icu.preview.Importance)
		}

		for _, r := range s.Inbox.shown {
			if r.ID == "ward7@rooms.rounds.test" {
				s.Inbox.OnOpen(r)
			}
		}
		v := s.Conversation()
		if v == nil || v.ID() != "ward7@rooms.rounds.test" {
			t.Fatalf("%s: room not opened", sizeName)
		}
		if !v.unavailable.Visible() || v.unavailable.Text != "This room no longer exists." || v.unavailable.Size().Height == 0 {
			t.Errorf("%s: header says %q (visible %v, height %v)", sizeName, v.unavailable.Text, v.unavailable.Visible(), v.unavailable.Size().Height)
		}
		abs := fyne.CurrentApp().Driver().AbsolutePositionForObject
		if sub, un := abs(v.subtitle).Y, abs(v.unavailable).Y; un < sub+v.subtitle.Size().Height-1 {
			t.Errorf("%s: the unavailable line (y %v) is not under the subtitle (y %v)", sizeName, un, sub)
		}
		// The room is back at a later sign-in: the header drops the line.
		s.ShowConversation(ConversationInfo{ID: "ward7@rooms.rounds.test", Title: "Ward 7 handover", IsRoom: true}, nil, false)
		if v.unavailable.Visible() {
			t.Errorf("%s: the line stays after the room is back", sizeName)
		}
	}
}
