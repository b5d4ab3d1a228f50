// Package escalation is the hospital's escalation service: it holds the
// escalation ladders that Rounds devices hand to it, so an unacknowledged
// page goes on up the ladder while the sender's device is off, asleep or
// gone (docs/PROTOCOL.md, "Server-side escalation"). It is an ordinary XMPP
// account driven by the same engine as the devices (sync over securestore):
// it follows the org policy and on-call nodes like a device, so a role step
// resolves with the schedule in force when it fires, and its outgoing
// messages are persisted before they are sent and resent with the same ids.
//
// Its own state (the ladders, with absolute deadlines) lives in its store,
// saved before each step's messages go out; a step is marked sent after. A
// restart re-sends a step saved but not marked sent, with the same
// origin-ids (ladder.originID), so it is stored and shown once.
package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Config wires a Service.
type Config struct {
	// Session runs on the service's account; the Service reads its Events
	// (nobody else may).
	Session *sync.Session
	// Store is the Session's store: the ladders and the audit log live there.
	Store *securestore.Store
	// Clock drives the deadlines (default: the system clock).
	Clock sync.Clock
	// Lease, when set, decides whether this instance may fire steps now
	// (two instances for availability, lease.go). Nil: always.
	Lease  Lease
	Logger *slog.Logger
	// MaxPerSender caps the ladders one account may have running at once
	// (with steps still to fire: an exhausted ladder pages nobody)
	// (default DefaultMaxPerSender): a plan beyond it is refused, so one
	// account of the domain (a compromised one, or a script in a loop)
	// cannot grow the service's state and its paging without bound. A
	// refused hand-off gets no <held/>: the sender's device runs that
	// ladder itself.
	MaxPerSender int
	// Retention bounds how long a ladder that nobody acknowledged (or whose
	// closing this instance could not send) stays in the store after it ran
	// out (default DefaultRetention); the org policy's <retention days/>
	// applies when shorter. Then its record goes (the audit log stays). The
	// page's text goes earlier: as soon as the ladder ends or runs out.
	Retention time.Duration
}

// DefaultRetention is Config.Retention's default: a week for the sender,
// the recipient or an admin to look at a ladder nobody acknowledged
// ("ladders") before it goes.
const DefaultRetention = 7 * 24 * time.Hour

// DefaultMaxPerSender is Config.MaxPerSender's default: far more STAT pages
// than one person or lab system leaves unacknowledged at once.
const DefaultMaxPerSender = 200

// Lease says whether this instance is the one that fires steps.
type Lease interface {
	Held() bool
}

// Service holds ladders and fires their steps.
type Service struct {
	cfg     Config
	s       *sync.Session
	st      *securestore.Store
	clock   sync.Clock
	log     *slog.Logger
	account string
	domain  string
	wake    chan struct{}

	mu      gosync.Mutex
	ladders map[string]*ladder // by key
	policy  sync.EscalationPolicy
	shifts  []sync.Shift
	// hasPolicy: the org policy was read; until then a hand-off that
	// relies on its ladder waits in waiting.
	hasPolicy bool
	waiting   []securestore.Message
	admins    []string // the policy's <admin/>s: they may list and stop ladders (admin.go)
	// policyRetention: the org policy's <retention days/> (0: none).
	policyRetention time.Duration
}

func (s *Service) policyKnown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hasPolicy
}

// Settings the service keeps in its store.
const (
	settingIndex  = "escalation.ladders" // JSON list of the keys of the ladders held
	settingPrefix = "escalation.ladder." // + key
)

