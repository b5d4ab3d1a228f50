package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// End of shift on a shared device: the nurse going home hands the phone on.
// What they were holding must not stay with a phone nobody of theirs is
// looking at:
//   - alerts still waiting for their acknowledgement are declined with the
//     words "Ended shift", so each sender sees it and the sender's ladder goes
//     on to its next step (the on-call schedule decides, when that step names
//     a role, who holds the role now);
//   - escalations they started, which run on this device, take their next
//     step at once (a role resolved now) and a notice in the thread says they
//     are no longer followed here: nobody would be here to see them ring;
//   - the roles the on-call schedule still gives them are named on the
//     screen: the schedule, not the phone, decides who holds a role, so a
//     shift that runs on past the handover must be changed there.
// Then the profile is signed out and, by policy (Policy.ShiftKeep), removed
// with its data or kept locked for the same person's next shift until the
// keep time passes (profiles.go removes it then, without opening it).

// AuditShiftEnd is the audit kind of an end of shift.
const AuditShiftEnd = "shift-end"

// endReasonHandedOver ends a ladder whose sender ended their shift.
const endReasonHandedOver = "handed over"

// ErrHandoverNotSent: the hand-over (declines, escalation steps) could not
// reach the server before the deadline: the shift was not ended and nothing
// was removed. Check the network and try again.
var ErrHandoverNotSent = errors.New("the hand-over could not be sent; check the network and try again")

// ShiftHandover says what ending the shift does now; the "End shift"
// screen shows it before the user confirms, and EndShift returns what it did.
type ShiftHandover struct {
	// Alerts waiting for this person's acknowledgement, handed back to
	// their senders.
	Alerts int
	// Escalations this person started that are still running, handed to
	// their next step.
	Escalations int
	// Roles the on-call schedule names this person for now.
	Roles []string
	// Keep is how long the profile stays (locked) for the next shift; 0:
	// removed with its data.
	Keep      time.Duration
	KeepUntil time.Time
}

// Text says it in words for the confirmation and the result.
func (h ShiftHandover) Text() string {
	var b strings.Builder
	switch h.Alerts {
	case 0:
	case 1:
		b.WriteString("• 1 alert waiting for you goes back to its sender as \"Ended shift\".\n")
	default:
		fmt.Fprintf(&b, "• %d alerts waiting for you go back to their senders as \"Ended shift\".\n", h.Alerts)
	}
	switch h.Escalations {
	case 0:
	case 1:
		b.WriteString("• 1 escalation you started goes to its next step now.\n")
	default:
		fmt.Fprintf(&b, "• %d escalations you started go to their next step now.\n", h.Escalations)
	}
	if len(h.Roles) > 0 {
		fmt.Fprintf(&b, "• The on-call schedule still names you for %s: messages to it keep reaching you until the schedule changes.\n", strings.Join(h.Roles, ", "))
	}
	if h.Keep > 0 {
		fmt.Fprintf(&b, "• Your messages stay on this device, locked with your PIN, until %s.", h.KeepUntil.Local().Format("Mon 15:04"))
	} else {
		b.WriteString("• Your messages are removed from this device.")
	}
	return b.String()
}

// ShiftHandoverPreview is what EndShift would do now.
func (c *Client) ShiftHandoverPreview() (ShiftHandover, error) {
	if _, err := c.unlocked(); err != nil {
		return ShiftHandover{}, err
	}
	now := c.cfg.Clock.Now()
	h := ShiftHandover{Alerts: len(c.handBackAlerts()), Escalations: len(c.runningLadders()),
		Roles: rolesHeld(c.schedule(), c.Account(), now), Keep: c.Policy().ShiftKeep}
	if h.Keep > 0 {
		h.KeepUntil = now.Add(h.Keep)
	}
	return h, nil
}

// handBackAlerts are the open alerts that wait for this person's
// acknowledgement.
func (c *Client) handBackAlerts() []Alert {
	var out []Alert
	for _, a := range c.Alerts() {
		if a.AckRequired {
			out = append(out, a)
		}
	}
	return out
}

