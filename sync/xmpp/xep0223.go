package xmpp

import (
	"context"
	"errors"
	"fmt"
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
// node configured (or created) with the same settings first, and the item
// without options only once the server accepted that: a new PEP node takes
// the server's default access model (presence), under which our contacts
// would be sent the item at once. When the node cannot be made private (a
// server overloaded, answering wait/resource-constraint) nothing is
// published and the error is returned, so the caller tries again later.
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
	c.log.Info("xmpp: publish-options rejected; making the node private before publishing", "node", node, "condition", se.Condition)
	if err := c.makeNodePrivate(ctx, node); err != nil {
		return fmt.Errorf("xmpp: private node %s not published: %w", node, err)
	}
	_, err = c.SendIQ(ctx, build(false))
	return err
}

// makeNodePrivate configures our own node with the private settings, or
// creates it with them when it does not exist yet.
func (c *Client) makeNodePrivate(ctx context.Context, node string) error {
	configure := func() error {
		_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(NewElement(NSPubSubOwner, "pubsub").Append(
			NewElement(NSPubSubOwner, "configure", "node", node).Append(privateNodeForm(nsNodeConfig)))))
		return err
	}
	err := configure()
	var se *StanzaError
	if err == nil || !errors.As(err, &se) || se.Condition != "item-not-found" {
		return err
	}
	_, err = c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(NewElement(NSPubSub, "pubsub").Append(
		NewElement(NSPubSub, "create", "node", node),
		NewElement(NSPubSub, "configure").Append(privateNodeForm(nsNodeConfig)))))
	if errors.As(err, &se) && se.Condition == "conflict" {
		return configure() // another of our devices created it meanwhile
	}
	return err
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
