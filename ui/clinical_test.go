package ui

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// drawnTexts is every visible canvas text under o (the rows' badges,
// status lines and times are canvas texts).
func drawnTexts(o fyne.CanvasObject) string {
	var b []string
	for _, t := range findAll[*canvas.Text](o) {
		b = append(b, t.Text)
	}
	return strings.Join(b, "|")
}

func rowByID(v *ConversationView, id app.MessageID) app.MessageRow {
	return v.rows[v.index[id]]
}

// TestAlertShowsRespondsAndStops: an open alert covers the shell with the
// level, the sender and "repeats until acknowledged"; its buttons call the
// app; it disappears when the app's alerts no longer list it; "Call me"
// puts it aside until its next repeat.
func TestAlertShowsRespondsAndStops(t *testing.T) {
	for _, size := range []fyne.Size{screenSizes["desktop"], screenSizes["phone"]} {
		t.Run(fmt.Sprint(size.Width), func(t *testing.T) {
			test.NewTempApp(t)
			f := newClinicalActions()
			s := NewShell(f, settingsState())
			s.SetLevels(app.UrgencyLevelNames{STAT: "Code STAT"})
			w := test.NewTempWindow(t, s.Content())
			w.Resize(size)
			if s.Alert.Visible() {
				t.Fatal("alert shown with no alert open")
			}
			a := clinicalAlert()
			s.SetAlerts([]AlertItem{a})
			if !s.Alert.Visible() {
				t.Fatal("alert not shown")
			}
			texts := drawnTexts(s.Alert)
			for _, want := range []string{"CODE STAT", "From Dr Osei", "Repeats until acknowledged", "Alerted 3 times since 14:26"} {
				if !strings.Contains(texts, want) {
					t.Errorf("alert lacks %q: %s", want, texts)
				}
			}
			if !strings.Contains(labelsText(s.Alert), a.Body) {
				t.Errorf("alert lacks the message text: %s", labelsText(s.Alert))
			}
			// It covers the window: desktop a centred card over a dimmed
			// shell, phone the whole screen.
			card := s.Alert.card
			if size.Width < PhoneWidth {
				if card.Size() != s.Alert.Size() {
					t.Errorf("phone sheet is %v, window %v", card.Size(), s.Alert.Size())
				}
			} else if !s.Alert.dim.Visible() || card.Size().Width >= s.Alert.Size().Width {
				t.Errorf("desktop overlay: dim %v, card %v in %v", s.Alert.dim.Visible(), card.Size(), s.Alert.Size())
			}

			test.Tap(buttonNamed(t, s.Alert, "Acknowledge"))
			if !waitFor(func() bool { return f.has("respond dr.osei@rounds.test 27 ack ") }) {
				t.Fatalf("Acknowledge did not call the app: %q", f.calls)
			}
			// The app has not said the alert stopped: it stays.
			if !s.Alert.Visible() {
				t.Fatal("alert hidden before the app ended it")
			}
			// Another device acknowledged (or this one's ack went through):
			// the app lists no alert, the overlay goes.
			s.SetAlerts(nil)
			if s.Alert.Visible() {
				t.Fatal("alert still shown after the app ended it")
			}

			// Call me: the app keeps the alert (snoozed); it is put aside
			// until its next repeat.
			s.SetAlerts([]AlertItem{a})
			test.Tap(buttonNamed(t, s.Alert, "Call me"))
			if !waitFor(func() bool { return f.has("respond dr.osei@rounds.test 27 call-me ") && !s.Alert.Visible() }) {
				t.Fatalf("Call me: calls %q, visible %v", f.calls, s.Alert.Visible())
			}
			s.SetAlerts([]AlertItem{a})
			if s.Alert.Visible() {
				t.Fatal("alert put aside came back before its next repeat")
			}
			a.Repeats++
			s.SetAlerts([]AlertItem{a})
			if !s.Alert.Visible() {
				t.Fatal("alert did not come back at its next repeat")
			}

			// Free text, then a failure shown on the alert.
			test.Type(s.Alert.reply, "On my way, 2 min")
			test.Tap(s.Alert.send)
			if !waitFor(func() bool { return f.has("respond dr.osei@rounds.test 27 text On my way, 2 min") }) {
				t.Fatalf("reply not sent: %q", f.calls)
			}
			if s.Alert.Visible() {
				t.Fatal("a reply did not put the alert aside until its next repeat")
			}
			a.Repeats++
			s.SetAlerts([]AlertItem{a})
			f.mu.Lock()
			f.respondErr = errors.New("not connected")
			f.mu.Unlock()
			test.Tap(buttonNamed(t, s.Alert, "Decline"))
			if !waitFor(func() bool { return strings.Contains(labelsText(s.Alert), "Decline not sent: not connected") }) {
				t.Fatalf("failure not shown: %s", labelsText(s.Alert))
			}
			if !s.Alert.Visible() {
				t.Fatal("alert hidden after a failed response")
			}
		})
	}
}

