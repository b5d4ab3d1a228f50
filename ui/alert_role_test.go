package ui

import (
	"fmt"
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
