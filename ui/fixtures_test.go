package ui

import (
	"fmt"
	"sync"
	"time"

	"rounds/app"
)

// fixedNow is the moment every screenshot and test is drawn at.
var fixedNow = time.Date(2025, 3, 12, 14, 30, 0, 0, time.Local)

// uiQueue holds work the screens post to the UI goroutine; waitFor runs it on
// the test goroutine, as the real driver runs it on the main one.
var uiQueue = make(chan func(), 1024)

func init() {
	nowFunc = func() time.Time { return fixedNow }
	doUI = func(f func()) { uiQueue <- f }
}

func drainUI() {
	for {
		select {
		case f := <-uiQueue:
			f()
		default:
			return
		}
	}
}

func receipt(state app.ReceiptState, at time.Time) app.Receipt {
	var r app.Receipt
	r.State = state
	for s := app.ReceiptQueued; s <= state && s <= app.ReceiptAcknowledged; s++ {
		r.At[s] = at.Add(time.Duration(s) * 7 * time.Second)
	}
	if state == app.ReceiptFailed {
		r.At[app.ReceiptQueued] = at
		r.At[app.ReceiptFailed] = at.Add(time.Minute)
		r.Reason = "the recipient's server is unreachable"
	}
	return r
}

// roomMessages is a short, realistic ICU room conversation.
func roomMessages() []app.MessageRow {
	t0 := fixedNow.Add(-26 * time.Hour)
	msgs := []app.MessageRow{
		{ID: 1, Sender: "Dr Osei", Body: "Morning all. Bed 4 is for step-down today if the lactate stays under 2.", Timestamp: t0, DayBreak: true},
		{ID: 2, Outgoing: true, Sender: "You", Body: "Noted, I'll call the step-down unit.", Timestamp: t0.Add(3 * time.Minute)},
		{ID: 3, Sender: "Nurse Kim", Body: "Bed 12 K+ 6.1, please review", Timestamp: fixedNow.Add(-50 * time.Minute), DayBreak: true, Urgency: app.UrgencyHigh},
		{ID: 4, Sender: "Dr Osei", Body: "On my way. Repeat the K+ and get an ECG.\nHold the spironolactone.", Timestamp: fixedNow.Add(-48 * time.Minute)},
		{ID: 5, Outgoing: true, Sender: "You", Body: "ECG done, peaked T waves. Protocol: https://intranet.hospital.org/protocols/hyperkalaemia", Timestamp: fixedNow.Add(-40 * time.Minute)},
		{ID: 6, Sender: "Pharmacy", Body: "Calcium gluconate 10% sent up to ICU with the porter.", Timestamp: fixedNow.Add(-35 * time.Minute)},
		{ID: 7, Outgoing: true, Sender: "You", Body: "Thanks. Repeat K+ 5.4 after insulin-dextrose.", Timestamp: fixedNow.Add(-5 * time.Minute)},
	}
	msgs[1].Receipt = receipt(app.ReceiptRead, msgs[1].Timestamp)
	msgs[4].Receipt = receipt(app.ReceiptDelivered, msgs[4].Timestamp)
	msgs[4].Members = map[string]app.Receipt{
		"Dr Osei":   receipt(app.ReceiptRead, msgs[4].Timestamp),
		"Nurse Kim": receipt(app.ReceiptDelivered, msgs[4].Timestamp),
		"Pharmacy":  receipt(app.ReceiptSent, msgs[4].Timestamp),
	}
	msgs[6].Receipt = receipt(app.ReceiptSent, msgs[6].Timestamp)
	return msgs
}

func chatMessages() []app.MessageRow {
	t := fixedNow.Add(-20 * time.Minute)
	msgs := []app.MessageRow{
		{ID: 11, Sender: "Dr Osei", Body: "Can you check the drain output for bed 7?", Timestamp: t, DayBreak: true},
		{ID: 12, Outgoing: true, Sender: "You", Body: "120 ml serous since 8am.", Timestamp: t.Add(2 * time.Minute)},
		{ID: 13, Sender: "Dr Osei", Body: "Good. Leave it in until tomorrow's round.", Timestamp: t.Add(4 * time.Minute)},
		{ID: 14, Outgoing: true, Sender: "You", Body: "Will do.", Timestamp: t.Add(5 * time.Minute)},
		{ID: 15, Outgoing: true, Sender: "You", Body: "Family asking for an update at 4pm, are you free?", Timestamp: t.Add(6 * time.Minute)},
		{ID: 16, Outgoing: true, Sender: "You", Body: "Also the X-ray is back.", Timestamp: t.Add(7 * time.Minute)},
	}
	msgs[1].Receipt = receipt(app.ReceiptRead, msgs[1].Timestamp)
	msgs[3].Receipt = receipt(app.ReceiptDelivered, msgs[3].Timestamp)
	msgs[4].Receipt = receipt(app.ReceiptFailed, msgs[4].Timestamp)
	msgs[5].Receipt = receipt(app.ReceiptQueued, msgs[5].Timestamp)
	return msgs
}

