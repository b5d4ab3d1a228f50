package sync

import (
	"slices"
	"testing"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestNoteMentionsKeepsTheWord: a received mention is kept with the word
// its range covers when that is one plain word ("@kim" → kim), and with
// its JID alone when the range holds anything that would break the stored
// list ("kim, bed=4") or is not a word; MentionWords gives back "@word"
// only for the person asked about.
func TestNoteMentionsKeepsTheWord(t *testing.T) {
	body := "@kim and @dr.osei: kim, bed=4 now"
	st := xmpp.NewElement(xmpp.NSClient, "message").Append(
		xmpp.Mention{JID: "kim@h.org", Begin: 0, End: 4}.Element(),
		xmpp.Mention{JID: "osei@h.org", Begin: 9, End: 17}.Element(),
		xmpp.Mention{JID: "lee@h.org", Begin: 19, End: 29}.Element(),
		xmpp.Mention{JID: "kim@h.org", Begin: 19, End: 22}.Element(),
	)
	var sm securestore.Message
	noteMentions(&sm, &xmpp.Message{Stanza: st, Body: body})
	if got := sm.Extra[ExtraMentions]; got != "kim@h.org=kim,osei@h.org=dr.osei,lee@h.org" {
		t.Fatalf("stored %q", got)
	}
	if got := Mentions(sm); !slices.Equal(got, []string{"kim@h.org", "osei@h.org", "lee@h.org"}) {
		t.Errorf("mentions %q", got)
	}
	if got := MentionWords(sm, "kim@h.org"); !slices.Equal(got, []string{"@kim"}) {
		t.Errorf("kim's words %q", got)
	}
	if got := MentionWords(sm, "lee@h.org"); len(got) != 0 {
		t.Errorf("lee's words %q", got)
	}
	for _, bad := range []string{"", "@", "a,b", "a=b", "a b", "@x\n", string(make([]rune, 70))} {
		if w := mentionWord(bad); w != "" {
			t.Errorf("mentionWord(%q) = %q", bad, w)
		}
	}
}

// FuzzMentionWords: whatever a stored mentions field holds, reading it
// neither fails nor gives an empty word.
func FuzzMentionWords(f *testing.F) {
	f.Add("kim@h.org=kim,osei@h.org", "kim@h.org")
	f.Add("=,=x,,a=b=c", "")
	f.Fuzz(func(t *testing.T, raw, who string) {
		m := securestore.Message{Extra: map[string]string{ExtraMentions: raw}}
		Mentions(m)
		for _, w := range MentionWords(m, who) {
			if len(w) < 2 || w[0] != '@' {
				t.Fatalf("word %q from %q", w, raw)
			}
		}
	})
}
