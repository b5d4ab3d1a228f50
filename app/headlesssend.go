package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// PageOptions is what a headless page asks of its recipient.
type PageOptions struct {
	Urgency     Urgency
	AckRequired bool // urgent and STAT always ask
	Order       bool
	Role        string // the role it was sent to, recorded on the message
}

// AsksAck reports whether a page with these options asks for an
// acknowledgement (asksAck: when asked, and always for urgent and STAT).
func (o PageOptions) AsksAck() bool { return asksAck(o.Urgency, o.AckRequired) }

// SendPage stores body for conv and sends it (the outbox carries it over a
// reconnect), as the headless sender's one message of the run. The checks
// that refuse a page (orders, roles) run before it: CheckOrderAllowed,
// RoleHolder.
func (c *Client) SendPage(conv, body string, o PageOptions) (MessageID, error) {
	_, s, _, err := c.headlessSess()
	if err != nil {
		return 0, err
	}
	m, err := s.Send(conv, body, sync.SendOptions{Urgency: o.Urgency, AckRequired: o.AsksAck(), Order: o.Order, Role: strings.TrimSpace(o.Role)})
	if err != nil {
		return 0, err
	}
	return m.ID, nil
}

// WaitEnd is why WaitFor returned.
type WaitEnd int

const (
	Reached     WaitEnd = iota // the state asked for (or further)
	Failed                     // bounced or refused
	Declined                   // the recipient declined
	TimedOut                   // the timeout passed first
	Interrupted                // ctx ended first
)

// Progress is how far a sent message got, and with whom: in a room the
// furthest member counts (a page to a team is answered when one of them has
// it).
type Progress struct {
	State ReceiptState
	At    time.Time
	Who   string
	// By says how an acknowledgement was given when it was not a Rounds
	// acknowledgement ("text reply"); empty otherwise.
	By string
	// Reason is the server's or engine's reason for a failure.
	Reason string
}

// Answer is a response to a page that neither acknowledges nor declines it
// ("call me", "5 minutes", free text, a plain-text reply from a client
// without Rounds): worth telling the sender, not an end to the wait.
type Answer struct {
	From string
	At   time.Time
	// Text is the words of a typed or plain-text reply; Kind names a quick
	// response otherwise ("call-me").
	Text   string
	Kind   string
	IsText bool
}

// WaitFor waits until message id reaches want, fails, is declined, or
// timeout passes (or ctx ends), and says which with the progress then.
// Every other answer to the message is handed to answered as it arrives.
func (c *Client) WaitFor(ctx context.Context, id MessageID, want ReceiptState, timeout time.Duration, answered func(Answer)) (Progress, WaitEnd, error) {
	st, _, h, err := c.headlessSess()
	if err != nil {
		return Progress{}, Interrupted, err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		cur, err := st.Message(id)
		if err != nil {
			return Progress{}, Interrupted, fmt.Errorf("reading the sent message: %w", err)
		}
		o := progress(cur)
		var events []sync.Event
		events, seen = h.watch.since(seen)
		for _, a := range otherResponses(events, cur) {
			if answered != nil {
				answered(a)
			}
		}
		if d, ok := pageDeclined(events, cur); ok {
			return d, Declined, nil
		}
		switch {
		case o.State == ReceiptFailed:
			return o, Failed, nil
		case o.State >= want:
			return o, Reached, nil
		}
		select {
		case <-h.watch.changed():
		case <-time.After(250 * time.Millisecond):
		case <-deadline.C:
			return o, TimedOut, nil
		case <-ctx.Done():
			return o, Interrupted, nil
		}
	}
}

// progress reads the message's receipts from the store (the Session writes
// there before it tells anyone).
func progress(m securestore.Message) Progress {
	o := Progress{State: m.Receipt.State, At: m.Receipt.At[m.Receipt.State], Who: m.ConversationID}
	if o.State == ReceiptFailed {
		o.Reason = m.Receipt.Reason
		return o
	}
	for member, r := range m.Members {
		if r.State != ReceiptFailed && r.State > o.State {
			o = Progress{State: r.State, At: r.At[r.State], Who: member}
		}
	}
	if o.State == ReceiptAcknowledged && o.Who == m.ConversationID {
		o.By = m.Extra[sync.ExtraAckBy]
	}
	return o
}

// pageDeclined reports a decline of m among events. Which message a
// response answers is the engine's to say (ResponseReceived.To: resolved
// within the response's own conversation), never matched again here on the
// id the response names, which anyone who saw a copy of the page can name.
func pageDeclined(events []sync.Event, m securestore.Message) (Progress, bool) {
	for _, e := range events {
		r, ok := e.(sync.ResponseReceived)
		if !ok || r.Own || r.Kind != sync.ResponseDecline {
			continue
		}
		if r.To == m.ID {
			who := r.From
			if who == "" {
				who = m.ConversationID
			}
			return Progress{State: ReceiptFailed, At: r.At, Who: who}, true
		}
	}
	return Progress{}, false
}

