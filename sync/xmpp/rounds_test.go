package xmpp

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Unit tests of the Rounds extensions' wire forms and of the org policy and
// on-call decoders (fixtures in testdata/policy and testdata/oncall).

func mustDecode(t testing.TB, s string) *Element {
	t.Helper()
	el, err := DecodeElement([]byte(s), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// A STAT order built the way the engine builds it parses back, and the
// fallback prefix strips to the clinician's text.
func TestClinicalElementsRoundTrip(t *testing.T) {
	msg := NewChat("bob@x", "")
	prefix, fbs := ClinicalPrefix(UrgencySTAT, true)
	msg.Child(NSClient, "body").SetText(prefix + "Bed 4 — arrest ✚")
	msg.Append(NewUrgency(UrgencySTAT, true), NewHeaders(HeaderUrgency, UrgencyHeader(UrgencySTAT)), NewOrder(),
		NewAddressed("Cardiology on call"),
		Escalation{ID: "o1", Step: 2, To: "kim@x", Role: "Charge nurse", Reason: "not acknowledged in 5 min"}.Element())
	msg.Append(fbs...)
	m := ParseMessage(mustDecode(t, msg.String()))
	if m.Urgency == nil || *m.Urgency != (Urgency{Level: UrgencySTAT, AckRequired: true}) {
		t.Errorf("urgency %+v", m.Urgency)
	}
	if m.Headers[HeaderUrgency] != "high" || !m.Order || m.Role != "Cardiology on call" {
		t.Errorf("headers %v order %v role %q", m.Headers, m.Order, m.Role)
	}
	if m.Escalation == nil || *m.Escalation != (Escalation{ID: "o1", Step: 2, To: "kim@x", Role: "Charge nurse", Reason: "not acknowledged in 5 min"}) {
		t.Errorf("escalation %+v", m.Escalation)
	}
	got := StripFallback(m.Body, m.Fallbacks, func(ns string) bool { return ns == NSUrgency || ns == NSOrder })
	if got != "Bed 4 — arrest ✚" {
		t.Errorf("stripped body %q from %q", got, m.Body)
	}
	// Another client's view: the prefix is part of the text.
	if !strings.HasPrefix(m.Body, "[STAT] [ORDER] ") {
		t.Errorf("wire body %q", m.Body)
	}
}

func TestFallbackRanges(t *testing.T) {
	body := "[URGENT] Schmerz 💊 jetzt"
	cases := []struct {
		xml  string
		want string
	}{
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='0' end='9'/></fallback>`, "Schmerz 💊 jetzt"},
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='9' end='999'/></fallback>`, "[URGENT] "},
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='5' end='2'/></fallback>`, body},
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='x' end='9'/></fallback>`, body},
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='-1' end='9'/></fallback>`, body},
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:other'><body start='0' end='9'/></fallback>`, body},
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'/>`, body}, // whole body: kept
		{`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:urgency:0'><body start='17' end='18'/></fallback>`, "[URGENT] Schmerz  jetzt"},
	}
	for _, c := range cases {
		st := mustDecode(t, `<message xmlns='jabber:client'><body>`+body+`</body>`+c.xml+`</message>`)
		got := StripFallback(body, ParseFallbacks(st), func(ns string) bool { return ns == NSUrgency })
		if got != c.want {
			t.Errorf("%s: got %q want %q", c.xml, got, c.want)
		}
	}
}

