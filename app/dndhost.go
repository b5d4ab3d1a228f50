package app

// The Client's side of do not disturb (dndService, dnd.go): the facade the
// screens call. What the service asks of the rest of the Client (dndHost)
// Client already has: sess, unlocked, Account (client.go), isHeadless
// (headless.go), Presence (presence.go), Policy, schedule (policyState),
// auditWith (audit.go).

// DND is the do-not-disturb state now.
func (c *Client) DND() DNDView { return c.dnd.view() }

// SetDND turns do-not-disturb on (again: a new period, everyone gets a
// reply again) with s, saves it and tells the user's other devices.
func (c *Client) SetDND(s DNDSettings) error { return c.keptAfter(c.dnd.set(s)) }

// EndDND turns do-not-disturb off here and on the user's other devices.
func (c *Client) EndDND() error { return c.keptAfter(c.dnd.end()) }

// keptAfter keeps the listen ticket after a change of do not disturb, so
// a restart before the next lock answers and forwards as it says
// (coldstart.go).
func (c *Client) keptAfter(err error) error {
	if err == nil {
		if st, sess, e := c.sess(); e == nil {
			c.keepListenTicket(st, sess)
		}
	}
	return err
}
