package xmpp

import "time"

// XEP-0297 Stanza Forwarding, as a person's client uses it to pass on a
// message (a do-not-disturb cover forward): the forwarding message carries
// the original, with its author and time, in <forwarded/>. Carbons and
// archive results wrap messages in <forwarded/> too; those are unwrapped
// before parsing (xep0280.go, xep0313.go) and are not this.
//
// Everything inside <forwarded/> is the forwarder's word: the server checked
// only the forwarding message's own from. A receiver shows the forwarder as
// the sender and the original author as what the forwarder says.

// Forwarded is the message a forward quotes.
type Forwarded struct {
	From  string    // who the forwarder says wrote it (a JID, or "" when not one)
	Stamp time.Time // when the forwarder says it was sent (zero: not said)
	Body  string
}

// NewForwarded builds <forwarded><delay/><message from='…'><body/></message></forwarded>.
func NewForwarded(f Forwarded) *Element {
	fw := NewElement(NSForward, "forwarded")
	if !f.Stamp.IsZero() {
		fw.Append(NewElement(NSDelay, "delay", "stamp", f.Stamp.UTC().Format(time.RFC3339)))
	}
	inner := NewElement(NSClient, "message", "type", "chat")
	if f.From != "" {
		inner.SetAttr("from", f.From)
	}
	return fw.Append(inner.Append(NewElement(NSClient, "body").SetText(f.Body)))
}

// ParseForwarded reads the message a forward quotes: st's own <forwarded/>
// child holding a message with a body. nil when st forwards nothing.
func ParseForwarded(st *Element) *Forwarded {
	fw := st.Child(NSForward, "forwarded")
	inner := fw.Child(NSClient, "message")
	if inner == nil || inner.Child(NSClient, "body") == nil {
		return nil
	}
	f := &Forwarded{Body: inner.ChildText(NSClient, "body")}
	if j, err := ParseJID(inner.From()); err == nil && j.Local != "" {
		f.From = j.Bare().String()
	}
	if d := ParseDelay(fw); !d.Stamp.IsZero() {
		f.Stamp = d.Stamp
	}
	return f
}
