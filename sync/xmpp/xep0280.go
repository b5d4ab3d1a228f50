package xmpp

import (
	"context"
	"fmt"
)

// XEP-0280 Message Carbons: the physician's iPhone and desktop see the same
// conversation. A carbon is a forward, so it is accepted only from our own bare
// JID (XEP-0280 §11): anyone else could otherwise put words in our mouth.
const (
	NSCarbons = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
)

// EnableCarbons turns carbons on for this session (after every new session;
// a resumed one keeps them).
func (c *Client) EnableCarbons(ctx context.Context) error {
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(NewElement(NSCarbons, "enable")))
	return err
}

// unwrapCarbon returns the message to deliver: st itself, or the forwarded
// message of a valid carbon. A carbon whose wrapper is not from our bare JID
// is an ErrSpoofed error.
func (c *Client) unwrapCarbon(st *Element) (*Element, CarbonDirection, error) {
	var dir CarbonDirection
	w := st.Child(NSCarbons, "received")
	if w != nil {
		dir = CarbonReceived
	} else if w = st.Child(NSCarbons, "sent"); w != nil {
		dir = CarbonSent
	} else {
		return st, NotCarbon, nil
	}
	if from := st.From(); from != "" && !SameBare(from, c.account.String()) {
		return nil, 0, fmt.Errorf("%w: carbon from %q", ErrSpoofed, from)
	}
	inner := w.Child(NSForward, "forwarded").Child(NSClient, "message")
	if inner == nil {
		return nil, 0, fmt.Errorf("%w: carbon without a forwarded message", ErrProtocol)
	}
	return inner, dir, nil
}