// otherResponses are the answers to m that neither acknowledge nor decline
// it.
func otherResponses(events []sync.Event, m securestore.Message) []Answer {
	var out []Answer
	for _, e := range events {
		r, ok := e.(sync.ResponseReceived)
		if !ok || r.Own || r.To != m.ID || r.Kind == sync.ResponseAck || r.Kind == sync.ResponseDecline {
			continue
		}
		a := Answer{From: r.From, At: r.At, Kind: string(r.Kind)}
		switch {
		case r.ByText:
			a.Text, a.IsText = r.Text, true
		case r.Kind == sync.ResponseText:
			a.Text, a.IsText = r.Message.Body, true
		}
		out = append(out, a)
	}
	return out
}

// EnterRoom joins room under nick for this run.
func (c *Client) EnterRoom(ctx context.Context, room, nick string) error {
	_, s, _, err := c.headlessSess()
	if err != nil {
		return err
	}
	return s.JoinRoom(ctx, room, nick)
}

// LeaveRoom leaves room: a remembered room is rejoined (and its archive
// read) at every later sign-in, which would slow every later run.
func (c *Client) LeaveRoom(ctx context.Context, room string) error {
	_, s, _, err := c.headlessSess()
	if err != nil {
		return err
	}
	return s.LeaveRoom(ctx, room)
}

// ErrNothingPublished: the node holds no current item.
var ErrNothingPublished = errors.New("nothing is published")

// UnreadableNodeError: the published document does not read.
type UnreadableNodeError struct{ Err error }

func (e *UnreadableNodeError) Error() string { return e.Err.Error() }
func (e *UnreadableNodeError) Unwrap() error { return e.Err }

// publishedDocument reads node's document in force now, parsed by the
// engine; nil when nothing is published.
func (c *Client) publishedDocument(ctx context.Context, node string) (sync.Event, error) {
	_, s, _, err := c.headlessSess()
	if err != nil {
		return nil, err
	}
	ev, err := s.FetchDocument(ctx, node)
	var bad *sync.DocumentError
	switch {
	case errors.As(err, &bad):
		return nil, &UnreadableNodeError{Err: bad.Err}
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", node, err)
	}
	return ev, nil
}

// PublishedSchedule reads the on-call schedule published now:
// ErrNothingPublished when there is none, *UnreadableNodeError when it does
// not read.
func (c *Client) PublishedSchedule(ctx context.Context) ([]Shift, error) {
	ev, err := c.publishedDocument(ctx, OnCallNode)
	if err != nil {
		return nil, err
	}
	e, ok := ev.(sync.OnCallUpdated)
	if !ok {
		return nil, ErrNothingPublished
	}
	return shiftsFromWire(e.Shifts), nil
}

// PublishedPolicy reads the org policy published now: nil when there is
// none, *UnreadableNodeError when it does not read.
func (c *Client) PublishedPolicy(ctx context.Context) (*OrgPolicy, error) {
	ev, err := c.publishedDocument(ctx, PolicyNode)
	if err != nil {
		return nil, err
	}
	e, ok := ev.(sync.PolicyUpdated)
	if !ok {
		return nil, nil
	}
	p := orgPolicyFromWire(e.Policy)
	return &p, nil
}

// FollowPublishedTextAck hands the published policy's text-acknowledgement
// rule to the engine before a page that asks for an acknowledgement, as
// every Rounds device does: whether a plain "ack" from a client without
// Rounds counts, and which words. No policy published, or none saying
// anything: the engine's defaults. A policy that cannot be read switches
// text acknowledgements off (it may be the one that forbids them); the
// error says why.
func (c *Client) FollowPublishedTextAck(ctx context.Context) error {
	_, s, _, err := c.headlessSess()
	if err != nil {
		return err
	}
	p, err := c.PublishedPolicy(ctx)
	if err != nil {
		s.SetTextAck(sync.TextAckRules{Off: true})
		return err
	}
	if p != nil && p.TextAck != nil {
		s.SetTextAck(textAckRules(mergePolicy(c.cfg.Policy, p)))
	}
	if p != nil {
		s.SetEscalationService(p.Escalation.Service)
	}
	return nil
}

// PublishDocument puts payload as item "current" of node, replacing what
// was there (rounds admin publish-policy, publish-oncall).
func (c *Client) PublishDocument(ctx context.Context, node string, payload *sync.Document) error {
	_, s, _, err := c.headlessSess()
	if err != nil {
		return err
	}
	return s.PublishDocument(ctx, node, payload)
}

// SendWipe stores a remote-wipe directive for every device of to and sends
// it; it returns the directive's id, to wait for the server to have it (it
// then reaches every online device at once and offline ones when they
// connect).
func (c *Client) SendWipe(ctx context.Context, to string) (MessageID, error) {
	st, s, _, err := c.headlessSess()
	if err != nil {
		return 0, err
	}
	if err := s.SendWipe(ctx, to); err != nil {
		return 0, err
	}
	// SendWipe returns once the directive is stored: find it there.
	recent, err := st.Latest(jid.Bare(to), 20)
	if err != nil {
		return 0, err
	}
	for i := len(recent) - 1; i >= 0; i-- {
		if m := recent[i]; m.Direction == securestore.Outgoing && m.Extra[sync.ExtraWipe] != "" {
			return m.ID, nil
		}
	}
	return 0, errors.New("the directive was not stored")
}