func TestResponseAndWipeAndEdits(t *testing.T) {
	m := ParseMessage(mustDecode(t, `<message xmlns='jabber:client' type='chat'><body>✓ Acknowledged</body>`+
		`<response xmlns='urn:rounds:response:0' id='abc' kind='ack'/>`+
		`<fallback xmlns='urn:xmpp:fallback:0' for='urn:rounds:response:0'><body/></fallback></message>`))
	if m.Response == nil || *m.Response != (Response{ID: "abc", Kind: ResponseAck}) || len(m.Fallbacks) != 1 || m.Fallbacks[0].Ranges != nil {
		t.Errorf("response %+v fallbacks %+v", m.Response, m.Fallbacks)
	}
	for _, bad := range []string{`<response xmlns='urn:rounds:response:0' kind='ack'/>`, `<response xmlns='urn:rounds:response:0' id='a' kind='sure'/>`} {
		if r := ParseMessage(mustDecode(t, `<message xmlns='jabber:client'>`+bad+`</message>`)).Response; r != nil {
			t.Errorf("%s parsed as %+v", bad, r)
		}
	}
	issued := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	w := ParseMessage(mustDecode(t, NewElement(NSClient, "message").Append(NewWipe("w1", issued)).String())).Wipe
	if w == nil || w.ID != "w1" || !w.Issued.Equal(issued) {
		t.Errorf("wipe %+v", w)
	}
	if ParseMessage(mustDecode(t, `<message xmlns='jabber:client'><wipe xmlns='urn:rounds:wipe:0'/></message>`)).Wipe != nil {
		t.Error("wipe without id accepted")
	}
	e := ParseMessage(mustDecode(t, `<message xmlns='jabber:client'><retract xmlns='urn:xmpp:message-retract:1' id='r1'/><replace xmlns='urn:xmpp:message-correct:0' id='c1'/></message>`))
	if e.RetractID != "r1" || e.ReplaceID != "c1" {
		t.Errorf("retract %q replace %q", e.RetractID, e.ReplaceID)
	}
	if u := ParseUrgency(mustDecode(t, `<message xmlns='jabber:client'><urgency xmlns='urn:rounds:urgency:0' level='code-red'/></message>`)); u.Level != UrgencyUrgent {
		t.Errorf("unknown level read as %q, want urgent", u.Level)
	}
	if esc := ParseEscalation(mustDecode(t, `<message xmlns='jabber:client'><escalation xmlns='urn:rounds:escalation:0' id='x' step='0'/></message>`)); esc != nil {
		t.Errorf("step 0 accepted: %+v", esc)
	}
}

func TestPubSubEvent(t *testing.T) {
	st := mustDecode(t, `<message xmlns='jabber:client' from='pubsub.x' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>`+
		`<items node='urn:rounds:policy:0'><item id='current'><policy xmlns='urn:rounds:policy:0' version='2'/></item><retract id='old'/></items></event></message>`)
	ev := ParseMessage(st).PubSub
	if ev == nil || ev.Node != NSPolicy || len(ev.Items) != 1 || ev.Items[0].ID != "current" || ev.Items[0].Payload.Attr("version") != "2" ||
		!reflect.DeepEqual(ev.Retracted, []string{"old"}) {
		t.Fatalf("event %+v", ev)
	}
}

// fixtures runs every testdata/<dir>/good_* and fail_* document through
// decode: good ones must parse and survive encode → decode unchanged, fail
// ones must be refused with an error containing the expected words.
func fixtures[T any](t *testing.T, dir string, decode func([]byte) (T, error), encode func(T) *Element, wantErr map[string]string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(raw)
		switch {
		case strings.HasPrefix(name, "good_"):
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			again, err := decode([]byte(encode(got).String()))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("%s: encode/decode changed it: %+v → %+v (%v)", name, got, again, err)
			}
		case strings.HasPrefix(name, "fail_"):
			want, ok := wantErr[name]
			if !ok {
				t.Errorf("%s: no expected error listed", name)
				continue
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: err %v, want one containing %q", name, err, want)
			}
		default:
			t.Errorf("%s: fixture names start with good_ or fail_", name)
		}
	}
}

