package ui

import (
	"fmt"
	"io"
	"time"

	"rounds/app"
)

// clinicalActions is fakeActions plus the clinical intents, recorded.
type clinicalActions struct {
	*fakeActions
	clinical   []app.ClinicalOptions
	sendErr    error
	respondErr error
	history    []app.BodyVersion
	roles      []string
	audit      []app.AuditRow
	auditErr   error
}

func newClinicalActions() *clinicalActions {
	return &clinicalActions{fakeActions: &fakeActions{}}
}

func (f *clinicalActions) SendClinical(conv, text string, o app.ClinicalOptions) (app.Sent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return app.Sent{}, f.sendErr
	}
	f.clinical = append(f.clinical, o)
	f.sent = append(f.sent, conv+": "+text)
	return app.Sent{ID: 99, Conversation: conv, To: conv}, nil
}

func (f *clinicalActions) Respond(conv string, msg app.MessageID, kind app.ResponseKind, text string) error {
	f.record(fmt.Sprintf("respond %s %d %s %s", conv, msg, kind, text))
	return f.respondErr
}

func (f *clinicalActions) Recall(conv string, id app.MessageID) error {
	f.record(fmt.Sprintf("recall %s %d", conv, id))
	return nil
}

func (f *clinicalActions) Correct(conv string, id app.MessageID, text string) error {
	f.record(fmt.Sprintf("correct %s %d %s", conv, id, text))
	return nil
}

func (f *clinicalActions) History(id app.MessageID) ([]app.BodyVersion, error) {
	return f.history, nil
}

func (f *clinicalActions) ExportConversation(w io.Writer, conv, format string) error {
	f.record("export " + conv + " " + format)
	_, err := io.WriteString(w, "{}")
	return err
}

func (f *clinicalActions) CancelEscalation(conv string, id app.MessageID) error {
	f.record(fmt.Sprintf("stop escalation %s %d", conv, id))
	return nil
}

func (f *clinicalActions) SendToRole(role, text string, o app.ClinicalOptions) (app.Sent, error) {
	f.record("role " + role + ": " + text)
	return app.Sent{ID: 7, Conversation: "dr.osei@rounds.test", To: "dr.osei@rounds.test", ToName: "Dr Osei",
		Role: &app.RoleSent{Role: role, To: "dr.osei@rounds.test", ToName: "Dr Osei", Until: fixedNow.Add(5*time.Hour + 30*time.Minute)}}, nil
}

func (f *clinicalActions) AuditEntries() ([]app.AuditRow, error) { return f.audit, nil }
func (f *clinicalActions) AuditIntact() error                    { return f.auditErr }
func (f *clinicalActions) ExportAudit(w io.Writer, format string) error {
	f.record("export audit " + format)
	_, err := io.WriteString(w, "{}")
	return err
}

var (
	_ ClinicalActions = (*clinicalActions)(nil)
	_ AlertActions    = (*clinicalActions)(nil)
	_ RoleActions     = (*clinicalActions)(nil)
	_ AuditActions    = (*clinicalActions)(nil)
)

func ackReceipt(state app.ReceiptState, at time.Time) app.Receipt {
	var r app.Receipt
	r.State = state
	for s := app.ReceiptQueued; s <= state && s <= app.ReceiptAcknowledged; s++ {
		r.At[s] = at.Add(time.Duration(s) * 15 * time.Second)
	}
	return r
}

// The fixtures' Status lines are what app/status.go says for these rows
// (its tests prove the words); here they are only drawn.

