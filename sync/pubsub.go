package sync

import (
	"context"
	"errors"

	"rounds/sync/xmpp"
)

// Nodes of the org's pubsub service the Session follows.
const (
	NodePolicy = xmpp.NSPolicy
	NodeOnCall = xmpp.NSOnCall
)

// FetchNode reads the items of node from the pubsub service.
func (s *Session) FetchNode(ctx context.Context, node string) ([]xmpp.PubSubItem, error) {
	return nil, errors.New("sync: FetchNode not implemented yet")
}

// PublishNode publishes payload as item itemID of node (admin tools).
func (s *Session) PublishNode(ctx context.Context, node, itemID string, payload *xmpp.Element) error {
	return errors.New("sync: PublishNode not implemented yet")
}