// TestAlertLeavesWithTheShell: locking replaces the window's content (the
// shell) with the unlock screen; the alert, drawn inside the shell, goes
// with it, so no message text shows over the lock.
func TestAlertLeavesWithTheShell(t *testing.T) {
	test.NewTempApp(t)
	s := NewShell(newClinicalActions(), settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(screenSizes["desktop"])
	s.SetAlerts([]AlertItem{clinicalAlert()})
	w.SetContent(UnlockScreen(nil, "nurse.kim@rounds.test", func(string) error { return nil }))
	all := labelsText(w.Content()) + drawnTexts(w.Content())
	if strings.Contains(all, "hyperkalaemia") || strings.Contains(all, "Dr Osei") {
		t.Fatalf("alert content visible over the lock screen: %s", all)
	}
}

// TestSenderLiveView: as the app's status lines for an ack-required
// message change (app/status_test.go proves the words), the row redraws
// them and grows to hold them.
func TestSenderLiveView(t *testing.T) {
	test.NewTempApp(t)
	t0 := fixedNow.Add(-28 * time.Minute) // 14:02
	r := app.MessageRow{ID: 40, Outgoing: true, Sender: "You", Body: "Bed 12 K+ 6.8", Timestamp: t0,
		Urgency: app.UrgencyCritical, AckRequired: true}
	v, _, w := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, []app.MessageRow{r}, newClinicalActions(), screenSizes["phone"])
	_ = w
	check := func(lines ...string) {
		t.Helper()
		r.Status = lines
		v.Update(r)
		for _, want := range lines {
			if !strings.Contains(drawnTexts(v), want) {
				t.Fatalf("screen lacks %q: %s", want, drawnTexts(v))
			}
		}
	}
	check("Not yet delivered · acknowledgement required")
	check("Alerting on Dr Osei's device since 14:02")
	check("Read 14:03 · alerting until acknowledged", "Declined 14:03: in theatre", "Call me 14:05")
	check("Acknowledged 14:04 by Dr Osei", "Declined 14:03: in theatre", "Call me 14:05")
	if strings.Contains(drawnTexts(v), "alerting") {
		t.Fatalf("still 'alerting' drawn after the ack: %s", drawnTexts(v))
	}
	// The lines the app marks as saying it was acknowledged are bold (the
	// words decide nothing: an unmarked line reading the same is not).
	bold := func(text string) bool {
		for _, c := range findAll[*canvas.Text](v) {
			if c.Text == text && c.Visible() {
				return c.TextStyle.Bold
			}
		}
		t.Fatalf("%q not drawn: %s", text, drawnTexts(v))
		return false
	}
	r.StatusAck = []bool{true, false, false}
	v.Update(r)
	if !bold("Acknowledged 14:04 by Dr Osei") || bold("Declined 14:03: in theatre") {
		t.Fatalf("marked line bold %v, unmarked bold %v", bold("Acknowledged 14:04 by Dr Osei"), bold("Declined 14:03: in theatre"))
	}
	r.StatusAck = nil
	v.Update(r)
	if bold("Acknowledged 14:04 by Dr Osei") {
		t.Fatal("an unmarked 'Acknowledged' line is bold")
	}
	// The badge names the level in words, not colour alone.
	if !strings.Contains(drawnTexts(v), "STAT") {
		t.Fatalf("no STAT badge: %s", drawnTexts(v))
	}
	// Rows grew to hold the lines: the bubble's height covers them.
	m := v.metrics[0]
	g := v.geometry()
	if min := float32(len(v.rowStatus(r)))*g.capH + g.capH*2; m.h < min {
		t.Fatalf("row height %v cannot hold %d status lines", m.h, len(v.rowStatus(r)))
	}
}