func TestOrgPolicyFixtures(t *testing.T) {
	fixtures(t, "policy", DecodeOrgPolicy, OrgPolicy.Element, map[string]string{
		"fail_retention_zero":              "<retention days>: 0 is outside 1..3650",
		"fail_retention_text":              `"thirty" is not a whole number`,
		"fail_lock_too_long":               "<lock max-seconds>: 100000 is outside",
		"fail_pin_short":                   "<pin min-length>: 3 is outside 4..64",
		"fail_keyring_maybe":               `<keyring allowed>: "maybe" is not true or false`,
		"fail_preview_bad":                 "<notifications preview>",
		"fail_urgent_missing_count":        "<urgent repeat-count>: missing",
		"fail_escalation_too_quick":        "<escalation after-seconds>: 5 is outside",
		"fail_step_two_targets":            "<step>: needs exactly one of to, role, room",
		"fail_step_no_target":              "<step>: needs exactly one",
		"fail_escalation_service_full_jid": "<escalation service>: \"escalation@hospital.org/a\" is not a bare JID",
		"fail_admin_full_jid":              "is not a bare JID",
		"fail_admin_missing":               "<admin jid>: missing",
		"fail_duplicate_lock":              "<lock>: given twice",
		"fail_wrong_namespace":             "not a urn:rounds:policy:0 <policy/> element",
		"fail_negative_version":            "<policy version>",
		"fail_truncated":                   "org policy",
		"fail_not_xml":                     "org policy",
		"fail_text_ack_maybe":              `<text-ack allowed>: "maybe" is not true or false`,
		"fail_text_ack_empty_word":         "<word>: empty",
		"fail_text_ack_long_word":          "is longer than 40 characters",
		"fail_shift_end_too_long":          "<shift-end keep-hours>: 200 is outside 0..168",
		"fail_locked_name_maybe":           `<locked-name allowed>: "maybe" is not true or false`,
		"fail_dnd_value":                   `<dnd urgent>: "maybe" is not ring or silent`,
		"fail_locked_routine_maybe":        `<locked routine-notify>: "sometimes" is not true or false`,
		"fail_cold_start_maybe":            `<cold-start listen>: "later" is not true or false`,
	})
	p, err := DecodeOrgPolicy(mustRead(t, "testdata/policy/good_full.xml"))
	if err != nil {
		t.Fatal(err)
	}
	f, twelve, yes := false, 12, true
	want := OrgPolicy{Version: 3, RetentionDays: 30, LockMaxSeconds: 300, PINMinLength: 6, KeyringAllowed: &f,
		NotificationPreview: PreviewSender, UrgentRepeatSeconds: 120, UrgentRepeatCount: 10,
		Escalation: EscalationPolicy{AfterSeconds: 300, Service: "escalation@hospital.org", Steps: []EscalationStep{{To: "dr.osei@hospital.org"}, {Role: "Charge nurse"}, {Room: "icu@conference.hospital.org"}}},
		Admins:     []string{"it.admin@hospital.org", "night.it@hospital.org"}, OrderRecipients: []string{"dr.osei@hospital.org"},
		LevelNames: LevelNames{Routine: "Routine", Urgent: "Urgent", STAT: "STAT"},
		TextAck:    &TextAckPolicy{Allowed: true, Words: []string{"ack", "Roger that"}}, ShiftKeepHours: &twelve, LockedNameAllowed: &yes}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("good_full:\n got %+v\nwant %+v", p, want)
	}
	if p, _ := DecodeOrgPolicy(mustRead(t, "testdata/policy/good_empty.xml")); !reflect.DeepEqual(p, OrgPolicy{Version: 1}) {
		t.Errorf("good_empty: %+v", p)
	}
	if p, _ := DecodeOrgPolicy(mustRead(t, "testdata/policy/good_text_ack_off.xml")); p.TextAck == nil || p.TextAck.Allowed || len(p.TextAck.Words) != 0 {
		t.Errorf("good_text_ack_off: %+v", p.TextAck)
	}
	if p, _ := DecodeOrgPolicy(mustRead(t, "testdata/policy/good_shift_end_remove.xml")); p.ShiftKeepHours == nil || *p.ShiftKeepHours != 0 {
		t.Errorf("good_shift_end_remove: %v", p.ShiftKeepHours)
	}
	if p, _ := DecodeOrgPolicy(mustRead(t, "testdata/policy/good_locked_quiet.xml")); p.LockedRoutineNotify == nil || *p.LockedRoutineNotify {
		t.Errorf("good_locked_quiet: %+v", p.LockedRoutineNotify)
	}
	if p, _ := DecodeOrgPolicy(mustRead(t, "testdata/policy/good_cold_start_off.xml")); p.ColdStartListen == nil || *p.ColdStartListen {
		t.Errorf("good_cold_start_off: %+v", p.ColdStartListen)
	}
}

