package xmpp

import "fmt"

// XEP-0352 Client State Indication: tell the server the app is in the
// background so it can hold back presence noise (and save the phone's battery).
const NSCSI = "urn:xmpp:csi:0"

// SetActive sends <active/> (true) or <inactive/> (false) when the server
// offers CSI. These are nonzas: XEP-0198 does not count them.
func (c *Client) SetActive(active bool) error {
	if c.Features().Child(NSCSI, "csi") == nil {
		return fmt.Errorf("%w: server does not offer CSI", ErrProtocol)
	}
	name := "inactive"
	if active {
		name = "active"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tr == nil {
		return ErrDisconnected
	}
	return c.tr.writeElement(c.ctx, NewElement(NSCSI, name))
}
