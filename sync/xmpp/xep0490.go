package xmpp

import (
	"context"
	"errors"
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

// mdsNodeOptions are the node settings XEP-0490 §4 asks for: private
// (whitelist: only our own account), persistent, one item per conversation.
var mdsNodeOptions = [][2]string{
	{"pubsub#persist_items", "true"},
	{"pubsub#max_items", "max"},
	{"pubsub#send_last_published_item", "never"},
	{"pubsub#access_model", "whitelist"},
}

func mdsForm(formType string) *Element {
	f := dataForm(formType)
	for _, o := range mdsNodeOptions {
		f.Append(formField(o[0], o[1]))
	}
	return f
}

// PublishDisplayed records that everything up to stanzaID in conversation
// conv (a bare JID) has been displayed. The stanza-id's "by" is the archive
// that assigned it: the room for a room this client joined (JoinRoom), our
// own bare JID for a 1:1 chat.
//
// The publish carries publish-options. A server that rejects them gets the
// item without them and then a node configuration with the same settings
// (best effort: failures are logged), so the node does not stay readable by
// our contacts under the server's default access model.
func (c *Client) PublishDisplayed(ctx context.Context, conv, stanzaID string) error {
	bare := BareJID(conv)
	if bare == "" || stanzaID == "" {
		return fmt.Errorf("xmpp: PublishDisplayed(%q, %q): want a conversation JID and a stanza-id", conv, stanzaID)
	}
	by := c.account.String()
	if c.isJoinedRoom(bare) {
		by = bare
	}
	build := func(withOptions bool) *Element {
		item := NewElement(NSPubSub, "item", "id", bare).Append(
			NewElement(NSMDS, "displayed").Append(NewElement(NSSID, "stanza-id", "id", stanzaID, "by", by)))
		ps := NewElement(NSPubSub, "pubsub").Append(NewElement(NSPubSub, "publish", "node", NSMDS).Append(item))
		if withOptions {
			ps.Append(NewElement(NSPubSub, "publish-options").Append(mdsForm(nsPublishOptions)))
		}
		return NewElement(NSClient, "iq", "type", "set").Append(ps)
	}
	_, err := c.SendIQ(ctx, build(true))
	var se *StanzaError
	if err == nil || !errors.As(err, &se) || !publishOptionsRejected(se) {
		return err
	}
	c.log.Info("xmpp: publish-options rejected; publishing displayed state without them", "condition", se.Condition)
	if _, err := c.SendIQ(ctx, build(false)); err != nil {
		return err
	}
	cfg := NewElement(NSClient, "iq", "type", "set").Append(NewElement(NSPubSubOwner, "pubsub").Append(
		NewElement(NSPubSubOwner, "configure", "node", NSMDS).Append(mdsForm(nsNodeConfig))))
	if _, err := c.SendIQ(ctx, cfg); err != nil {
		c.log.Warn("xmpp: could not configure the displayed-sync node as private", "err", err)
	}
	return nil
}

// publishOptionsRejected: the answers of a server that does not support
// publish-options, or whose existing node has other settings
// (precondition-not-met comes as conflict).
func publishOptionsRejected(se *StanzaError) bool {
	switch se.Condition {
	case "conflict", "bad-request", "feature-not-implemented", "not-acceptable", "policy-violation":
		return true
	}
	return false
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
