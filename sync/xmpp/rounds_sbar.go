package xmpp

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// urn:rounds:sbar:0 — a handover written as SBAR (Situation, Background,
// Assessment, Recommendation; docs/PROTOCOL.md, "SBAR"). The body is the
// whole text, readable in any client (SBARText: one heading per field, each
// field exactly as typed); <sbar/> repeats the four fields so Rounds can
// draw a card. A receiver believes the structure only when the body is
// exactly SBARText of the fields, so the card never shows words other
// clients do not.
const NSSBAR = "urn:rounds:sbar:0"

// MaxSBARField bounds one field in bytes; a longer one is refused (the
// body still shows).
const MaxSBARField = 40_000

// SBAR is the four fields, as typed.
type SBAR struct {
	Situation, Background, Assessment, Recommendation string
}

// sbarParts names the fields on the wire and in the body, in order.
var sbarParts = [4]struct{ el, heading string }{
	{"situation", "Situation: "},
	{"background", "Background: "},
	{"assessment", "Assessment: "},
	{"recommendation", "Recommendation: "},
}

// Fields is s's fields in order.
func (s SBAR) Fields() [4]string {
	return [4]string{s.Situation, s.Background, s.Assessment, s.Recommendation}
}

// SBARFrom is the SBAR of four fields in order.
func SBARFrom(f [4]string) SBAR { return SBAR{f[0], f[1], f[2], f[3]} }

// SBARText is the body of s: "Situation: …\nBackground: …\nAssessment:
// …\nRecommendation: …", each field exactly as typed (several lines,
// leading and trailing spaces and all).
func SBARText(s SBAR) string {
	var b strings.Builder
	for i, f := range s.Fields() {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(sbarParts[i].heading)
		b.WriteString(f)
	}
	return b.String()
}

// SBARHeadings are the four headings as the body writes them, without the
// ": " (the card draws them).
func SBARHeadings() [4]string {
	var out [4]string
	for i, p := range sbarParts {
		out[i] = strings.TrimSuffix(p.heading, ": ")
	}
	return out
}

// SBARRunes is how many code points each field is (its length in SBARText).
func SBARRunes(s SBAR) [4]int {
	var out [4]int
	for i, f := range s.Fields() {
		out[i] = utf8.RuneCountInString(f)
	}
	return out
}

// SBARSplit cuts body into its four fields given each field's length in
// code points, and reports whether body is exactly SBARText of them.
func SBARSplit(body string, runes [4]int) (SBAR, bool) {
	rs := []rune(body)
	var f [4]string
	at := 0
	for i, p := range sbarParts {
		if i > 0 {
			at++ // the line break
		}
		at += utf8.RuneCountInString(p.heading)
		if runes[i] < 0 || at+runes[i] > len(rs) {
			return SBAR{}, false
		}
		f[i] = string(rs[at : at+runes[i]])
		at += runes[i]
	}
	s := SBARFrom(f)
	return s, SBARText(s) == body
}

// Element is the <sbar/> element of s.
func (s SBAR) Element() *Element {
	el := NewElement(NSSBAR, "sbar")
	for i, f := range s.Fields() {
		el.Append(NewElement(NSSBAR, sbarParts[i].el).SetText(f))
	}
	return el
}

// ReadSBAR reads the <sbar/> of a stanza: nil, nil when there is none; an
// error when it is there but malformed (a field missing, twice, too long,
// or holding control characters other than line breaks, carriage returns and tabs). Fields
// are kept exactly as they came, spaces and all.
func ReadSBAR(st *Element) (*SBAR, error) {
	if st == nil {
		return nil, nil
	}
	el := st.Child(NSSBAR, "sbar")
	if el == nil {
		return nil, nil
	}
	var f [4]string
	for i, p := range sbarParts {
		cs := el.ChildrenNamed(NSSBAR, p.el)
		switch {
		case len(cs) == 0:
			return nil, fmt.Errorf("<sbar %s>: missing", p.el)
		case len(cs) > 1:
			return nil, fmt.Errorf("<sbar %s>: more than one", p.el)
		}
		v := cs[0].Text
		switch {
		case len(v) > MaxSBARField:
			return nil, fmt.Errorf("<sbar %s>: longer than %d bytes", p.el, MaxSBARField)
		case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool {
			return r != '\n' && r != '\r' && r != '\t' && unicode.IsControl(r)
		}):
			return nil, fmt.Errorf("<sbar %s>: control characters", p.el)
		}
		f[i] = v
	}
	s := SBARFrom(f)
	if strings.TrimSpace(strings.Join(f[:], "")) == "" {
		return nil, errors.New("<sbar>: every field empty")
	}
	return &s, nil
}