var bodies = []string{
	"Bed 12 K+ 6.1, please review",
	"On my way.",
	"Can someone cover bay 3 while I take the patient to CT? Back in about twenty minutes, handover sheet is on the desk.",
	"Noted",
	"Family of bed 9 would like to speak to the consultant this afternoon, they are available after 3pm.\nDaughter is the contact.",
	"ECG done, peaked T waves, see https://intranet.hospital.org/ecg/12",
	"Pharmacy says the IV amoxicillin will be up by 14:00",
	"Thanks!",
}

// manyMessages builds n messages over n/40 days.
func manyMessages(n int) []app.MessageRow {
	rows := make([]app.MessageRow, n)
	start := fixedNow.Add(-time.Duration(n) * 10 * time.Minute)
	var lastDay int
	for i := range rows {
		ts := start.Add(time.Duration(i) * 10 * time.Minute)
		out := i%3 == 1
		rows[i] = app.MessageRow{
			ID: app.MessageID(i + 1), Outgoing: out, Body: bodies[i%len(bodies)],
			Sender: []string{"Dr Osei", "Nurse Kim", "Dr Patel"}[i%3], Timestamp: ts,
			DayBreak: ts.YearDay() != lastDay,
		}
		if out {
			rows[i].Sender = "You"
			rows[i].Receipt = receipt(app.ReceiptRead, ts)
		}
		lastDay = ts.YearDay()
	}
	return rows
}

// fakeActions records every intent the screens forward.
type fakeActions struct {
	mu       sync.Mutex
	sent     []string
	opened   []string
	shown    []app.MessageID
	older    []app.MessageID
	reading  int
	started  []string
	joined   []string
	presence []string
	calls    []string
	sendErr  error
}

func (f *fakeActions) record(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }

func (f *fakeActions) Send(conv, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return f.sendErr
	}
	f.sent = append(f.sent, conv+": "+text)
	return nil
}
func (f *fakeActions) MarkShown(conv string, upTo app.MessageID) {
	f.mu.Lock()
	f.shown = append(f.shown, upTo)
	f.mu.Unlock()
}
func (f *fakeActions) LoadOlder(conv string, before app.MessageID) {
	f.mu.Lock()
	f.older = append(f.older, before)
	f.mu.Unlock()
}
func (f *fakeActions) Reading(conv string) {
	f.mu.Lock()
	f.reading++
	f.mu.Unlock()
}
func (f *fakeActions) Open(conv string) {
	f.mu.Lock()
	f.opened = append(f.opened, conv)
	f.mu.Unlock()
}

func (f *fakeActions) snapshot(get func(*fakeActions) int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return get(f)
}

