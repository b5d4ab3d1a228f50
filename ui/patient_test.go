package ui

import (
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// patientActions is searchActions that also sends SBAR handovers and
// records the searches' filters.
type patientActions struct {
	*searchActions
	pmu      sync.Mutex
	sbar     [][4]string
	sbarOpts []app.ClinicalOptions
	filters  []app.MessageSearch
}

func newPatientActions() *patientActions { return &patientActions{searchActions: newSearchActions()} }

func (f *patientActions) SendSBAR(conv string, fs [4]string, o app.ClinicalOptions) (app.Sent, error) {
	f.pmu.Lock()
	defer f.pmu.Unlock()
	f.sbar = append(f.sbar, fs)
	f.sbarOpts = append(f.sbarOpts, o)
	return app.Sent{ID: 100, Conversation: conv, To: conv}, nil
}

func (f *patientActions) SearchMessages(q app.MessageSearch) ([]app.SearchHit, error) {
	f.pmu.Lock()
	f.filters = append(f.filters, q)
	f.pmu.Unlock()
	return f.searchActions.SearchMessages(q)
}

var amaOsei = app.PatientTag{MRN: "123456", Name: "Ama Osei", Bed: "4"}

// patientMessages is a chat with a tagged message and an SBAR handover.
func patientMessages() []app.MessageRow {
	rows := chatMessages()[:3]
	t := fixedNow.Add(-8 * time.Minute)
	sbar := [4]string{"Bed 4 BP 80/50, HR 118", "Post-op day 1, right hip replacement", "Likely bleeding; drain 300 ml in 2 h", "Please review within 15 min"}
	return append(rows,
		app.MessageRow{ID: 21, Sender: "Dr Osei", Body: "Started IV fluids, 500 ml stat. Recheck in 30 min.", Timestamp: t,
			Patient: &app.PatientView{Tag: amaOsei, Label: amaOsei.Label(), Claim: "Tagged by Dr Osei"}},
		app.MessageRow{ID: 22, Outgoing: true, Sender: "You", Body: app.SBARText(sbar), Timestamp: t.Add(2 * time.Minute),
			Urgency: app.UrgencyHigh, AckRequired: true, Receipt: receipt(app.ReceiptDelivered, t.Add(2*time.Minute)),
			Patient: &app.PatientView{Tag: amaOsei, Label: amaOsei.Label(), Claim: "Tagged by you"},
			SBAR:    &app.SBARView{Headings: app.SBARHeadings(), Fields: sbar}},
	)
}

// typeInto types s into e as key presses: runes, "\n" as Enter (a new
// line in an SBAR field).
func typeInto(c fyne.Canvas, e *composerEntry, s string) {
	c.Focus(e)
	for _, r := range s {
		if r == '\n' {
			e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
			continue
		}
		e.TypedRune(r)
	}
}

// TestSBARDialogSendsExactlyWhatWasTyped: each SBAR field, typed key by
// key (several lines, spaces at either end, an empty field, a space where
// the line wraps) at a desktop and a phone width, reaches the app byte for
// byte, with the panel's urgency and the pending patient tag.
func TestSBARDialogSendsExactlyWhatWasTyped(t *testing.T) {
	typed := [4]string{
		"  Bed 4: start cardiac monitoring, recheck K+ and Mg2+ in 2 h, call me if HR > 120  ",
		"Post-op day 1\n  right hip replacement\n",
		"",
		"Review within 15 min; strict fluid balance, target -1 L ",
	}
	for _, size := range []fyne.Size{fyne.NewSize(900, 680), fyne.NewSize(390, 844)} {
		test.NewTempApp(t)
		f := newPatientActions()
		v, _, w := openConversationWith(t, oseiInfo(ConversationInfo{}), chatMessages(), f, size)
		v.setPendingPatient(&amaOsei)
		v.clin.urg.SetSelectedIndex(1)
		form := v.showSBARDialog()
		if form == nil {
			t.Fatal("no SBAR dialog")
		}
		for i, s := range typed {
			typeInto(w.Canvas(), form.fields[i], s)
		}
		test.Tap(form.send)
		if len(f.sbar) != 1 {
			t.Fatalf("%v: %d handovers sent (%s)", size, len(f.sbar), form.status.Text)
		}
		for i := range typed {
			if f.sbar[0][i] != typed[i] {
				t.Errorf("%v: field %d sent %q, typed %q", size, i, f.sbar[0][i], typed[i])
			}
		}
		o := f.sbarOpts[0]
		if o.Urgency != app.UrgencyHigh || o.Patient == nil || *o.Patient != amaOsei {
			t.Errorf("%v: options %+v", size, o)
		}
		if v.pat.tag != nil || v.urgency() != app.UrgencyNormal {
			t.Errorf("%v: options kept after sending", size)
		}
	}
}

// TestPatientControlTagsNextMessage: the Patient… dialog refuses a tag
// without MRN, fills its fields from a pasted line, and the next message
// carries the tag (shown above the composer until then), the one after it
// none.
func TestPatientControlTagsNextMessage(t *testing.T) {
	test.NewTempApp(t)
	f := newPatientActions()
	v, _, w := openConversationWith(t, oseiInfo(ConversationInfo{}), chatMessages(), f, fyne.NewSize(390, 844))
	form := v.showPatientDialog()
	form.name.SetText("Ama Osei")
	test.Tap(form.use)
	if !form.status.Visible() || form.status.Text != app.ErrPatientMRN.Error() || v.pat.tag != nil {
		t.Fatalf("no MRN: %q, tag %+v", form.status.Text, v.pat.tag)
	}
	form.paste.SetText("Patient: Ama Osei · MRN 123456 · Bed 4")
	if form.mrn.Text != "123456" || form.bed.Text != "4" {
		t.Fatalf("paste filled %q %q", form.mrn.Text, form.bed.Text)
	}
	test.Tap(form.use)
	if v.pat.tag == nil || *v.pat.tag != amaOsei || !v.pat.box.Visible() || !strings.Contains(v.pat.line.Text, "Bed 4") {
		t.Fatalf("pending tag %+v", v.pat.tag)
	}
	w.Canvas().Focus(v.composer)
	test.Type(v.composer, "BP 80/50")
	v.submit()
	if len(f.clinical) != 1 || f.clinical[0].Patient == nil || *f.clinical[0].Patient != amaOsei {
		t.Fatalf("sent with %+v", f.clinical)
	}
	if v.pat.tag != nil || v.pat.box.Visible() {
		t.Fatal("the tag stayed for the next message")
	}
	test.Type(v.composer, "thanks")
	v.submit()
	if len(f.clinical) != 1 {
		t.Fatalf("the next message went as clinical: %+v", f.clinical)
	}
}

// TestPatientChipAndSBARCard: a tagged message draws the chip above its
// text with whose claim it is; an SBAR handover draws its chip; chip,
// claim and text do not overlap.
func TestPatientChipAndSBARCard(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(900, 680), fyne.NewSize(390, 844)} {
		test.NewTempApp(t)
		v, _, w := openConversationWith(t, oseiInfo(ConversationInfo{}), patientMessages(), newPatientActions(), size)
		w.Canvas().Refresh(v)
		drainUI()
		var chips, claims, sbars []*canvas.Text
		var bodies []*widget.RichText
		for _, o := range test.LaidOutObjects(v) {
			switch o := o.(type) {
			case *canvas.Text:
				if !o.Visible() {
					continue
				}
				switch {
				case strings.HasPrefix(o.Text, "Patient · "):
					chips = append(chips, o)
				case strings.HasPrefix(o.Text, "Tagged by "):
					claims = append(claims, o)
				case o.Text == "SBAR":
					sbars = append(sbars, o)
				}
			case *widget.RichText:
				if o.Visible() && strings.Contains(o.String(), "IV fluids") {
					bodies = append(bodies, o)
				}
			}
		}
		if len(chips) != 2 || len(claims) != 2 || len(sbars) != 1 || len(bodies) != 1 {
			t.Fatalf("%v: %d chips, %d claims, %d SBAR chips, %d bodies", size, len(chips), len(claims), len(sbars), len(bodies))
		}
		chip, claim, body := chips[0], claims[0], bodies[0]
		// Chip, claim and text are one row's siblings: top to bottom, the
		// claim's line ending before the text's first line starts.
		cy, ky, by := chip.Position().Y, claim.Position().Y, body.Position().Y
		if !(cy < ky && ky+claim.Size().Height <= by+theme.InnerPadding()) {
			t.Errorf("%v: chip at %v, claim at %v (height %v), text at %v", size, cy, ky, claim.Size().Height, by)
		}
		if !strings.Contains(chip.Text, "MRN") && !strings.HasSuffix(chip.Text, "…") {
			t.Errorf("%v: chip %q", size, chip.Text)
		}
		if size.Width > 800 && chip.Text != "Patient · Ama Osei · MRN 123456 · Bed 4" {
			t.Errorf("%v: chip %q", size, chip.Text)
		}
	}
}

