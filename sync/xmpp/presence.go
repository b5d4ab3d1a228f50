package xmpp

import "strconv"

// RFC 6121 §4 presence: available, away, DND, with a status text such as "In
// surgery", plus the XEP-0115 caps hash so peers know what we support.

// Show values (RFC 6121 §4.7.2.1); "" is plain available.
const (
	ShowAvailable = ""
	ShowAway      = "away"
	ShowDND       = "dnd"
	ShowXA        = "xa"
	ShowChat      = "chat"
)

// Presence is a parsed <presence/>.
type Presence struct {
	From, To, Type string // Type "" = available, "unavailable", "subscribe", ...
	Show, Status   string
	Priority       int
	Error          *StanzaError
	Stanza         *Element
}

// ParsePresence reads a presence element.
func ParsePresence(st *Element) *Presence {
	p := &Presence{From: st.From(), To: st.To(), Type: st.Type(), Stanza: st,
		Show: st.ChildText(NSClient, "show"), Status: st.ChildText(NSClient, "status")}
	if n, err := strconv.Atoi(st.ChildText(NSClient, "priority")); err == nil && n >= -128 && n <= 127 {
		p.Priority = n
	}
	if p.Type == "error" {
		p.Error = ParseStanzaError(st)
	}
	return p
}

// NewPresence builds our broadcast presence with show, status and caps.
func (c *Client) NewPresence(show, status string) *Element {
	p := NewElement(NSClient, "presence")
	if show != "" {
		p.Append(NewElement(NSClient, "show").SetText(show))
	}
	if status != "" {
		p.Append(NewElement(NSClient, "status").SetText(status))
	}
	return p.Append(c.capsElement())
}

// SetPresence broadcasts availability (show: ShowAvailable, ShowAway, ShowDND,
// ...). The first call after a session start is the initial presence, after
// which the server sends roster presence and offline messages.
func (c *Client) SetPresence(show, status string) error {
	switch show {
	case ShowAvailable, ShowAway, ShowDND, ShowXA, ShowChat:
	default:
		return &StanzaError{Type: "modify", Condition: "bad-request", Text: "unknown show value"}
	}
	return c.Send(c.NewPresence(show, status))
}

// Subscribe asks to see jid's presence; ApproveSubscription lets jid see ours.
func (c *Client) Subscribe(jid string) error {
	return c.Send(NewElement(NSClient, "presence", "to", BareJID(jid), "type", "subscribe"))
}

// ApproveSubscription answers a subscribe request (or pre-approves).
func (c *Client) ApproveSubscription(jid string) error {
	return c.Send(NewElement(NSClient, "presence", "to", BareJID(jid), "type", "subscribed"))
}

// RefuseSubscription answers a subscribe request with a refusal (RFC 6121
// §3.2), or withdraws an approval given before.
func (c *Client) RefuseSubscription(jid string) error {
	return c.Send(NewElement(NSClient, "presence", "to", BareJID(jid), "type", "unsubscribed"))
}
