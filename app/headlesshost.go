package app

import (
	"context"
	"time"

	"rounds/sync"
)

// The Client's side of the headless sender (headlessSender, headlesssend.go):
// the facade rounds send and rounds admin call (cli/). What the service asks
// of the rest of the Client (headlessSenderHost) Client already has.

// SendPage stores body for conv and sends it (the outbox carries it over a
// reconnect), as the headless sender's one message of the run. The checks
// that refuse a page (orders, roles) run before it: CheckOrderAllowed,
// RoleHolder.
func (c *Client) SendPage(conv, body string, o PageOptions) (MessageID, error) {
	return c.sender.sendPage(conv, body, o)
}

// WaitFor waits until message id reaches want, fails, is declined, or
// timeout passes (or ctx ends), and says which with the progress then.
// Every other answer to the message is handed to answered as it arrives.
func (c *Client) WaitFor(ctx context.Context, id MessageID, want ReceiptState, timeout time.Duration, answered func(Answer)) (Progress, WaitEnd, error) {
	return c.sender.waitFor(ctx, id, want, timeout, answered)
}

// EnterRoom joins room under nick for this run.
func (c *Client) EnterRoom(ctx context.Context, room, nick string) error {
	return c.sender.enterRoom(ctx, room, nick)
}

// LeaveRoom leaves room: a remembered room is rejoined (and its archive
// read) at every later sign-in, which would slow every later run.
func (c *Client) LeaveRoom(ctx context.Context, room string) error {
	return c.sender.leaveRoom(ctx, room)
}

// PublishedSchedule reads the on-call schedule published now:
// ErrNothingPublished when there is none, *UnreadableNodeError when it does
// not read.
func (c *Client) PublishedSchedule(ctx context.Context) ([]Shift, error) {
	return c.sender.publishedSchedule(ctx)
}

// PublishedPolicy reads the org policy published now: nil when there is
// none, *UnreadableNodeError when it does not read.
func (c *Client) PublishedPolicy(ctx context.Context) (*OrgPolicy, error) {
	return c.sender.publishedPolicy(ctx)
}

// FollowPublishedTextAck hands the published policy's text-acknowledgement
// rule to the engine before a page that asks for an acknowledgement, as
// every Rounds device does: whether a plain "ack" from a client without
// Rounds counts, and which words. No policy published, or none saying
// anything: the engine's defaults. A policy that cannot be read switches
// text acknowledgements off (it may be the one that forbids them); the
// error says why.
func (c *Client) FollowPublishedTextAck(ctx context.Context) error {
	return c.sender.followPublishedTextAck(ctx)
}

// PublishDocument puts payload as item "current" of node, replacing what
// was there (rounds admin publish-policy, publish-oncall).
func (c *Client) PublishDocument(ctx context.Context, node string, payload *sync.Document) error {
	return c.sender.publishDocument(ctx, node, payload)
}

// SendWipe stores a remote-wipe directive for every device of to and sends
// it; it returns the directive's id, to wait for the server to have it (it
// then reaches every online device at once and offline ones when they
// connect).
func (c *Client) SendWipe(ctx context.Context, to string) (MessageID, error) {
	return c.sender.sendWipe(ctx, to)
}

// CheckPublishedOrderRecipient applies the order rule (orders.go) to what is
// published now: an order may go to the policy's order recipients and to
// whoever is on a shift marked orders='true' at this moment. A refusal is
// ErrNotOrderRecipient, audited like the app's own (no PHI: the address
// only); a policy that does not read is an *UnreadableNodeError (nothing is
// sent then either); a schedule that does not read lists nobody.
func (c *Client) CheckPublishedOrderRecipient(ctx context.Context, to string) error {
	return c.sender.checkPublishedOrderRecipient(ctx, to)
}

// PublishedRoleHolder is who holds role now in the on-call schedule
// published now (the holder, else the shift's backup; the rule of
// ResolveRole), and until when. Errors: ErrNothingPublished,
// *UnreadableNodeError, ErrRoleNotInSchedule or ErrRoleUnstaffed.
func (c *Client) PublishedRoleHolder(ctx context.Context, role string) (string, time.Time, error) {
	return c.sender.publishedRoleHolder(ctx, role)
}

// HandOffPage hands the ladder of page id (sent with SendPage, asking for an
// acknowledgement) to the escalation service the published policy names,
// with the policy's ladder, and waits up to timeout for the service's
// confirmation (rounds send --escalate). It returns the service's JID.
func (c *Client) HandOffPage(ctx context.Context, id MessageID, timeout time.Duration) (string, error) {
	return c.sender.handOffPage(ctx, id, timeout)
}
