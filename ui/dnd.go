package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// DNDActions is what the do-not-disturb controls ask of the app. The
// controller's actions have them; screens built over actions without them
// (a preview, a test's fake) show no controls.
type DNDActions interface {
	SetDND(app.DNDSettings) error
	EndDND() error
	DND() app.DNDView
}

// dndBar is the inbox's line while do not disturb is on ("Do not disturb
// until 14:00 · Dr Lee covers", with End), and the quick toggle beside "New
// chat" that starts or ends it.
type dndBar struct {
	widget.BaseWidget
	actions DNDActions
	bg      *canvas.Rectangle
	line    *widget.Label
	end     *widget.Button
	toggle  *widget.Button
	err     *widget.Label
	state   app.DNDView
	popup   *widget.PopUp
}

func newDNDBar(a DNDActions) *dndBar {
	b := &dndBar{actions: a, bg: canvas.NewRectangle(theme.Color(theme.ColorNameError)), line: widget.NewLabel("")}
	b.line.Wrapping = fyne.TextWrapWord
	b.line.TextStyle.Bold = true
	b.end = widget.NewButton("End", b.endDND)
	b.toggle = widget.NewButtonWithIcon("", theme.VolumeMuteIcon(), b.tapToggle)
	b.err = widget.NewLabel("")
	b.err.Importance = widget.DangerImportance
	b.err.Wrapping = fyne.TextWrapWord
	b.err.Hide()
	b.ExtendBaseWidget(b)
	b.set(app.DNDView{})
	return b
}

// set shows state: the line while on, nothing while off.
func (b *dndBar) set(state app.DNDView) {
	b.state = state
	if state.On {
		b.line.SetText(state.Line)
		b.toggle.Importance = widget.DangerImportance
		b.Show()
	} else {
		b.toggle.Importance = widget.LowImportance
		b.Hide()
	}
	b.toggle.Refresh()
	b.Refresh()
}

func (b *dndBar) tapToggle() {
	if b.state.On {
		b.endDND()
		return
	}
	if c := fyne.CurrentApp().Driver().CanvasForObject(b.toggle); c != nil {
		b.popup = ShowDNDDialog(c, b.actions)
	}
}

func (b *dndBar) endDND() {
	if err := b.actions.EndDND(); err != nil {
		b.err.SetText(err.Error())
		b.err.Show()
		return
	}
	b.err.Hide()
	b.set(b.actions.DND())
}

func (b *dndBar) CreateRenderer() fyne.WidgetRenderer {
	b.bg.FillColor = theme.Color(theme.ColorNameError)
	icon := widget.NewIcon(theme.VolumeMuteIcon())
	row := container.NewBorder(nil, b.err, icon, container.NewCenter(b.end), b.line)
	return widget.NewSimpleRenderer(container.NewStack(b.bg, row))
}

// dndDurations are the end times offered: from now, or until turned off (0).
var dndDurations = []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 0}

func dndDurationText(d time.Duration) string {
	switch {
	case d == 0:
		return "Until I turn it off"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d == time.Hour:
		return "1 hour"
	}
	return fmt.Sprintf("%d hours", int(d.Hours()))
}

// ShowDNDDialog asks for do not disturb's settings on c: how long, off
// shift or not, the automatic reply, and who covers (a colleague's address
// or an on-call role), saying what will happen.
func ShowDNDDialog(c fyne.Canvas, a DNDActions) *widget.PopUp {
	opts := make([]string, len(dndDurations))
	for i, d := range dndDurations {
		opts[i] = dndDurationText(d)
	}
	until := widget.NewSelect(opts, nil)
	until.SetSelectedIndex(1)
	offShift := widget.NewCheck("Off shift (not just busy)", nil)
	reply := newClinicalField()
	reply.SetPlaceHolder("In theatre until 14:00 — urgent: page Dr Osei")
	reply.SetMinRowsVisible(2)
	cover := newField()
	cover.SetPlaceHolder("colleague@hospital.org or an on-call role")
	help := widget.NewLabel("Routine messages arrive without a sound. Urgent and STAT ring as your hospital's policy says. " +
		"Everyone who writes gets your reply once. Urgent messages go to whoever covers, sent from this device while it is online.")
	help.Wrapping = fyne.TextWrapWord
	help.SizeName = theme.SizeNameCaptionText
	status := widget.NewLabel("")
	status.Importance = widget.DangerImportance
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	var pop *widget.PopUp
	start := widget.NewButtonWithIcon("Start", theme.VolumeMuteIcon(), func() {
		s := app.DNDSettings{Reply: reply.Text, OffShift: offShift.Checked}
		if i := until.SelectedIndex(); i >= 0 && dndDurations[i] > 0 {
			s.Until = nowFunc().Add(dndDurations[i])
		}
		if who := strings.TrimSpace(cover.Text); strings.Contains(who, "@") {
			s.Cover = who
		} else {
			s.CoverRole = who
		}
		if err := a.SetDND(s); err != nil {
			status.SetText(err.Error())
			status.Show()
			return
		}
		pop.Hide()
	})
	start.Importance = widget.HighImportance
	content := container.NewVBox(
		widget.NewLabelWithStyle("Do not disturb", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, widget.NewLabel("For"), nil, until), offShift,
		widget.NewLabel("Automatic reply"), reply,
		widget.NewLabel("Covered by"), cover, help, status,
		container.NewGridWithColumns(2, widget.NewButton("Cancel", func() { pop.Hide() }), start))
	pop = widget.NewModalPopUp(container.NewPadded(content), c)
	pop.Resize(fyne.NewSize(min(c.Size().Width-2*theme.Padding(), 440), content.MinSize().Height+2*theme.Padding()))
	pop.Show()
	return pop
}

// dndSection is the settings' do-not-disturb section: the state and a
// button to start or end it (nil when the actions have no such controls).
func (s *settingsScreen) dndSection() fyne.CanvasObject {
	a, ok := s.actions.(DNDActions)
	if !ok {
		none := widget.NewLabel("")
		none.Hide() // takes no room in the settings' column
		return none
	}
	state := s.st.DND
	line := widget.NewLabel("Off. Routine messages notify as usual.")
	line.Wrapping = fyne.TextWrapWord
	var button *widget.Button
	if state.On {
		text := state.Line
		if state.Reply != "" {
			text += "\nAutomatic reply: " + state.Reply
		}
		line.SetText(text)
		button = widget.NewButton("End do not disturb", func() { s.report("dnd", a.EndDND()) })
	} else {
		button = widget.NewButtonWithIcon("Do not disturb…", theme.VolumeMuteIcon(), func() {
			if c := fyne.CurrentApp().Driver().CanvasForObject(s.root); c != nil {
				s.popup = ShowDNDDialog(c, a)
			}
		})
	}
	return container.NewVBox(widget.NewSeparator(), section("Do not disturb", line, button, s.errLabel("dnd")))
}
