package xmpp

import "context"

// XEP-0199 XMPP Ping: we answer the server's pings (or it drops us), and ping
// it to find out quickly that a socket is dead behind a hospital NAT.
const NSPing = "urn:xmpp:ping"

// Ping sends an IQ ping to our server and waits for the answer. An error other
// than a *StanzaError means the connection should be treated as dead (the
// caller may Drop and Resume).
func (c *Client) Ping(ctx context.Context) error {
	iq := NewElement(NSClient, "iq", "type", "get", "to", c.account.Domain).Append(NewElement(NSPing, "ping"))
	_, err := c.SendIQ(ctx, iq)
	if se, ok := err.(*StanzaError); ok && se.Condition == "service-unavailable" {
		return nil // RFC 6120: an answer is an answer; the link is alive
	}
	return err
}

func (c *Client) registerBuiltins() {
	c.HandleIQ("get", NSPing, "ping", func(*Element) (*Element, error) { return nil, nil })
	c.HandleIQ("get", NSDiscoInfo, "query", c.answerDiscoInfo)
	c.HandleIQ("set", NSRoster, "query", c.handleRosterPush)
}