// TestSearchFilters: the filters under the search field narrow the
// message search by person, conversation, urgency, time and patient, and
// search with no words when a filter alone is set.
func TestSearchFilters(t *testing.T) {
	test.NewTempApp(t)
	f := newPatientActions()
	s := NewShell(f, settingsState())
	s.Inbox.SetRows(inboxRows())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(390, 844))
	inbox := s.Inbox
	test.Tap(inbox.filters.toggle)
	if !inbox.filters.box.Visible() {
		t.Fatal("filters not shown")
	}
	inbox.filters.patient.SetText("bed 4")
	last := func() app.MessageSearch {
		f.pmu.Lock()
		defer f.pmu.Unlock()
		if len(f.filters) == 0 {
			return app.MessageSearch{}
		}
		return f.filters[len(f.filters)-1]
	}
	if !waitFor(func() bool { return last().Patient == "bed 4" }) {
		t.Fatalf("patient filter alone did not search: %+v", last())
	}
	inbox.filters.person.SetSelected("Dr Osei")
	inbox.filters.room.SetSelected("ICU team")
	inbox.filters.urgent.SetChecked(true)
	inbox.filters.when.SetSelected("Last 7 days")
	inbox.search.SetText("potassium")
	if !waitFor(func() bool { q := last(); return q.Text == "potassium" && !q.Since.IsZero() }) {
		t.Fatalf("query %+v", last())
	}
	q := last()
	if q.Person != "dr.osei@rounds.test" || q.Conversation != "icu@rooms.rounds.test" || !q.Urgent || q.Patient != "bed 4" ||
		nowFunc().Sub(q.Since) < 7*24*time.Hour-time.Minute {
		t.Errorf("query %+v", q)
	}
}