// New prepares a Service and loads the ladders it holds.
func New(cfg Config) (*Service, error) {
	if cfg.Session == nil || cfg.Store == nil {
		return nil, errors.New("escalation: a Session and its Store are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxPerSender <= 0 {
		cfg.MaxPerSender = DefaultMaxPerSender
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	acct, err := jid.Parse(cfg.Session.Account())
	if err != nil {
		return nil, fmt.Errorf("escalation: account: %w", err)
	}
	s := &Service{cfg: cfg, s: cfg.Session, st: cfg.Store, clock: cfg.Clock, log: cfg.Logger,
		account: acct.Bare().String(), domain: strings.ToLower(acct.Domain),
		wake: make(chan struct{}, 1), ladders: map[string]*ladder{}}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Run handles the Session's events and fires due steps until ctx ends. The
// caller runs the Session itself.
func (s *Service) Run(ctx context.Context) error {
	s.resume()
	held := s.cfg.Lease == nil || s.cfg.Lease.Held()
	events := s.s.Events()
	for {
		wait := s.untilNext()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			s.handle(ev)
		case <-s.wake:
		case <-s.clock.After(wait):
		}
		if s.cfg.Lease != nil {
			// Gaining the lease: finish what the other instance may have
			// saved but not sent, then fire what is due.
			if h := s.cfg.Lease.Held(); h != held {
				if held = h; held {
					s.resume()
				}
			}
		}
		s.fireDue()
		s.purgeExpired()
	}
}

// Active lists the ladders still waiting for an acknowledgement (admin).
func (s *Service) Active() []Ladder {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ladder
	for _, l := range s.ladders {
		if l.active() {
			out = append(out, l.view())
		}
	}
	slices.SortFunc(out, func(a, b Ladder) int { return a.Started.Compare(b.Started) })
	return out
}

// Ladder is a ladder as the admin sees it (no message text).
type Ladder struct {
	Sender, Origin, Thread string
	Started, NextAt        time.Time
	Steps                  int // taken so far
	Exhausted              bool
	EndedAt                time.Time
	EndedBy, EndReason     string
}

func (l *ladder) view() Ladder {
	return Ladder{Sender: l.Sender, Origin: l.Origin, Thread: l.Thread, Started: l.Started, NextAt: l.DueAt,
		Steps: len(l.Fired), Exhausted: l.Exhausted, EndedAt: l.EndedAt, EndedBy: l.EndedBy, EndReason: l.EndReason}
}

// poke makes Run look at the deadlines again.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// untilNext is how long until the earliest deadline (an hour when none:
// Run re-checks on every event anyway).
func (s *Service) untilNext() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	next := time.Hour
	for _, l := range s.ladders {
		if l.active() && !l.DueAt.IsZero() {
			next = min(next, max(l.DueAt.Sub(now), 0))
		}
		next = min(next, max(l.over().Add(s.retentionLocked()).Sub(now), 0))
	}
	return next
}

func (s *Service) handle(ev sync.Event) {
	switch e := ev.(type) {
	case sync.PolicyUpdated:
		s.mu.Lock()
		s.policy, s.hasPolicy, s.admins = e.Policy.Escalation, true, e.Policy.Admins
		s.policyRetention = time.Duration(e.Policy.RetentionDays) * 24 * time.Hour
		waiting := s.waiting
		s.waiting = nil
		s.mu.Unlock()
		defer func() {
			for _, m := range waiting {
				s.handOff(m)
			}
		}()
		rules := sync.TextAckRules{}
		if t := e.Policy.TextAck; t != nil {
			rules = sync.TextAckRules{Off: !t.Allowed, Words: t.Words}
		}
		s.s.SetTextAck(rules)
	case sync.OnCallUpdated:
		s.mu.Lock()
		s.shifts = e.Shifts
		s.mu.Unlock()
	case sync.ConnectionChanged:
		if e.State.Connectivity == sync.Online {
			s.confirmAgain()
		}
	case sync.MessagesAdded:
		for _, m := range e.Messages {
			switch {
			case m.Direction == securestore.Incoming && m.Extra[sync.ExtraPlan] != "" || m.Extra[sync.ExtraPlanError] != "":
				s.handOff(m)
			case m.Direction == securestore.Outgoing && m.Extra[sync.ExtraEscalationOf] != "":
				s.replicate(m)
			case m.Direction == securestore.Incoming && m.Extra[sync.ExtraResponse] == "" && m.Extra[sync.ExtraEscalationOf] == "" && !e.CatchUp:
				s.command(m) // admin.go
			}
		}
	case sync.ResponseReceived:
		s.response(e)
	}
}

// handOff takes a ladder handed over by a sender of our own domain and
// confirms it; anything else is refused (logged and audited, no answer).
func (s *Service) handOff(m securestore.Message) {
	sender := jid.Bare(m.From)
	refuse := func(why string) {
		s.forgetIncoming(m) // no step will send it
		s.log.Warn("escalation: hand-off refused", "from", sender, "why", why)
		s.audit("escalation-refused", "from=%s origin=%s why=%s", sender, m.OriginID, why)
	}
	sj, err := jid.Parse(sender)
	switch {
	case m.Direction != securestore.Incoming || err != nil || sj.Local == "":
		refuse("not from an account")
		return
	case !strings.EqualFold(sj.Domain, s.domain):
		refuse("sender of another domain")
		return
	case m.Extra[sync.ExtraPlanError] != "":
		refuse("malformed plan")
		return
	}
	p := sync.PlanOf(m)
	if p == nil {
		refuse("unreadable plan")
		return
	}
	now := s.clock.Now()
	// Deadlines run from when the page was handed over (our server's time
	// for a hand-off that waited offline while we were down), so a late
	// start fires what is already due at once.
	start := now
	if !m.Timestamp.IsZero() && m.Timestamp.Before(now) {
		start = m.Timestamp
	}
	s.mu.Lock()
	key := ladderKey(sender, p.ID)
	if l := s.ladders[key]; l != nil {
		s.mu.Unlock()
		s.held(sender, p.ID) // a resend of the hand-off: confirm again
		return
	}
	running, taken := 0, false
	for _, l := range s.ladders {
		if l.active() && !l.Exhausted && strings.EqualFold(l.Sender, sender) {
			running++
		}
		taken = taken || l.Origin == p.ID
	}
	pol := s.policy
	s.mu.Unlock()
	if taken {
		// The origin-id is the sender's choice, and a response addressed
		// to us (an ack from the recipient's client) names only it: two
		// senders' ladders of one origin-id could not be told apart, so an
		// account that saw another's page (its recipient, someone a step
		// reached) could have its own message's ack end that ladder. The
		// first holds it; the second sender's device runs its own.
		refuse("a ladder of that message id is held for another sender")
		return
	}
	if running >= s.cfg.MaxPerSender {
		refuse(fmt.Sprintf("the sender has %d ladders running (the limit)", running))
		return
	}
	if why := s.unacceptableThread(p.To); why != "" {
		refuse(why)
		return
	}
	if why := s.unacceptableStep(p.Steps); why != "" {
		refuse(why)
		return
	}
	steps := p.Steps
	after := time.Duration(p.AfterSeconds) * time.Second
	if len(steps) == 0 {
		steps = pol.Steps
	}
	if after <= 0 {
		after = time.Duration(pol.AfterSeconds) * time.Second
	}
	if len(steps) == 0 || after <= 0 {
		if !s.policyKnown() {
			// Just started: the org policy's ladder is not read yet.
			s.mu.Lock()
			s.waiting = append(s.waiting, m)
			s.mu.Unlock()
			return
		}
		refuse("no ladder (the plan names none and the org policy has none)")
		return
	}
	l := &ladder{Sender: sender, Origin: p.ID, Thread: jid.Bare(p.To), HandOff: m.ID, Urgency: m.Urgency,
		After: after, Steps: steps, Started: start, DueAt: start.Add(after)}
	s.mu.Lock()
	s.ladders[key] = l
	s.saveLocked(l)
	s.saveIndexLocked()
	s.mu.Unlock()
	s.audit("escalation-plan", "sender=%s origin=%s to=%s steps=%d after=%s due=%s", sender, p.ID, l.Thread,
		len(steps), after, l.DueAt.UTC().Format(time.RFC3339))
	s.log.Info("escalation: ladder held", "sender", sender, "steps", len(steps))
	s.held(sender, p.ID)
	s.poke()
}

// unacceptableThread says why the thread a plan names may not be used (""
// when it may): the service posts its notices there as itself, and its
// members' acknowledgements end the ladder. Devices hand over only pages to
// a person (rooms keep the device's ladder), so it must be a person of the
// service's own domain; the reason never names it.
func (s *Service) unacceptableThread(to string) string {
	j, err := jid.Parse(to)
	if err != nil || j.Local == "" || j.Resource != "" || !strings.EqualFold(j.Domain, s.domain) ||
		strings.EqualFold(j.Bare().String(), s.account) {
		return "the plan's thread is not a person of the service's domain"
	}
	return ""
}

// unacceptableStep says why a step of a sender's own plan may not be run
// ("" when every step may): the service posts with its own account, which
// may be a member of rooms the sender is not, and is trusted by every device
// of the domain. So a step the sender chose is run only when it is a person
// of the service's own domain or a role the on-call schedule defines; a
// room (or anything else: a JID of another domain, a server, a JID with a
// resource) is run only when the org policy's own ladder names it (devices
// send the policy's ladder as their plan; a plan without steps uses it).
// The reason names the kind of step, never its target.
func (s *Service) unacceptableStep(steps []sync.EscalationStep) string {
	s.mu.Lock()
	shifts, policySteps := s.shifts, s.policy.Steps
	s.mu.Unlock()
	inPolicy := func(st sync.EscalationStep) bool {
		return slices.ContainsFunc(policySteps, func(p sync.EscalationStep) bool {
			return strings.EqualFold(jid.Bare(p.To), jid.Bare(st.To)) && strings.EqualFold(jid.Bare(p.Room), jid.Bare(st.Room)) &&
				strings.EqualFold(strings.TrimSpace(p.Role), strings.TrimSpace(st.Role))
		})
	}
	for i, st := range steps {
		n := i + 1
		switch {
		case inPolicy(st):
		case st.Room != "":
			return fmt.Sprintf("step %d names a room (rooms only from the org policy's ladder)", n)
		case st.Role != "":
			if _, _, _, known := sync.RoleHolder(shifts, st.Role, s.clock.Now()); !known {
				return fmt.Sprintf("step %d names a role the on-call schedule does not define", n)
			}
		default:
			j, err := jid.Parse(st.To)
			if err != nil || j.Local == "" || j.Resource != "" || !strings.EqualFold(j.Domain, s.domain) ||
				strings.EqualFold(j.Bare().String(), s.account) {
				return fmt.Sprintf("step %d is not a person of the service's domain", n)
			}
		}
	}
	return ""
}

// confirmAgain sends <held/> again for every ladder held that has taken no
// step yet, each time the service is online (after a start, a restart or a
// reconnection). <held/> is not stored or resent, so one lost with a
// connection, or never sent (a crash between saving a hand-off and
// confirming it), would leave the sender's device running the ladder too;
// a device still before its first step then leaves the ladder to the
// service (app.HandOffWait), and one past it keeps its own (each receiver
// keeps one copy of a step both fire: sync.EscalationOriginID).
func (s *Service) confirmAgain() {
	s.mu.Lock()
	type pending struct{ sender, origin string }
	var todo []pending
	for _, l := range s.ladders {
		if l.active() && len(l.Fired) == 0 {
			todo = append(todo, pending{l.Sender, l.Origin})
		}
	}
	s.mu.Unlock()
	for _, p := range todo {
		s.held(p.sender, p.origin)
	}
}

func (s *Service) held(sender, origin string) {
	if err := s.s.SendHeld(sender, origin); err != nil {
		s.log.Warn("escalation: confirmation not sent", "err", err)
	}
}

// fireDue fires every step that is due, if this instance holds the lease.
func (s *Service) fireDue() {
	if s.cfg.Lease != nil && !s.cfg.Lease.Held() {
		return
	}
	for {
		s.mu.Lock()
		now := s.clock.Now()
		var l *ladder
		for _, c := range s.ladders {
			if c.due(now) && (l == nil || c.DueAt.Before(l.DueAt)) {
				l = c
			}
		}
		if l == nil {
			s.mu.Unlock()
			return
		}
		f, ok := s.takeStepLocked(l, now)
		s.saveLocked(l) // the step is on record before anything is sent
		key := l.key()
		s.mu.Unlock()
		if ok {
			s.sendStep(key, f)
		} else {
			s.sendExhausted(key)
		}
	}
}

// takeStepLocked records the next step of l as fired at now (not yet sent)
// and moves the deadline; ok is false when the ladder is exhausted instead.
func (s *Service) takeStepLocked(l *ladder, now time.Time) (fired, bool) {
	if l.Next >= len(l.Steps) {
		l.Exhausted, l.ExhaustedAt = true, now
		l.DueAt = time.Time{}
		return fired{}, false
	}
	step := l.Steps[l.Next]
	n := l.Next + 1
	f := fired{Step: n, Role: step.Role, At: now, Reason: "not acknowledged in " + l.waited()}
	switch {
	case step.Role != "":
		_, who, _, known := sync.RoleHolder(s.shifts, step.Role, now, append(l.reached(), l.Sender)...)
		switch {
		case who != "":
			f.JID = who
		case !known:
			f.Failed = "the on-call schedule has no such role"
		default:
			f.Failed = "no one holds this role now"
		}
	case step.Room != "":
		f.JID, f.Room = jid.Bare(step.Room), true
	default:
		f.JID = jid.Bare(step.To)
	}
	l.Fired = append(l.Fired, f)
	l.Next++
	if f.Failed != "" {
		l.DueAt = now
	} else {
		l.DueAt = now.Add(l.After)
	}
	return f, true
}

// sendStep sends step f of the ladder key: the escalated copy to its target
// and a notice into the original thread (to the sender and to the
// recipient), then marks it sent. Every message has an origin-id derived
// from the ladder and step, so sending again after a crash or by the other
// instance is the same message.
func (s *Service) sendStep(key string, f fired) {
	s.mu.Lock()
	l := s.ladders[key]
	if l == nil {
		s.mu.Unlock()
		return
	}
	c := *l
	s.mu.Unlock()
	label := f.JID
	if f.Role != "" {
		label = fmt.Sprintf("%s (%s)", f.JID, f.Role)
	}
	var notice string
	if f.Failed != "" {
		what := f.Role
		if what == "" {
			what = "the next step"
		}
		notice = fmt.Sprintf("Could not escalate to %s: %s", what, f.Failed)
		f.Reason = f.Failed
	} else {
		if err := s.sendCopy(&c, f); err != nil {
			s.log.Warn("escalation: escalated copy not stored", "step", f.Step, "err", err)
			f.Failed = "could not send"
			f.Reason = f.Failed
			notice = fmt.Sprintf("Could not escalate to %s: %s", label, f.Failed)
		} else {
			notice = fmt.Sprintf("Not acknowledged in %s: escalated to %s", strings.TrimPrefix(f.Reason, "not acknowledged in "), label)
		}
	}
	// A step that reached nobody names no target: the sender's device
	// shows it failed, and expects the next step at once.
	to := f.JID
	if f.Failed != "" {
		to = ""
	}
	tag := &sync.Escalation{Of: c.Origin, Step: f.Step, To: to, Role: f.Role, Reason: f.Reason, Sender: c.Sender, Thread: c.Thread}
	s.sendNotices(&c, fmt.Sprintf("step %d", f.Step), notice, tag)
	s.mu.Lock()
	if l := s.ladders[key]; l != nil {
		for i := range l.Fired {
			if l.Fired[i].Step == f.Step {
				l.Fired[i].Sent = true
				l.Fired[i].Failed = f.Failed
			}
		}
		if now := s.clock.Now(); f.Failed != "" && l.active() && l.Next == f.Step && l.DueAt.After(now) {
			// The step reached nobody (its copy could not be sent): the
			// next one is due at once, as for a role nobody holds.
			l.DueAt = now
		}
		s.saveLocked(l)
	}
	s.mu.Unlock()
	if f.Failed != "" {
		s.poke()
	}
	s.audit("escalation-step", "sender=%s origin=%s step=%d to=%s role=%s failed=%s", c.Sender, c.Origin, f.Step, f.JID, f.Role, f.Failed)
	s.log.Info("escalation: step", "step", f.Step, "failed", f.Failed != "")
}

// sendCopy sends the escalated copy: the original's text, exactly, after a
// line naming its sender, with the original's urgency, asking for an
// acknowledgement.
func (s *Service) sendCopy(l *ladder, f fired) error {
	orig, err := s.st.Message(l.HandOff)
	if err != nil {
		return fmt.Errorf("the page is gone: %w", err)
	}
	if f.Room && !s.s.InRoom(f.JID) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := s.s.JoinRoom(ctx, f.JID, "escalation")
		cancel()
		if err != nil {
			return fmt.Errorf("joining the room: %w", err)
		}
	}
	body := fmt.Sprintf("Escalated page from %s (%s):\n%s", l.Sender, f.Reason, orig.Body)
	_, err = s.s.Send(f.JID, body, sync.SendOptions{Urgency: l.Urgency, AckRequired: true,
		Escalation: &sync.Escalation{Of: l.Origin, Step: f.Step, To: f.JID, Role: f.Role, Reason: f.Reason, Sender: l.Sender, Thread: l.Thread},
		OriginID:   l.originID(fmt.Sprintf("copy %d", f.Step))})
	return err
}

