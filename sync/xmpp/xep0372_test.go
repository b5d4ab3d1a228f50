package xmpp

import (
	"testing"
)

// TestParseMentions: only mentions with an xmpp: bare JID and a range
// within the body are read.
func TestParseMentions(t *testing.T) {
	body := "@kim bed 4 please"
	st := NewElement(NSClient, "message").Append(
		Mention{JID: "kim@h.org", Begin: 0, End: 4}.Element(),
		NewElement(NSReference, "reference", "type", "data", "uri", "xmpp:x@h.org", "begin", "0", "end", "1"),
		NewElement(NSReference, "reference", "type", "mention", "uri", "https://h.org", "begin", "0", "end", "1"),
		NewElement(NSReference, "reference", "type", "mention", "uri", "xmpp:a@h.org/res", "begin", "0", "end", "1"),
		NewElement(NSReference, "reference", "type", "mention", "uri", "xmpp:b@h.org", "begin", "3", "end", "99"),
		NewElement(NSReference, "reference", "type", "mention", "uri", "xmpp:c@h.org", "begin", "x", "end", "2"),
		NewElement(NSReference, "reference", "type", "mention", "uri", "xmpp:h.org", "begin", "0", "end", "2"),
	)
	got := ParseMentions(st, body)
	if len(got) != 1 || got[0] != (Mention{JID: "kim@h.org", Begin: 0, End: 4}) {
		t.Fatalf("%+v", got)
	}
	if ParseMentions(nil, body) != nil {
		t.Fatal("nil stanza")
	}
}

// FuzzParseMentions: any stanza and body give mentions within the body.
func FuzzParseMentions(f *testing.F) {
	f.Add([]byte(NewElement(NSClient, "message").Append(Mention{JID: "k@h.org", Begin: 0, End: 2}.Element()).String()), "@k hi")
	f.Fuzz(func(t *testing.T, doc []byte, body string) {
		el, err := DecodeElement(doc, Limits{})
		if err != nil {
			return
		}
		for _, m := range ParseMentions(el, body) {
			if m.Begin < 0 || m.End <= m.Begin || m.End > len([]rune(body)) || m.JID == "" {
				t.Fatalf("%+v for %q", m, body)
			}
		}
	})
}