func patientScreens() []screenshot {
	var inbox *InboxView
	return []screenshot{
		{name: "patient-chat", build: func() fyne.CanvasObject {
			v := NewConversationView(oseiInfo(ConversationInfo{}), patientMessages(), newPatientActions())
			v.OnBack = func() {}
			return v
		}},
		{name: "patient-composer", build: func() fyne.CanvasObject {
			v := NewConversationView(oseiInfo(ConversationInfo{}), patientMessages(), newPatientActions())
			v.OnBack = func() {}
			v.setPendingPatient(&amaOsei)
			v.clin.panel.Show()
			return v
		}},
		{name: "patient-dialog", build: func() fyne.CanvasObject {
			return NewConversationView(oseiInfo(ConversationInfo{}), patientMessages(), newPatientActions())
		}, after: func(t *testing.T, w fyne.Window) {
			form := w.Content().(*ConversationView).showPatientDialog()
			form.paste.SetText("Patient: Ama Osei · MRN 123456 · Bed 4")
		}},
		{name: "sbar-dialog", build: func() fyne.CanvasObject {
			v := NewConversationView(oseiInfo(ConversationInfo{}), patientMessages(), newPatientActions())
			v.setPendingPatient(&amaOsei)
			return v
		}, after: func(t *testing.T, w fyne.Window) {
			form := w.Content().(*ConversationView).showSBARDialog()
			for i, s := range patientMessages()[4].SBAR.Fields {
				form.fields[i].SetText(s)
			}
		}},
		{name: "search-filters", build: func() fyne.CanvasObject {
			s := NewShell(newPatientActions(), settingsState())
			s.Inbox.SetRows(inboxRows())
			s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
			inbox = s.Inbox
			return s.Content()
		}, after: func(t *testing.T, w fyne.Window) {
			test.Tap(inbox.filters.toggle)
			inbox.filters.patient.SetText("bed 4")
			inbox.filters.urgent.SetChecked(true)
			if !waitFor(func() bool { return len(inbox.hits.hits) == 3 }) {
				t.Fatal("no hits")
			}
		}},
	}
}

