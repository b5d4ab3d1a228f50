package app

import "rounds/securestore"

// The Client's side of the clinical service (clinical, alerts.go): the
// facade the screens and the headless tools call, and what the service
// asks of the rest of the Client (clinicalHost).

// Alerts lists the open alerts, newest first. An alert with Urgency
// routine is silent (an acknowledgement was asked for a routine message).
func (c *Client) Alerts() []Alert { return c.clin.listAlerts() }

// SendClinical sends a clinical message: urgent/STAT, ack-required, an order,
// or to a role. Orders go only to people on the order list
// (ErrNotOrderRecipient, nothing stored). A role is resolved now and Sent
// says whom it reached. An ack-required message starts the escalation
// ladder (o.Ladder or the policy's); its conversation stays pinned until
// acknowledged.
func (c *Client) SendClinical(conv, text string, o ClinicalOptions) (Sent, error) {
	return c.clin.send(conv, text, o)
}

// SendToRole sends text to whoever holds role now (the holder, else the
// shift's backup; when the sender holds the role, the backup), records the
// role on the message, and says whom it reached; ErrRoleUnstaffed when nobody
// does (nothing is stored). o.Role is set to role; the rest of o applies as
// for SendClinical.
func (c *Client) SendToRole(role, text string, o ClinicalOptions) (Sent, error) {
	return c.clin.sendToRole(role, text, o)
}

// CancelEscalation stops the ladder of message id (the sender reached
// someone another way). The people already reached learn that no action
// is needed.
func (c *Client) CancelEscalation(conv string, id securestore.MessageID) error {
	return c.clin.cancelEscalation(conv, id)
}

// Respond answers message msg of conv with a quick response. Free text
// (ResponseText) needs text; the other kinds take optional text. An
// acknowledgement ends this account's alert for the message on every
// device and is audited; a decline ends the alert here (the sender's
// escalation goes on); the others keep the alert, next sounding one
// interval from now (5 minutes for "5 minutes").
func (c *Client) Respond(conv string, msg securestore.MessageID, kind ResponseKind, text string) error {
	return c.clin.respond(conv, msg, kind, text)
}

// clinicalFor has the clinical service follow the open store st (see
// clinical.follow); false when st is no longer the open store.
func (c *Client) clinicalFor(st *securestore.Store) bool { return c.clin.follow(st) }

// stopClinical stops every timer (the store is about to close).
func (c *Client) stopClinical() { c.clin.stop() }
