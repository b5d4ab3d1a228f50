package xmpp

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeFixture reads a fixture holding a message with the element, or the
// element alone (what Element writes), and reads it with read.
func decodeFixture[T any](doc []byte, local string, read func(*Element) (*T, error)) (T, error) {
	var zero T
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return zero, err
	}
	if el.Name.Local == local {
		el = NewElement(NSClient, "message").Append(el)
	}
	v, err := read(el)
	if err != nil {
		return zero, err
	}
	if v == nil {
		return zero, errors.New("no <" + local + "/>")
	}
	return *v, nil
}

func decodePatient(doc []byte) (Patient, error) { return decodeFixture(doc, "patient", ReadPatient) }

func TestPatientFixtures(t *testing.T) {
	fixtures(t, "patient", decodePatient, Patient.Element, map[string]string{
		"fail_missing_mrn":        "<patient mrn>: missing",
		"fail_blank_mrn":          "<patient mrn>: missing",
		"fail_long_mrn":           "<patient mrn>: longer than 32 bytes",
		"fail_long_name":          "<patient name>: longer than 128 bytes",
		"fail_long_bed":           "<patient bed>: longer than 32 bytes",
		"fail_newline_name":       "<patient name>: control characters",
		"fail_tab_mrn":            "<patient mrn>: control characters",
		"fail_rtl_override_bed":   "<patient bed>: control characters",
		"fail_line_separator_bed": "<patient bed>: control characters",
		"fail_lookalike_mrn":      "<patient mrn>: not ASCII",
		"fail_fullwidth_mrn":      "<patient mrn>: not ASCII",
	})
}

// TestPatientRead: spaces around a field are dropped; a message without
// the tag has none; a malformed tag is not read by ParseMessage, which says
// why without the values.
func TestPatientRead(t *testing.T) {
	p, err := decodePatient([]byte(`<patient xmlns='urn:rounds:patient:0' mrn=' 77 ' name=' Kofi Mensah' bed='ICU 3 '/>`))
	if err != nil || p != (Patient{MRN: "77", Name: "Kofi Mensah", Bed: "ICU 3"}) {
		t.Fatalf("%+v %v", p, err)
	}
	el, _ := DecodeElement([]byte(`<message xmlns='jabber:client'><body>hi</body></message>`), Limits{})
	if p, err := ReadPatient(el); p != nil || err != nil {
		t.Fatalf("absent: %+v %v", p, err)
	}
	el, _ = DecodeElement([]byte(`<message xmlns='jabber:client' type='chat'><body>hi</body><patient xmlns='urn:rounds:patient:0' name='Ama Osei' bed='4'/></message>`), Limits{})
	m := ParseMessage(el)
	if m.Patient != nil || m.PatientErr == nil {
		t.Fatalf("malformed tag read: %+v %v", m.Patient, m.PatientErr)
	}
	if strings.Contains(m.PatientErr.Error(), "Ama") {
		t.Fatalf("error carries the patient's name: %v", m.PatientErr)
	}
}

func TestPatientLine(t *testing.T) {
	for _, c := range []struct {
		p    Patient
		want string
	}{
		{Patient{MRN: "123456", Name: "Ama Osei", Bed: "4"}, "Patient: Ama Osei · MRN 123456 · Bed 4\n"},
		{Patient{MRN: "123456"}, "Patient: MRN 123456\n"},
		{Patient{MRN: "9", Bed: "ICU 2"}, "Patient: MRN 9 · Bed ICU 2\n"},
	} {
		if got := PatientLine(c.p); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

// TestPatientLineStrippable: only one range holding exactly the tag's line.
func TestPatientLineStrippable(t *testing.T) {
	body := "[URGENT] Patient: MRN 1 · Bed 4\nBP 80/50"
	line := utf8.RuneCountInString("Patient: MRN 1 · Bed 4\n")
	fb := func(rs ...FallbackRange) []Fallback { return []Fallback{{For: NSPatient, Ranges: rs}} }
	for _, c := range []struct {
		name string
		fbs  []Fallback
		want bool
	}{
		{"after the urgency prefix", fb(FallbackRange{9, 9 + line}), true},
		{"whole body", fb(), false},
		{"two lines", fb(FallbackRange{9, 9 + line + 2}), false},
		{"no line break", fb(FallbackRange{9, 9 + line - 1}), false},
		{"past the end", fb(FallbackRange{9, 200}), false},
		{"two ranges", fb(FallbackRange{9, 9 + line}, FallbackRange{0, 1}), false},
		{"other namespace", []Fallback{{For: NSUrgency, Ranges: []FallbackRange{{0, 9}}}}, false},
	} {
		if got := PatientLineStrippable(body, c.fbs, Patient{MRN: "1", Bed: "4"}); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzReadPatient: any stanza is read or refused, never panics; what is
// read keeps the bounds, has an MRN, no control characters, and survives
// a round trip unchanged.
func FuzzReadPatient(f *testing.F) {
	f.Add([]byte(NewElement(NSClient, "message").Append(Patient{MRN: "1", Name: "A B", Bed: "4"}.Element()).String()))
	f.Add([]byte(`<patient xmlns='urn:rounds:patient:0' mrn='&#x202E;1' name=' x '/>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := decodePatient(doc)
		if err != nil {
			return
		}
		if p.MRN == "" || len(p.MRN) > MaxPatientMRN || len(p.Name) > MaxPatientName || len(p.Bed) > MaxPatientBed {
			t.Fatalf("out of bounds: %+v", p)
		}
		if err := p.Check(); err != nil {
			t.Fatalf("read but not valid: %v", err)
		}
		again, err := decodePatient([]byte(p.Element().String()))
		if err != nil || again != p {
			t.Fatalf("round trip: %+v → %+v (%v)", p, again, err)
		}
	})
}
