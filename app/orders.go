package app

import (
	"errors"
	"fmt"
	"slices"

	"rounds/securestore"
)

// The Joint Commission allows orders by secure text only to a specified
// contact list of people authorised to receive and record them. Here that list
// is the policy's order recipients plus whoever holds an on-call shift marked
// orders='true' at the moment of sending. Anything else is refused before a
// byte is stored, so a refused order never sits in an outbox.

// ErrNotOrderRecipient: the recipient is not on the hospital's list of people
// who may receive orders (and holds no shift that may); nothing was sent.
var ErrNotOrderRecipient = errors.New("this person may not receive orders by message; call them or choose someone on the order list")

const auditOrderRefused = "order-refused"

// The composer's order switch: a short label, and what it means on its own
// line under it (one line of both ran off a phone screen).
const (
	OrderCheckLabel = "Order"
	OrderCheckHint  = "A clinical instruction; goes only to those who may take orders."
)

// mayReceiveOrder is the pure rule: jid (bare, lower-case) is on the list, or
// on an orders shift now.
func mayReceiveOrder(p Policy, shifts []Shift, jid string, c Clock) bool {
	return slices.Contains(p.OrderRecipients, jid) || mayTakeOrders(shifts, jid, c.Now())
}

// CheckOrderRecipient says whether an order may go to conv now: nil, or
// ErrNotOrderRecipient with the reason. Rooms never may (an order goes to one
// accountable person). The send paths call it before storing anything; the
// UI may call it to grey out "Send as order".
func (ps *policyState) CheckOrderRecipient(conv string) error {
	jid := normJID(conv)
	if jid == "" {
		return fmt.Errorf("%w: %q", ErrInvalidAddress, conv)
	}
	st, err := ps.host.unlocked()
	if err != nil {
		return err
	}
	if cv, err := st.Conversation(jid); err == nil && cv.Kind == securestore.KindRoom {
		return fmt.Errorf("%w: orders go to one person, not a room", ErrNotOrderRecipient)
	}
	ps.mu.Lock()
	p, shifts := ps.policyLocked(), ps.shifts
	ps.mu.Unlock()
	if !mayReceiveOrder(p, shifts, jid, ps.clock) {
		return fmt.Errorf("%w (%s)", ErrNotOrderRecipient, jid)
	}
	return nil
}

// refuseOrder audits a refused order (no PHI: the recipient's address only)
// and returns the error for the caller.
func (ps *policyState) refuseOrder(err error, conv string) error {
	if errors.Is(err, ErrNotOrderRecipient) {
		ps.host.audit(auditOrderRefused, "order not sent to "+normJID(conv)+": not on the order list")
	}
	return err
}
