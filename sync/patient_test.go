package sync

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestPatientTagRoundTrip: Alice tags an urgent message with a patient.
// Bob's Rounds stores the tag (sealed with the message) and the body
// exactly as typed, without the patient line; a client without Rounds
// (slixmpp) reads the line after the urgency prefix, marked as the
// patient fallback; Bob's reply with a patient tag and a quote comes back
// to Alice as typed too (quote, prefix and line all stripped).
func TestPatientTagRoundTrip(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	alice.waitOnline()

	const typed = "  BP 80/50 after the second dose\nplease review  "
	tag := &Patient{MRN: " 123456", Name: "Ama Osei ", Bed: "4"}
	sent, err := alice.session.Send(bob.jid, typed, SendOptions{Urgency: securestore.UrgencyHigh, Patient: tag})
	if err != nil {
		t.Fatal(err)
	}
	want := Patient{MRN: "123456", Name: "Ama Osei", Bed: "4"}
	if p := PatientOf(sent); p == nil || *p != want || sent.Body != typed {
		t.Fatalf("alice stored %+v %q", p, sent.Body)
	}
	var got securestore.Message
	bob.waitFor("the tagged message", 20*time.Second, func() bool {
		ms := bob.conversation(alice.jid)
		if len(ms) == 1 {
			got = ms[0]
		}
		return len(ms) == 1
	})
	if p := PatientOf(got); p == nil || *p != want {
		t.Fatalf("bob stored patient %+v (extra %v)", p, got.Extra)
	}
	if got.Body != typed || got.Urgency != securestore.UrgencyHigh {
		t.Fatalf("bob stored body %q urgency %v, want %q", got.Body, got.Urgency, typed)
	}

	// A client without Rounds.
	if _, err := alice.session.Send(srv.JID("carol"), typed, SendOptions{Urgency: securestore.UrgencyHigh, Patient: tag}); err != nil {
		t.Fatal(err)
	}
	e, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" })
	if err != nil {
		t.Fatal(err)
	}
	line := "Patient: Ama Osei · MRN 123456 · Bed 4\n"
	if !strings.HasPrefix(e.Body, "[URGENT] "+line+typed+"\n") {
		t.Fatalf("carol read %q", e.Body)
	}
	start := utf8.RuneCountInString("[URGENT] ")
	found := false
	for _, f := range e.Fallbacks {
		found = found || f.For == xmpp.NSPatient && f.Start == start && f.End == start+utf8.RuneCountInString(line)
	}
	if !found {
		t.Fatalf("no patient fallback over the line: %+v", e.Fallbacks)
	}

	// Bob's reply, quoted and tagged, reaches Alice as typed.
	const answer = "On my way"
	if _, err := bob.session.Send(alice.jid, answer, SendOptions{ReplyTo: got.ID, ReplyAuthor: "Alice", Urgency: securestore.UrgencyHigh,
		Patient: &Patient{MRN: "123456", Bed: "4"}}); err != nil {
		t.Fatal(err)
	}
	var back securestore.Message
	alice.waitFor("bob's reply", 20*time.Second, func() bool {
		for _, m := range alice.conversation(bob.jid) {
			if m.Direction == securestore.Incoming {
				back = m
				return true
			}
		}
		return false
	})
	if back.Body != answer || back.Extra[ExtraReplyToID] == "" {
		t.Fatalf("alice stored the reply as %q (extra %v)", back.Body, back.Extra)
	}
	if p := PatientOf(back); p == nil || *p != (Patient{MRN: "123456", Bed: "4"}) {
		t.Fatalf("reply's patient %+v", p)
	}
}