// TestEscalationPlanFixtures: the hand-off's plan is read like the policy's
// ladder (same step rules) and refused with an error naming what is wrong.
func TestEscalationPlanFixtures(t *testing.T) {
	fixtures(t, "plan", DecodeEscalationPlan, EscalationPlan.Element, map[string]string{
		"fail_no_id":       "<escalation-plan id>: missing",
		"fail_to_full_jid": "<escalation-plan to>",
		"fail_too_quick":   "<escalation-plan after-seconds>: 5 is outside 30..86400",
		"fail_step_two":    "<step>: needs exactly one of to, role, room",
		"fail_wrong_root":  "not a urn:rounds:escalation:0 <escalation-plan/> element",
		"fail_not_xml":     "escalation plan",
	})
	p, err := DecodeEscalationPlan(mustRead(t, "testdata/plan/good_full.xml"))
	want := EscalationPlan{ID: "k3x9", To: "dr.osei@hospital.org", AfterSeconds: 300,
		Steps: []EscalationStep{{To: "kim@hospital.org"}, {Role: "Charge nurse"}, {Room: "icu@conference.hospital.org"}}}
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Errorf("good_full: %+v %v", p, err)
	}
	st := mustDecode(t, `<message xmlns='jabber:client'><escalation-plan xmlns='urn:rounds:escalation:0' id='a' to='b@c'/><held xmlns='urn:rounds:escalation:0' id='a'/></message>`)
	if m := ParseMessage(st); m.Plan == nil || m.PlanErr != nil || m.Plan.To != "b@c" || m.Held != "a" {
		t.Errorf("message: plan %+v (%v), held %q", m.Plan, m.PlanErr, m.Held)
	}
	st = mustDecode(t, `<message xmlns='jabber:client'><escalation-plan xmlns='urn:rounds:escalation:0' id='a'/></message>`)
	if m := ParseMessage(st); m.Plan != nil || m.PlanErr == nil {
		t.Errorf("a plan without to: %+v, %v", m.Plan, m.PlanErr)
	}
}

// FuzzEscalationPlan is FuzzOrgPolicy for the hand-off's plan.
func FuzzEscalationPlan(f *testing.F) {
	addFixtureSeeds(f, "plan")
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := DecodeEscalationPlan(doc)
		if err != nil {
			return
		}
		again, err := DecodeEscalationPlan([]byte(p.Element().String()))
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip: %+v → %+v (%v)", p, again, err)
		}
	})
}

