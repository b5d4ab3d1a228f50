package ui

import (
	"fmt"
	"rounds/app"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestAlertSaysTheRole: a page sent to an on-call role says, right under
// the sender, that it reached this user as that role; a page sent by name
// says nothing of the kind; a long role shrinks to fit a phone.
func TestAlertSaysTheRole(t *testing.T) {
	for _, size := range []fyne.Size{screenSizes["desktop"], screenSizes["phone"]} {
		t.Run(fmt.Sprint(size.Width), func(t *testing.T) {
			test.NewTempApp(t)
			s := NewShell(newClinicalActions(), settingsState())
			w := test.NewTempWindow(t, s.Content())
			w.Resize(size)
			a := clinicalAlert()
			a.Role = "Cardiology on call"
			s.SetAlerts([]AlertItem{a})
			s.Alert.Refresh()
			texts := drawnTexts(s.Alert)
			if !strings.Contains(texts, "From Dr Osei · 14:26|to you as Cardiology on call") {
				t.Fatalf("role line missing or not under the sender: %s", texts)
			}
			if s.Alert.role.Position().Y <= s.Alert.from.Position().Y {
				t.Fatalf("role line at y %v, sender at %v", s.Alert.role.Position().Y, s.Alert.from.Position().Y)
			}

			a.Role = "Paediatric cardiothoracic surgery registrar on call (nights, weekend cover)"
			s.SetAlerts([]AlertItem{a})
			s.Alert.Refresh()
			tx := s.Alert.role
			if wd := fyne.MeasureText(tx.Text, tx.TextSize, tx.TextStyle).Width; wd > s.Alert.card.Size().Width {
				t.Fatalf("%q is %v wide on a %v card", tx.Text, wd, s.Alert.card.Size().Width)
			}

			a.Role = ""
			s.SetAlerts([]AlertItem{a})
			if texts := drawnTexts(s.Alert); strings.Contains(texts, "to you as") {
				t.Fatalf("role line on a page sent by name: %s", texts)
			}
		})
	}
}

// TestAlertShowsThePerson: the alert card draws the sender's avatar
// (initials on their colour) and the job title their card claims; the
// conversation header draws the peer's avatar and title. Rooms show none.
func TestAlertShowsThePerson(t *testing.T) {
	test.NewTempApp(t)
	s := NewShell(newClinicalActions(), settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(screenSizes["phone"])
	s.SetAlerts([]AlertItem{clinicalAlert()})
	s.Alert.Refresh()
	if texts := drawnTexts(s.Alert); !strings.Contains(texts, oseiRole) {
		t.Fatalf("no job title on the alert: %s", texts)
	}
	if f := s.Alert.face; !f.Visible() || f.text.Text != app.AvatarOf("Dr Osei", "dr.osei@rounds.test").Initials || !f.circle.Visible() {
		t.Fatalf("alert avatar: visible %v, %q", f.Visible(), f.text.Text)
	}

	v := NewConversationView(oseiInfo(ConversationInfo{Presence: "available"}), nil, &fakeActions{})
	if v.face.Hidden || v.face.text.Text != "O" || !strings.Contains(v.subtitle.Text, oseiRole) {
		t.Fatalf("header: avatar hidden %v %q, subtitle %q", v.face.Hidden, v.face.text.Text, v.subtitle.Text)
	}
	room := NewConversationView(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, nil, &fakeActions{})
	if !room.face.Hidden {
		t.Fatal("a room's header shows a person's avatar")
	}
}
