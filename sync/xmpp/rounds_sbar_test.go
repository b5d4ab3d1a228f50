package xmpp

import (
	"testing"
	"unicode/utf8"
)

func decodeSBAR(doc []byte) (SBAR, error) { return decodeFixture(doc, "sbar", ReadSBAR) }

func TestSBARFixtures(t *testing.T) {
	fixtures(t, "sbar", decodeSBAR, SBAR.Element, map[string]string{
		"fail_missing_recommendation": "<sbar recommendation>: missing",
		"fail_two_situations":         "<sbar situation>: more than one",
		"fail_control_char":           "<sbar situation>: control characters",
		"fail_all_empty":              "<sbar>: every field empty",
		"fail_long_field":             "<sbar situation>: longer than 40000 bytes",
	})
}

// TestSBARExact: the fields are kept exactly as typed through the body and
// the element, byte for byte (spaces at either end, several lines, tabs,
// a carriage return, an empty field), and SBARSplit gives them back from
// the body alone.
func TestSBARExact(t *testing.T) {
	s := SBAR{
		Situation:      "  Bed 4: BP 80/50  ",
		Background:     "Post-op day 1\n  hip replacement\n",
		Assessment:     "\tlikely bleeding\r\n",
		Recommendation: "",
	}
	body := SBARText(s)
	want := "Situation:   Bed 4: BP 80/50  \nBackground: Post-op day 1\n  hip replacement\n\nAssessment: \tlikely bleeding\r\n\nRecommendation: "
	if body != want {
		t.Fatalf("body %q\nwant %q", body, want)
	}
	got, err := decodeSBAR([]byte(NewElement(NSClient, "message").Append(s.Element()).String()))
	if err != nil || got != s {
		t.Fatalf("element round trip: %q %v", got, err)
	}
	split, ok := SBARSplit(body, SBARRunes(s))
	if !ok || split != s {
		t.Fatalf("split: %q %v", split, ok)
	}
	if _, ok := SBARSplit(body+"x", SBARRunes(s)); ok {
		t.Fatal("a body with more text split as SBAR")
	}
	if _, ok := SBARSplit("Situation: x", SBARRunes(s)); ok {
		t.Fatal("a short body split as SBAR")
	}
}

// FuzzReadSBAR: any stanza is read or refused, never panics; what is read
// keeps the bounds, and its text splits back into the same fields.
func FuzzReadSBAR(f *testing.F) {
	f.Add([]byte(NewElement(NSClient, "message").Append(SBAR{"S", " B\n", "", "R"}.Element()).String()))
	f.Add([]byte(`<sbar xmlns='urn:rounds:sbar:0'><situation/><background>x</background><assessment/><recommendation/></sbar>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := decodeSBAR(doc)
		if err != nil {
			return
		}
		for _, v := range s.Fields() {
			if len(v) > MaxSBARField || !utf8.ValidString(v) {
				t.Fatalf("out of bounds: %q", v)
			}
		}
		if back, ok := SBARSplit(SBARText(s), SBARRunes(s)); !ok || back != s {
			t.Fatalf("split %q → %q", s, back)
		}
	})
}