func openConversationWith(t testing.TB, info ConversationInfo, rows []app.MessageRow, a ConversationActions, size fyne.Size) (*ConversationView, ConversationActions, fyne.Window) {
	t.Helper()
	v := NewConversationView(info, rows, a)
	w := test.NewTempWindow(t, v)
	w.Resize(size)
	return v, a, w
}

// TestEscalationNoticeAndRecallTombstone: escalation notices are system
// rows without a badge or menu; a recalled message shows its tombstone,
// offers nothing, and Recall asks before calling the app.
func TestEscalationNoticeAndRecallTombstone(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	v, _, _ := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), f, screenSizes["desktop"])
	notice := rowByID(v, 25)
	if v.showSender(notice) || v.badge(notice) != "" || len(v.rowActions(notice)) != 0 {
		t.Fatal("an escalation notice drawn like a message")
	}
	tomb := rowByID(v, 24)
	if len(v.rowActions(tomb)) != 0 {
		t.Fatalf("a recalled message offers %v", v.rowActions(tomb))
	}
	v.list.ScrollTo(v.index[24])
	if !waitFor(func() bool { return strings.Contains(richTexts(v), "Message recalled at 14:12") }) {
		t.Fatalf("tombstone not drawn: %s", richTexts(v))
	}

	own := rowByID(v, 26) // corrected, own
	acts := actionLabels(v.rowActions(own))
	for _, want := range []string{"Correct…", "Recall…", "Edit history", "Details"} {
		if !strings.Contains(acts, want) {
			t.Fatalf("own message actions %q lack %q", acts, want)
		}
	}
	runAction(t, v.rowActions(own), "Recall…")
	if f.has("recall dr.osei@rounds.test 26") {
		t.Fatal("recalled without confirmation")
	}
	pop := v.clin.popup
	if pop == nil || !strings.Contains(labelsText(pop.Content), "removed from every device") {
		t.Fatal("no recall confirmation")
	}
	test.Tap(buttonNamed(t, pop.Content, "Recall"))
	if !waitFor(func() bool { return f.has("recall dr.osei@rounds.test 26") && !pop.Visible() }) {
		t.Fatalf("Recall not called: %q", f.calls)
	}

	// A running escalation can be stopped, after a confirmation.
	esc := rowByID(v, 23)
	runAction(t, v.rowActions(esc), "Stop escalation…")
	if f.has("stop escalation dr.osei@rounds.test 23") {
		t.Fatal("escalation stopped without confirmation")
	}
	test.Tap(buttonNamed(t, v.clin.popup.Content, "Stop escalation"))
	if !waitFor(func() bool { return f.has("stop escalation dr.osei@rounds.test 23") }) {
		t.Fatalf("CancelEscalation not called: %q", f.calls)
	}

	// Edit history lists the current text, then the earlier ones with times.
	f.history = []app.BodyVersion{{Body: "Family of bed 9 will be here at 15:00.", At: own.Timestamp}}
	runAction(t, v.rowActions(own), "Edit history")
	hist := labelsText(v.clin.popup.Content)
	for _, want := range []string{"Now (edited 14:17)", own.Body, "Sent 14:15", "here at 15:00."} {
		if !strings.Contains(hist, want) {
			t.Fatalf("history lacks %q: %s", want, hist)
		}
	}
}

func richTexts(o fyne.CanvasObject) string {
	var b []string
	for _, r := range findAll[*widget.RichText](o) {
		b = append(b, r.String())
	}
	return strings.Join(b, "|")
}

func actionLabels(as []rowAction) string {
	var b []string
	for _, a := range as {
		b = append(b, a.Label)
	}
	return strings.Join(b, ",")
}

func runAction(t *testing.T, as []rowAction, label string) {
	t.Helper()
	for _, a := range as {
		if a.Label == label {
			a.Run()
			return
		}
	}
	t.Fatalf("no %q among %s", label, actionLabels(as))
}

