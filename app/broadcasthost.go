package app

import (
	"context"
	"io"
)

// The Client's side of broadcasts (broadcastBook, broadcast.go): the facade
// the screens and the headless sender call. What the service asks of the
// rest of the Client (broadcastHost) Client already has.

// SendBroadcast sends text to each of to and, when role is set, to
// everyone holding role now (the on-call schedule; each shift's holder, or
// its backup when it names none). The user is left out; each recipient
// gets their own message at o's urgency. One recipient refused (an order
// to someone not allowed orders) does not stop the others: the view says
// why. The broadcast is recorded before the first message is sent.
func (c *Client) SendBroadcast(to []string, role, text string, o ClinicalOptions) (BroadcastView, error) {
	return c.broadcasts.send(to, role, text, o)
}

// SendHeadlessBroadcast is SendBroadcast for the headless sender: a role
// group is resolved from the on-call schedule published now.
func (c *Client) SendHeadlessBroadcast(ctx context.Context, to []string, role, text string, o PageOptions) (BroadcastView, error) {
	return c.broadcasts.sendHeadless(ctx, to, role, text, o)
}

// Broadcasts lists the user's broadcasts on this device, newest first.
func (c *Client) Broadcasts() ([]BroadcastView, error) { return c.broadcasts.list() }

// Broadcast is one broadcast with each recipient's state now.
func (c *Client) Broadcast(id string) (BroadcastView, error) { return c.broadcasts.one(id) }

// ExportBroadcast writes broadcast id as CSV: one row per recipient with
// ids, times and states (no message text), and audits the export.
func (c *Client) ExportBroadcast(w io.Writer, id string) error { return c.broadcasts.export(w, id) }