// sendNotices posts text into the original thread: to the sender and to the
// recipient (who file it into their thread with each other), or into the
// room. what names the message for its origin-ids.
func (s *Service) sendNotices(l *ladder, what, text string, tag *sync.Escalation) {
	targets := []string{l.Sender, l.Thread}
	if s.s.InRoom(l.Thread) {
		targets = []string{l.Thread}
	}
	for _, to := range targets {
		if _, err := s.s.Send(to, text, sync.SendOptions{Escalation: tag, OriginID: l.originID(what + " to " + to)}); err != nil {
			s.log.Warn("escalation: notice not stored", "err", err)
		}
	}
}

// sendExhausted tells the thread that nobody on the ladder acknowledged.
func (s *Service) sendExhausted(key string) {
	s.mu.Lock()
	l := s.ladders[key]
	if l == nil || l.ExhaustSent {
		s.mu.Unlock()
		return
	}
	c := *l
	s.mu.Unlock()
	tag := &sync.Escalation{Of: c.Origin, Step: max(len(c.Fired), 1), Reason: "nobody on the ladder acknowledged", Sender: c.Sender, Thread: c.Thread}
	s.sendNotices(&c, "exhausted", fmt.Sprintf("Not acknowledged by anyone on the escalation ladder after %s", shortDuration(time.Duration(len(c.Steps)+1)*c.After)), tag)
	s.mu.Lock()
	if l := s.ladders[key]; l != nil {
		l.ExhaustSent = true
		s.saveLocked(l)
	}
	s.mu.Unlock()
	s.forgetText(&c) // no step needs it any more
	s.audit("escalation-exhausted", "sender=%s origin=%s steps=%d", c.Sender, c.Origin, len(c.Fired))
}