// TestQuickResponsesFromMessage: an incoming urgent message offers the
// quick responses; each calls the app; once we acknowledged, none remain.
func TestQuickResponsesFromMessage(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	v, _, _ := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), f, screenSizes["phone"])
	in := rowByID(v, 27)
	if got := actionLabels(v.rowActions(in)); got != "Acknowledge,Decline,Call me,5 minutes,Reply…" {
		t.Fatalf("incoming urgent message offers %q", got)
	}
	for _, c := range []struct{ label, call string }{
		{"Acknowledge", "ack"}, {"Decline", "decline"}, {"Call me", "call-me"}, {"5 minutes", "five-minutes"},
	} {
		runAction(t, v.rowActions(in), c.label)
		want := "respond dr.osei@rounds.test 27 " + c.call + " "
		if !waitFor(func() bool { return f.has(want) }) {
			t.Fatalf("%s did not call %q: %q", c.label, want, f.calls)
		}
	}
	runAction(t, v.rowActions(in), "Reply…")
	pop := v.clin.popup
	entry := findAll[*widget.Entry](pop.Content)
	if len(entry) == 0 {
		t.Fatal("no reply field")
	}
	test.Type(entry[0], "Protocol started")
	test.Tap(buttonNamed(t, pop.Content, "Send reply"))
	if !waitFor(func() bool { return f.has("respond dr.osei@rounds.test 27 text Protocol started") }) {
		t.Fatalf("reply not sent: %q", f.calls)
	}
	// A failed response is shown under the composer.
	f.mu.Lock()
	f.respondErr = errors.New("this message is no longer here")
	f.mu.Unlock()
	runAction(t, v.rowActions(in), "Decline")
	if !waitFor(func() bool {
		return strings.Contains(v.sendErr.Text, "Decline not sent: this message is no longer here")
	}) {
		t.Fatalf("failure not shown: %q", v.sendErr.Text)
	}
	in.Responses = []app.ResponseRow{{From: "You", Own: true, Kind: app.ResponseAck, At: fixedNow}}
	v.Update(in)
	if len(v.rowActions(in)) != 0 {
		t.Fatalf("acknowledged message still offers %s", actionLabels(v.rowActions(in)))
	}
	// A routine message from someone offers nothing.
	if len(v.rowActions(app.MessageRow{ID: 1, Sender: "Dr Osei", Body: "ok"})) != 0 {
		t.Fatal("routine incoming message offers responses")
	}
}

// TestComposerUrgencyAndOrder: the picker names the policy's levels;
// urgent and STAT tick and lock "Ack required"; the options reach the app;
// an order refusal is shown under the composer with the text kept; after
// a send the picker returns to routine.
func TestComposerUrgencyAndOrder(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	v, _, _ := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), f, screenSizes["desktop"])
	v.SetLevels(app.UrgencyLevelNames{Routine: "Routine", Urgent: "Priority", STAT: "Emergency"})
	if got := strings.Join(v.clin.urg.Options, ","); got != "Routine,Priority,Emergency" {
		t.Fatalf("levels %q", got)
	}
	// Routine: the plain send path.
	test.Type(v.composer, "Drain output 120 ml")
	test.Tap(v.send)
	if len(f.sent) != 1 || len(f.clinical) != 0 {
		t.Fatalf("routine send: %q %v", f.sent, f.clinical)
	}
	v.clin.urg.SetSelected("Emergency")
	if !v.clin.ack.Checked || !v.clin.ack.Disabled() {
		t.Fatal("STAT does not show 'Ack required' as implied")
	}
	v.clin.order.SetChecked(true)
	f.sendErr = fmt.Errorf("%w (dr.osei@rounds.test)", app.ErrNotOrderRecipient)
	test.Type(v.composer, "Give calcium gluconate 10 ml IV")
	test.Tap(v.send)
	if !v.sendErr.Visible() || !strings.HasPrefix(v.sendErr.Text, "Order not sent: this person may not receive orders") {
		t.Fatalf("refusal not shown: %q", v.sendErr.Text)
	}
	if v.composer.Text != "Give calcium gluconate 10 ml IV" {
		t.Fatalf("text lost after a refusal: %q", v.composer.Text)
	}
	f.sendErr = nil
	v.clin.order.SetChecked(false)
	test.Tap(v.send)
	if len(f.clinical) != 1 || f.clinical[0] != (app.ClinicalOptions{Urgency: app.UrgencyCritical, AckRequired: true}) {
		t.Fatalf("clinical options %+v", f.clinical)
	}
	if v.urgency() != app.UrgencyNormal || v.clin.ack.Checked || v.clin.ack.Disabled() || v.composer.Text != "" {
		t.Fatal("composer not back to routine after sending")
	}
	// A routine message may ask for an acknowledgement.
	v.clin.ack.SetChecked(true)
	test.Type(v.composer, "Please confirm the family meeting")
	test.Tap(v.send)
	if len(f.clinical) != 2 || f.clinical[1] != (app.ClinicalOptions{AckRequired: true}) {
		t.Fatalf("routine ack options %+v", f.clinical)
	}
}