// waitFor polls cond for up to two seconds (intents run on goroutines).
func waitFor(cond func() bool) bool {
	for i := 0; i < 200; i++ {
		drainUI()
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

var _ = fmt.Sprint

func inboxRows() []app.ConversationRow {
	rows := []app.ConversationRow{
		{ID: "dr.osei@rounds.test", Title: "Dr Osei", LastActivity: fixedNow.Add(-13 * time.Minute), Unread: 2, Preview: "Good. Leave it in until tomorrow's round.", Presence: "dnd"},
		{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, LastActivity: fixedNow.Add(-50 * time.Minute), Unread: 5, Preview: "Nurse Kim: Bed 12 K+ 6.1, please review", Urgent: true, UrgentLevel: app.UrgencyHigh},
		{ID: "pharmacy@rounds.test", Title: "Pharmacy", LastActivity: fixedNow.Add(-3 * time.Hour), Preview: "Calcium gluconate 10% sent up to ICU", Presence: "available"},
		{ID: "ward7@rooms.rounds.test", Title: "Ward 7 handover", IsRoom: true, LastActivity: fixedNow.Add(-26 * time.Hour), Preview: "Handover at 19:30 in the day room"},
		{ID: "dr.patel@rounds.test", Title: "Dr Patel", LastActivity: fixedNow.Add(-72 * time.Hour), Preview: "Thanks, see you on the ward", Presence: "away"},
		{ID: "frontdesk@rounds.test", Title: "Front desk", LastActivity: fixedNow.Add(-30 * 24 * time.Hour), Preview: "Visitor for bed 3 at reception", Presence: ""},
	}
	// People get their initials on their address's colour, as app gives.
	for i, r := range rows {
		if !r.IsRoom {
			rows[i].Avatar = fixtureAvatar(r.Title, r.ID)
		}
	}
	return rows
}

func manyConversations(n int) []app.ConversationRow {
	rows := make([]app.ConversationRow, n)
	for i := range rows {
		rows[i] = app.ConversationRow{ID: fmt.Sprintf("staff%d@rounds.test", i), Title: fmt.Sprintf("Staff member %d", i),
			LastActivity: fixedNow.Add(-time.Duration(i) * time.Minute), Unread: i % 4, Preview: bodies[i%len(bodies)],
			IsRoom: i%5 == 0, Presence: []string{"available", "away", "dnd", ""}[i%4], Urgent: i%97 == 0}
	}
	return rows
}

func (f *fakeActions) StartChat(jid string) { f.record("start " + jid) }
func (f *fakeActions) JoinRoom(room, nick string) error {
	f.record("join " + room + " as " + nick)
	return nil
}
func (f *fakeActions) SetPresence(show, status string) error {
	f.record("presence " + show + " " + status)
	return nil
}
func (f *fakeActions) SetNotificationPreview(p app.PreviewLevel) error {
	f.record(fmt.Sprint("preview ", int(p)))
	return nil
}
func (f *fakeActions) SetLockAfter(d time.Duration) error { f.record("lock " + d.String()); return nil }
func (f *fakeActions) ChangePIN(o, n string) error        { f.record("pin " + o + " " + n); return nil }
func (f *fakeActions) SignOut() error                     { f.record("signout"); return nil }
func (f *fakeActions) Wipe() error                        { f.record("wipe"); return nil }
func (f *fakeActions) RemoveOwnPicture() (app.Avatar, error) {
	f.record("picture removed")
	return app.AvatarOf("Nurse Kim", "nurse.kim@rounds.test"), nil
}

func (f *fakeActions) AnswerPresenceRequest(from string, allow bool) error {
	f.record(fmt.Sprint("answer ", from, " ", allow))
	return nil
}

// presenceRequests: a colleague asks to see when Nurse Kim is available.
func presenceRequests() []app.PresenceRequest {
	return []app.PresenceRequest{{Address: "ama.osei@rounds.test", Name: "Dr Ama Osei", Avatar: app.AvatarOf("Dr Ama Osei", "ama.osei@rounds.test"),
		Text: "Dr Ama Osei (ama.osei@rounds.test) wants to see when you are available"}}
}

func (f *fakeActions) SetOwnPicture(data []byte) (app.Avatar, error) {
	f.record(fmt.Sprint("picture ", len(data)))
	return fixtureAvatar("Nurse Kim", "nurse.kim@rounds.test"), nil
}

func (f *fakeActions) has(call string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c == call {
			return true
		}
	}
	return false
}

var _ Actions = (*fakeActions)(nil)

func contacts() []app.ContactRow {
	rows := []app.ContactRow{
		{JID: "dr.osei@rounds.test", Name: "Dr Osei", Groups: []string{"ICU", "Consultants"}, Presence: "dnd", Status: "In surgery", Role: "Cardiology registrar", Unit: "Cardiology"},
		{JID: "nurse.kim@rounds.test", Name: "Nurse Kim", Groups: []string{"ICU", "Nursing"}, Presence: "available", Status: "Bay 2", Role: "Staff nurse", Unit: "ICU"},
		{JID: "pharmacy@rounds.test", Name: "Pharmacy", Groups: []string{"Pharmacy"}, Presence: "available"},
		{JID: "dr.patel@rounds.test", Name: "Dr Patel", Groups: []string{"Cardiology"}, Presence: "away", Status: "On call from 18:00"},
		{JID: "frontdesk@rounds.test", Name: "Front desk", Groups: []string{"Reception"}},
	}
	for i, r := range rows {
		rows[i].Avatar = fixtureAvatar(r.Name, r.JID)
	}
	return rows
}

func settingsState() SettingsState {
	return SettingsState{Account: "nurse.kim@rounds.test", Presence: "dnd", Status: "In surgery", Preview: app.PreviewSender,
		LockAfter: 5 * time.Minute, Policy: app.Policy{LockAfter: 10 * time.Minute, Preview: app.PreviewSender}, Version: "0.1.0",
		Avatar: fixtureAvatar("Nurse Kim", "nurse.kim@rounds.test")}
}

type wrongPIN int

func (w wrongPIN) Error() string     { return "wrong PIN" }
func (w wrongPIN) AttemptsLeft() int { return int(w) }
