package sync

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Patient context (urn:rounds:patient:0) and SBAR (urn:rounds:sbar:0),
// docs/PROTOCOL.md.
//
// A patient tag is the sender's claim: stored with the message (sealed,
// like every Extra field) as the sender wrote it, never checked against a
// patient list (there is none). The body other clients show starts with
// the patient line, an XEP-0428 fallback; the stored body is the typed
// text alone, and the line is stripped from a received message only when
// the tag was read and its fallback range is exactly one line. A tag that
// cannot be read leaves the line in the body, so the reader still sees
// what the sender wrote.
//
// An SBAR message's body is the four fields under their headings
// (xmpp.SBARText); the store keeps each field's length (ExtraSBAR), and
// SBARFields gives the fields back only while the stored body is exactly
// that text (a correction or an unresolved reply's quote turns the card
// back into plain text).

// Patient is the patient a message is about, as its sender tagged it.
type Patient struct {
	MRN, Name, Bed string
}

const (
	ExtraPatientMRN  = securestore.ExtraPatientMRN
	ExtraPatientName = securestore.ExtraPatientName
	ExtraPatientBed  = securestore.ExtraPatientBed
	// ExtraSBAR is each SBAR field's length in code points ("n,n,n,n").
	ExtraSBAR = "sbar"
	// ExtraPatientRefused says a received message carried a patient tag
	// that could not be read (the reason, naming the field, never a value).
	ExtraPatientRefused = "patient-refused"
)

// ErrPatient: a patient tag that cannot be sent (no MRN, a field too long
// or holding control characters); the message names the field only.
var ErrPatient = errors.New("sync: patient tag")

// CheckPatient says what is wrong with p (after trimming spaces around each
// field, which is what Send sends), wrapping ErrPatient.
func CheckPatient(p Patient) (Patient, error) {
	p = Patient{MRN: strings.TrimSpace(p.MRN), Name: strings.TrimSpace(p.Name), Bed: strings.TrimSpace(p.Bed)}
	if err := xmpp.Patient(p).Check(); err != nil {
		return p, errors.Join(ErrPatient, err)
	}
	return p, nil
}

// PatientOf is the patient tag of a stored message, nil when it has none.
func PatientOf(m securestore.Message) *Patient {
	if m.Extra[ExtraPatientMRN] == "" {
		return nil
	}
	return &Patient{MRN: m.Extra[ExtraPatientMRN], Name: m.Extra[ExtraPatientName], Bed: m.Extra[ExtraPatientBed]}
}

// PatientLine is the line other clients show for p ("Patient: Ama Osei ·
// MRN 123456 · Bed 4", without the line break): what an export writes.
func PatientLine(p Patient) string {
	return strings.TrimSuffix(xmpp.PatientLine(xmpp.Patient(p)), "\n")
}

// ParsePatientTag reads a pasted <patient xmlns='urn:rounds:patient:0' …/>.
func ParsePatientTag(s string) (Patient, error) {
	el, err := xmpp.DecodeElement([]byte(strings.TrimSpace(s)), xmpp.Limits{})
	if err != nil || el.Name.Space != xmpp.NSPatient || el.Name.Local != "patient" {
		return Patient{}, errors.Join(ErrPatient, errors.New("not a <patient xmlns='"+xmpp.NSPatient+"'/> element"))
	}
	p, err := xmpp.ReadPatient(xmpp.NewElement(xmpp.NSClient, "message").Append(el))
	if err != nil {
		return Patient{}, errors.Join(ErrPatient, err)
	}
	return Patient(*p), nil
}

// setPatient writes p into x.
func setPatient(x map[string]string, p Patient) {
	x[ExtraPatientMRN] = p.MRN
	for k, v := range map[string]string{ExtraPatientName: p.Name, ExtraPatientBed: p.Bed} {
		if v != "" {
			x[k] = v
		}
	}
}

// SBARText is the body of an SBAR message with these four fields
// (Situation, Background, Assessment, Recommendation), each exactly as
// typed.
func SBARText(f [4]string) string { return xmpp.SBARText(xmpp.SBARFrom(f)) }

// SBARHeadings are the four fields' names as the body writes them.
func SBARHeadings() [4]string { return xmpp.SBARHeadings() }

// SBARFields gives a stored message's four SBAR fields, while its body is
// exactly their text.
func SBARFields(m securestore.Message) ([4]string, bool) {
	raw := m.Extra[ExtraSBAR]
	if raw == "" {
		return [4]string{}, false
	}
	parts := strings.Split(raw, ",")
	if len(parts) != 4 {
		return [4]string{}, false
	}
	var n [4]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return [4]string{}, false
		}
		n[i] = v
	}
	s, ok := xmpp.SBARSplit(m.Body, n)
	return s.Fields(), ok
}

func sbarExtra(f [4]string) string {
	n := xmpp.SBARRunes(xmpp.SBARFrom(f))
	return strconv.Itoa(n[0]) + "," + strconv.Itoa(n[1]) + "," + strconv.Itoa(n[2]) + "," + strconv.Itoa(n[3])
}

// decoratePatient puts the patient line after the clinical prefix (so
// "[URGENT] " stays first) and adds <patient/> and the line's fallback.
// It runs after decorateClinical, before the reply's quote.
func decoratePatient(el *xmpp.Element, m securestore.Message) {
	p := PatientOf(m)
	if p == nil {
		return
	}
	prefix, _ := xmpp.ClinicalPrefix(urgencyLevel(m.Urgency), m.Extra[ExtraOrder] != "")
	if el.Child(xmpp.NSClient, "body") == nil {
		return
	}
	xmpp.InsertFallback(el, utf8.RuneCountInString(prefix), xmpp.PatientLine(xmpp.Patient(*p)), xmpp.NSPatient)
	el.Append(xmpp.Patient(*p).Element())
}

// decorateSBAR adds <sbar/> to a message whose body is its SBAR text.
func decorateSBAR(el *xmpp.Element, m securestore.Message) {
	if f, ok := SBARFields(m); ok {
		el.Append(xmpp.SBARFrom(f).Element())
	}
}

// notePatientSBAR copies a received message's patient tag and SBAR
// structure into the store form (before the fallbacks are stripped).
func notePatientSBAR(sm *securestore.Message, m *xmpp.Message) {
	if m.Patient == nil && m.PatientErr == nil && m.SBAR == nil {
		return
	}
	if sm.Extra == nil {
		sm.Extra = map[string]string{}
	}
	if m.Patient != nil {
		setPatient(sm.Extra, Patient(*m.Patient))
	} else if m.PatientErr != nil {
		sm.Extra[ExtraPatientRefused] = m.PatientErr.Error()
	}
	if m.SBAR != nil {
		sm.Extra[ExtraSBAR] = sbarExtra(m.SBAR.Fields())
	}
}

// clinicalFallbacks says which XEP-0428 fallbacks of m the stored body
// drops: the urgency and order prefixes (only while every such range holds
// exactly a generated prefix or acknowledgement line), and the patient line when the tag
// was read and its range holds exactly the line that tag generates.
func clinicalFallbacks(m *xmpp.Message) func(ns string) bool {
	patient := m.Patient != nil && xmpp.PatientLineStrippable(m.Body, m.Fallbacks, *m.Patient)
	clinical := xmpp.ClinicalFallbacksExact(m.Body, m.Fallbacks)
	return func(ns string) bool {
		return clinical && (ns == xmpp.NSUrgency || ns == xmpp.NSOrder) || patient && ns == xmpp.NSPatient
	}
}