// response: a quick response or a text acknowledgement. An ack from anyone
// the ladder reached (or the sender, who acknowledges by cancelling) ends
// it; a decline from the last target reached moves on at once.
func (s *Service) response(e sync.ResponseReceived) {
	if e.Own {
		return // our other instance's (none are sent) or a carbon
	}
	defer s.forgetIncoming(e.Message) // a decline's words, a text ack
	from := jid.Bare(e.From)
	s.mu.Lock()
	l := s.ladderForResponse(e)
	if l == nil || !l.active() {
		s.mu.Unlock()
		return
	}
	allowed := slices.ContainsFunc(append(l.reached(), l.Sender), func(j string) bool { return strings.EqualFold(j, from) })
	if !allowed {
		s.mu.Unlock()
		s.log.Info("escalation: response from someone the ladder did not reach ignored", "from", from)
		return
	}
	now := s.clock.Now()
	key := l.key()
	switch e.Kind {
	case sync.ResponseAck:
		reason, by := endAcknowledged, from
		how := "quick response"
		if e.ByText {
			how = "text reply"
		}
		if strings.EqualFold(from, l.Sender) {
			reason = endCancelled
			// The sender stops the ladder: cancelled, or acknowledged by
			// someone as only the sender saw (a text reply from a client
			// without Rounds); the audit names them, as the sender's report.
			if x := e.Message.Extra; x[sync.ExtraEscalationReason] == sync.StopAcknowledged && x[sync.ExtraEscalationOf] == l.Origin {
				if j, err := jid.Parse(x[sync.ExtraEscalationTo]); err == nil && j.Local != "" {
					reason, by, how = endAcknowledged, j.Bare().String(), "reported by the sender"
				}
			}
		}
		l.EndedAt, l.EndedBy, l.EndReason, l.DueAt = now, by, reason, time.Time{}
		s.saveLocked(l)
		s.saveIndexLocked()
		s.mu.Unlock()
		s.audit("escalation-ack", "sender=%s origin=%s by=%s how=%s reason=%s", l.Sender, l.Origin, by, how, reason)
		s.closeLadder(key)
	case sync.ResponseDecline:
		last := l.Thread
		if n := len(l.Fired); n > 0 && l.Fired[n-1].JID != "" {
			last = l.Fired[n-1].JID
		}
		if strings.EqualFold(from, last) && !l.DueAt.IsZero() {
			l.DueAt = now
			s.saveLocked(l)
		}
		s.mu.Unlock()
		s.audit("escalation-decline", "sender=%s origin=%s by=%s", l.Sender, l.Origin, from)
		s.poke()
	default:
		s.mu.Unlock()
	}
}

