package ui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2"

	"rounds/app"
	"rounds/sync"
)

// clinicalScreens are the clinical layer's screens for TestScreenshots
// (docs/screenshots/clinical-*.png).
func clinicalScreens() []screenshot {
	chat := func() *ConversationView {
		v := NewConversationView(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei", Presence: "dnd"}, clinicalChat(), newClinicalActions())
		v.OnBack = func() {}
		return v
	}
	shell := func(f *clinicalActions) *Shell {
		s := NewShell(f, settingsState())
		s.Inbox.SetRows(inboxRows())
		s.Inbox.SetConnection(app.Connection{Connectivity: sync.Online})
		s.Directory.SetContacts(contacts())
		s.Directory.SetRoles(clinicalRoles())
		return s
	}
	return []screenshot{
		{name: "clinical-conversation", build: func() fyne.CanvasObject { return chat() }},
		{name: "clinical-conversation-top", build: func() fyne.CanvasObject { return chat() }, after: func(t *testing.T, w fyne.Window) {
			w.Content().(*ConversationView).list.ScrollToTop()
		}},
		{name: "clinical-order-refused", build: func() fyne.CanvasObject { return chat() }, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			v.clin.urg.SetSelectedIndex(2)
			v.clin.order.SetChecked(true)
			v.composer.SetText("Give calcium gluconate 10 ml 10% IV now")
			v.actions.(*clinicalActions).sendErr = app.ErrNotOrderRecipient
			v.submit()
		}},
		{name: "clinical-alert", build: func() fyne.CanvasObject {
			s := shell(newClinicalActions())
			s.ShowConversation(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, roomMessages(), false)
			s.SetAlerts([]AlertItem{clinicalAlert()})
			return s.Content()
		}},
		{name: "clinical-roles", build: func() fyne.CanvasObject {
			v := NewDirectoryView(contacts(), newClinicalActions())
			v.SetRoles(clinicalRoles())
			return v
		}},
		{name: "clinical-audit", build: func() fyne.CanvasObject {
			f := newClinicalActions()
			f.audit = auditRows()
			return SettingsScreen(settingsState(), f)
		}, after: func(t *testing.T, w fyne.Window) {
			buttonNamed(t, w.Content(), "View audit log").OnTapped()
		}},
		{name: "clinical-audit-broken", build: func() fyne.CanvasObject {
			f := newClinicalActions()
			f.audit = auditRows()
			f.auditErr = errors.Join(app.ErrAuditTampered, errors.New("audit chain broken: entry 4: hash mismatch"))
			return NewAuditView(f)
		}},
	}
}
