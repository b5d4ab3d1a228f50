package sync

import (
	"context"
	"errors"
	"fmt"

	"rounds/sync/xmpp"
)

// Nodes of the org's pubsub service the Session follows: after every fresh
// sign-in it subscribes to them (idempotent), reads their items and reports
// the document in force as PolicyUpdated or OnCallUpdated, and from then on
// reports each notification the same way.
const (
	NodePolicy = xmpp.NSPolicy
	NodeOnCall = xmpp.NSOnCall
)

// ErrNotConnected: the request needs the server and the Session is not
// signed in.
var ErrNotConnected = errors.New("sync: not connected to the server")

// PubSubService is the JID of the org's pubsub service.
func (s *Session) PubSubService() string { return s.cfg.PubSubService }

// FetchNode reads the items of node from the pubsub service (Config.PubSubService).
func (s *Session) FetchNode(ctx context.Context, node string) ([]xmpp.PubSubItem, error) {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return nil, ErrNotConnected
	}
	items, err := c.GetItems(ctx, s.cfg.PubSubService, node)
	if err != nil {
		return nil, fmt.Errorf("sync: reading %s: %w", node, err)
	}
	return items, nil
}

// PublishNode publishes payload as item itemID of node on the pubsub service
// (admin tools, tests, demo seeding). The node is created first if it does not
// exist, readable by everyone on the service and published to by its owner
// only; the server decides who may do either (docs/ADMIN.md: only the admins
// named for the pubsub component).
func (s *Session) PublishNode(ctx context.Context, node, itemID string, payload *xmpp.Element) error {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return ErrNotConnected
	}
	if err := c.CreateNode(ctx, s.cfg.PubSubService, node, map[string]string{
		"pubsub#access_model":  "open",
		"pubsub#publish_model": "publishers",
		"pubsub#persist_items": "true",
		"pubsub#max_items":     "1",
	}); err != nil {
		return fmt.Errorf("sync: creating %s: %w", node, err)
	}
	if err := c.Publish(ctx, s.cfg.PubSubService, node, itemID, payload); err != nil {
		return fmt.Errorf("sync: publishing %s: %w", node, err)
	}
	return nil
}

// Document is an org node's payload as the admin tools build it: a <policy/>
// or <schedule/> element (sync/xmpp rounds_policy.go, rounds_oncall.go).
type Document = xmpp.Element

// PublishDocument publishes payload as the document in force of node (item
// "current", replacing what was there), as PublishNode does.
func (s *Session) PublishDocument(ctx context.Context, node string, payload *Document) error {
	return s.PublishNode(ctx, node, xmpp.PolicyItemID, payload)
}

// FetchDocument reads the document in force of an org node now (item
// "current") and parses it as the events are: PolicyUpdated for NodePolicy,
// OnCallUpdated for NodeOnCall. Nothing published (no such node, or no
// current item) is nil, nil; a document that does not parse is a
// *DocumentError; any other error is FetchNode's.
func (s *Session) FetchDocument(ctx context.Context, node string) (Event, error) {
	items, err := s.FetchNode(ctx, node)
	var se *xmpp.StanzaError
	if errors.As(err, &se) && se.Condition == "item-not-found" {
		return nil, nil // the node was never created: nothing published
	}
	if err != nil {
		return nil, err
	}
	var current []xmpp.PubSubItem
	for _, it := range items {
		if it.ID == xmpp.PolicyItemID && it.Payload != nil {
			current = append(current, it)
			break
		}
	}
	ev, err := ParseNodeItems(node, current)
	if err != nil {
		return nil, &DocumentError{Node: node, Err: err}
	}
	return ev, nil
}

// DocumentError: the document published on an org node does not parse; Err
// says why, in the parser's words.
type DocumentError struct {
	Node string
	Err  error
}

func (e *DocumentError) Error() string { return e.Err.Error() }
func (e *DocumentError) Unwrap() error { return e.Err }