func TestScheduleFixtures(t *testing.T) {
	fixtures(t, "oncall", DecodeSchedule, ScheduleElement, map[string]string{
		"fail_until_before_from": "shift 1: <shift until>: is not after from",
		"fail_bad_time":          `<shift from>: "22/11/2026 08:00" is not an RFC 3339 time`,
		"fail_missing_role":      "<shift role>: missing",
		"fail_bad_jid":           `<shift jid>: "kim" is not a bare JID`,
		"fail_bad_backup":        "<shift backup>",
		"fail_orders_maybe":      `<shift orders>: "maybe"`,
		"fail_wrong_root":        "not a urn:rounds:oncall:0 <schedule/> element",
		"fail_missing_from":      "<shift from>: missing",
	})
	s, err := DecodeSchedule(mustRead(t, "testdata/oncall/good_two_shifts.xml"))
	if err != nil || len(s) != 2 {
		t.Fatal(s, err)
	}
	if s[0].Role != "Cardiology on call" || s[0].JID != "dr.osei@hospital.org" || s[0].Backup != "dr.lind@hospital.org" || !s[0].Orders ||
		!s[0].From.Equal(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)) || s[1].Orders {
		t.Errorf("good_two_shifts: %+v", s)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func addFixtureSeeds(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
	for _, p := range files {
		f.Add(mustRead(f, p))
	}
}

// FuzzOrgPolicy: any input is parsed or refused, never panics, and what
// parses survives encode → decode unchanged.
func FuzzOrgPolicy(f *testing.F) {
	addFixtureSeeds(f, "policy")
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := DecodeOrgPolicy(doc)
		if err != nil {
			return
		}
		again, err := DecodeOrgPolicy([]byte(p.Element().String()))
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip: %+v → %+v (%v)", p, again, err)
		}
	})
}

// FuzzSchedule is FuzzOrgPolicy for the on-call schedule.
func FuzzSchedule(f *testing.F) {
	addFixtureSeeds(f, "oncall")
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := DecodeSchedule(doc)
		if err != nil {
			return
		}
		again, err := DecodeSchedule([]byte(ScheduleElement(s).String()))
		if err != nil || len(again) != len(s) {
			t.Fatalf("round trip: %+v → %+v (%v)", s, again, err)
		}
		for i := range s {
			if again[i].Role != s[i].Role || again[i].JID != s[i].JID || !again[i].From.Equal(s[i].From) ||
				!again[i].Until.Equal(s[i].Until) || again[i].Backup != s[i].Backup || again[i].Orders != s[i].Orders {
				t.Fatalf("shift %d: %+v → %+v", i, s[i], again[i])
			}
		}
	})
}

// BenchmarkParseClinical: what the clinical pass adds to ParseMessage, on a
// plain chat message (the common case) and on a STAT order with every
// payload. Compare parseClinical's ns/op with ParseMessage's in the same run.
func BenchmarkParseClinical(b *testing.B) {
	plain := mustDecode(b, NewChat("bob@hospital.org", "Bed 12 potassium 4.1, no change").String())
	stat := NewChat("bob@hospital.org", "")
	prefix, fbs := ClinicalPrefix(UrgencySTAT, true)
	stat.Child(NSClient, "body").SetText(prefix + "Bed 4 arrest")
	stat.Append(NewUrgency(UrgencySTAT, true), NewHeaders(HeaderUrgency, "high"), NewOrder(), NewAddressed("Cardiology on call"),
		Escalation{ID: "o1", Step: 1, To: "kim@hospital.org", Reason: "not acknowledged in 5 min"}.Element())
	stat.Append(fbs...)
	statEl := mustDecode(b, stat.String())
	for _, c := range []struct {
		name string
		el   *Element
	}{{"plain", plain}, {"stat-order", statEl}} {
		b.Run(c.name+"/ParseMessage", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ParseMessage(c.el).Body == "" {
					b.Fatal("no body")
				}
			}
		})
		b.Run(c.name+"/parseClinical", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var m Message
				parseClinical(c.el, &m)
			}
		})
	}
}

