package xmpp

import (
	"context"
	"fmt"
)

// RFC 6121 §2 roster management.
const NSRoster = "jabber:iq:roster"

// RosterItem is one contact. Subscription "remove" appears only in pushes.
type RosterItem struct {
	JID          string
	Name         string
	Subscription string // none, to, from, both, remove
	Ask          string
	Groups       []string
}

func parseRosterItem(e *Element) (RosterItem, error) {
	it := RosterItem{JID: e.Attr("jid"), Name: e.Attr("name"), Subscription: e.Attr("subscription"), Ask: e.Attr("ask")}
	if it.Subscription == "" {
		it.Subscription = "none"
	}
	if BareJID(it.JID) == "" {
		return it, fmt.Errorf("%w: roster item with bad jid", ErrProtocol)
	}
	for _, g := range e.ChildrenNamed(NSRoster, "group") {
		it.Groups = append(it.Groups, g.Text)
	}
	return it, nil
}

// Roster fetches the whole roster (no versioning: the engine's store is the cache).
func (c *Client) Roster(ctx context.Context) ([]RosterItem, error) {
	res, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "get").Append(NewElement(NSRoster, "query")))
	if err != nil {
		return nil, err
	}
	var items []RosterItem
	for _, e := range res.Child(NSRoster, "query").ChildrenNamed(NSRoster, "item") {
		if it, err := parseRosterItem(e); err == nil {
			items = append(items, it)
		}
	}
	return items, nil
}

// RosterSet adds or updates an item (the server pushes the result to all our
// sessions, this one included).
func (c *Client) RosterSet(ctx context.Context, it RosterItem) error {
	item := NewElement(NSRoster, "item", "jid", BareJID(it.JID), "name", it.Name)
	for _, g := range it.Groups {
		item.Append(NewElement(NSRoster, "group").SetText(g))
	}
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(NewElement(NSRoster, "query").Append(item)))
	return err
}

// RosterRemove deletes a contact (and cancels subscriptions both ways).
func (c *Client) RosterRemove(ctx context.Context, jid string) error {
	item := NewElement(NSRoster, "item", "jid", BareJID(jid), "subscription", "remove")
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(NewElement(NSRoster, "query").Append(item)))
	return err
}

// handleRosterPush accepts pushes only from our own account (RFC 6121 §2.1.6:
// "from" absent or our bare JID), else anyone could edit our contact list.
func (c *Client) handleRosterPush(iq *Element) (*Element, error) {
	if from := iq.From(); from != "" && from != c.account.String() {
		return nil, &StanzaError{Type: "cancel", Condition: "service-unavailable"}
	}
	items := iq.Children[0].ChildrenNamed(NSRoster, "item")
	if len(items) != 1 {
		return nil, &StanzaError{Type: "modify", Condition: "bad-request"}
	}
	it, err := parseRosterItem(items[0])
	if err != nil {
		return nil, &StanzaError{Type: "modify", Condition: "bad-request"}
	}
	if c.cfg.OnRosterPush != nil {
		c.cfg.OnRosterPush(it)
	}
	return nil, nil
}