// ladderForResponse finds the ladder a response is about (s.mu held): a
// response to an escalated copy we sent names it; a response addressed to
// us by the original's recipient (or its sender) quotes the original's
// origin-id.
func (s *Service) ladderForResponse(e sync.ResponseReceived) *ladder {
	if e.To != 0 {
		if m, err := s.st.Message(e.To); err == nil && m.Direction == securestore.Outgoing {
			if of, sender := m.Extra[sync.ExtraEscalationOf], m.Extra[sync.ExtraEscalationSender]; of != "" {
				return s.ladders[ladderKey(sender, of)]
			}
		}
	}
	ref := e.Message.Extra[sync.ExtraResponseTo]
	if ref == "" {
		return nil
	}
	from := jid.Bare(e.From)
	for _, l := range s.ladders {
		if l.Origin == ref && (strings.EqualFold(l.Thread, from) || strings.EqualFold(l.Sender, from) ||
			slices.ContainsFunc(l.reached(), func(j string) bool { return strings.EqualFold(j, from) })) {
			return l
		}
	}
	return nil
}

// closeLadder tells the thread and everyone reached that the ladder is over
// (their alerts stop), then marks it closed.
func (s *Service) closeLadder(key string) {
	s.mu.Lock()
	l := s.ladders[key]
	if l == nil || l.CloseSent || l.active() {
		s.mu.Unlock()
		return
	}
	c := *l
	s.mu.Unlock()
	s.forgetText(&c) // the closing notices do not quote it
	if s.cfg.Lease != nil && !s.cfg.Lease.Held() {
		return // the instance that holds the lease tells them
	}
	text := fmt.Sprintf("Acknowledged by %s at %s. No action needed.", c.EndedBy, c.EndedAt.UTC().Format("15:04 UTC"))
	if c.EndReason == endCancelled {
		who := "The sender"
		if c.EndedBy != "" && !strings.EqualFold(c.EndedBy, c.Sender) {
			who = c.EndedBy // an admin (admin.go)
		}
		text = fmt.Sprintf("%s stopped the escalation at %s. No action needed.", who, c.EndedAt.UTC().Format("15:04 UTC"))
	}
	step := max(len(c.Fired), 1)
	s.sendNotices(&c, "closed", text, &sync.Escalation{Of: c.Origin, Step: step, Reason: c.EndReason, Sender: c.Sender, Thread: c.Thread})
	for _, f := range c.Fired {
		if f.JID == "" || f.Failed != "" || strings.EqualFold(f.JID, c.Thread) {
			continue
		}
		tag := &sync.Escalation{Of: c.Origin, Step: step, To: f.JID, Reason: c.EndReason, Sender: c.Sender, Thread: c.Thread}
		if _, err := s.s.Send(f.JID, text, sync.SendOptions{Escalation: tag, OriginID: c.originID("closed to " + f.JID)}); err != nil {
			s.log.Warn("escalation: closing notice not stored", "err", err)
		}
	}
	s.mu.Lock()
	if l := s.ladders[key]; l != nil {
		l.CloseSent = true
		delete(s.ladders, key)
		s.saveIndexLocked()
		s.deleteLocked(key)
	}
	s.mu.Unlock()
}

