package xmpp

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// urn:rounds:patient:0 — the patient a message is about (docs/PROTOCOL.md,
// "Patient context"): <patient mrn='123456' name='Ama Osei' bed='4'/>. The
// tag is the sender's claim, typed or pasted (there is no patient list to
// check it against). For clients without Rounds the body starts with a line
// naming the patient ("Patient: Ama Osei · MRN 123456 · Bed 4\n"), an
// XEP-0428 fallback for NSPatient, so Rounds strips it and draws a chip.
const NSPatient = "urn:rounds:patient:0"

// Bounds on a patient tag, in bytes after trimming spaces: an MRN or bed
// longer than any hospital numbers them, or a name longer than a wristband
// prints, is refused whole, never cut (a cut MRN names another patient).
const (
	MaxPatientMRN  = 32
	MaxPatientName = 128
	MaxPatientBed  = 32
)

// Patient is a parsed <patient/>: MRN required, name and bed optional.
type Patient struct {
	MRN, Name, Bed string
}

// Element is the <patient/> element of p.
func (p Patient) Element() *Element {
	el := NewElement(NSPatient, "patient", "mrn", p.MRN)
	if p.Name != "" {
		el.SetAttr("name", p.Name)
	}
	if p.Bed != "" {
		el.SetAttr("bed", p.Bed)
	}
	return el
}

// Check says what is wrong with p, naming the field, never its value (the
// value is patient data and errors reach logs).
func (p Patient) Check() error {
	if p.MRN == "" {
		return errors.New("<patient mrn>: missing")
	}
	for _, f := range []struct {
		attr, v string
		max     int
	}{{"mrn", p.MRN, MaxPatientMRN}, {"name", p.Name, MaxPatientName}, {"bed", p.Bed, MaxPatientBed}} {
		switch {
		case len(f.v) > f.max:
			return fmt.Errorf("<patient %s>: longer than %d bytes", f.attr, f.max)
		case !utf8.ValidString(f.v) || strings.ContainsFunc(f.v, notPrintable):
			return fmt.Errorf("<patient %s>: control characters", f.attr)
		case f.v != strings.TrimSpace(f.v):
			return fmt.Errorf("<patient %s>: leading or trailing space", f.attr)
		case f.attr == "mrn" && strings.ContainsFunc(f.v, func(r rune) bool { return r > unicode.MaxASCII }):
			// A hospital number is ASCII; a look-alike (Cyrillic З for 3,
			// full-width digits) reads on the chip as another patient's
			// number and escapes a search for the real one.
			return fmt.Errorf("<patient %s>: not ASCII", f.attr)
		}
	}
	return nil
}

// notPrintable: control and format characters (a right-to-left override
// could make a chip read as another bed), and line or paragraph separators.
func notPrintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// ReadPatient reads the <patient/> of a stanza: nil, nil when there is
// none; an error when it is there but malformed (no MRN, a field too long
// or holding control characters). Spaces around a field are dropped.
func ReadPatient(st *Element) (*Patient, error) {
	if st == nil {
		return nil, nil
	}
	el := st.Child(NSPatient, "patient")
	if el == nil {
		return nil, nil
	}
	p := Patient{MRN: strings.TrimSpace(el.Attr("mrn")), Name: strings.TrimSpace(el.Attr("name")),
		Bed: strings.TrimSpace(el.Attr("bed"))}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return &p, nil
}

// PatientLine is the line other clients show before the text: "Patient:
// Ama Osei · MRN 123456 · Bed 4" and a line break.
func PatientLine(p Patient) string {
	parts := make([]string, 0, 3)
	if p.Name != "" {
		parts = append(parts, p.Name)
	}
	parts = append(parts, "MRN "+p.MRN)
	if p.Bed != "" {
		parts = append(parts, "Bed "+p.Bed)
	}
	return "Patient: " + strings.Join(parts, " · ") + "\n"
}

// PatientLineStrippable says whether the fallback for NSPatient can be
// stripped from body safely: exactly one range, within the body, holding
// exactly PatientLine(p), byte for byte (wherever the urgency prefix or a
// reply's quote put it). The range and the tag are the sender's: a range
// over a line of clinical text ("Do NOT give…\n"), or a line naming
// another patient than the tag (Bed 5 Mensah under a Bed 4 Osei chip),
// would otherwise vanish from what the nurse reads. Anything else: the body
// is shown as sent, since losing a word of a clinical message is worse than
// showing a line twice.
func PatientLineStrippable(body string, fbs []Fallback, p Patient) bool {
	var ranges []FallbackRange
	for _, f := range fbs {
		if f.For == NSPatient {
			if len(f.Ranges) == 0 {
				return false
			}
			ranges = append(ranges, f.Ranges...)
		}
	}
	if len(ranges) != 1 || ranges[0].End <= ranges[0].Start {
		return false
	}
	rs := []rune(body)
	if ranges[0].End > len(rs) {
		return false
	}
	return string(rs[ranges[0].Start:ranges[0].End]) == PatientLine(p)
}
