package xmpp

import (
	"context"
	"fmt"
)

const (
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
)

// bind asks for resource (RFC 6120 §7); the server may assign another one (on a
// conflict, say), so the full JID is always taken from its answer.
func bind(ctx context.Context, t *transport, features *Element, resource string) (JID, error) {
	if features.Child(nsBind, "bind") == nil {
		return JID{}, fmt.Errorf("%w: server offers no resource binding", ErrProtocol)
	}
	b := NewElement(nsBind, "bind")
	if resource != "" {
		b.Append(NewElement(nsBind, "resource").SetText(resource))
	}
	res, err := negotiationIQ(ctx, t, NewElement(NSClient, "iq", "type", "set", "id", "bind-"+randomID()).Append(b))
	if err != nil {
		return JID{}, fmt.Errorf("xmpp: bind: %w", err)
	}
	full := res.Child(nsBind, "bind").ChildText(nsBind, "jid")
	j, err := ParseJID(full)
	if err != nil || j.Resource == "" || j.Local == "" {
		return JID{}, fmt.Errorf("%w: bind returned %q", ErrProtocol, full)
	}
	// RFC 3921 session establishment, still required by a few old servers; RFC
	// 6121 servers mark it optional (or omit it) and we skip it then.
	if s := features.Child(nsSession, "session"); s != nil && s.Child(nsSession, "optional") == nil {
		if _, err := negotiationIQ(ctx, t, NewElement(NSClient, "iq", "type", "set", "id", "sess-"+randomID()).Append(NewElement(nsSession, "session"))); err != nil {
			return JID{}, fmt.Errorf("xmpp: session: %w", err)
		}
	}
	return j, nil
}

// negotiationIQ sends an IQ before the read loop runs and waits for its answer
// on the same goroutine. Anything else arriving in between is a protocol
// violation at this stage (the server has nothing to route to an unbound
// resource).
func negotiationIQ(ctx context.Context, t *transport, iq *Element) (*Element, error) {
	if err := t.writeElement(ctx, iq); err != nil {
		return nil, err
	}
	for {
		el, err := t.readElement(ctx)
		if err != nil {
			return nil, err
		}
		if el.Name.Local != "iq" || el.Name.Space != NSClient || el.ID() != iq.ID() {
			continue
		}
		switch el.Type() {
		case "result":
			return el, nil
		case "error":
			if se := ParseStanzaError(el); se != nil {
				return nil, se
			}
			return nil, &StanzaError{Type: "cancel", Condition: "undefined-condition"}
		default:
			return nil, fmt.Errorf("%w: iq answer of type %q", ErrProtocol, el.Type())
		}
	}
}
