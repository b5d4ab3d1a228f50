package xmpp

import "strings"

// XEP-0131 Stanza Headers and Internet Metadata (SHIM). Rounds sets the
// "Urgency" header on urgent and STAT messages so that a client which knows
// nothing of urn:rounds:urgency:0 but honours SHIM can still raise it.
const NSSHIM = "http://jabber.org/protocol/shim"

// HeaderUrgency is the SHIM header name XEP-0131 registers for urgency
// (values low, medium, high).
const HeaderUrgency = "Urgency"

// NewHeaders builds <headers/> from name/value pairs.
func NewHeaders(pairs ...string) *Element {
	h := NewElement(NSSHIM, "headers")
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Append(NewElement(NSSHIM, "header", "name", pairs[i]).SetText(pairs[i+1]))
	}
	return h
}

// ParseHeaders returns the SHIM headers of a stanza (the first value of each
// name), or nil when it has none.
func ParseHeaders(st *Element) map[string]string {
	h := st.Child(NSSHIM, "headers")
	if h == nil {
		return nil
	}
	out := map[string]string{}
	for _, e := range h.ChildrenNamed(NSSHIM, "header") {
		name := e.Attr("name")
		if name == "" {
			continue
		}
		if _, seen := out[name]; !seen {
			out[name] = e.Text
		}
	}
	return out
}

// HeaderAutoSubmitted is RFC 3834's Auto-Submitted header, carried in SHIM:
// "auto-replied" on an automatic reply (do-not-disturb), so that a receiver
// shows it as automatic and never answers it automatically (no reply loops
// between two auto-responders, RFC 3834 §2). "no", or no header, is a
// message a person wrote.
const (
	HeaderAutoSubmitted = "Auto-Submitted"
	AutoReplied         = "auto-replied"
)

// AutoSubmitted says whether a message's headers mark it as automatic
// (RFC 3834 §5: any value but "no").
func AutoSubmitted(h map[string]string) bool {
	v := strings.ToLower(strings.TrimSpace(h[HeaderAutoSubmitted]))
	return v != "" && v != "no"
}