func TestDNDFixtures(t *testing.T) {
	fixtures(t, "dnd", DecodeDND, DND.Element, map[string]string{
		"fail_until_before_since": "<dnd until>: is not after since",
		"fail_bad_time":           `<dnd since>: "07/12/2026 09:00" is not an RFC 3339 time`,
		"fail_cover_full_jid":     "<dnd cover>",
		"fail_off_shift_maybe":    `<dnd off-shift>: "maybe" is not true or false`,
		"fail_control_char":       "<dnd reply>: holds a control character",
		"fail_wrong_root":         "not a urn:rounds:dnd:0 <dnd/> element",
		"fail_reply_too_long":     "<dnd reply>: is longer than 500 characters",
	})
	d, err := DecodeDND(mustRead(t, "testdata/dnd/good_on.xml"))
	if err != nil || d.Cover != "lee@hospital.org" || !strings.HasPrefix(d.Reply, "In theatre until 14:00") || !strings.Contains(d.Reply, "\n") ||
		d.Since.Nanosecond() != 123e6 || !d.On(d.Since) || d.On(d.Until) {
		t.Fatalf("good_on: %+v %v", d, err)
	}
	off, err := DecodeDND(mustRead(t, "testdata/dnd/good_off.xml"))
	if err != nil || off.On(time.Now()) || off.Changed.IsZero() {
		t.Fatalf("good_off: %+v %v", off, err)
	}
	if p, _ := DecodeOrgPolicy(mustRead(t, "testdata/policy/good_dnd.xml")); p.DND == nil || p.DND.Urgent || !p.DND.STAT {
		t.Errorf("good_dnd policy: %+v", p.DND)
	}
}

// FuzzDND is FuzzOrgPolicy for the do-not-disturb item.
func FuzzDND(f *testing.F) {
	addFixtureSeeds(f, "dnd")
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := DecodeDND(doc)
		if err != nil {
			return
		}
		again, err := DecodeDND([]byte(d.Element().String()))
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip: %+v → %+v (%v)", d, again, err)
		}
	})
}

// TestForwardedAndAutoSubmitted: a forward's original is read from the
// message's own <forwarded/> (its author reduced to a bare JID, a claim),
// not from anywhere else; Auto-Submitted is any value but "no".
func TestForwardedAndAutoSubmitted(t *testing.T) {
	at := time.Date(2026, 12, 7, 13, 2, 0, 0, time.UTC)
	m := NewChat("lee@hospital.org", "Forwarded from kim@hospital.org: Bed 4")
	m.Append(NewForwarded(Forwarded{From: "kim@hospital.org/phone", Stamp: at, Body: "Bed 4"}))
	el := mustDecode(t, m.String())
	f := ParseForwarded(el)
	if f == nil || f.From != "kim@hospital.org" || f.Body != "Bed 4" || !f.Stamp.Equal(at) {
		t.Fatalf("forwarded: %+v", f)
	}
	if ParseForwarded(mustDecode(t, NewChat("lee@hospital.org", "plain").String())) != nil {
		t.Fatal("a plain message read as a forward")
	}
	noBody := NewChat("lee@hospital.org", "x").Append(NewElement(NSForward, "forwarded").Append(NewElement(NSClient, "message", "from", "kim@hospital.org")))
	if ParseForwarded(mustDecode(t, noBody.String())) != nil {
		t.Fatal("a forward without a body read as one")
	}
	notJID := NewChat("lee@hospital.org", "x").Append(NewForwarded(Forwarded{From: "@@", Body: "y"}))
	if f := ParseForwarded(mustDecode(t, notJID.String())); f == nil || f.From != "" {
		t.Fatalf("author that is not a JID: %+v", f)
	}
	for v, want := range map[string]bool{"auto-replied": true, "Auto-Generated": true, "no": false, " NO ": false, "": false} {
		if got := AutoSubmitted(map[string]string{HeaderAutoSubmitted: v}); got != want {
			t.Errorf("AutoSubmitted(%q) = %v", v, got)
		}
	}
}

// FuzzParseForwarded: any stanza is read or refused, never panics.
func FuzzParseForwarded(f *testing.F) {
	f.Add([]byte(NewChat("a@b", "x").Append(NewForwarded(Forwarded{From: "k@h", Body: "y"})).String()))
	f.Fuzz(func(t *testing.T, doc []byte) {
		el, err := DecodeElement(doc, Limits{})
		if err != nil {
			return
		}
		if fw := ParseForwarded(el); fw != nil && fw.From != "" {
			if _, err := ParseJID(fw.From); err != nil {
				t.Fatalf("author %q is not a JID", fw.From)
			}
		}
	})
}
