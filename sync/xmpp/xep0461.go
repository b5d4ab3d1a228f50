package xmpp

import "strings"

// XEP-0461 Message Replies: <reply to='author' id='…'/> says which message a
// message answers; the quoted text other clients show ("> …\n") is an
// XEP-0428 fallback for NSReply. Rounds sends replies with that quote
// (ReplyQuote), strips it from a reply it can resolve in the same
// conversation (ReplyQuoteRunes) and draws the quoted message itself; the
// engine also reads replies to know which page a text acknowledgement
// answers.
const NSReply = "urn:xmpp:reply:0"

// Reply is a parsed <reply/>.
type Reply struct{ To, ID string }

// ParseReply reads <reply/>; nil when absent, without id, or with an id
// longer than any id Rounds accepts elsewhere.
func ParseReply(st *Element) *Reply {
	if st == nil {
		return nil
	}
	r := st.Child(NSReply, "reply")
	id, ok := boundedAttr(r, "id", maxClinicalID)
	if r == nil || id == "" || !ok {
		return nil
	}
	to, ok := boundedAttr(r, "to", maxJIDBytes)
	if !ok {
		to = ""
	}
	return &Reply{To: to, ID: id}
}

// Element is the <reply/> element of r.
func (r Reply) Element() *Element {
	if r.To == "" {
		return NewElement(NSReply, "reply", "id", r.ID)
	}
	return NewElement(NSReply, "reply", "to", r.To, "id", r.ID)
}

// Bounds on the quote a reply carries for other clients: the first
// quoteLines lines of the answered message, each cut at quoteLineRunes.
const (
	quoteLines     = 3
	quoteLineRunes = 100
)

// ReplyQuote is the text other clients show above a reply (XEP-0461 §5's
// form): "> author wrote:" and the answered message's first lines, each
// line starting with "> ", ending with a newline. The caller marks it with
// NewFallback(NSReply, 0, runes) so Rounds and other XEP-0461 clients
// strip it and draw the quote themselves.
func ReplyQuote(author, quoted string) string {
	var b strings.Builder
	if author = strings.TrimSpace(strings.ReplaceAll(author, "\n", " ")); author != "" {
		b.WriteString("> " + author + " wrote:\n")
	}
	lines := strings.Split(strings.TrimSpace(quoted), "\n")
	for i, l := range lines {
		if i == quoteLines {
			b.WriteString("> …\n")
			break
		}
		l = strings.TrimRight(l, " \r\t")
		if r := []rune(l); len(r) > quoteLineRunes {
			l = string(r[:quoteLineRunes-1]) + "…"
		}
		b.WriteString("> " + l + "\n")
	}
	return b.String()
}

// ReplyQuoteRunes is how many code points of body an XEP-0461 reply's
// fallback marks as the quote, when that quote can be stripped safely:
// one range starting at 0, within the body, all of whose lines start with
// ">". Anything else (no range, several, a range in the middle, a range
// covering words that are not quoted) gives 0, and the body is shown as
// sent: losing a word of a clinical message is worse than showing a quote
// twice.
func ReplyQuoteRunes(body string, fbs []Fallback) int {
	var ranges []FallbackRange
	for _, f := range fbs {
		if f.For == NSReply {
			if len(f.Ranges) == 0 {
				return 0 // the whole body "is" the quote: keep it
			}
			ranges = append(ranges, f.Ranges...)
		}
	}
	if len(ranges) != 1 || ranges[0].Start != 0 || ranges[0].End <= 0 {
		return 0
	}
	rs := []rune(body)
	n := ranges[0].End
	if n > len(rs) {
		return 0
	}
	quote := string(rs[:n])
	for _, l := range strings.SplitAfter(quote, "\n") {
		if l != "" && !strings.HasPrefix(l, ">") {
			return 0
		}
	}
	return n
}
