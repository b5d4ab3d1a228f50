package xmpp

import (
	"context"
	"errors"
)

// XEP-0223 Persistent Storage of Private Data via PubSub: a PEP node on our
// own account that only our own account may read, whose items survive
// restarts, and whose notifications reach our own resources that asked for
// them (+notify). XEP-0490's displayed state and Rounds' do-not-disturb state
// (rounds_dnd.go) live in such nodes.

// privateNodeOptions are the node settings XEP-0223 (and XEP-0490 §4) ask
// for: private (whitelist: only our own account), persistent, items kept.
var privateNodeOptions = [][2]string{
	{"pubsub#persist_items", "true"},
	{"pubsub#max_items", "max"},
	{"pubsub#send_last_published_item", "never"},
	{"pubsub#access_model", "whitelist"},
}

func privateNodeForm(formType string) *Element {
	f := dataForm(formType)
	for _, o := range privateNodeOptions {
		f.Append(formField(o[0], o[1]))
	}
	return f
}

// publishPrivate publishes payload as item itemID of our own private node.
//
// The publish carries publish-options. A server that rejects them gets the
// item without them and then a node configuration with the same settings
// (best effort: failures are logged), so the node does not stay readable by
// our contacts under the server's default access model.
func (c *Client) publishPrivate(ctx context.Context, node, itemID string, payload *Element) error {
	build := func(withOptions bool) *Element {
		item := NewElement(NSPubSub, "item", "id", itemID).Append(payload)
		ps := NewElement(NSPubSub, "pubsub").Append(NewElement(NSPubSub, "publish", "node", node).Append(item))
		if withOptions {
			ps.Append(NewElement(NSPubSub, "publish-options").Append(privateNodeForm(nsPublishOptions)))
		}
		return NewElement(NSClient, "iq", "type", "set").Append(ps)
	}
	_, err := c.SendIQ(ctx, build(true))
	var se *StanzaError
	if err == nil || !errors.As(err, &se) || !publishOptionsRejected(se) {
		return err
	}
	c.log.Info("xmpp: publish-options rejected; publishing private item without them", "node", node, "condition", se.Condition)
	if _, err := c.SendIQ(ctx, build(false)); err != nil {
		return err
	}
	cfg := NewElement(NSClient, "iq", "type", "set").Append(NewElement(NSPubSubOwner, "pubsub").Append(
		NewElement(NSPubSubOwner, "configure", "node", node).Append(privateNodeForm(nsNodeConfig))))
	if _, err := c.SendIQ(ctx, cfg); err != nil {
		c.log.Warn("xmpp: could not configure a private node as private", "node", node, "err", err)
	}
	return nil
}

// publishOptionsRejected: the answers of a server that does not support
// publish-options, or whose existing node has other settings
// (precondition-not-met comes as conflict). ejabberd 23.01 answers an
// option it does not know (pubsub#max_items) with wait/resource-constraint
// ("Unknown field 'pubsub#max_items' of type …publish-options").
func publishOptionsRejected(se *StanzaError) bool {
	switch se.Condition {
	case "conflict", "bad-request", "feature-not-implemented", "not-acceptable", "policy-violation", "resource-constraint":
		return true
	}
	return false
}
