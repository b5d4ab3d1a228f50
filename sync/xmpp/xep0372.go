package xmpp

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// XEP-0372 References, type mention: <reference type='mention'
// uri='xmpp:nurse.kim@h.org' begin='0' end='9'/> says that code points
// [begin, end) of the body name that person. Rounds reads mentions to
// notify the person named even when they muted the conversation, and sends
// them for "@name" words the app resolved to a member.
const NSReference = "urn:xmpp:reference:0"

// maxMentions bounds how many mentions of one message are read.
const maxMentions = 32

// Mention is one person named in a body.
type Mention struct {
	JID        string // bare JID from the xmpp: URI
	Begin, End int    // code points of the body
}

// Element is the <reference/> of m.
func (m Mention) Element() *Element {
	return NewElement(NSReference, "reference", "type", "mention", "uri", "xmpp:"+m.JID,
		"begin", strconv.Itoa(m.Begin), "end", strconv.Itoa(m.End))
}

// ParseMentions reads the mentions of a stanza whose body is body: only
// type mention, an xmpp: URI naming a bare JID, and a range within the body;
// others are skipped, never half-read. At most maxMentions.
func ParseMentions(st *Element, body string) []Mention {
	if st == nil {
		return nil
	}
	n := utf8.RuneCountInString(body)
	var out []Mention
	for _, r := range st.ChildrenNamed(NSReference, "reference") {
		if len(out) == maxMentions {
			break
		}
		if r.Attr("type") != "mention" {
			continue
		}
		addr, ok := strings.CutPrefix(r.Attr("uri"), "xmpp:")
		if !ok || len(addr) > maxJIDBytes {
			continue
		}
		j, err := ParseJID(addr)
		if err != nil || j.Local == "" || j.Resource != "" {
			continue
		}
		begin, err1 := strconv.Atoi(r.Attr("begin"))
		end, err2 := strconv.Atoi(r.Attr("end"))
		if err1 != nil || err2 != nil || begin < 0 || end <= begin || end > n {
			continue
		}
		out = append(out, Mention{JID: j.Bare().String(), Begin: begin, End: end})
	}
	return out
}
