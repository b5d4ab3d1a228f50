package app

import (
	"errors"
	"strings"

	"rounds/securestore"
	"rounds/sync"
)

// Patient context and SBAR (docs/PROTOCOL.md "Patient context", "SBAR").
//
// A message may name the patient it is about: MRN, name and bed, typed or
// pasted by the sender (there is no patient list to pick from or check
// against). The thread draws it as a chip that says whose claim it is;
// notifications never carry it, nor the text of a tagged message (the
// text is about that patient: "Patient details hidden" even where the
// policy allows previews); it is sealed with the message, searchable by
// bed, MRN or name, and exported. An SBAR handover is four fields sent as
// one message whose text reads well in any client; each field is sent
// exactly as typed.

// PatientTag is the patient a message is about.
type PatientTag struct {
	MRN, Name, Bed string
}

// Label is the tag as a chip and the search results show it: "Ama Osei ·
// MRN 123456 · Bed 4".
func (p PatientTag) Label() string {
	return strings.TrimPrefix(sync.PatientLine(sync.Patient(p)), "Patient: ")
}

// PatientView is a message's patient tag as the thread draws it.
type PatientView struct {
	Tag PatientTag
	// Label is the chip's text; Claim says who tagged it ("Tagged by Dr
	// Osei", "Tagged by you"): the tag is the sender's claim, never
	// checked against a patient list.
	Label, Claim string
}

// SBARView is an SBAR handover as the thread draws it: the four headings
// and each field exactly as sent.
type SBARView struct {
	Headings [4]string
	Fields   [4]string
}

// PatientHidden is what a notification says in place of the text of a
// message tagged with a patient.
const PatientHidden = "Patient details hidden"

// Errors of a patient tag the composer shows.
var (
	ErrPatientMRN  = errors.New("enter the patient's MRN")
	ErrPatientTag  = errors.New("the patient tag is too long or holds characters that cannot be sent")
	ErrPatientText = errors.New("this is not a patient tag: paste a <patient/> tag or a line like “Patient: Ama Osei · MRN 123456 · Bed 4”")
)

// CheckPatient is p as it will be sent (spaces around each field dropped),
// or why it cannot be.
func CheckPatient(p PatientTag) (PatientTag, error) {
	out, err := sync.CheckPatient(sync.Patient(p))
	switch {
	case out.MRN == "":
		return PatientTag(out), ErrPatientMRN
	case err != nil:
		return PatientTag(out), ErrPatientTag
	}
	return PatientTag(out), nil
}

// ParsePatient reads a pasted tag: the <patient xmlns='urn:rounds:patient:0'
// …/> element, or the line other clients show ("Patient: Ama Osei · MRN
// 123456 · Bed 4"; the parts in any order, "Room" for "Bed" too).
func ParsePatient(text string) (PatientTag, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "<") {
		p, err := sync.ParsePatientTag(text)
		if err != nil {
			return PatientTag{}, ErrPatientText
		}
		return PatientTag(p), nil
	}
	line, _, _ := strings.Cut(text, "\n")
	line = strings.TrimSpace(line)
	if rest, ok := cutPrefixFold(line, "patient:"); ok {
		line = rest
	}
	var p PatientTag
	for _, part := range strings.FieldsFunc(line, func(r rune) bool { return r == '·' || r == '|' || r == ';' || r == ',' }) {
		part = strings.TrimSpace(part)
		if v, ok := cutPrefixFold(part, "mrn"); ok {
			p.MRN = strings.TrimSpace(strings.TrimLeft(v, ": #"))
		} else if v, ok := cutPrefixFold(part, "bed"); ok {
			p.Bed = strings.TrimSpace(strings.TrimLeft(v, ": "))
		} else if _, ok := cutPrefixFold(part, "room"); ok {
			p.Bed = part
		} else if p.Name == "" {
			p.Name = part
		}
	}
	if p.MRN == "" {
		return p, ErrPatientText
	}
	return CheckPatient(p)
}

// cutPrefixFold is strings.CutPrefix ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// patientRow fills a row's patient chip and SBAR card.
func patientRow(m securestore.Message, sender string, r *MessageRow) {
	if p := sync.PatientOf(m); p != nil {
		tag := PatientTag(*p)
		claim := "Tagged by " + sender
		if m.Direction == securestore.Outgoing {
			claim = "Tagged by you"
		}
		r.Patient = &PatientView{Tag: tag, Label: tag.Label(), Claim: claim}
	}
	if f, ok := sync.SBARFields(m); ok && r.Recalled.IsZero() {
		r.SBAR = &SBARView{Headings: sync.SBARHeadings(), Fields: f}
	}
}

// SBARText is the text an SBAR handover with these fields sends, as other
// clients show it.
func SBARText(f [4]string) string { return sync.SBARText(f) }

// SBARHeadings are the four fields' names.
func SBARHeadings() [4]string { return sync.SBARHeadings() }

// SendSBAR sends an SBAR handover (Situation, Background, Assessment,
// Recommendation) to conv: one message, each field exactly as typed
// (nothing trimmed), with the options of SendClinical. ErrEmptyMessage
// when every field is blank.
func (c *Client) SendSBAR(conv string, f [4]string, o ClinicalOptions) (Sent, error) {
	blank := true
	for i := range f {
		f[i] = strings.ToValidUTF8(f[i], "\uFFFD")
		blank = blank && strings.TrimSpace(f[i]) == ""
	}
	if blank {
		return Sent{}, ErrEmptyMessage
	}
	o.sbar = &f
	return c.clin.send(conv, sync.SBARText(f), o)
}

// patientFilter turns what the user typed in the search's patient filter
// into the store's match: "bed 4" or "room 4" the bed, "MRN 123456" the
// MRN, anything else the MRN, the bed or the name.
func patientFilter(s string) securestore.PatientMatch {
	s = strings.TrimSpace(s)
	if s == "" {
		return securestore.PatientMatch{}
	}
	for _, k := range []string{"bed", "room"} {
		if v, ok := cutPrefixFold(s, k); ok && (v == "" || strings.ContainsAny(v[:1], " :#")) {
			if v = strings.TrimSpace(strings.TrimLeft(v, " :#")); v != "" {
				return securestore.PatientMatch{Bed: v}
			}
		}
	}
	if v, ok := cutPrefixFold(s, "mrn"); ok && (v == "" || strings.ContainsAny(v[:1], " :#")) {
		if v = strings.TrimSpace(strings.TrimLeft(v, " :#")); v != "" {
			return securestore.PatientMatch{MRN: v}
		}
	}
	return securestore.PatientMatch{MRN: s, Bed: s, Name: s, Any: true}
}