// clinicalChat is a nurse's chat with a physician: a STAT page
// acknowledged, an urgent one declined then "call me", a recalled
// message, an escalation notice, a corrected message, and an incoming
// urgent message waiting for a response.
func clinicalChat() []app.MessageRow {
	t := fixedNow.Add(-28 * time.Minute) // 14:02
	rows := []app.MessageRow{
		{ID: 21, Outgoing: true, Sender: "You", Body: "Bed 12 K+ 6.8 on repeat, peaked T waves. Please come now.", Timestamp: t, DayBreak: true,
			Urgency: app.UrgencyCritical, AckRequired: true, Receipt: ackReceipt(app.ReceiptAcknowledged, t),
			Responses: []app.ResponseRow{{From: "Dr Osei", Kind: app.ResponseAck, At: t.Add(2 * time.Minute)}},
			Status:    []string{"Acknowledged 14:04 by Dr Osei"}, StatusAck: []bool{true}},
		{ID: 22, Sender: "Dr Osei", Body: "✓ Acknowledged", Timestamp: t.Add(2 * time.Minute), Response: app.ResponseAck},
		{ID: 23, Outgoing: true, Sender: "You", Body: "Bed 4 BP 82/50 after the second bolus.", Timestamp: t.Add(6 * time.Minute),
			Urgency: app.UrgencyHigh, AckRequired: true, Receipt: ackReceipt(app.ReceiptRead, t.Add(6*time.Minute)),
			Responses: []app.ResponseRow{
				{From: "Dr Osei", Kind: app.ResponseDecline, Text: "in theatre", At: t.Add(7 * time.Minute)},
				{From: "Dr Osei", Kind: app.ResponseCallMe, At: t.Add(9 * time.Minute)}},
			Escalation: &app.EscalationView{Active: true, NextAt: t.Add(11 * time.Minute)},
			Status:     []string{"Read 14:09 · alerting until acknowledged", "Declined 14:09: in theatre", "Call me 14:11", "Escalates at 14:13 unless acknowledged"}},
		{ID: 24, Outgoing: true, Sender: "You", Body: "Message recalled at 14:12", Timestamp: t.Add(9 * time.Minute),
			Recalled: t.Add(10 * time.Minute), Receipt: ackReceipt(app.ReceiptDelivered, t.Add(9*time.Minute))},
		{ID: 25, Outgoing: true, Sender: "You", Body: "Escalated to Dr Patel (Cardiology on call): not acknowledged in 5 min", Timestamp: t.Add(11 * time.Minute),
			Notice: true, EscalationStep: 1, Receipt: ackReceipt(app.ReceiptSent, t.Add(11*time.Minute))},
		{ID: 26, Outgoing: true, Sender: "You", Body: "Family of bed 9 will be here at 16:00.", Timestamp: t.Add(13 * time.Minute),
			Corrected: true, CorrectedAt: t.Add(15 * time.Minute), Receipt: ackReceipt(app.ReceiptRead, t.Add(13*time.Minute))},
		{ID: 27, Sender: "Dr Osei", Body: "Start the hyperkalaemia protocol, I'm 5 minutes away.", Timestamp: t.Add(20 * time.Minute),
			Urgency: app.UrgencyHigh, AckRequired: true, Marks: app.MessageMarks{Order: true}}, // Dr Osei's order
		{ID: 28, Outgoing: true, Sender: "You", Body: "Bed 7 febrile 39.4, cultures sent.", Timestamp: t.Add(24 * time.Minute),
			Urgency: app.UrgencyHigh, AckRequired: true, Alerting: true, Receipt: ackReceipt(app.ReceiptDelivered, t.Add(24*time.Minute)),
			Marks: app.MessageMarks{Role: "Cardiology on call"}, // sent to the role, reached Dr Osei
			// Its ladder handed to the hospital's escalation service.
			Escalation: &app.EscalationView{Active: true, HeldByService: true, NextAt: t.Add(29 * time.Minute)},
			Status: []string{"To Cardiology on call: reached Dr Osei", "Alerting on Dr Osei's device since 14:26",
				"Escalates at 14:31 unless acknowledged", app.LineHeldByService}},
	}
	return rows
}

func clinicalAlert() AlertItem {
	return AlertItem{Alert: app.Alert{Conversation: "dr.osei@rounds.test", Message: 27, From: "Dr Osei", Title: "Dr Osei",
		FromAvatar: app.AvatarOf("Dr Osei", "dr.osei@rounds.test"), FromTitle: oseiRole,
		Urgency: app.UrgencyCritical, AckRequired: true, Repeats: 2, MaxRepeats: 10,
		Since: fixedNow.Add(-4 * time.Minute), NextAt: fixedNow.Add(2 * time.Minute)},
		Body: "Start the hyperkalaemia protocol, I'm 5 minutes away."}
}

