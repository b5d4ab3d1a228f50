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

// headlessSender is what a command-line run does besides signing in and
// out (headless.go): send one page and wait for how far it got, hand its
// ladder to the escalation service, enter and leave rooms, read and
// publish the policy and on-call documents, send a remote wipe. It has no
// state and no lock of its own (the run's is headlessRun's, the Session's
// and the store's); it reaches the rest of the Client only through
// headlessSenderHost, whose methods take Client.mu, so it is never called
// with Client.mu held. Client's facades are headlesshost.go.
type headlessSender struct {
	configured *Policy // the device's configured policy (Config.Policy)
	clock      Clock
	host       headlessSenderHost
}

// headlessSenderHost is what the headless sender asks of the rest of the
// Client: the run (headless.go: its store, Session and event watch, or an
// error for a Client behind screens), the account (client.go), the order
// rule's audited refusal (orders.go) and the audit log (audit.go).
type headlessSenderHost interface {
	headlessSess() (*securestore.Store, *sync.Session, *headlessRun, error)
	Account() string
	refuseOrder(err error, conv string) error
	auditWith(st *securestore.Store, kind, detail string)
}

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

// sendPage is Client.SendPage.
func (hs *headlessSender) sendPage(conv, body string, o PageOptions) (MessageID, error) {
	_, s, _, err := hs.host.headlessSess()
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

// waitFor is Client.WaitFor.
func (hs *headlessSender) waitFor(ctx context.Context, id MessageID, want ReceiptState, timeout time.Duration, answered func(Answer)) (Progress, WaitEnd, error) {
	st, _, h, err := hs.host.headlessSess()
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

// enterRoom is Client.EnterRoom.
func (hs *headlessSender) enterRoom(ctx context.Context, room, nick string) error {
	_, s, _, err := hs.host.headlessSess()
	if err != nil {
		return err
	}
	return s.JoinRoom(ctx, room, nick)
}

// leaveRoom is Client.LeaveRoom.
func (hs *headlessSender) leaveRoom(ctx context.Context, room string) error {
	_, s, _, err := hs.host.headlessSess()
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
func (hs *headlessSender) publishedDocument(ctx context.Context, node string) (sync.Event, error) {
	_, s, _, err := hs.host.headlessSess()
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

// publishedSchedule is Client.PublishedSchedule.
func (hs *headlessSender) publishedSchedule(ctx context.Context) ([]Shift, error) {
	ev, err := hs.publishedDocument(ctx, OnCallNode)
	if err != nil {
		return nil, err
	}
	e, ok := ev.(sync.OnCallUpdated)
	if !ok {
		return nil, ErrNothingPublished
	}
	return shiftsFromWire(e.Shifts), nil
}

// publishedPolicy is Client.PublishedPolicy.
func (hs *headlessSender) publishedPolicy(ctx context.Context) (*OrgPolicy, error) {
	ev, err := hs.publishedDocument(ctx, PolicyNode)
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

// followPublishedTextAck is Client.FollowPublishedTextAck.
func (hs *headlessSender) followPublishedTextAck(ctx context.Context) error {
	_, s, _, err := hs.host.headlessSess()
	if err != nil {
		return err
	}
	p, err := hs.publishedPolicy(ctx)
	if err != nil {
		s.SetTextAck(sync.TextAckRules{Off: true})
		return err
	}
	if p != nil && p.TextAck != nil {
		s.SetTextAck(textAckRules(mergePolicy(*hs.configured, p)))
	}
	if p != nil {
		s.SetEscalationService(p.Escalation.Service)
	}
	return nil
}

// publishDocument is Client.PublishDocument.
func (hs *headlessSender) publishDocument(ctx context.Context, node string, payload *sync.Document) error {
	_, s, _, err := hs.host.headlessSess()
	if err != nil {
		return err
	}
	return s.PublishDocument(ctx, node, payload)
}

// sendWipe is Client.SendWipe.
func (hs *headlessSender) sendWipe(ctx context.Context, to string) (MessageID, error) {
	st, s, _, err := hs.host.headlessSess()
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

// checkPublishedOrderRecipient is Client.CheckPublishedOrderRecipient.
func (hs *headlessSender) checkPublishedOrderRecipient(ctx context.Context, to string) error {
	p, err := hs.publishedPolicy(ctx)
	if err != nil {
		return err
	}
	pol := mergePolicy(*hs.configured, p)
	shifts, err := hs.publishedSchedule(ctx)
	if err != nil {
		shifts = nil
	}
	jid := normJID(to)
	if !mayReceiveOrder(pol, normalizeShifts(shifts), jid, hs.clock) {
		return hs.host.refuseOrder(fmt.Errorf("%w (%s)", ErrNotOrderRecipient, jid), jid)
	}
	return nil
}

// publishedRoleHolder is Client.PublishedRoleHolder.
func (hs *headlessSender) publishedRoleHolder(ctx context.Context, role string) (string, time.Time, error) {
	shifts, err := hs.publishedSchedule(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	return RoleHolderAt(shifts, role, hs.clock.Now(), hs.host.Account())
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

// handOffPage is Client.HandOffPage.
func (hs *headlessSender) handOffPage(ctx context.Context, id MessageID, timeout time.Duration) (string, error) {
	st, s, h, err := hs.host.headlessSess()
	if err != nil {
		return "", err
	}
	p, err := hs.publishedPolicy(ctx)
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
				hs.host.auditWith(st, "escalation-held", fmt.Sprintf("escalation of message %s held by %s", m.OriginID, svc))
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
