package xmpp

import (
	"context"
	"fmt"
)

// XEP-0490 Message Displayed Synchronization: when the physician reads a
// conversation on one device, the others stop alerting. The state lives in a
// private PEP node (XEP-0223), one item per conversation, whose id is the
// conversation's bare JID and whose payload names the last displayed
// message by the stanza-id its archive gave it.
const (
	NSMDS         = "urn:xmpp:mds:displayed:0"
	NSPubSub      = "http://jabber.org/protocol/pubsub"
	NSPubSubEvent = "http://jabber.org/protocol/pubsub#event"
	NSPubSubOwner = "http://jabber.org/protocol/pubsub#owner"

	nsPublishOptions = "http://jabber.org/protocol/pubsub#publish-options"
	nsNodeConfig     = "http://jabber.org/protocol/pubsub#node_config"
)

// PublishDisplayed records that everything up to stanzaID in conversation
// conv (a bare JID) has been displayed. The stanza-id's "by" is the archive
// that assigned it: the room for a room this client joined (JoinRoom), our
// own bare JID for a 1:1 chat. The node is private (publishPrivate, XEP-0223).
func (c *Client) PublishDisplayed(ctx context.Context, conv, stanzaID string) error {
	bare := BareJID(conv)
	if bare == "" || stanzaID == "" {
		return fmt.Errorf("xmpp: PublishDisplayed(%q, %q): want a conversation JID and a stanza-id", conv, stanzaID)
	}
	by := c.account.String()
	if c.isJoinedRoom(bare) {
		by = bare
	}
	return c.publishPrivate(ctx, NSMDS, bare,
		NewElement(NSMDS, "displayed").Append(NewElement(NSSID, "stanza-id", "id", stanzaID, "by", by)))
}

// handlePEPEvent delivers displayed-sync notifications. Only our own account
// may tell us what we have read: an event from anyone else is dropped (it
// could silence an alarm on every device). Events of other nodes pass on.
func (c *Client) handlePEPEvent(st *Element) bool {
	var items []*Element
	for _, it := range st.Child(NSPubSubEvent, "event").ChildrenNamed(NSPubSubEvent, "items") {
		if it.Attr("node") == NSMDS {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return false
	}
	if from := st.From(); from != "" && (BareJID(from) != c.account.String() || hasResource(from)) {
		c.log.Warn("xmpp: dropping displayed-sync event", "err", ErrSpoofed, "from", from)
		return true
	}
	for _, it := range items {
		for _, item := range it.ChildrenNamed(NSPubSubEvent, "item") {
			conv := BareJID(item.Attr("id"))
			sid := item.Child(NSMDS, "displayed").Child(NSSID, "stanza-id").Attr("id")
			if conv == "" || sid == "" {
				c.log.Debug("xmpp: ignoring malformed displayed-sync item")
				continue
			}
			if c.cfg.OnDisplayedSync != nil {
				c.cfg.OnDisplayedSync(conv, sid)
			}
		}
	}
	return true
}
