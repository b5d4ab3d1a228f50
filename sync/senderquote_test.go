package sync

import (
	"testing"

	"rounds/securestore"
)

// TestSenderQuoteOnlySafeQuote: a reply whose original is not here is drawn
// with the quote its sender marked set apart (in a block cut to a preview)
// and the rest as their words. Only a quote the fallback marks safely is
// set apart (one range from the start, every line quoted with ">"): a range
// over the sender's own unquoted words, in the middle, or several, leave
// the whole text as their words, so none of it is hidden in the quote.
func TestSenderQuoteOnlySafeQuote(t *testing.T) {
	body := "> Bed 2 obs due at 15:00\nDone. Do NOT give the 16:00 furosemide, BP 82/40"
	reply := func(ranges string) securestore.Message {
		return securestore.Message{Body: body, Extra: map[string]string{ExtraReplyTo: "x", ExtraReplyFallback: ranges}}
	}
	for _, c := range []struct{ ranges, quote, own string }{
		{"0-25", "> Bed 2 obs due at 15:00\n", "Done. Do NOT give the 16:00 furosemide, BP 82/40"},
		{"0-36", "", body},  // runs into their own words
		{"25-37", "", body}, // in the middle: "Do NOT give"
		{"0-25,31-38", "", body},
		{"0-999", "", body},
		{"", "", body},
	} {
		q, own := SenderQuote(reply(c.ranges))
		if q != c.quote || own != c.own {
			t.Errorf("ranges %q: quote %q, own %q; want %q, %q", c.ranges, q, own, c.quote, c.own)
		}
	}
}