func clinicalRoles() []app.RoleRow {
	return []app.RoleRow{
		{Role: "Cardiology on call", Holder: "dr.osei@rounds.test", HolderName: "Dr Osei", HolderAvatar: fixtureAvatar("Dr Osei", "dr.osei@rounds.test"), BackupJID: "dr.patel@rounds.test", Until: fixedNow.Add(5*time.Hour + 30*time.Minute), Orders: true},
		{Role: "Charge nurse", Holder: "nurse.kim@rounds.test", HolderName: "Nurse Kim", HolderAvatar: fixtureAvatar("Nurse Kim", "nurse.kim@rounds.test"), Backup: true, Until: fixedNow.Add(4*time.Hour + 30*time.Minute)},
		{Role: "Rapid response", Next: fixedNow.Add(3*time.Hour + 30*time.Minute)},
	}
}

func auditRows() []app.AuditRow {
	t := fixedNow.Add(-3 * time.Hour)
	kinds := [][2]string{
		{"sign-in", "signed in as nurse.kim@rounds.test"},
		{"unlock-failed", "wrong PIN (9 attempts left)"},
		{"policy-changed", "org policy version 3 applied: retention 30 days, lock 300 s"},
		{"urgent-ack", "acknowledged message 27 (origin-id 5c0f…)"},
		{"recall", "recalled message 24 (origin-id 9a1e…)"},
		{"export", "conversation dr.osei@rounds.test exported as csv"},
	}
	out := make([]app.AuditRow, len(kinds))
	for i, k := range kinds {
		out[i] = app.AuditRow{Seq: uint64(i + 1), Time: t.Add(time.Duration(i) * 25 * time.Minute), Kind: k[0], Detail: k[1]}
	}
	return out
}

// clinicalRoom is an ICU room: a STAT page to the team acknowledged by one
// member while another asks to be called, an escalation notice, and an
// urgent message from a member.
func clinicalRoom() []app.MessageRow {
	t := fixedNow.Add(-40 * time.Minute) // 13:50
	page := app.MessageRow{ID: 51, Outgoing: true, Sender: "You", Body: "Bed 3 desaturating to 84% on 15 L, need airway support now.", Timestamp: t, DayBreak: true,
		Urgency: app.UrgencyCritical, AckRequired: true, Receipt: ackReceipt(app.ReceiptAcknowledged, t),
		Members: map[string]app.Receipt{
			"Dr Osei":   ackReceipt(app.ReceiptAcknowledged, t),
			"Nurse Kim": ackReceipt(app.ReceiptRead, t),
		},
		Responses: []app.ResponseRow{
			{From: "Nurse Kim", Kind: app.ResponseCallMe, At: t.Add(time.Minute)},
			{From: "Dr Osei", Kind: app.ResponseAck, At: t.Add(2 * time.Minute)},
			{From: "Dr Osei", Kind: app.ResponseText, Text: "Coming from theatre 2, start bagging", At: t.Add(2 * time.Minute)},
		},
		Status:    []string{"Acknowledged 13:52 by Dr Osei", "Nurse Kim: Call me 13:51", "Dr Osei: Reply 13:52: Coming from theatre 2, start bagging"},
		StatusAck: []bool{true, false, false}}
	return []app.MessageRow{
		page,
		{ID: 52, Sender: "Dr Osei", Body: "Coming from theatre 2, start bagging", Timestamp: t.Add(2 * time.Minute), Response: app.ResponseText},
		{ID: 53, Sender: "Charge nurse", Body: "Escalated to Dr Patel (Anaesthetics on call): not acknowledged in 5 min", Timestamp: t.Add(6 * time.Minute), Notice: true, EscalationStep: 1},
		{ID: 54, Sender: "Nurse Kim", Body: "Bed 5 new confusion, GCS 13.", Timestamp: t.Add(9 * time.Minute), Urgency: app.UrgencyHigh, AckRequired: true,
			Responses: []app.ResponseRow{{From: "You", Own: true, Kind: app.ResponseFiveMinutes, At: t.Add(10 * time.Minute)}},
			Status:    []string{"You: 5 minutes 14:00"}},
	}
}

// oseiRole is the job title Dr Osei's card claims in the fixtures.
const oseiRole = "Cardiology registrar"

// oseiInfo is the header of the chat with Dr Osei: info's presence and
// counts, with his name, avatar and job title.
func oseiInfo(info ConversationInfo) ConversationInfo {
	info.ID, info.Title = "dr.osei@rounds.test", "Dr Osei"
	info.Avatar, info.Role = app.AvatarOf("Dr Osei", info.ID), oseiRole
	return info
}