// CheckPublishedOrderRecipient applies the order rule (orders.go) to what is
// published now: an order may go to the policy's order recipients and to
// whoever is on a shift marked orders='true' at this moment. A refusal is
// ErrNotOrderRecipient, audited like the app's own (no PHI: the address
// only); a policy that does not read is an *UnreadableNodeError (nothing is
// sent then either); a schedule that does not read lists nobody.
func (c *Client) CheckPublishedOrderRecipient(ctx context.Context, to string) error {
	p, err := c.PublishedPolicy(ctx)
	if err != nil {
		return err
	}
	pol := mergePolicy(c.cfg.Policy, p)
	shifts, err := c.PublishedSchedule(ctx)
	if err != nil {
		shifts = nil
	}
	jid := normJID(to)
	if !mayReceiveOrder(pol, normalizeShifts(shifts), jid, c.cfg.Clock) {
		return c.refuseOrder(fmt.Errorf("%w (%s)", ErrNotOrderRecipient, jid), jid)
	}
	return nil
}

// PublishedRoleHolder is who holds role now in the on-call schedule
// published now (the holder, else the shift's backup; the rule of
// ResolveRole), and until when. Errors: ErrNothingPublished,
// *UnreadableNodeError, ErrRoleNotInSchedule or ErrRoleUnstaffed.
func (c *Client) PublishedRoleHolder(ctx context.Context, role string) (string, time.Time, error) {
	shifts, err := c.PublishedSchedule(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	return RoleHolderAt(shifts, role, c.cfg.Clock.Now(), c.Account())
}

// RoleHolderAt is who holds role at now in shifts, and until when: the
// rule every device resolves a role with (resolveShift), for a schedule read
// from the server. Those in exclude (the sender) are passed over for the
// shift's backup.
func RoleHolderAt(shifts []Shift, role string, now time.Time, exclude ...string) (string, time.Time, error) {
	sh, who, _, err := resolveShift(normalizeShifts(shifts), strings.TrimSpace(role), now, exclude...)
	if err != nil {
		return "", time.Time{}, err
	}
	return who, sh.Until, nil
}

// ErrNoEscalationService: the published org policy names no escalation
// service (or no ladder), so a page cannot be handed over; nothing would
// escalate it once the headless sender exits.
var ErrNoEscalationService = errors.New("the org policy names no escalation service and ladder")

// ErrHandOffUnconfirmed: the escalation service did not confirm the
// hand-off in time; nothing escalates the page unless someone runs a ladder.
var ErrHandOffUnconfirmed = errors.New("the escalation service did not confirm the hand-off")

// HandOffPage hands the ladder of page id (sent with SendPage, asking for an
// acknowledgement) to the escalation service the published policy names,
// with the policy's ladder, and waits up to timeout for the service's
// confirmation (rounds send --escalate). It returns the service's JID.
func (c *Client) HandOffPage(ctx context.Context, id MessageID, timeout time.Duration) (string, error) {
	st, s, h, err := c.headlessSess()
	if err != nil {
		return "", err
	}
	p, err := c.PublishedPolicy(ctx)
	if err != nil {
		return "", err
	}
	if p == nil || p.Escalation.Service == "" || p.Escalation.After <= 0 || len(p.Escalation.Steps) == 0 {
		return "", ErrNoEscalationService
	}
	svc := p.Escalation.Service
	s.SetEscalationService(svc)
	m, err := st.Message(id)
	if err != nil {
		return "", fmt.Errorf("reading the sent message: %w", err)
	}
	if !ackRequired(m) {
		return "", errors.New("only a page that asks for an acknowledgement escalates")
	}
	_, seen := h.watch.since(1 << 30)
	// The ladder this run read from the policy goes with the plan, so the
	// service needs no policy of its own to hold it.
	plan := &sync.EscalationPlan{ID: m.OriginID, To: m.ConversationID, AfterSeconds: int(p.Escalation.After / time.Second)}
	for _, st := range p.Escalation.Steps {
		plan.Steps = append(plan.Steps, sync.EscalationStep{To: st.To, Role: st.Role, Room: st.Room})
	}
	if _, err := s.Send(svc, m.Body, sync.SendOptions{Urgency: m.Urgency, AckRequired: true, Plan: plan}); err != nil {
		return "", err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		var events []sync.Event
		events, seen = h.watch.since(seen)
		for _, e := range events {
			if held, ok := e.(sync.LadderHeld); ok && held.Of == m.OriginID {
				c.trail.writeTo(st, "escalation-held", fmt.Sprintf("escalation of message %s held by %s", m.OriginID, svc))
				return svc, nil
			}
		}
		select {
		case <-h.watch.changed():
		case <-time.After(250 * time.Millisecond):
		case <-deadline.C:
			return svc, ErrHandOffUnconfirmed
		case <-ctx.Done():
			return svc, ctx.Err()
		}
	}
}