// TestRolesList: the directory lists each role with its holder now (or
// the backup, or nobody); tapping one writes to the role and says whom it
// reached.
func TestRolesList(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	v := NewDirectoryView(contacts(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(screenSizes["phone"])
	if v.roles.Visible() {
		t.Fatal("roles section shown with no schedule")
	}
	v.SetRoles(clinicalRoles())
	text := labelsText(v)
	for _, want := range []string{"Cardiology on call", "Dr Osei until 20:00", "backup dr.patel", "Nurse Kim (backup) until 19:00", "Rapid response", "Nobody now · next shift 18:00"} {
		if !strings.Contains(text, want) {
			t.Fatalf("roles lack %q: %s", want, text)
		}
	}
	test.Type(v.search, "cardio")
	if got := len(v.roles.shown); got != 1 {
		t.Fatalf("search shows %d roles", got)
	}
	var started []string
	v.OnStarted = func(conv string) { started = append(started, conv) }
	rows := findAll[*tapRow](v)
	if len(rows) != 1 {
		t.Fatalf("%d role rows", len(rows))
	}
	test.Tap(rows[0])
	pop := v.roles.popup
	if pop == nil {
		t.Fatal("no message-to-role dialog")
	}
	entry := findAll[*widget.Entry](pop.Content)
	test.Type(entry[0], "New AF in bed 3, rate 150")
	test.Tap(buttonNamed(t, pop.Content, "Send to role"))
	if !waitFor(func() bool {
		return f.has("role Cardiology on call: New AF in bed 3, rate 150") &&
			strings.Contains(labelsText(pop.Content), "Sent to Dr Osei (Cardiology on call, on call until 20:00).")
	}) {
		t.Fatalf("send to role: %q; dialog: %s", f.calls, labelsText(pop.Content))
	}
	test.Tap(buttonNamed(t, pop.Content, "Open conversation"))
	if len(started) != 1 || started[0] != "dr.osei@rounds.test" {
		t.Fatalf("opened %q", started)
	}
}

// TestAuditViewer lists entries newest first with time and kind, and says
// whether the chain verifies and where it breaks.
func TestAuditViewer(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	f.audit = auditRows()
	s := SettingsScreen(settingsState(), f)
	w := test.NewTempWindow(t, s)
	w.Resize(screenSizes["desktop"])
	buttonNamed(t, s, "View audit log").OnTapped()
	views := findAll[*AuditView](w.Canvas().Overlays().Top())
	if len(views) != 1 {
		t.Fatal("audit viewer not shown")
	}
	v := views[0]
	if v.ChainText() != "✓ Chain verified: 6 entries, none changed or removed" {
		t.Fatalf("chain line %q", v.ChainText())
	}
	text := labelsText(v)
	if !strings.Contains(text, "#6 · 12 Mar 2025 13:35:00 · export|conversation dr.osei@rounds.test exported as csv") {
		t.Fatalf("newest entry not first: %s", text)
	}
	f.auditErr = fmt.Errorf("%w: audit chain broken: entry 4: hash mismatch", app.ErrAuditTampered)
	v.Reload()
	if v.ChainText() != "✗ Chain broken at entry 4: an entry was changed or removed" {
		t.Fatalf("chain line %q", v.ChainText())
	}
	v.list.Refresh()
	if !strings.Contains(labelsText(v), "✗ The chain breaks here · #4 ·") {
		t.Fatalf("broken entry not marked: %s", labelsText(v))
	}
	if got := chainText(0, errors.New("store closed")); got != "Could not verify the chain: store closed" {
		t.Fatalf("other error: %q", got)
	}
}

// TestAlertBlocksTheShell: while the alert is up, a tap outside its card
// does not reach the screens under it.
func TestAlertBlocksTheShell(t *testing.T) {
	test.NewTempApp(t)
	s := NewShell(newClinicalActions(), settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(screenSizes["desktop"])
	taps := 0
	var btn *widget.Button
	for _, b := range findAll[*widget.Button](s.Content()) {
		if b.Text == "New chat" {
			btn = b
		}
	}
	if btn == nil {
		t.Fatal("no New chat button")
	}
	btn.OnTapped = func() { taps++ }
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(btn).Add(fyne.NewPos(btn.Size().Width/2, btn.Size().Height/2))
	test.TapCanvas(w.Canvas(), at)
	if taps != 1 {
		t.Fatalf("the button is not at %v", at)
	}
	s.SetAlerts([]AlertItem{clinicalAlert()})
	test.TapCanvas(w.Canvas(), at)
	if taps != 1 {
		t.Fatal("a tap went through the alert")
	}
	s.SetAlerts(nil)
	test.TapCanvas(w.Canvas(), at)
	if taps != 2 {
		t.Fatal("the shell is not usable after the alert ended")
	}
}

// TestOrderAndRoleMarks: the marks a row carries put "ORDER" on the badge,
// and its role line is drawn, with the row (no second ask).
func TestOrderAndRoleMarks(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	v, _, _ := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), f, screenSizes["desktop"])
	if got := v.badge(rowByID(v, 27)); got != "URGENT · ORDER" {
		t.Fatalf("order badge %q", got)
	}
	if got := v.rowStatus(rowByID(v, 28)); len(got) == 0 || got[0] != "To Cardiology on call: reached Dr Osei" {
		t.Fatalf("role line %q", got)
	}
	if !strings.Contains(drawnTexts(v), "To Cardiology on call: reached Dr Osei") || !strings.Contains(drawnTexts(v), "URGENT · ORDER") {
		t.Fatalf("marks not drawn: %s", drawnTexts(v))
	}
	in := app.MessageRow{ID: 5, Sender: "Nurse Kim", Body: "x"}
	if got := badgeText(app.UrgencyLevelNames{}, in, app.MessageMarks{Order: true}); got != "ORDER" {
		t.Fatalf("routine order badge %q", got)
	}
}

// TestExportWritesTheFile: the chosen file gets the app's export; a failed
// export removes the partial file.
func TestExportWritesTheFile(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		write func(io.Writer) error
		ok    bool
	}{
		{"conversation.json", func(w io.Writer) error { return f.ExportConversation(w, "dr.osei@rounds.test", "json") }, true},
		{"audit.csv", func(w io.Writer) error { return f.ExportAudit(w, "csv") }, true},
		{"broken.json", func(w io.Writer) error { io.WriteString(w, "{\"partial"); return errors.New("store locked") }, false},
	} {
		uri := storage.NewFileURI(filepath.Join(dir, c.name))
		w, err := storage.Writer(uri)
		if err != nil {
			t.Fatal(err)
		}
		var msg string
		var got error
		doneCalled := false
		writeExport(w, c.write, func(m string, err error) { msg, got, doneCalled = m, err, true })
		if !waitFor(func() bool { return doneCalled }) {
			t.Fatalf("%s: never reported", c.name)
		}
		_, statErr := os.Stat(filepath.Join(dir, c.name))
		if c.ok {
			b, _ := os.ReadFile(filepath.Join(dir, c.name))
			if got != nil || msg != "Exported to "+c.name || string(b) != "{}" {
				t.Fatalf("%s: %q %v %q", c.name, msg, got, b)
			}
		} else if got == nil || statErr == nil {
			t.Fatalf("%s: error %v, partial file left: %v", c.name, got, statErr == nil)
		}
	}
	if !f.has("export dr.osei@rounds.test json") || !f.has("export audit csv") {
		t.Fatalf("app exports not called: %q", f.calls)
	}
}