// replicate: a step or a closing notice our other instance sent (a carbon,
// or our archive) is on record here too, so that after a failover this
// instance neither repeats nor skips it.
func (s *Service) replicate(m securestore.Message) {
	of, sender := m.Extra[sync.ExtraEscalationOf], m.Extra[sync.ExtraEscalationSender]
	if sender == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.ladders[ladderKey(sender, of)]
	if l == nil || !l.active() {
		return
	}
	var step int
	fmt.Sscan(m.Extra[sync.ExtraEscalationStep], &step)
	reason := m.Extra[sync.ExtraEscalationReason]
	switch {
	case reason == endAcknowledged || reason == endCancelled:
		l.EndedAt, l.EndReason, l.DueAt = m.Timestamp, reason, time.Time{}
		l.CloseSent = true
		delete(s.ladders, l.key())
		s.saveIndexLocked()
		s.deleteLocked(l.key())
		s.forgetText(l)
	case m.Extra[sync.ExtraAck] == "required" && step == l.Next+1:
		// The other instance's escalated copy of the step we would fire
		// next: take it as fired and sent.
		l.Fired = append(l.Fired, fired{Step: step, JID: m.ConversationID, Role: m.Extra[sync.ExtraEscalationRole],
			Room: s.s.InRoom(m.ConversationID), Reason: m.Extra[sync.ExtraEscalationReason], At: m.Timestamp, Sent: true})
		l.Next++
		l.DueAt = m.Timestamp.Add(l.After)
		s.saveLocked(l)
		// Each instance's audit log tells the whole ladder (an export
		// from either, say from the one stopped for it, misses no step).
		s.audit("escalation-step-seen", "sender=%s origin=%s step=%d to=%s role=%s by=the other instance",
			l.Sender, l.Origin, step, m.ConversationID, m.Extra[sync.ExtraEscalationRole])
	}
}

