package xmpp

import (
	"errors"
	"slices"
	"testing"
)

// decodeReactions reads a fixture: a message holding <reactions/>, or the
// element alone (what Reactions.Element writes).
func decodeReactions(doc []byte) (Reactions, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return Reactions{}, err
	}
	if el.Name.Local == "reactions" {
		el = NewElement(NSClient, "message").Append(el)
	}
	r, err := ReadReactions(el)
	if err != nil {
		return Reactions{}, err
	}
	if r == nil {
		return Reactions{}, errors.New("no <reactions/>")
	}
	return *r, nil
}

func TestReactionsFixtures(t *testing.T) {
	fixtures(t, "reactions", decodeReactions, Reactions.Element, map[string]string{
		"fail_no_id":        "<reactions id>: missing",
		"fail_long_id":      "<reactions id>: longer than 256 bytes",
		"fail_empty":        "<reaction>: empty",
		"fail_too_long":     "<reaction>: longer than 32 bytes",
		"fail_too_many":     "<reactions>: more than 16",
		"fail_control_char": "<reaction>: control characters",
	})
}

// TestReadReactions: the set in order without duplicates; an empty set is
// a withdrawal, not nothing; a message without the element has none; a
// malformed set is dropped whole by ParseMessage.
func TestReadReactions(t *testing.T) {
	r, err := decodeReactions([]byte(`<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction> 👍 </reaction><reaction>👍</reaction><reaction>❤️</reaction></reactions></message>`))
	if err != nil || r.ID != "m1" || !slices.Equal(r.Reactions, []string{"👍", "❤️"}) {
		t.Fatalf("%+v %v", r, err)
	}
	if r, err := decodeReactions([]byte(`<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0' id='m1'/></message>`)); err != nil || r.Reactions == nil || len(r.Reactions) != 0 {
		t.Fatalf("withdrawal: %+v %v", r, err)
	}
	el, _ := DecodeElement([]byte(`<message xmlns='jabber:client'><body>hi</body></message>`), Limits{})
	if r, err := ReadReactions(el); r != nil || err != nil {
		t.Fatalf("absent: %+v %v", r, err)
	}
	el, _ = DecodeElement([]byte(`<message xmlns='jabber:client' from='a@h.org/x' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction></reaction></reactions></message>`), Limits{})
	if m := ParseMessage(el); m.Reactions != nil {
		t.Fatalf("malformed set read: %+v", m.Reactions)
	}
	out := NewReactions("b@h.org", "chat", "r1", Reactions{ID: "m9", Reactions: []string{"👍"}})
	if m := ParseMessage(out); m.Reactions == nil || m.Reactions.ID != "m9" || out.Child(NSHints, "store") == nil {
		t.Fatalf("sent form: %s", out)
	}
}

// FuzzReadReactions: any stanza is read or refused, never panics, and what
// is read keeps the bounds.
func FuzzReadReactions(f *testing.F) {
	f.Add([]byte(NewReactions("a@b", "chat", "i", Reactions{ID: "x", Reactions: []string{"👍", "ok"}}).String()))
	f.Add([]byte(`<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0' id='m'><reaction>a</reaction><reaction/></reactions></message>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		el, err := DecodeElement(doc, Limits{})
		if err != nil {
			return
		}
		r, err := ReadReactions(el)
		if err != nil || r == nil {
			return
		}
		if r.ID == "" || len(r.ID) > maxClinicalID || len(r.Reactions) > MaxReactions {
			t.Fatalf("out of bounds: %+v", r)
		}
		for _, x := range r.Reactions {
			if x == "" || len(x) > MaxReactionBytes {
				t.Fatalf("reaction %q", x)
			}
		}
	})
}