// TestEscapeClosesPatientAndSBARDialogs: Escape typed into a field of the
// Patient… or SBAR… dialog closes it (escape.go), as in every other
// dialog; in the composer itself Escape closes nothing and types nothing.
func TestEscapeClosesPatientAndSBARDialogs(t *testing.T) {
	test.NewTempApp(t)
	v, _, w := openConversationWith(t, oseiInfo(ConversationInfo{}), chatMessages(), newPatientActions(), fyne.NewSize(390, 844))
	closeOnEscape(w.Canvas())
	esc := &fyne.KeyEvent{Name: fyne.KeyEscape}
	pf := v.showPatientDialog()
	w.Canvas().Focus(pf.bed)
	w.Canvas().Focused().TypedKey(esc)
	if v.clin.popup.Visible() {
		t.Fatal("patient dialog still open after Escape typed into its Bed field")
	}
	sf := v.showSBARDialog()
	w.Canvas().Focus(sf.fields[2])
	w.Canvas().Focused().TypedKey(esc)
	if v.clin.popup.Visible() {
		t.Fatal("SBAR dialog still open after Escape typed into its Assessment field")
	}
	w.Canvas().Focus(v.composer)
	test.Type(v.composer, "BP")
	w.Canvas().Focused().TypedKey(esc)
	if v.composer.Text != "BP" {
		t.Fatalf("composer after Escape: %q", v.composer.Text)
	}
}

// TestEscapeKeepsTypedClinicalText: Escape does not close a dialog whose
// clinical text (an SBAR field, a reply) holds typed words: one stray key
// threw away a whole SBAR handover, unsent and unrecoverable. Cancel does.
func TestEscapeKeepsTypedClinicalText(t *testing.T) {
	test.NewTempApp(t)
	v, _, w := openConversationWith(t, oseiInfo(ConversationInfo{}), chatMessages(), newPatientActions(), fyne.NewSize(390, 844))
	closeOnEscape(w.Canvas())
	sf := v.showSBARDialog()
	w.Canvas().Focus(sf.fields[0])
	test.Type(sf.fields[0], "BP 82/40, HR 130")
	w.Canvas().Focus(sf.fields[2]) // an empty field has the cursor
	pressEscape(w.Canvas())
	if !v.clin.popup.Visible() {
		t.Fatal("SBAR dialog closed by Escape with its Situation typed: the handover is lost")
	}
	if got := sf.fields[0].Text; got != "BP 82/40, HR 130" {
		t.Fatalf("Situation after Escape: %q", got)
	}
	// Blank text is nothing to lose: Escape closes as before.
	sf = v.showSBARDialog()
	w.Canvas().Focus(sf.fields[1])
	test.Type(sf.fields[1], " \n ")
	pressEscape(w.Canvas())
	if v.clin.popup.Visible() {
		t.Fatal("SBAR dialog with only blanks still open after Escape")
	}
}
