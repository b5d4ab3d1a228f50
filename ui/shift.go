package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// ShiftActions is what a shared device's settings offer besides the rest:
// lock now, and end the shift (app/shift.go says what that hands over).
// The settings screen shows the buttons only when its actions have them.
type ShiftActions interface {
	LockNow()
	// ShiftHandover is what ending the shift would do now.
	ShiftHandover() (app.ShiftHandover, error)
	// EndShift hands over, signs out and removes or keeps the profile; it
	// goes over the network.
	EndShift() (app.ShiftHandover, error)
}

// lockNow is the "Lock now" button (none when the actions cannot lock).
func (s *settingsScreen) lockNow() []fyne.CanvasObject {
	sa, ok := s.actions.(ShiftActions)
	if !ok {
		return nil
	}
	return []fyne.CanvasObject{widget.NewButtonWithIcon("Lock now", theme.VisibilityOffIcon(), sa.LockNow)}
}

// endShift is the "End shift…" button, which asks before it acts, and its
// error line.
func (s *settingsScreen) endShift() []fyne.CanvasObject {
	sa, ok := s.actions.(ShiftActions)
	if !ok {
		return nil
	}
	b := widget.NewButtonWithIcon("End shift…", theme.LogoutIcon(), func() { s.confirmEndShift(sa) })
	b.Importance = widget.WarningImportance
	return []fyne.CanvasObject{b, s.errLabel("endshift")}
}

// confirmEndShift shows what ending the shift does (the alerts handed back,
// the escalations handed on, the roles the schedule still names, and
// whether the messages leave the device) and ends it on "End shift".
func (s *settingsScreen) confirmEndShift(sa ShiftActions) {
	h, err := sa.ShiftHandover()
	if err != nil {
		s.report("endshift", err)
		return
	}
	var pop *widget.PopUp
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	var end *widget.Button
	end = widget.NewButtonWithIcon("End shift", theme.LogoutIcon(), func() {
		end.Disable()
		end.SetText("Handing over…")
		go func() {
			_, err := sa.EndShift()
			doUI(func() {
				if err == nil {
					pop.Hide() // the controller shows the lock or sign-in screen
					return
				}
				end.Enable()
				end.SetText("End shift")
				status.SetText(err.Error())
				status.Show()
			})
		}()
	})
	end.Importance = widget.WarningImportance
	cancel := widget.NewButton("Cancel", func() { pop.Hide() })
	pop = s.modal(EndShiftContent(h, status, container.NewGridWithColumns(2, cancel, end)))
}

// EndShiftContent is the body of the end-of-shift confirmation.
func EndShiftContent(h app.ShiftHandover, extra ...fyne.CanvasObject) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("End your shift?", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	body := widget.NewLabel(h.Text())
	body.Wrapping = fyne.TextWrapWord
	return container.NewVBox(append([]fyne.CanvasObject{title, body}, extra...)...)
}
