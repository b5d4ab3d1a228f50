package xmpp

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestClinicalAttributesBounded: anyone can send the clinical payloads, and
// their ids, roles and reasons are stored, drawn and audited, so one carrying
// an oversized value is ignored like a malformed one, while a value at the
// bound still parses. The body of the message is untouched either way.
func TestClinicalAttributesBounded(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	parse := func(payload *Element) *Message {
		t.Helper()
		msg := NewChat("bob@hospital.org", "Bed 4")
		msg.Append(payload)
		m := ParseMessage(mustDecode(t, msg.String()))
		if m.Body != "Bed 4" {
			t.Fatalf("body %q", m.Body)
		}
		return m
	}
	for _, c := range []struct {
		name string
		at   *Element // at the bound: parses
		over *Element // one byte over: ignored
		got  func(*Message) bool
	}{
		{"response id", NewResponse(long(maxClinicalID), ResponseAck), NewResponse(long(maxClinicalID+1), ResponseAck),
			func(m *Message) bool { return m.Response != nil }},
		{"wipe id", NewWipe(long(maxClinicalID), time.Now()), NewWipe(long(maxClinicalID+1), time.Now()),
			func(m *Message) bool { return m.Wipe != nil }},
		{"addressed role", NewAddressed(long(maxPolicyText)), NewAddressed(long(maxPolicyText + 1)),
			func(m *Message) bool { return m.Role != "" }},
		{"escalation id", Escalation{ID: long(maxClinicalID), Step: 1}.Element(), Escalation{ID: long(maxClinicalID + 1), Step: 1}.Element(),
			func(m *Message) bool { return m.Escalation != nil }},
		{"escalation role", Escalation{ID: "o1", Step: 1, Role: long(maxPolicyText)}.Element(), Escalation{ID: "o1", Step: 1, Role: long(maxPolicyText + 1)}.Element(),
			func(m *Message) bool { return m.Escalation != nil }},
		{"escalation reason", Escalation{ID: "o1", Step: 1, Reason: long(maxClinicalReason)}.Element(), Escalation{ID: "o1", Step: 1, Reason: long(maxClinicalReason + 1)}.Element(),
			func(m *Message) bool { return m.Escalation != nil }},
		{"escalation to", Escalation{ID: "o1", Step: 1, To: long(maxJIDBytes)}.Element(), Escalation{ID: "o1", Step: 1, To: long(maxJIDBytes + 1)}.Element(),
			func(m *Message) bool { return m.Escalation != nil }},
	} {
		if !c.got(parse(c.at)) {
			t.Errorf("%s at the bound was ignored", c.name)
		}
		if c.got(parse(c.over)) {
			t.Errorf("%s over the bound was accepted", c.name)
		}
	}
}

// TestPolicyErrorsQuoteShortly: a refused value is quoted in the error (the
// admin needs to see it) but cut to 64 bytes, on a rune boundary, with its
// length: the error is logged by every device and a value can be a whole
// stanza long.
func TestPolicyErrorsQuoteShortly(t *testing.T) {
	huge := strings.Repeat("é", 100000)
	for name, doc := range map[string]string{
		"policy":   `<policy xmlns='urn:rounds:policy:0'><lock max-seconds='` + huge + `'/></policy>`,
		"schedule": `<schedule xmlns='urn:rounds:oncall:0'><shift role='r' jid='a@b' from='` + huge + `' until='2026-11-22T08:00:00Z'/></schedule>`,
	} {
		var err error
		if name == "policy" {
			_, err = DecodeOrgPolicy([]byte(doc))
		} else {
			_, err = DecodeSchedule([]byte(doc))
		}
		if err == nil || len(err.Error()) > 300 || !strings.Contains(err.Error(), "… (200000 bytes)") || !utf8.ValidString(err.Error()) {
			t.Fatalf("%s: %d-byte error: %.300v", name, len(fmt.Sprint(err)), err)
		}
	}
	if got := shown("8h"); got != `"8h"` {
		t.Fatalf("short value shown as %s", got)
	}
}