// TestPatientTagRefusedKeepsLine: a tag that cannot be read (no MRN, or a
// bed holding a right-to-left override) is not stored as a patient, and
// its fallback line stays in the body so the reader still sees what the
// sender wrote; the refusal is recorded without the values. A valid tag
// whose fallback covers more than one line keeps the body whole.
func TestPatientTagRefusedKeepsLine(t *testing.T) {
	s, _ := unconnectedSession(t)
	parse := func(doc string) *xmpp.Message {
		el, err := xmpp.DecodeElement([]byte(doc), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return xmpp.ParseMessage(el)
	}
	const line = "Patient: Ama Osei · Bed 4\n"
	n := utf8.RuneCountInString(line)
	for name, tag := range map[string]string{
		"missing mrn":  `<patient xmlns='urn:rounds:patient:0' name='Ama Osei' bed='4'/>`,
		"rtl override": `<patient xmlns='urn:rounds:patient:0' mrn='1' bed='&#x202E;4'/>`,
	} {
		m := parse(`<message xmlns='jabber:client' type='chat' from='mallory@hospital.test/x' id='p1'><body>` + line + `check bed 4</body>` +
			tag + `<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:patient:0'><body start='0' end='` + itoa(n) + `'/></fallback></message>`)
		sm, ok := s.toStored(m, false)
		if !ok {
			t.Fatalf("%s: not stored", name)
		}
		if PatientOf(sm) != nil || sm.Body != line+"check bed 4" {
			t.Errorf("%s: stored patient %+v body %q", name, PatientOf(sm), sm.Body)
		}
		if r := sm.Extra[ExtraPatientRefused]; r == "" || strings.Contains(r, "Ama") {
			t.Errorf("%s: refusal %q", name, r)
		}
	}
	m := parse(`<message xmlns='jabber:client' type='chat' from='mallory@hospital.test/x' id='p2'><body>Patient: MRN 1
typed words
more</body><patient xmlns='urn:rounds:patient:0' mrn='1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:patient:0'><body start='0' end='25'/></fallback></message>`)
	sm, _ := s.toStored(m, false)
	if PatientOf(sm) == nil || sm.Body != "Patient: MRN 1\ntyped words\nmore" {
		t.Errorf("a two-line fallback: patient %+v body %q", PatientOf(sm), sm.Body)
	}
}

// TestPatientLineMustMatchTag: the patient fallback is stripped only when
// it holds exactly the line the tag generates. A hostile sender's range
// over a line of clinical text does not hide it, and a line naming another
// patient than the tag (line Bed 5 Mensah, tag Bed 4 Osei; or a look-alike
// Cyrillic letter in the name) stays in the body under the chip, so the
// nurse sees the disagreement.
func TestPatientLineMustMatchTag(t *testing.T) {
	s, _ := unconnectedSession(t)
	const tag = `<patient xmlns='urn:rounds:patient:0' mrn='123456' name='Ama Osei' bed='4'/>`
	for name, c := range map[string]struct{ body, cover string }{
		"range over clinical text": {"Patient: Ama Osei · MRN 123456 · Bed 4\nDo NOT give the 16:00 furosemide\nBP 82/40",
			"Do NOT give the 16:00 furosemide\n"},
		"line names another patient": {"Patient: Kofi Mensah · MRN 654321 · Bed 5\nGive 40 mg furosemide IV now",
			"Patient: Kofi Mensah · MRN 654321 · Bed 5\n"},
		"look-alike letter in the line": {"Patient: Ama \u041esei · MRN 123456 · Bed 4\nGive 40 mg furosemide IV now",
			"Patient: Ama \u041esei · MRN 123456 · Bed 4\n"},
	} {
		start := utf8.RuneCountInString(c.body[:strings.Index(c.body, c.cover)])
		end := start + utf8.RuneCountInString(c.cover)
		el, err := xmpp.DecodeElement([]byte(`<message xmlns='jabber:client' type='chat' from='mallory@hospital.test/x' id='m1'><body>`+c.body+`</body>`+
			tag+`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:patient:0'><body start='`+itoa(start)+`' end='`+itoa(end)+`'/></fallback></message>`), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		sm, ok := s.toStored(xmpp.ParseMessage(el), false)
		if !ok {
			t.Fatalf("%s: not stored", name)
		}
		if sm.Body != c.body {
			t.Errorf("%s: stored body %q, sent %q", name, sm.Body, c.body)
		}
		if p := PatientOf(sm); p == nil || *p != (Patient{MRN: "123456", Name: "Ama Osei", Bed: "4"}) {
			t.Errorf("%s: patient %+v", name, p)
		}
	}
}

// TestClinicalFallbackOnlyGeneratedText: a sender's urgency or order
// fallback range is stripped only when it holds exactly "[URGENT] ",
// "[STAT] ", "[ORDER] " or the acknowledgement line; a range over the
// clinical text hides no word, and the body is kept as sent.
func TestClinicalFallbackOnlyGeneratedText(t *testing.T) {
	s, _ := unconnectedSession(t)
	store := func(doc string) string {
		el, err := xmpp.DecodeElement([]byte(doc), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		sm, ok := s.toStored(xmpp.ParseMessage(el), false)
		if !ok {
			t.Fatal("not stored")
		}
		return sm.Body
	}
	const body = "[URGENT] Do NOT give the 16:00 furosemide, BP 82/40"
	for name, fb := range map[string]string{
		"urgency over NOT": `<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='0' end='9'/><body start='12' end='16'/></fallback>`,
		"order over NOT":   `<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='0' end='9'/></fallback><fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:order:0'><body start='12' end='16'/></fallback>`,
	} {
		if got := store(`<message xmlns='jabber:client' type='chat' from='mallory@hospital.test/x' id='u1'><body>` + body + `</body><urgency xmlns='urn:rounds:urgency:0' level='urgent'/>` + fb + `</message>`); got != body {
			t.Errorf("%s: stored %q, sent %q", name, got, body)
		}
	}
	ack := "[STAT] [ORDER] Give 10 ml calcium gluconate IV\nReply \"ACK\" to acknowledge."
	n := utf8.RuneCountInString(ack)
	got := store(`<message xmlns='jabber:client' type='chat' from='dr.osei@hospital.test/x' id='u2'><body>` + ack + `</body><urgency xmlns='urn:rounds:urgency:0' level='stat'/><order xmlns='urn:rounds:order:0'/>` +
		`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='0' end='7'/></fallback><fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:order:0'><body start='7' end='15'/></fallback>` +
		`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='46' end='` + itoa(n) + `'/></fallback></message>`)
	if got != "Give 10 ml calcium gluconate IV" {
		t.Errorf("generated prefixes and line not stripped: %q", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSBARRoundTrip: an SBAR handover reaches Bob's Rounds with each field
// exactly as typed (several lines, spaces at either end, an empty field)
// and reads as four headed lines in a client without Rounds.
func TestSBARRoundTrip(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})
	alice.waitOnline()

	fields := [4]string{"  Bed 4 hypotensive, BP 80/50  ", "Post-op day 1\n  right hip replacement\n", "", "\tReview within 15 min "}
	body := SBARText(fields)
	if _, err := alice.session.Send(bob.jid, body+"x", SendOptions{SBAR: &fields}); err == nil {
		t.Fatal("a body that is not the fields' text was sent as SBAR")
	}
	sent, err := alice.session.Send(bob.jid, body, SendOptions{SBAR: &fields, Patient: &Patient{MRN: "123456", Bed: "4"}})
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := SBARFields(sent); !ok || f != fields {
		t.Fatalf("alice's copy: %q %v", f, ok)
	}
	var got securestore.Message
	bob.waitFor("the handover", 20*time.Second, func() bool {
		ms := bob.conversation(alice.jid)
		if len(ms) == 1 {
			got = ms[0]
		}
		return len(ms) == 1
	})
	f, ok := SBARFields(got)
	if !ok || got.Body != body {
		t.Fatalf("bob: SBAR %v body %q", ok, got.Body)
	}
	for i := range fields {
		if f[i] != fields[i] {
			t.Errorf("field %d: %q, typed %q", i, f[i], fields[i])
		}
	}
	if _, err := alice.session.Send(srv.JID("carol"), body, SendOptions{SBAR: &fields}); err != nil {
		t.Fatal(err)
	}
	e, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" })
	if err != nil {
		t.Fatal(err)
	}
	want := "Situation:   Bed 4 hypotensive, BP 80/50  \nBackground: Post-op day 1\n  right hip replacement\n\nAssessment: \nRecommendation: \tReview within 15 min "
	if e.Body != want {
		t.Fatalf("carol read %q\nwant %q", e.Body, want)
	}
}