// resume re-sends the steps and notices saved but not marked sent when the
// service stopped (a crash between saving and sending), with their
// origin-ids, so nothing is lost and nothing is sent twice: steps, the
// "nobody acknowledged" notices of a ladder saved exhausted, and the
// closing notices of a ladder saved ended.
func (s *Service) resume() {
	if s.cfg.Lease != nil && !s.cfg.Lease.Held() {
		return
	}
	s.mu.Lock()
	type todo struct {
		key string
		f   fired
	}
	var steps []todo
	var closing, exhausted []string
	for k, l := range s.ladders {
		if !l.active() && !l.CloseSent {
			closing = append(closing, k)
			continue
		}
		for _, f := range l.Fired {
			if !f.Sent {
				steps = append(steps, todo{k, f})
			}
		}
		if l.active() && l.Exhausted && !l.ExhaustSent {
			// Saved exhausted, stopped before the notices went out.
			exhausted = append(exhausted, k)
		}
	}
	s.mu.Unlock()
	for _, t := range steps {
		s.sendStep(t.key, t.f)
	}
	for _, k := range exhausted {
		s.sendExhausted(k)
	}
	for _, k := range closing {
		s.closeLadder(k)
	}
}

func (s *Service) saveLocked(l *ladder) {
	b, _ := json.Marshal(l)
	if err := s.st.SetSetting(settingPrefix+l.key(), b); err != nil {
		s.log.Error("escalation: saving a ladder", "err", err)
	}
}