// TestAlertTextFitsAPhone: a long name shrinks instead of running off the
// sheet.
func TestAlertTextFitsAPhone(t *testing.T) {
	test.NewTempApp(t)
	s := NewShell(newClinicalActions(), settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(screenSizes["phone"])
	a := clinicalAlert()
	a.From = "Dr Adaeze Okonkwo-Fitzgerald (Anaesthetics registrar)"
	a.Urgency, a.AckRequired = app.UrgencyNormal, true
	s.SetAlerts([]AlertItem{a})
	s.Alert.Refresh()
	for _, tx := range []*canvas.Text{s.Alert.level, s.Alert.from} {
		if wd := fyne.MeasureText(tx.Text, tx.TextSize, tx.TextStyle).Width; wd > s.Alert.card.Size().Width {
			t.Fatalf("%q is %v wide on a %v card", tx.Text, wd, s.Alert.card.Size().Width)
		}
	}
}

// TestAlertPutsTheMessageFirst: on the alert card the clinical text is the
// largest type, above who sent it, above the responses; on a phone the
// level's coloured band is a header, not most of the screen.
func TestAlertPutsTheMessageFirst(t *testing.T) {
	for _, size := range []fyne.Size{screenSizes["desktop"], screenSizes["phone"]} {
		t.Run(fmt.Sprint(size.Width), func(t *testing.T) {
			test.NewTempApp(t)
			s := NewShell(newClinicalActions(), settingsState())
			w := test.NewTempWindow(t, s.Content())
			w.Resize(size)
			s.SetAlerts([]AlertItem{clinicalAlert()})
			v := s.Alert
			bodySize := theme.Size(v.body.SizeName)
			if v.body.SizeName == "" {
				bodySize = theme.TextSize()
			}
			own := map[*canvas.Text]bool{}
			for _, tx := range drawnTextObjects(v.body) {
				own[tx] = true
			}
			for _, tx := range drawnTextObjects(v) {
				if !own[tx] && tx.Text != "" && tx.TextSize >= bodySize {
					t.Errorf("%q is %v px, the message %v px", tx.Text, tx.TextSize, bodySize)
				}
			}
			d := fyne.CurrentApp().Driver()
			body, from, ack := d.AbsolutePositionForObject(v.body).Y, d.AbsolutePositionForObject(v.from).Y, d.AbsolutePositionForObject(buttonNamed(t, v, "Acknowledge")).Y
			if !(body < from && from < ack) {
				t.Errorf("top to bottom: message at %v, sender at %v, Acknowledge at %v", body, from, ack)
			}
			if band := v.band.Size().Height; size.Width < PhoneWidth && band > 0.15*v.card.Size().Height {
				t.Errorf("coloured band %v px of a %v px card", band, v.card.Size().Height)
			}
		})
	}
}

func drawnTextObjects(o fyne.CanvasObject) []*canvas.Text {
	var out []*canvas.Text
	walk(o, func(o fyne.CanvasObject) {
		if tx, ok := o.(*canvas.Text); ok && o.Visible() {
			out = append(out, tx)
		}
	})
	return out
}

// TestSnoozedStatKeepsAcknowledgeInSight: an urgent message put aside on the alert
// ("5 minutes") still waits in its conversation: a strip under the header
// names it with its level and offers Acknowledge without the ⋮ menu; it
// goes once acknowledged.
func TestSnoozedStatKeepsAcknowledgeInSight(t *testing.T) {
	for _, size := range []fyne.Size{screenSizes["desktop"], screenSizes["phone"]} {
		t.Run(fmt.Sprint(size.Width), func(t *testing.T) {
			test.NewTempApp(t)
			f := newClinicalActions()
			v, _, _ := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), f, size)
			in := rowByID(v, 27)
			in.Responses = []app.ResponseRow{{From: "You", Own: true, Kind: app.ResponseFiveMinutes, At: fixedNow}}
			v.Update(in)
			var ack *widget.Button
			for _, b := range findAll[*widget.Button](v) {
				if b.Text == "Acknowledge" && b.Visible() {
					ack = b
				}
			}
			if ack == nil || !strings.Contains(labelsText(v), "Urgent 14:22 · "+firstLine(in.Body)) {
				t.Fatalf("no Acknowledge in sight for the waiting STAT: %s", labelsText(v))
			}
			if d := fyne.CurrentApp().Driver(); d.AbsolutePositionForObject(ack).Y > d.AbsolutePositionForObject(v.listBox).Y {
				t.Fatal("Acknowledge is not under the header")
			}
			test.Tap(ack)
			if !waitFor(func() bool { return f.has("respond dr.osei@rounds.test 27 ack ") }) {
				t.Fatalf("Acknowledge did not call the app: %q", f.calls)
			}
			in.Responses = append(in.Responses, app.ResponseRow{From: "You", Own: true, Kind: app.ResponseAck, At: fixedNow})
			v.Update(in)
			if v.await.box.Visible() {
				t.Fatal("the strip stays after the acknowledgement")
			}
		})
	}
}