// runningLadders copies the ladders still waiting for an acknowledgement.
func (c *Client) runningLadders() []ladderState {
	cl := &c.clin
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var out []ladderState
	for _, r := range cl.ladders {
		if r.active() && !r.Exhausted {
			l := r.ladderState
			l.Reached = slices.Clone(l.Reached)
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b ladderState) int { return a.Started.Compare(b.Started) })
	return out
}

// EndShift hands over, audits and signs out (see the top of this file). It
// waits, up to ctx's deadline, until the server has what it handed over;
// if it cannot, it returns ErrHandoverNotSent and the profile stays signed
// in. The Client is finished afterwards, as after SignOut.
func (c *Client) EndShift(ctx context.Context) (ShiftHandover, error) {
	st, s, err := c.sess()
	if err != nil {
		return ShiftHandover{}, err
	}
	h, err := c.ShiftHandoverPreview()
	if err != nil {
		return ShiftHandover{}, err
	}
	now := c.cfg.Clock.Now()
	for _, a := range c.handBackAlerts() {
		if err := c.Respond(a.Conversation, a.Message, ResponseDecline, "Ended shift"); err != nil {
			c.log.Warn("app: end of shift: alert not handed back", "err", err)
		}
	}
	c.clin.handOverLadders(st, s, c.runningLadders(), localPart(c.Account()), now)
	if err := waitOutboxEmpty(ctx, st); err != nil {
		c.log.Warn("app: end of shift: hand-over not sent", "err", err)
		return h, ErrHandoverNotSent
	}
	detail := fmt.Sprintf("%d alerts handed back, %d escalations handed over; ", h.Alerts, h.Escalations)
	if h.Keep > 0 {
		detail += "profile kept until " + h.KeepUntil.UTC().Format(time.RFC3339)
	} else {
		detail += "profile removed"
	}
	if err := st.Audit(AuditShiftEnd, detail); err != nil {
		c.log.Warn("app: audit", "err", err)
	}
	id := profileID(c.Account())
	c.log.Info("app: shift ended", "alerts", h.Alerts, "escalations", h.Escalations, "kept", h.Keep > 0)
	if h.Keep > 0 {
		c.SignOut()
		if err := updateProfile(c.cfg, id, func(p *Profile) { p.ShiftEnded, p.KeepUntil = now, h.KeepUntil }); err != nil {
			return h, err
		}
		return h, nil
	}
	if err := c.wipeDevice("end of shift: profile removed"); err != nil {
		return h, err
	}
	if err := removeProfileData(c.cfg, id); err != nil {
		c.log.Warn("app: end of shift: profile directory left", "err", err)
	}
	return h, forgetProfile(c.cfg, id)
}

// handOverLadders takes the next step of each of ladders at once (a role
// resolved now), tells the thread that the sender's device no longer
// follows it, and ends it here with the reason "handed over", without the
// closing notice that tells targets no action is needed: it still is.
func (cl *clinical) handOverLadders(st *securestore.Store, s *sync.Session, ladders []ladderState, name string, now time.Time) {
	if len(ladders) == 0 {
		return
	}
	ids := make([]securestore.MessageID, 0, len(ladders))
	for _, l := range ladders {
		ids = append(ids, l.Message)
		if step, n, ok := l.pending(); ok {
			rs := cl.escalate(st, s, l, step, n, now)
			cl.mu.Lock()
			if r := cl.ladders[l.Message]; r != nil && r.active() {
				r.record(rs, now)
			}
			cl.mu.Unlock()
		}
		cl.postNotice(s, l, len(l.Reached)+1, "", "", endReasonHandedOver,
			name+" ended their shift before this was acknowledged: it is no longer followed on their device. Acknowledge it here.")
	}
	cl.endLadders(st, func(l *ladderState) bool { return slices.Contains(ids, l.Message) }, name, endReasonHandedOver, now)
}

// waitOutboxEmpty waits until the server acknowledged every stored
// outgoing message.
func waitOutboxEmpty(ctx context.Context, st *securestore.Store) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		left, err := st.Outbox()
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