// followNodes subscribes to the org nodes and reports their current items.
// It runs after every fresh sign-in, off the setup path: a server without a
// pubsub service must not delay messaging.
func (s *Session) followNodes(ctx context.Context, c *xmpp.Client) {
	for _, node := range []string{NodePolicy, NodeOnCall} {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		if err := c.SubscribeNode(sctx, s.cfg.PubSubService, node); err != nil {
			s.log.Info("sync: org node not followed", "node", node, "err", err)
		}
		items, err := c.GetItems(sctx, s.cfg.PubSubService, node)
		cancel()
		if err != nil {
			s.log.Info("sync: org node not read", "node", node, "err", err)
			continue
		}
		s.reportNode(node, items)
	}
}

// onNodeEvent reports a pubsub notification, if it comes from the org's
// service itself (anyone else could otherwise push a policy).
func (s *Session) onNodeEvent(m *xmpp.Message) {
	from, err := xmpp.ParseJID(m.From)
	want, err2 := xmpp.ParseJID(s.cfg.PubSubService)
	if err != nil || err2 != nil || from != want {
		if m.PubSub.Node == NodePolicy || m.PubSub.Node == NodeOnCall {
			s.log.Warn("sync: dropping org node notification from another sender")
		}
		return
	}
	s.reportNode(m.PubSub.Node, m.PubSub.Items)
}

// onLockedPolicyEvent reports a policy notification that arrived while
// locked (PolicyUpdated.Locked), from the org's service only, as
// onNodeEvent does; the sealed copy is applied at the unlock.
func (s *Session) onLockedPolicyEvent(m *xmpp.Message) {
	from, err := xmpp.ParseJID(m.From)
	want, err2 := xmpp.ParseJID(s.cfg.PubSubService)
	if err != nil || err2 != nil || from != want {
		return
	}
	ev, err := ParseNodeItems(NodePolicy, m.PubSub.Items)
	if p, ok := ev.(PolicyUpdated); ok && err == nil {
		p.Locked = true
		s.emit(p)
	}
}

// OrgPolicy is the org policy document as IT published it, decoded and
// checked against the bounds of docs/PROTOCOL.md; Shift is one shift of the
// on-call schedule. The app turns them into its own policy and roles.
type (
	OrgPolicy = xmpp.OrgPolicy
	Shift     = xmpp.Shift
)

// ParseNodeItems turns the items of an org node into the event that reports
// them: the document in force (item "current", else the last with a payload)
// of NodePolicy as PolicyUpdated, of NodeOnCall as OnCallUpdated. A document
// that does not parse is an error, so the last good one stays in force; items
// of any other node, or without a payload, are no event (nil, nil).
func ParseNodeItems(node string, items []xmpp.PubSubItem) (Event, error) {
	doc := currentItem(items)
	if doc == nil {
		return nil, nil
	}
	switch node {
	case NodePolicy:
		p, err := xmpp.ParseOrgPolicy(doc)
		if err != nil {
			return nil, err
		}
		return PolicyUpdated{Policy: p}, nil
	case NodeOnCall:
		shifts, err := xmpp.ParseSchedule(doc)
		if err != nil {
			return nil, err
		}
		return OnCallUpdated{Shifts: shifts}, nil
	}
	return nil, nil
}

// currentItem is the payload of the node's item in force: id "current",
// else the last one.
func currentItem(items []xmpp.PubSubItem) *xmpp.Element {
	var last *xmpp.Element
	for _, it := range items {
		if it.ID == xmpp.PolicyItemID && it.Payload != nil {
			return it.Payload
		}
		if it.Payload != nil {
			last = it.Payload
		}
	}
	return last
}

// reportNode emits the event for an org node's items, if they carry one.
func (s *Session) reportNode(node string, items []xmpp.PubSubItem) {
	ev, err := ParseNodeItems(node, items)
	if err != nil {
		s.log.Warn("sync: org node document refused; the last one stays in force", "node", node, "err", err)
		return
	}
	if ev != nil {
		s.emit(ev)
	}
}
