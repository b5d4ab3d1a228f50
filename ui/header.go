package ui

import (
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The conversation header: title, presence and role, the muted mark and a
// room's unavailable line (setInfo), and its ⋮ menu: care team, mute, and
// exporting the conversation (saved where the user picks, export.go).

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

func (v *ConversationView) setInfo(info ConversationInfo) {
	v.info = info
	v.title.SetText(info.Title)
	v.face.set(info.Avatar, themedPerson)
	v.face.Hidden = info.IsRoom || info.Avatar.Initials == ""
	v.faceBox.Hidden = v.face.Hidden
	v.lead.Hidden = v.back.Hidden && v.faceBox.Hidden // no gap before a room's name
	if info.IsRoom {
		v.subtitle.SetText("Room · " + info.ID)
		v.dot.Hide()
		v.dotBox.Hide() // no gap before a room's name
		v.subShift.Hide()
	} else {
		sub := presenceText(info.Presence)
		if info.Role != "" {
			sub += " · " + info.Role
		}
		v.subtitle.SetText(sub + " · " + info.ID)
		v.dot.FillColor = presenceColor(info.Presence)
		v.dot.Show()
		v.dotBox.Show()
		v.subShift.Show()
	}
	if info.Muted {
		v.subtitle.SetText("Muted · " + v.subtitle.Text)
	}
	if info.Muted {
		v.mutedBox.Show()
	} else {
		v.mutedBox.Hide()
	}
	v.mutedBox.Refresh()
	v.unavailable.SetText(info.Unavailable)
	v.unavailable.Hidden = info.Unavailable == ""
}

// ID is the conversation shown.
func (v *ConversationView) ID() string { return v.info.ID }

// SetInfo updates the header (presence, title) without touching the messages.
func (v *ConversationView) SetInfo(info ConversationInfo) {
	v.setInfo(info)
	v.dot.Refresh()
}

// SetHeader redraws the header (title, presence, room availability) from
// info and keeps what the view knows of its messages (unread, older pages).
func (v *ConversationView) SetHeader(info ConversationInfo) {
	if info.ID != v.info.ID {
		return
	}
	info.Unread, info.HasOlder = v.info.Unread, v.info.HasOlder
	if info == v.info {
		return
	}
	v.SetInfo(info)
}
