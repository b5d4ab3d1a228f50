package xmpp

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeGoodStanza(t *testing.T) {
	frame := []byte(`<message xmlns="jabber:client" from="bob@x/r" to="alice@x" id="m1" type="chat" xml:lang="en">` +
		`<body>a &lt; b &amp; "c"</body><x:foo xmlns:x="urn:example:unknown" a="1"><x:bar>deep</x:bar></x:foo>` +
		`<origin-id xmlns="urn:xmpp:sid:0" id="o1"/></message>`)
	el, err := DecodeElement(frame, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !el.IsStanza() || el.ID() != "m1" || el.From() != "bob@x/r" {
		t.Fatalf("stanza attrs: %v", el)
	}
	if got := el.ChildText(NSClient, "body"); got != `a < b & "c"` {
		t.Fatalf("body %q", got)
	}
	ext := el.Child("urn:example:unknown", "foo")
	if ext == nil || ext.Attr("a") != "1" || ext.Child("urn:example:unknown", "bar").Text != "deep" {
		t.Fatalf("unknown extension not kept: %v", ext)
	}
	if !bytes.HasPrefix(ext.Raw, []byte(`<x:foo`)) || !bytes.HasSuffix(ext.Raw, []byte(`</x:foo>`)) {
		t.Fatalf("raw extension %q", ext.Raw)
	}
	if !bytes.Equal(el.Raw, frame) {
		t.Fatalf("root raw %q", el.Raw)
	}
	m := ParseMessage(el)
	if m.OriginID != "o1" || m.Type != "chat" {
		t.Fatalf("parsed %+v", m)
	}
	// Round trip through the encoder: same tree.
	again, err := DecodeElement(el.AppendXML(nil), Limits{})
	if err != nil {
		t.Fatalf("re-decode %s: %v", el, err)
	}
	if again.String() != el.String() {
		t.Fatalf("round trip\n%s\n%s", again, el)
	}
}

func TestEncoderEscapesAndDeclaresNamespace(t *testing.T) {
	m := NewElement(NSClient, "message", "to", `a"b<c@x`).Append(NewElement(NSClient, "body").SetText("<script>&\x00\xff"))
	s := m.String()
	want := `<message xmlns="jabber:client" to="a&quot;b&lt;c@x"><body>&lt;script&gt;&amp;` + "\uFFFD\uFFFD" + `</body></message>`
	if s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	if !utf8.ValidString(s) {
		t.Fatal("invalid UTF-8 produced")
	}
}

func TestDecodeBadInput(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	manyAttrs := "<a"
	for i := 0; i < 100; i++ {
		manyAttrs += " a" + string(rune('a'+i%26)) + strings.Repeat("x", i) + `="1"`
	}
	manyAttrs += "/>"
	cases := []struct {
		name, frame, cond string
	}{
		{"truncated", `<message xmlns="jabber:client"><body>hi</bo`, "not-well-formed"},
		{"mismatched", `<message xmlns="jabber:client"></iq>`, "not-well-formed"},
		{"bad utf8", "<message xmlns=\"jabber:client\"><body>\xff\xfe</body></message>", "not-well-formed"},
		{"two elements", `<a xmlns="x:y"/><b xmlns="x:y"/>`, "not-well-formed"},
		{"text outside", `hello<a xmlns="x:y"/>`, "not-well-formed"},
		{"empty", ``, "not-well-formed"},
		{"comment", `<a xmlns="x:y"><!-- hi --></a>`, "restricted-xml"},
		{"pi", `<a xmlns="x:y"><?php echo ?></a>`, "restricted-xml"},
		{"dtd", `<!DOCTYPE a [<!ENTITY e "x">]><a xmlns="x:y">&e;</a>`, "restricted-xml"},
		{"undefined entity", `<a xmlns="x:y">&nbsp;</a>`, "not-well-formed"},
		{"deep", deep, "policy-violation"},
		{"many attrs", manyAttrs, "policy-violation"},
		{"undeclared prefix", `<foo:a/>`, "bad-namespace-prefix"},
		{"other encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><a xmlns="x:y"/>`, "not-well-formed"},
	}
	for _, c := range cases {
		_, err := DecodeElement([]byte(c.frame), Limits{})
		var se *StreamError
		if !errors.As(err, &se) || !se.Local || se.Condition != c.cond {
			t.Errorf("%s: err = %v, want stream error %s", c.name, err, c.cond)
		}
	}
	big := []byte(`<a xmlns="x:y">` + strings.Repeat("x", 2000) + `</a>`)
	_, err := DecodeElement(big, Limits{MaxFrameBytes: 1000})
	var se *StreamError
	if !errors.As(err, &se) || se.Condition != "policy-violation" {
		t.Errorf("oversized: %v", err)
	}
}

// FuzzDecodeStanza: the decoder must never panic, must return exactly one of
// element/error, and what it accepts must survive our own encoder.
func FuzzDecodeStanza(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/good_*.xml")
	bad, _ := filepath.Glob("testdata/fail_*.xml")
	for _, p := range append(seeds, bad...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		el, err := DecodeElement(frame, Limits{MaxFrameBytes: 64 << 10})
		if (el == nil) == (err == nil) {
			t.Fatalf("el=%v err=%v", el, err)
		}
		if err != nil {
			var se *StreamError
			if !errors.As(err, &se) || se.Condition == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		out := el.AppendXML(nil)
		if !utf8.Valid(out) {
			t.Fatalf("encoder produced invalid UTF-8")
		}
		if _, err := DecodeElement(out, Limits{MaxFrameBytes: 1 << 20}); err != nil {
			t.Fatalf("re-decode of %q: %v", out, err)
		}
		_ = ParseMessage(el)
		_ = ParsePresence(el)
		_ = ParseStanzaError(el)
	})
}

// The seed files double as vectors: good_* must decode, fail_* must not.
func TestDecodeVectors(t *testing.T) {
	good, _ := filepath.Glob("testdata/good_*.xml")
	bad, _ := filepath.Glob("testdata/fail_*.xml")
	if len(good) == 0 || len(bad) == 0 {
		t.Fatal("missing testdata vectors")
	}
	for _, p := range good {
		b, _ := os.ReadFile(p)
		if _, err := DecodeElement(b, Limits{}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range bad {
		b, _ := os.ReadFile(p)
		if _, err := DecodeElement(b, Limits{}); err == nil {
			t.Errorf("%s: accepted", p)
		}
	}
}
