package xmpp

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// XEP-0444 Message Reactions: <reactions id='…'><reaction>👍</reaction>…
// </reactions> is the sender's whole set of reactions to the message with
// that id (in a room the room's stanza-id, in a chat the origin-id or
// stanza id its sender chose); an empty set withdraws them. The id is the
// sender's claim: the engine resolves it only within the conversation the
// reaction arrived in.
const NSReactions = "urn:xmpp:reactions:0"

// Bounds on what one reactions element may carry: a set larger or a
// reaction longer than these is refused whole, not cut.
const (
	MaxReactions     = 16
	MaxReactionBytes = 32
)

// Reactions is a parsed <reactions/>: the message id and the sender's set,
// in order, without duplicates.
type Reactions struct {
	ID        string
	Reactions []string
}

// Element is the <reactions/> element of r.
func (r Reactions) Element() *Element {
	el := NewElement(NSReactions, "reactions", "id", r.ID)
	for _, x := range r.Reactions {
		el.Append(NewElement(NSReactions, "reaction").SetText(x))
	}
	return el
}

// NewReactions is a message carrying r to conv (type chat or groupchat),
// with the XEP-0334 store hint so archives keep it.
func NewReactions(to, typ, id string, r Reactions) *Element {
	return NewElement(NSClient, "message", "type", typ, "to", to, "id", id).
		Append(r.Element(), NewStoreHint())
}

// ReadReactions reads the <reactions/> of a stanza: nil, nil when there is
// none; an error when it is there but malformed (no id, too many, a
// reaction empty, too long or holding control characters).
func ReadReactions(st *Element) (*Reactions, error) {
	if st == nil {
		return nil, nil
	}
	el := st.Child(NSReactions, "reactions")
	if el == nil {
		return nil, nil
	}
	id, ok := boundedAttr(el, "id", maxClinicalID)
	if !ok {
		return nil, errors.New("<reactions id>: longer than 256 bytes")
	}
	if id == "" {
		return nil, errors.New("<reactions id>: missing")
	}
	r := &Reactions{ID: id, Reactions: []string{}}
	for _, c := range el.ChildrenNamed(NSReactions, "reaction") {
		x := strings.TrimSpace(c.Text)
		switch {
		case x == "":
			return nil, errors.New("<reaction>: empty")
		case len(x) > MaxReactionBytes:
			return nil, fmt.Errorf("<reaction>: longer than %d bytes", MaxReactionBytes)
		case !utf8.ValidString(x) || strings.ContainsFunc(x, unicode.IsControl):
			return nil, errors.New("<reaction>: control characters")
		}
		dup := false
		for _, y := range r.Reactions {
			dup = dup || y == x
		}
		if dup {
			continue
		}
		if len(r.Reactions) == MaxReactions {
			return nil, fmt.Errorf("<reactions>: more than %d", MaxReactions)
		}
		r.Reactions = append(r.Reactions, x)
	}
	return r, nil
}
