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
