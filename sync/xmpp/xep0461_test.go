package xmpp

import (
	"strings"
	"testing"
)

func TestParseReply(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want *Reply
	}{
		{`<message xmlns='jabber:client'><reply xmlns='urn:xmpp:reply:0' to='a@h.org' id='k3x9'/></message>`, &Reply{To: "a@h.org", ID: "k3x9"}},
		{`<message xmlns='jabber:client'><reply xmlns='urn:xmpp:reply:0' to='a@h.org'/></message>`, nil},
		{`<message xmlns='jabber:client'><reply xmlns='urn:xmpp:reply:0' id='` + strings.Repeat("x", 257) + `'/></message>`, nil},
		{`<message xmlns='jabber:client'><reply xmlns='urn:other' id='k'/></message>`, nil},
		{`<message xmlns='jabber:client'><body>hi</body></message>`, nil},
	} {
		el, err := DecodeElement([]byte(c.doc), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got := ParseReply(el)
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: %+v", c.doc, got)
		}
	}
	if ParseReply(nil) != nil {
		t.Error("nil stanza")
	}
}

// TestReplyQuote: the quote other clients show is "> author wrote:" and at
// most three lines of the answered message, each cut; ReplyQuoteRunes
// strips exactly that and refuses any fallback that would cut words that
// are not quoted lines.
func TestReplyQuote(t *testing.T) {
	q := ReplyQuote("Dr Osei", "Bed 4 K+ 6.1\nrepeat sent\n\nplease review\nthanks")
	if want := "> Dr Osei wrote:\n> Bed 4 K+ 6.1\n> repeat sent\n> \n> …\n"; q != want {
		t.Fatalf("quote %q, want %q", q, want)
	}
	if q := ReplyQuote("", strings.Repeat("é", 150)); q != "> "+strings.Repeat("é", 99)+"…\n" {
		t.Fatalf("long line %q", q)
	}
	body := q + "Seen, coming"
	n := len([]rune(q))
	fb := func(start, end int) []Fallback {
		return []Fallback{{For: NSReply, Ranges: []FallbackRange{{start, end}}}}
	}
	for _, c := range []struct {
		name string
		body string
		fbs  []Fallback
		want int
	}{
		{"quote", body, fb(0, n), n},
		{"no fallback", body, nil, 0},
		{"other namespace", body, []Fallback{{For: NSUrgency, Ranges: []FallbackRange{{0, n}}}}, 0},
		{"whole body", body, []Fallback{{For: NSReply}}, 0},
		{"into the words", body, fb(0, n+4), 0},
		{"not at the start", body, fb(2, n), 0},
		{"beyond the body", body, fb(0, len([]rune(body))+1), 0},
		{"not quoted lines", "Bed 4 please\n" + body, fb(0, 13), 0},
		{"two ranges", body, []Fallback{{For: NSReply, Ranges: []FallbackRange{{0, 3}, {3, n}}}}, 0},
	} {
		if got := ReplyQuoteRunes(c.body, c.fbs); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if r := (Reply{To: "a@h.org", ID: "k"}).Element(); r.Attr("to") != "a@h.org" || r.Attr("id") != "k" {
		t.Fatalf("reply element %s", r)
	}
}

// FuzzReplyQuoteRunes: any body and fallback range gives a count within the
// body whose text is quoted lines only.
func FuzzReplyQuoteRunes(f *testing.F) {
	f.Add("> a wrote:\n> x\nreply", 0, 15)
	f.Add("plain", 0, 3)
	f.Fuzz(func(t *testing.T, body string, start, end int) {
		n := ReplyQuoteRunes(body, []Fallback{{For: NSReply, Ranges: []FallbackRange{{start, end}}}})
		rs := []rune(body)
		if n < 0 || n > len(rs) {
			t.Fatalf("%d outside the body", n)
		}
		for _, l := range strings.SplitAfter(string(rs[:n]), "\n") {
			if l != "" && !strings.HasPrefix(l, ">") {
				t.Fatalf("would strip %q", l)
			}
		}
	})
}
