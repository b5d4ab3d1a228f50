package app

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// lockedBuffer is a log sink two goroutines may write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPatientTagAliceToBob, through the real Prosody: Alice tags an urgent
// message with a patient; Bob's thread has the chip's data as Alice's
// claim and the text exactly as typed; his notification (previews
// allowed) says "Patient details hidden" and nothing of the tag or text;
// a search for "bed 4" finds it (and not an untagged message mentioning
// bed 4), as do the MRN and the name; the export carries the tag; no log
// line holds the name or MRN.
func TestPatientTagAliceToBob(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	acfg, bcfg := testConfig(t), testConfig(t)
	acfg.Logger, bcfg.Logger = logger, logger
	bcfg.Policy = Policy{Preview: PreviewContent}
	alice := signIn(t, srv, "alice", acfg)
	bob := signIn(t, srv, "bob", bcfg)
	if err := bob.c.SetNotificationPreview(PreviewContent); err != nil {
		t.Fatal(err)
	}

	if _, err := alice.c.SendClinical(bob.jid, "x", ClinicalOptions{Patient: &PatientTag{Name: "Ama Osei", Bed: "4"}}); !errors.Is(err, ErrPatientMRN) {
		t.Fatalf("a tag without MRN: %v", err)
	}
	if _, err := alice.c.SendClinical(bob.jid, "x", ClinicalOptions{Patient: &PatientTag{MRN: "1", Bed: "4\u202e"}}); !errors.Is(err, ErrPatientTag) {
		t.Fatalf("a tag with a direction override: %v", err)
	}
	if _, err := alice.c.Send(bob.jid, "Is bed 4 free yet?"); err != nil {
		t.Fatal(err)
	}
	const typed = "BP 80/50 after the second dose, please review"
	sent, err := alice.c.SendClinical(bob.jid, typed, ClinicalOptions{Urgency: 1, Patient: &PatientTag{MRN: "123456", Name: "Ama Osei", Bed: "4"}})
	if err != nil {
		t.Fatal(err)
	}
	var row MessageRow
	waitFor(t, "the tagged message", 20*time.Second, func() bool {
		var ok bool
		row, ok = bob.rowWhere(alice.jid, func(r MessageRow) bool { return r.Patient != nil })
		return ok
	})
	want := PatientView{Tag: PatientTag{MRN: "123456", Name: "Ama Osei", Bed: "4"}, Label: "Ama Osei · MRN 123456 · Bed 4", Claim: "Tagged by " + row.Sender}
	if *row.Patient != want || row.Body != typed || row.Sender == "" {
		t.Fatalf("bob's row: %+v body %q", row.Patient, row.Body)
	}
	own, _ := alice.rowWhere(bob.jid, func(r MessageRow) bool { return r.ID == sent.ID })
	if own.Patient == nil || own.Patient.Claim != "Tagged by you" {
		t.Fatalf("alice's row: %+v", own.Patient)
	}

	var alert Notification
	waitFor(t, "bob's urgent notification", 20*time.Second, func() bool {
		for _, n := range bob.notifier.notifications() {
			if n.Urgent {
				alert = n
				return true
			}
		}
		return false
	})
	if !strings.HasSuffix(alert.Body, PatientHidden) {
		t.Fatalf("notification %+v", alert)
	}
	ns := bob.notifier.notifications()
	for _, n := range ns {
		for _, secret := range []string{"Ama", "Osei", "123456", "80/50"} {
			if containsAny(n, secret) {
				t.Fatalf("notification shows %q: %+v", secret, n)
			}
		}
	}

	for _, q := range []string{"bed 4", "Bed: 4", "123456", "mrn 123456", "osei"} {
		hits, err := bob.c.SearchMessages(MessageSearch{Patient: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].Message != row.ID || hits[0].Patient != want.Label {
			t.Errorf("patient %q: %+v", q, hits)
		}
	}
	if hits, _ := bob.c.SearchMessages(MessageSearch{Patient: "bed 14"}); len(hits) != 0 {
		t.Errorf("bed 14: %+v", hits)
	}
	if hits, _ := bob.c.SearchMessages(MessageSearch{Text: "review", Patient: "bed 4", Urgent: true}); len(hits) != 1 {
		t.Errorf("words + patient + urgent: %+v", hits)
	}

	var js bytes.Buffer
	if err := bob.c.ExportConversation(&js, alice.jid, "json"); err != nil {
		t.Fatal(err)
	}
	var x struct{ Messages []ExportedMessage }
	if err := json.Unmarshal(js.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	tagged := 0
	for _, m := range x.Messages {
		if m.Patient != nil {
			tagged++
			if *m.Patient != (ExportedPatient{MRN: "123456", Name: "Ama Osei", Bed: "4"}) || m.Body != typed {
				t.Errorf("exported %+v %q", m.Patient, m.Body)
			}
		}
	}
	if tagged != 1 {
		t.Errorf("%d tagged messages exported, want 1", tagged)
	}
	var cs bytes.Buffer
	if err := bob.c.ExportConversation(&cs, alice.jid, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := len(recs[0])
	if recs[0][n-3] != "patient_mrn" || recs[len(recs)-1][n-3] != "123456" || recs[len(recs)-1][n-1] != "4" {
		t.Errorf("csv: %q … %q", recs[0], recs[len(recs)-1])
	}
	if l := logs.String(); strings.Contains(l, "Ama Osei") || strings.Contains(l, "123456") {
		t.Errorf("a log line holds the patient's name or MRN")
	}
}

// TestSBARAliceToBob, through the real Prosody: an SBAR handover reaches
// Bob's thread as a card whose four fields are exactly what Alice typed,
// byte for byte (several lines, spaces at either end, an empty field).
func TestSBARAliceToBob(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	if _, err := alice.c.SendSBAR(bob.jid, [4]string{" ", "", "\n", ""}, ClinicalOptions{}); !errors.Is(err, ErrEmptyMessage) {
		t.Fatalf("blank SBAR: %v", err)
	}
	typed := [4]string{
		"  Bed 4 hypotensive, BP 80/50  ",
		"Post-op day 1\n  right hip replacement\n",
		"",
		"Review within 15 min ",
	}
	sent, err := alice.c.SendSBAR(bob.jid, typed, ClinicalOptions{Urgency: 1})
	if err != nil {
		t.Fatal(err)
	}
	var row MessageRow
	waitFor(t, "the handover", 20*time.Second, func() bool {
		var ok bool
		row, ok = bob.rowWhere(alice.jid, func(r MessageRow) bool { return r.SBAR != nil })
		return ok
	})
	for i := range typed {
		if row.SBAR.Fields[i] != typed[i] {
			t.Errorf("field %s: %q, typed %q", row.SBAR.Headings[i], row.SBAR.Fields[i], typed[i])
		}
	}
	if row.SBAR.Headings != [4]string{"Situation", "Background", "Assessment", "Recommendation"} || row.Body != SBARText(typed) {
		t.Errorf("card %+v body %q", row.SBAR, row.Body)
	}
	own, _ := alice.rowWhere(bob.jid, func(r MessageRow) bool { return r.ID == sent.ID })
	if own.SBAR == nil || own.SBAR.Fields != typed {
		t.Errorf("alice's card %+v", own.SBAR)
	}
}

// TestParsePatient: a pasted tag, as the element or as the line other
// clients show, in any order; anything without an MRN is refused.
func TestParsePatient(t *testing.T) {
	for in, want := range map[string]PatientTag{
		"<patient xmlns='urn:rounds:patient:0' mrn='123456' name='Ama Osei' bed='4'/>": {MRN: "123456", Name: "Ama Osei", Bed: "4"},
		"Patient: Ama Osei · MRN 123456 · Bed 4":                                       {MRN: "123456", Name: "Ama Osei", Bed: "4"},
		"  patient: MRN 99 · Bed ICU 2\nrest of a message":                             {MRN: "99", Bed: "ICU 2"},
		"Kofi Mensah, MRN: 777, Room 12":                                               {MRN: "777", Name: "Kofi Mensah", Bed: "Room 12"},
	} {
		got, err := ParsePatient(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	for _, in := range []string{"Ama Osei · Bed 4", "<patient xmlns='urn:rounds:patient:0' bed='4'/>", "<b>x</b>", ""} {
		if _, err := ParsePatient(in); err == nil {
			t.Errorf("%q read as a tag", in)
		}
	}
}

// TestRefusedPatientTagNotificationHidden: where policy shows content, a
// message whose patient tag could not be read (here a bed holding a
// right-to-left override) still notifies as "Patient details hidden": its
// patient line stays in the body (the sender's words are kept) but the
// notification never shows it.
func TestRefusedPatientTagNotificationHidden(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "mallory", "bob")
	bob := signIn(t, srv, "bob", Config{Policy: Policy{Preview: PreviewContent}})
	if err := bob.c.SetNotificationPreview(PreviewContent); err != nil {
		t.Fatal(err)
	}
	raw := dialRaw(t, srv, "mallory")
	const line = "Patient: Ama Osei · MRN 123456 · Bed 4\n"
	st := xmpp.NewElement(xmpp.NSClient, "message", "to", bob.jid, "type", "chat", "id", "r1")
	st.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(line + "Started IV fluids"))
	st.Append(xmpp.NewElement(xmpp.NSPatient, "patient", "mrn", "123456", "name", "Ama Osei", "bed", "\u202e4"))
	st.Append(xmpp.NewFallback(xmpp.NSPatient, 0, utf8.RuneCountInString(line)))
	if err := raw.Send(st); err != nil {
		t.Fatal(err)
	}
	mallory := srv.JID("mallory")
	waitFor(t, "the notification", 20*time.Second, func() bool { return bob.notifier.countFor(mallory) > 0 })
	for _, n := range bob.notifier.notifications() {
		for _, secret := range []string{"Ama", "Osei", "123456", "IV fluids"} {
			if containsAny(n, secret) {
				t.Fatalf("notification %+v shows %q", n, secret)
			}
		}
	}
}
