package ui

import (
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The conversation header's ⋮ menu: care team, mute, and exporting the
// conversation (saved where the user picks, export.go).

// headerMenu is the conversation header's ⋮ button (export).
func (v *ConversationView) headerMenu() fyne.CanvasObject {
	if _, ok := v.clinicalActions(); !ok {
		return nil
	}
	v.clin.menu = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), func() {
		c := fyne.CurrentApp().Driver().CanvasForObject(v)
		if c == nil {
			return
		}
		m := fyne.NewMenu("", append(append(v.careTeamItems(), v.muteItems()...), // careteam.go, mute.go
			fyne.NewMenuItem("Export conversation (JSON)", func() { v.exportConversation("json") }),
			fyne.NewMenuItem("Export conversation (CSV)", func() { v.exportConversation("csv") }))...)
		// Opened below the button (an anchor of no height under it).
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(v.clin.menu)
		showMenu(c, m, pos.Add(fyne.NewPos(0, v.clin.menu.Size().Height)), fyne.NewSize(v.clin.menu.Size().Width, 0))
	})
	v.clin.menu.Importance = widget.LowImportance
	return v.clin.menu
}

// exportConversation asks where to save and lets the app write (and audit)
// the export.
func (v *ConversationView) exportConversation(format string) {
	ca, ok := v.clinicalActions()
	if !ok {
		return
	}
	conv := v.info.ID
	saveExport(v, "conversation-"+safeFileName(conv)+"."+format, func(w io.Writer) error {
		return ca.ExportConversation(w, conv, format)
	}, func(msg string, err error) {
		if err != nil {
			v.showComposerNote("Export failed: " + err.Error())
		} else {
			v.showComposerNote(msg)
		}
	})
}