// deleteLocked removes the record of a ladder that is out of the index.
func (s *Service) deleteLocked(key string) {
	if err := s.st.DeleteSetting(settingPrefix + key); err != nil && !errors.Is(err, securestore.ErrNotFound) {
		s.log.Error("escalation: deleting a ladder", "err", err)
	}
}

// forgetText removes the page's text from the store once no step needs it
// (the ladder ended or ran out): the hand-off's body and every escalated
// copy's, ours or our other instance's (found by their derived origin-ids),
// become tombstones (securestore.Retract); a copy still waiting to go out
// is taken off the outbox, since the ladder is over. The ladder's record
// and the audit log never held the text.
func (s *Service) forgetText(l *ladder) {
	now := s.clock.Now()
	ids := []securestore.MessageID{l.HandOff}
	for _, f := range l.Fired {
		if f.JID == "" {
			continue
		}
		if m, err := s.st.MessageByOriginID(f.JID, l.originID(fmt.Sprintf("copy %d", f.Step))); err == nil {
			ids = append(ids, m.ID)
		}
	}
	for _, id := range ids {
		if id == 0 {
			continue
		}
		if err := s.st.OutboxRemove(id); err != nil {
			s.log.Warn("escalation: taking a copy off the outbox", "err", err)
		}
		if _, err := s.st.Retract(id, now); err != nil && !errors.Is(err, securestore.ErrNotFound) {
			s.log.Error("escalation: removing a page's text", "err", err)
		}
	}
}

// forgetIncoming makes a received message that the service has handled and
// will never send on a tombstone: a hand-off it refused, a response, a
// message to it from someone who is not an admin or an admin's command. Its
// text (which may name a patient) then stays in the store no longer than
// it takes to handle it; the audit log says what happened.
func (s *Service) forgetIncoming(m securestore.Message) {
	if m.ID == 0 || m.Direction != securestore.Incoming {
		return
	}
	if _, err := s.st.Retract(m.ID, s.clock.Now()); err != nil && !errors.Is(err, securestore.ErrNotFound) {
		s.log.Error("escalation: removing a message's text", "err", err)
	}
}

// retentionLocked is how long a ladder's record stays after it is over
// (s.mu held).
func (s *Service) retentionLocked() time.Duration {
	if r := s.policyRetention; r > 0 && r < s.cfg.Retention {
		return r
	}
	return s.cfg.Retention
}

// purgeExpired removes the ladders over for longer than the retention
// bound (exhausted and never acknowledged, or ended but not closed by this
// instance): their text (if still there) and their record; the audit log
// keeps what happened.
func (s *Service) purgeExpired() {
	s.mu.Lock()
	now := s.clock.Now()
	bound := s.retentionLocked()
	var gone []*ladder
	for k, l := range s.ladders {
		if now.Sub(l.over()) >= bound {
			gone = append(gone, l)
			delete(s.ladders, k)
			s.deleteLocked(k)
		}
	}
	if len(gone) > 0 {
		s.saveIndexLocked()
	}
	s.mu.Unlock()
	for _, l := range gone {
		s.forgetText(l)
		s.audit("escalation-purged", "sender=%s origin=%s steps=%d over=%s", l.Sender, l.Origin, len(l.Fired), l.over().UTC().Format(time.RFC3339))
	}
}

func (s *Service) saveIndexLocked() {
	keys := make([]string, 0, len(s.ladders))
	for k := range s.ladders {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b, _ := json.Marshal(keys)
	if err := s.st.SetSetting(settingIndex, b); err != nil {
		s.log.Error("escalation: saving the ladder list", "err", err)
	}
}

func (s *Service) load() error {
	b, err := s.st.Setting(settingIndex)
	if errors.Is(err, securestore.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("escalation: reading the ladder list: %w", err)
	}
	var keys []string
	if err := json.Unmarshal(b, &keys); err != nil {
		return fmt.Errorf("escalation: the ladder list is unreadable: %w", err)
	}
	for _, k := range keys {
		raw, err := s.st.Setting(settingPrefix + k)
		if err != nil {
			s.log.Error("escalation: a ladder is missing", "err", err)
			continue
		}
		var l ladder
		if err := json.Unmarshal(raw, &l); err != nil {
			s.log.Error("escalation: a ladder is unreadable", "err", err)
			continue
		}
		s.ladders[k] = &l
	}
	return nil
}

// audit records what happened to a ladder: who, when, which step, never
// the message's text.
func (s *Service) audit(kind, format string, args ...any) {
	if err := s.st.Audit(kind, fmt.Sprintf(format, args...)); err != nil {
		s.log.Error("escalation: audit", "err", err)
	}
}