// TestComposerSaysHowItSends: the level, acknowledgement and order sit
// behind one button; choosing one names it in a banner in the level's
// colour and colours the send button; after the send both go back to
// routine and the options close. The field is focused when the
// conversation opens on a desktop and grows with its text to five rows.
func TestComposerSaysHowItSends(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	s := NewShell(f, settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(screenSizes["desktop"])
	s.ShowConversation(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), false)
	v := s.conv
	if w.Canvas().Focused() != v.composer {
		t.Fatalf("focused %T, want the composer", w.Canvas().Focused())
	}
	if v.clin.urg.Visible() && v.clin.panel.Visible() {
		t.Fatal("the options are out before being asked for")
	}
	if v.clin.bannerBox.Visible() || v.send.Importance != widget.HighImportance {
		t.Fatal("routine shows a banner or a coloured send button")
	}
	test.Tap(v.clin.opts)
	if !v.clin.panel.Visible() {
		t.Fatal("the options button does not show the options")
	}
	v.clin.urg.SetSelectedIndex(2)
	if !v.clin.bannerBox.Visible() || v.clin.banner.Text != "Sending: STAT · ack required" || v.send.Importance != widget.DangerImportance {
		t.Fatalf("STAT chosen: banner %v %q, send %v", v.clin.bannerBox.Visible(), v.clin.banner.Text, v.send.Importance)
	}
	h := v.composer.Size().Height
	test.Type(v.composer, strings.Repeat("Bed 12 K+ 6.8 on repeat, peaked T waves, start the protocol. ", 3))
	if v.composer.rows <= composerMinRows || v.composer.Size().Height <= h {
		t.Fatalf("the field did not grow: %d rows, %v px (was %v)", v.composer.rows, v.composer.Size().Height, h)
	}
	test.Type(v.composer, strings.Repeat("More. ", 60))
	if v.composer.rows != composerMaxRows {
		t.Fatalf("%d rows, want at most %d", v.composer.rows, composerMaxRows)
	}
	v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if v.clin.bannerBox.Visible() || v.clin.panel.Visible() || v.send.Importance != widget.HighImportance || v.composer.rows != composerMinRows {
		t.Fatalf("after sending: banner %v, options %v, send %v, rows %d", v.clin.bannerBox.Visible(), v.clin.panel.Visible(), v.send.Importance, v.composer.rows)
	}
}

// TestComposerOptionsFitPhone: the composer's options panel (urgency, ack,
// order, patient) is no wider than a phone screen, so the order checkbox's
// explanation is read whole (it ran off the 390-point screen as one line).
func TestComposerOptionsFitPhone(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	phone := screenSizes["phone"]
	v, _, _ := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), f, phone)
	if v.clin.panel == nil {
		t.Fatal("no options panel")
	}
	if w := v.clin.panel.MinSize().Width; w > phone.Width {
		t.Fatalf("options panel needs %.0f points, the phone is %.0f wide", w, phone.Width)
	}
	if v.clin.orderHint == nil || !strings.Contains(v.clin.orderHint.Text, "only to those who may take orders") {
		t.Fatalf("order hint %q", v.clin.orderHint.Text)
	}
}
