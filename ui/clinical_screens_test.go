package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// clinicalScreens are the clinical layer's screens for TestScreenshots
// (docs/screenshots/clinical-*.png).
func clinicalScreens() []screenshot {
	chat := func() *ConversationView {
		v := NewConversationView(oseiInfo(ConversationInfo{Presence: "dnd"}), clinicalChat(), newClinicalActions())
		v.OnBack = func() {}
		return v
	}
	shell := func(f *clinicalActions) *Shell {
		s := NewShell(f, settingsState())
		s.Inbox.SetRows(inboxRows())
		s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
		s.Directory.SetContacts(contacts())
		s.Directory.SetRoles(clinicalRoles())
		return s
	}
	return []screenshot{
		{name: "clinical-conversation", build: func() fyne.CanvasObject { return chat() }},
		{name: "clinical-room", build: func() fyne.CanvasObject {
			return NewConversationView(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, clinicalRoom(), newClinicalActions())
		}},
		{name: "clinical-details", build: func() fyne.CanvasObject {
			return NewConversationView(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, clinicalRoom(), newClinicalActions())
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			runAction(t, v.rowActions(rowByID(v, 51)), "Details")
		}},
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
		{name: "clinical-recall-confirm", build: func() fyne.CanvasObject { return chat() }, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			runAction(t, v.rowActions(rowByID(v, 26)), "Recall…")
		}},
		{name: "clinical-history", build: func() fyne.CanvasObject {
			v := chat()
			v.actions.(*clinicalActions).history = []app.BodyVersion{{Body: "Family of bed 9 will be here at 15:00.", At: rowByID(v, 26).Timestamp}}
			return v
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			runAction(t, v.rowActions(rowByID(v, 26)), "Edit history")
		}},
		{name: "clinical-role-message", build: func() fyne.CanvasObject {
			v := NewDirectoryView(contacts(), newClinicalActions())
			v.SetRoles(clinicalRoles())
			return v
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*DirectoryView)
			test.Tap(findAll[*tapRow](v)[0])
			pop := v.roles.popup
			test.Type(findAll[*widget.Entry](pop.Content)[0], "New AF in bed 3, rate 150, BP stable")
			test.Tap(buttonNamed(t, pop.Content, "Send to role"))
			waitFor(func() bool { return strings.Contains(labelsText(pop.Content), "Sent to") })
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
