package sync

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// A person's forward (XEP-0297): the user passes a stored message on to
// another conversation or room. The wire is the do-not-disturb forward's
// (decorateForward): the original's text, author and time inside
// <forwarded/> with its <delay/>, and a body for other clients that names
// them ("Forwarded from Dr Ama Osei, 14:02: …"), whose label is marked as
// the forward's XEP-0428 fallback. Unlike the cover forward it is not
// Auto-Submitted, its id is fresh (forwarding twice is two messages), and
// its urgency is the forwarder's choice, never the original's.
//
// A receiver stores a forward in the forwarder's conversation, with the
// original's text as the body and its author and time as the forwarder's
// claim (noteAuto); a forward is never a text acknowledgement (textack.go).

// ExtraForwardLabel (our forwards) is the words the fallback body names the
// original's author and time by: "Dr Ama Osei, 14:02". The app chooses them.
const ExtraForwardLabel = "forward-label"

// ErrNotForwardable: the message has no text of its own to pass on (a file,
// a recalled message, a quick response or another control message).
var ErrNotForwardable = errors.New("sync: only a message with text can be forwarded")

// ErrForwardNotCorrectable: a forward quotes someone else's words, so it
// is never corrected (XEP-0308): the thread would keep naming the original
// author over text they never wrote. Recall it and forward again instead.
var ErrForwardNotCorrectable = errors.New("sync: a forwarded message cannot be corrected")

// IsForward: m passes on someone else's message (ours or received).
func IsForward(m securestore.Message) bool { return m.Extra[ExtraForwardedFrom] != "" }

// forwardExtra fills the Extra of a forward of stored message id, and
// returns the original, whose text is sent exactly as stored.
func (s *Session) forwardExtra(id securestore.MessageID, label string, x map[string]string) (securestore.Message, map[string]string, error) {
	orig, err := s.store.Message(id)
	if err != nil {
		return orig, nil, err
	}
	if !Forwardable(orig) {
		return orig, nil, ErrNotForwardable
	}
	from := s.account
	if orig.Direction == securestore.Incoming {
		from = senderOf(orig)
		if !strings.Contains(from, "@") {
			from = orig.From // a room member known by occupant-id: the room and nick
		}
	}
	if x == nil {
		x = map[string]string{}
	}
	x[ExtraForwardedFrom] = from
	x[ExtraForwardedAt] = orig.Timestamp.UTC().Format(time.RFC3339)
	x[ExtraForwardOf] = strconv.FormatUint(uint64(orig.ID), 10)
	if label = strings.TrimSpace(label); label != "" {
		x[ExtraForwardLabel] = label
	}
	return orig, x, nil
}

// Forwardable: m has text a person wrote that may be passed on. A file's
// body holds its key, and control messages (responses, wipes, recalls,
// unreadable placeholders) are not words to forward.
func Forwardable(m securestore.Message) bool {
	if strings.TrimSpace(m.Body) == "" {
		return false
	}
	for _, k := range []string{ExtraRetracted, ExtraAttachment, ExtraAttachmentURL, ExtraResponse, ExtraWipe, ExtraUnreadable} {
		if m.Extra[k] != "" {
			return false
		}
	}
	return true
}

// decorateForward puts the original in <forwarded/> and rewrites the body
// for clients that do not read it: the clinical prefix ("STAT: ") stays
// first, then "Forwarded from <label>: " (the forward's fallback), then the
// original's text.
func decorateForward(el *xmpp.Element, m securestore.Message) {
	from := m.Extra[ExtraForwardedFrom]
	if from == "" {
		return
	}
	at, _ := time.Parse(time.RFC3339, m.Extra[ExtraForwardedAt])
	el.Append(xmpp.NewForwarded(xmpp.Forwarded{From: from, Stamp: at, Body: m.Body}))
	b := el.Child(xmpp.NSClient, "body")
	if b == nil {
		return
	}
	label := m.Extra[ExtraForwardLabel]
	if label == "" {
		label = from
	}
	prefix := strings.TrimSuffix(b.Text, m.Body)
	intro := "Forwarded from " + label + ": "
	b.SetText(prefix + intro + m.Body)
	start := utf8.RuneCountInString(prefix)
	el.Append(xmpp.NewFallback(xmpp.NSForward, start, start+utf8.RuneCountInString(intro)))
}
