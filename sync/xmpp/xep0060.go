package xmpp

import (
	"context"
	"errors"
	"fmt"
)

// XEP-0060 Publish-Subscribe against a pubsub service (Rounds' org policy
// and on-call schedule live on the server's service, pubsub.<domain>). Only
// what Rounds needs: get items, publish (admin tools), create a node,
// subscribe, and read event notifications. The namespaces are declared with
// XEP-0490 (xep0490.go).

// PubSubItem is one item of a node.
type PubSubItem struct {
	ID      string
	Payload *Element // the item's single child; nil for an empty item
}

// PubSubEvent is a parsed <event xmlns='…pubsub#event'> notification.
type PubSubEvent struct {
	Node      string
	Items     []PubSubItem
	Retracted []string // ids of retracted items
}

// maxPubSubItems bounds what one answer or notification may carry.
const maxPubSubItems = 1000

func pubsubItems(parent *Element, ns string) []PubSubItem {
	var out []PubSubItem
	for _, it := range parent.ChildrenNamed(ns, "item") {
		if len(out) >= maxPubSubItems {
			break
		}
		var p *Element
		if len(it.Children) > 0 {
			p = it.Children[0]
		}
		out = append(out, PubSubItem{ID: it.Attr("id"), Payload: p})
	}
	return out
}

// ParsePubSubEvent reads the notification of a message stanza, or nil. It
// does not check who sent it: the caller must (only the service it
// subscribed to may tell it anything).
func ParsePubSubEvent(st *Element) *PubSubEvent {
	ev := st.Child(NSPubSubEvent, "event")
	if ev == nil {
		return nil
	}
	items := ev.Child(NSPubSubEvent, "items")
	if items == nil || items.Attr("node") == "" {
		return nil
	}
	out := &PubSubEvent{Node: items.Attr("node"), Items: pubsubItems(items, NSPubSubEvent)}
	for _, r := range items.ChildrenNamed(NSPubSubEvent, "retract") {
		if r.Attr("id") != "" {
			out.Retracted = append(out.Retracted, r.Attr("id"))
		}
	}
	return out
}

func checkPubSubArgs(service, node string) error {
	if _, err := ParseJID(service); err != nil || service == "" {
		return fmt.Errorf("xmpp: pubsub service %q is not a JID", service)
	}
	if node == "" {
		return errors.New("xmpp: pubsub node name is empty")
	}
	return nil
}

// GetItems fetches the items of node at service (all of them, or those with
// the given ids).
func (c *Client) GetItems(ctx context.Context, service, node string, ids ...string) ([]PubSubItem, error) {
	if err := checkPubSubArgs(service, node); err != nil {
		return nil, err
	}
	items := NewElement(NSPubSub, "items", "node", node)
	for _, id := range ids {
		items.Append(NewElement(NSPubSub, "item", "id", id))
	}
	iq := NewElement(NSClient, "iq", "type", "get", "to", service).Append(NewElement(NSPubSub, "pubsub").Append(items))
	res, err := c.SendIQ(ctx, iq)
	if err != nil {
		return nil, err
	}
	got := res.Child(NSPubSub, "pubsub").Child(NSPubSub, "items")
	if got == nil {
		return nil, nil
	}
	return pubsubItems(got, NSPubSub), nil
}

// Publish stores payload as item itemID of node at service. Servers create the
// node on first publish only if configured to (Prosody: autocreate_on_publish);
// CreateNode makes it explicitly.
func (c *Client) Publish(ctx context.Context, service, node, itemID string, payload *Element) error {
	if err := checkPubSubArgs(service, node); err != nil {
		return err
	}
	item := NewElement(NSPubSub, "item", "id", itemID)
	if payload != nil {
		item.Append(payload)
	}
	iq := NewElement(NSClient, "iq", "type", "set", "to", service).Append(
		NewElement(NSPubSub, "pubsub").Append(NewElement(NSPubSub, "publish", "node", node).Append(item)))
	_, err := c.SendIQ(ctx, iq)
	return err
}

// CreateNode creates node at service with the given pubsub#… configuration
// (nil: the service's defaults). A node that already exists is not an error.
func (c *Client) CreateNode(ctx context.Context, service, node string, config map[string]string) error {
	if err := checkPubSubArgs(service, node); err != nil {
		return err
	}
	ps := NewElement(NSPubSub, "pubsub").Append(NewElement(NSPubSub, "create", "node", node))
	if len(config) > 0 {
		f := dataForm(nsNodeConfig)
		for k, v := range config {
			f.Append(formField(k, v))
		}
		ps.Append(NewElement(NSPubSub, "configure").Append(f))
	}
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set", "to", service).Append(ps))
	var se *StanzaError
	if errors.As(err, &se) && se.Condition == "conflict" {
		return nil
	}
	return err
}

// DeleteNode deletes node at service (XEP-0060 §8.4); only its owner may.
func (c *Client) DeleteNode(ctx context.Context, service, node string) error {
	if err := checkPubSubArgs(service, node); err != nil {
		return err
	}
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set", "to", service).Append(
		NewElement(NSPubSubOwner, "pubsub").Append(NewElement(NSPubSubOwner, "delete", "node", node))))
	return err
}

// SubscribeNode subscribes our bare JID to node at service, so every signed-in
// device gets its notifications.
func (c *Client) SubscribeNode(ctx context.Context, service, node string) error {
	if err := checkPubSubArgs(service, node); err != nil {
		return err
	}
	iq := NewElement(NSClient, "iq", "type", "set", "to", service).Append(
		NewElement(NSPubSub, "pubsub").Append(NewElement(NSPubSub, "subscribe", "node", node, "jid", c.account.String())))
	_, err := c.SendIQ(ctx, iq)
	return err
}
