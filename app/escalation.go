package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// An acknowledgement-required message that nobody acknowledges must reach
// someone who will act. The sender's client runs a ladder: after the
// policy's interval without an acknowledgement it sends an escalated copy to
// the next target (a person, a role resolved at that moment, or a room),
// posts a notice into the original thread so everyone in it sees the step,
// and goes on down the ladder. Only an explicit acknowledgement from anyone
// reached ends it: a decline or "call me" keeps it running. The ladder is
// saved in the store, so it resumes after a restart with the time it had
// left. (The server-side component that would run it without the sender's
// device is designed in docs/PROTOCOL.md.)

// ClinicalOptions say how a clinical message is sent.
type ClinicalOptions struct {
	Urgency securestore.Urgency
	// AckRequired asks for an explicit acknowledgement; always true for
	// urgent and STAT.
	AckRequired bool
	// Order marks a clinical order: refused unless the recipient is on the
	// hospital's order list (ErrNotOrderRecipient).
	Order bool
	// Role sends to whoever holds it now (conv may then be empty).
	Role string
	// Ladder overrides the policy's escalation ladder for this message; a
	// ladder with no steps means none.
	Ladder *EscalationPolicy
	// ReplyTo makes the message a reply to that message of the same
	// conversation (Client.Reply sets it, with the quoted author's name).
	ReplyTo     securestore.MessageID
	replyAuthor string
	// forward, forwardLabel make the message a forward (Client.Forward).
	forward      securestore.MessageID
	forwardLabel string
	// Patient tags the message with the patient it is about (patient.go):
	// CheckPatient's errors when it cannot be sent.
	Patient *PatientTag
	// sbar: the text is an SBAR handover's (SendSBAR), sent untrimmed.
	sbar *[4]string
}

// Sent is what SendClinical stored and whom it reached.
type Sent struct {
	ID           securestore.MessageID
	Conversation string // where the message is (the role holder's chat)
	To           string // bare JID reached (the conversation for a room)
	ToName       string
	Role         *RoleSent // set when sent to a role
	// Escalation is set when a ladder runs for the message.
	Escalation bool
}

// EscalationView is a message's ladder as the sender's thread shows it.
type EscalationView struct {
	Steps []EscalationRow
	// Active: still waiting for an acknowledgement.
	Active bool
	// NextAt is when the next step (or the "nobody acknowledged" notice) is
	// due; zero when nothing more will happen without an acknowledgement.
	NextAt time.Time
	// Exhausted: every step was tried and nobody acknowledged.
	Exhausted bool
	EndedAt   time.Time
	EndedBy   string // who acknowledged (display name)
	EndReason string // "acknowledged", "cancelled", "recalled"
	// HeldByService: the hospital's escalation service holds the ladder
	// (it takes the steps, even with this device off); Steps lists those
	// it announced (ByService), as their notices reach this device.
	HeldByService bool
	// TakenBack: the service confirmed, then did not announce a step in
	// time (ServiceGrace); this device runs the ladder again.
	TakenBack bool
}

// HandOffWait is how long a device waits for the escalation service to
// confirm a hand-off (<held/>). Without a confirmation by then the device
// runs the ladder itself, as it does when the policy names no service; a
// confirmation arriving later but before this device took its first step
// still hands the ladder over (nobody has been paged yet, and the service
// keeps the same deadlines, from when the page was handed over); one
// arriving after that is ignored: both then escalate, paging the next
// person twice, which is safer than neither.
const HandOffWait = 10 * time.Second

// ServiceGrace is how long past a step's deadline a device that handed its
// ladder to the escalation service waits for the service's notice of that
// step (or of the ladder's end) before it takes the ladder back and fires
// the step itself: the watchdog for a service that confirmed and then died
// (or both instances did). The step notice is the liveness signal because
// it is the very thing the device needs done, and it reaches the sender's
// account whenever the service acts (to every device, or from the offline
// store when it comes back). The device's step uses the same derived
// origin-ids as the service's (sync.EscalationOriginID), so a receiver keeps
// one copy if the service was only late and both fire.
const ServiceGrace = 30 * time.Second

// EscalationRow is one step taken.
type EscalationRow struct {
	Step   int // 1-based
	To     string
	ToName string
	Role   string // the role the step named, if any
	Room   bool
	At     time.Time
	Copy   securestore.MessageID // the escalated copy (0 if it failed)
	Failed string                // why the step could not reach anyone
	// ByService: the escalation service took this step (its copy came
	// from the service; Copy is 0); Via says so in the details' words.
	ByService bool
	Via       string
}

// settingLadders lists the messages whose ladders are still running.
const settingLadders = "app.ladders"

// extraLadder is the app's key on the original message: its ladder, kept
// with the message (and shredded with it by retention).
const extraLadder = "app-ladder"

const (
	endAcknowledged = "acknowledged"
	endCancelled    = "cancelled"
	endRecalled     = "recalled"
)

// ladderState is the persisted state machine of one ladder.
type ladderState struct {
	Conv      string                `json:"conv"`
	Message   securestore.MessageID `json:"msg"`
	Origin    string                `json:"origin"`
	Urgency   securestore.Urgency   `json:"urgency"`
	Steps     []EscalationStep      `json:"steps,omitempty"`
	After     time.Duration         `json:"after"`
	Started   time.Time             `json:"started"`
	Next      int                   `json:"next"`
	DueAt     time.Time             `json:"due,omitzero"`
	Reached   []reachedStep         `json:"reached,omitempty"`
	Exhausted bool                  `json:"exhausted,omitempty"`
	EndedAt   time.Time             `json:"ended,omitzero"`
	EndedBy   string                `json:"by,omitempty"`
	EndReason string                `json:"why,omitempty"`
	// HandedTo is the escalation service the ladder was handed to (the
	// policy's <escalation service/>), at HandedAt; Held says the service
	// confirmed in time (HandOffWait): this device then takes no step of
	// its own and only tracks the acknowledgement.
	HandedTo string    `json:"handed,omitempty"`
	HandedAt time.Time `json:"handed_at,omitzero"`
	Held     bool      `json:"held,omitempty"`
	// TakenBack: the service fell silent past a step's deadline
	// (ServiceGrace) and this device took the ladder back.
	TakenBack bool `json:"taken_back,omitempty"`
}

type reachedStep struct {
	Step   int                   `json:"step"`
	Target EscalationStep        `json:"target"`
	JID    string                `json:"jid,omitempty"` // resolved address
	Copy   securestore.MessageID `json:"copy,omitempty"`
	Notice securestore.MessageID `json:"notice,omitempty"`
	At     time.Time             `json:"at"`
	Failed string                `json:"failed,omitempty"`
	// Service: the escalation service took this step (from its notice);
	// its copy came from the service, so Copy is 0.
	Service bool `json:"service,omitempty"`
}

type ladderRun struct {
	ladderState
	timer    Timer
	stepping bool
}

// newLadder starts a ladder for an ack-required message sent at now. With
// no steps it only tracks the acknowledgement (the conversation stays
// pinned until it comes).
func newLadder(conv string, id securestore.MessageID, origin string, u securestore.Urgency, p EscalationPolicy, now time.Time) ladderState {
	if p.After <= 0 {
		p.After = DefaultEscalationAfter
	}
	l := ladderState{Conv: conv, Message: id, Origin: origin, Urgency: u,
		Steps: slices.Clone(p.Steps), After: p.After, Started: now}
	if len(l.Steps) > 0 {
		l.DueAt = now.Add(p.After)
	}
	return l
}

func (l *ladderState) active() bool { return l.EndedAt.IsZero() }

// due reports whether the next action is due at now.
func (l *ladderState) due(now time.Time) bool {
	return l.active() && !l.DueAt.IsZero() && !now.Before(l.DueAt)
}

// pending is the next step to take; ok is false when only the
// "nobody acknowledged" notice is left.
func (l *ladderState) pending() (step EscalationStep, n int, ok bool) {
	if l.Next < len(l.Steps) {
		return l.Steps[l.Next], l.Next + 1, true
	}
	return EscalationStep{}, 0, false
}

// record notes a step taken at now: the next one is due After later, or at
// once when this one reached nobody.
func (l *ladderState) record(r reachedStep, now time.Time) {
	l.Reached = append(l.Reached, r)
	l.Next++
	if r.Failed != "" {
		l.DueAt = now
	} else {
		l.DueAt = now.Add(l.After)
	}
}

// exhaust notes that every step was tried.
func (l *ladderState) exhaust() {
	l.Exhausted = true
	l.DueAt = time.Time{}
}

// end stops the ladder; false if it had already ended.
func (l *ladderState) end(now time.Time, by, reason string) bool {
	if !l.active() {
		return false
	}
	l.EndedAt, l.EndedBy, l.EndReason = now, by, reason
	l.DueAt = time.Time{}
	return true
}

// covers: id is the original or one of its escalated copies.
func (l *ladderState) covers(id securestore.MessageID) bool {
	if l.Message == id {
		return true
	}
	for _, r := range l.Reached {
		if r.Copy == id && id != 0 {
			return true
		}
	}
	return false
}

// waited says how long the message has waited, for the notices.
func (l *ladderState) waited(now time.Time) string {
	return shortDuration(now.Sub(l.Started))
}

func shortDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 120 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// asksAck: a message asks for an acknowledgement when its sender asks, and
// always when it is urgent or STAT (AckAlways).
func asksAck(u securestore.Urgency, asked bool) bool { return asked || AckAlways(u) }

// AckAlways reports whether a message of level u asks for an
// acknowledgement whatever its sender chose: urgent and STAT do. The
// composers tick and lock their "Ack required" box by it.
func AckAlways(u Urgency) bool { return u >= securestore.UrgencyHigh }

// send is Client.SendClinical.
func (cl *clinical) send(conv, text string, o ClinicalOptions) (Sent, error) {
	if o.sbar == nil { // an SBAR handover is sent exactly as typed
		text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	}
	if text == "" {
		return Sent{}, ErrEmptyMessage
	}
	var patient *sync.Patient
	if o.Patient != nil {
		p, err := CheckPatient(*o.Patient)
		if err != nil {
			return Sent{}, err
		}
		patient = (*sync.Patient)(&p)
	}
	if len([]rune(text)) > MaxMessageRunes {
		return Sent{}, ErrMessageTooLong
	}
	if o.Urgency > securestore.UrgencyCritical {
		return Sent{}, fmt.Errorf("%w: urgency %d", securestore.ErrInvalid, o.Urgency)
	}
	st, s, err := cl.host.sess()
	if err != nil {
		return Sent{}, err
	}
	out := Sent{}
	role := strings.TrimSpace(o.Role)
	if role != "" {
		rs, err := cl.reachRole(st, role)
		if err != nil {
			return Sent{}, err
		}
		out.Role = &rs
		conv = rs.To
		role = rs.Role // the schedule's spelling, not the sender's typing
	}
	jid, err := chatJID(conv)
	if err != nil {
		return Sent{}, err
	}
	if o.Order {
		if err := cl.host.CheckOrderRecipient(jid); err != nil {
			return Sent{}, cl.host.refuseOrder(err, jid)
		}
	}
	ack := asksAck(o.Urgency, o.AckRequired)
	cl.host.Touch()
	m, err := s.Send(jid, text, sync.SendOptions{Urgency: o.Urgency, AckRequired: ack, Order: o.Order, Role: role,
		ReplyTo: o.ReplyTo, ReplyAuthor: o.replyAuthor, Forward: o.forward, ForwardLabel: o.forwardLabel,
		Patient: patient, SBAR: o.sbar})
	if err != nil {
		return Sent{}, mapErr(err)
	}
	out.ID, out.Conversation, out.To = m.ID, m.ConversationID, m.ConversationID
	out.ToName = memberName(st, m.ConversationID, nil)
	if cv, err := st.Conversation(m.ConversationID); err == nil && cv.Kind == securestore.KindRoom {
		out.ToName = roomLabel(st, m.ConversationID)
	}
	if out.Role != nil {
		out.Role.Message = m.ID
	}
	if ack {
		pol := cl.host.effectivePolicy().Escalation
		if o.Ladder != nil {
			pol = *o.Ladder
			if pol.After <= 0 {
				pol.After = cl.host.effectivePolicy().Escalation.After
			}
		}
		l := newLadder(m.ConversationID, m.ID, m.OriginID, o.Urgency, pol, cl.clock.Now())
		cl.handOff(st, s, &l, text)
		cl.startLadder(st, l)
		out.Escalation = len(l.Steps) > 0
	}
	return out, nil
}

// sendToRole is Client.SendToRole.
func (cl *clinical) sendToRole(role, text string, o ClinicalOptions) (Sent, error) {
	if strings.TrimSpace(role) == "" {
		return Sent{}, fmt.Errorf("%w: no role named", ErrRoleUnstaffed)
	}
	o.Role = role
	return cl.send("", text, o)
}

// reachRole resolves role now, saying whom it reached. The sender is never
// the one reached: the holder paging their own role (or a ladder step naming
// a role the sender holds) wants cover, so the shift's backup answers.
func (cl *clinical) reachRole(st *securestore.Store, role string) (RoleSent, error) {
	now := cl.clock.Now()
	sh, who, backup, err := resolveShift(cl.host.schedule(), role, now, cl.host.Account())
	if err != nil {
		return RoleSent{}, err
	}
	return RoleSent{Role: sh.Role, To: who, ToName: memberName(st, who, nil), Backup: backup,
		Until: sh.Until, Resolved: now}, nil
}

func (cl *clinical) startLadder(st *securestore.Store, l ladderState) {
	if !cl.follow(st) {
		return
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.st != st {
		return
	}
	r := &ladderRun{ladderState: l}
	cl.ladders[l.Message] = r
	cl.saveLadderLocked(r)
	cl.saveLadderIndexLocked()
	cl.scheduleLadderLocked(r, cl.gen)
	cl.changes.push(Change{Kind: InboxChanged})
	cl.changes.push(Change{Kind: ConversationChanged, Conversation: l.Conv})
}

func (cl *clinical) scheduleLadderLocked(r *ladderRun, gen int) {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if !r.active() || r.DueAt.IsZero() {
		return
	}
	id := r.Message
	if r.Held {
		// A ladder the escalation service holds takes no step here, unless
		// the service's notice of the step due does not come in time.
		d := max(r.DueAt.Add(ServiceGrace).Sub(cl.clock.Now()), 0)
		r.timer = cl.clock.AfterFunc(d, func() { cl.ladderWatch(gen, id) })
		return
	}
	d := max(r.DueAt.Sub(cl.clock.Now()), 0)
	r.timer = cl.clock.AfterFunc(d, func() { cl.ladderDue(gen, id) })
}

// ladderWatch: the escalation service holds the ladder of message id, and
// its notice of the step due (or of the ladder's end) has not come by the
// deadline plus ServiceGrace. The device takes the ladder back and fires
// that step now; the rest of the ladder runs here.
func (cl *clinical) ladderWatch(gen int, id securestore.MessageID) {
	cl.mu.Lock()
	r := cl.ladders[id]
	now := cl.clock.Now()
	if gen != cl.gen || r == nil || !r.Held || !r.active() || r.DueAt.IsZero() || now.Before(r.DueAt.Add(ServiceGrace)) {
		cl.mu.Unlock()
		return
	}
	r.Held, r.TakenBack = false, true
	r.DueAt = now
	cl.saveLadderLocked(r)
	cl.changes.push(Change{Kind: ConversationChanged, Conversation: r.Conv})
	cl.mu.Unlock()
	cl.log.Warn("app: the escalation service did not announce the step due; this device takes the ladder back", "step", r.Next+1)
	cl.ladderDue(gen, id)
}

// saveLadderLocked writes the ladder onto its message (cl.mu held).
func (cl *clinical) saveLadderLocked(r *ladderRun) {
	b, _ := json.Marshal(r.ladderState)
	if err := cl.st.UpdateExtra(r.Message, map[string]string{extraLadder: string(b)}); err != nil {
		cl.log.Warn("app: saving an escalation ladder", "err", err)
	}
}

// saveLadderIndexLocked writes the list of running ladders (cl.mu held).
func (cl *clinical) saveLadderIndexLocked() {
	ids := make([]securestore.MessageID, 0, len(cl.ladders))
	for id := range cl.ladders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b, _ := json.Marshal(ids)
	if err := cl.st.SetSetting(settingLadders, b); err != nil {
		cl.log.Warn("app: saving the ladder list", "err", err)
	}
}

// loadLaddersLocked restores the running ladders (cl.mu held) and returns
// the ones already due, which the caller runs at once, and the messages of
// those whose page is recalled, which the caller ends as recalled (a recall
// the store applied whose event the app never handled: killed, or locked,
// in between; TestRecalledLadderNotResumed). Neither is scheduled.
func (cl *clinical) loadLaddersLocked(st *securestore.Store, gen int) (due []securestore.MessageID, recalled []securestore.Message) {
	b, err := st.Setting(settingLadders)
	if err != nil {
		if !errors.Is(err, securestore.ErrNotFound) {
			cl.log.Warn("app: loading ladders", "err", err)
		}
		return nil, nil
	}
	var ids []securestore.MessageID
	if err := json.Unmarshal(b, &ids); err != nil {
		cl.log.Warn("app: ladder list unreadable; dropped", "err", err)
		return nil, nil
	}
	now := cl.clock.Now()
	for _, id := range ids {
		m, err := st.Message(id)
		if err != nil {
			continue // purged
		}
		var l ladderState
		if json.Unmarshal([]byte(m.Extra[extraLadder]), &l) != nil || !l.active() {
			continue
		}
		r := &ladderRun{ladderState: l}
		cl.ladders[id] = r
		if m.Extra[extraRetracted] != "" {
			recalled = append(recalled, m)
			continue
		}
		if r.Held && r.DueAt.Add(ServiceGrace).Before(now) {
			// Back after a while away: the service's notices of what it
			// did meanwhile come with the catch-up; the watch waits a
			// grace for them before taking the ladder back.
			r.DueAt = now
		}
		if l.due(now) && !r.Held {
			due = append(due, id)
		} else {
			cl.scheduleLadderLocked(r, gen)
		}
	}
	return due, recalled
}

// ladderDue takes the ladder's next step.
func (cl *clinical) ladderDue(gen int, id securestore.MessageID) {
	cl.mu.Lock()
	r := cl.ladders[id]
	if gen != cl.gen || r == nil || r.stepping || r.Held || !r.due(cl.clock.Now()) {
		cl.mu.Unlock()
		return
	}
	r.stepping = true
	l := r.ladderState
	l.Reached = slices.Clone(l.Reached)
	st, s := cl.st, cl.s
	cl.mu.Unlock()

	now := cl.clock.Now()
	step, n, ok := l.pending()
	var rs reachedStep
	if ok {
		rs = cl.escalate(st, s, l, step, n, now)
	} else {
		cl.postNotice(s, l, len(l.Steps), "", "", reasonExhausted,
			fmt.Sprintf("Not acknowledged by anyone on the escalation ladder after %s", l.waited(now)))
	}

	cl.mu.Lock()
	defer cl.mu.Unlock()
	r.stepping = false
	if gen != cl.gen {
		return
	}
	if cl.ladders[id] != r {
		// Acknowledged (or cancelled) while this step was sending: keep
		// the step on record and tell its target no action is needed.
		if ok && rs.Copy != 0 && !r.active() {
			r.Reached = append(r.Reached, rs)
			cl.saveLadderLocked(r)
			if r.EndReason != endRecalled {
				go cl.closeStep(s, r.ladderState, rs.JID)
			}
		}
		return
	}
	if ok {
		r.record(rs, now)
	} else {
		r.exhaust()
	}
	cl.saveLadderLocked(r)
	if r.active() {
		cl.scheduleLadderLocked(r, gen)
	}
	cl.changes.push(Change{Kind: ConversationChanged, Conversation: l.Conv})
	cl.changes.push(Change{Kind: InboxChanged})
	cl.log.Info("app: escalation step", "step", n, "failed", rs.Failed != "")
}

// escalate takes step n: resolve the target, send the escalated copy, post
// the notice into the original thread.
func (cl *clinical) escalate(st *securestore.Store, s *sync.Session, l ladderState, step EscalationStep, n int, now time.Time) reachedStep {
	rs := reachedStep{Step: n, Target: step, At: now}
	reason := "not acknowledged in " + l.waited(now)
	var label string
	switch {
	case step.Role != "":
		who, err := cl.host.ResolveRole(step.Role)
		if err != nil {
			rs.Failed = "no one holds this role now"
			cl.postNotice(s, l, n, "", step.Role, rs.Failed, fmt.Sprintf("Could not escalate to %s: %s", step.Role, rs.Failed))
			return rs
		}
		rs.JID = who
		label = fmt.Sprintf("%s (%s)", memberName(st, who, nil), step.Role)
	case step.Room != "":
		room, err := chatJID(step.Room)
		if err != nil {
			rs.Failed = "not a room address"
			cl.postNotice(s, l, n, "", "", rs.Failed, "Could not escalate to a room: "+rs.Failed)
			return rs
		}
		rs.JID = room
		label = roomLabel(st, room)
		if cv, err := st.Conversation(room); err != nil || cv.Kind != securestore.KindRoom || !s.InRoom(room) {
			// Joining never creates a room: a mistyped or deleted room fails
			// here, and the ladder moves on to the next step at once.
			ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
			err := s.JoinRoom(ctx, room, localPart(cl.host.Account()))
			cancel()
			if err != nil {
				rs.Failed = "could not join the room"
				if errors.Is(err, sync.ErrRoomNotFound) {
					rs.Failed = "there is no such room"
				}
				cl.log.Warn("app: escalation step to a room failed", "room", room, "err", err)
				cl.postNotice(s, l, n, room, "", rs.Failed, fmt.Sprintf("Could not escalate to %s: %s", label, rs.Failed))
				return rs
			}
		}
	default:
		to, err := chatJID(step.To)
		if err != nil {
			rs.Failed = "not an address"
			cl.postNotice(s, l, n, "", "", rs.Failed, "Could not escalate: "+rs.Failed)
			return rs
		}
		rs.JID = to
		label = memberName(st, to, nil)
	}
	orig, err := st.Message(l.Message)
	if err != nil {
		rs.Failed = "the message is gone"
		return rs
	}
	esc := &sync.Escalation{Of: l.Origin, Step: n, To: rs.JID, Role: step.Role, Reason: reason}
	cp, err := s.Send(rs.JID, orig.Body, sync.SendOptions{Urgency: l.Urgency, AckRequired: true, Escalation: esc,
		OriginID: cl.ladderOriginID(l, fmt.Sprintf("copy %d", n))})
	if err != nil {
		rs.Failed = "could not send"
		cl.log.Warn("app: escalated copy not stored", "err", err)
		cl.postNotice(s, l, n, rs.JID, step.Role, rs.Failed, fmt.Sprintf("Could not escalate to %s: %s", label, rs.Failed))
		return rs
	}
	rs.Copy = cp.ID
	rs.Notice = cl.postNotice(s, l, n, rs.JID, step.Role, reason, fmt.Sprintf("Escalated to %s: %s", label, reason))
	return rs
}

func roomLabel(st *securestore.Store, room string) string {
	if cv, err := st.Conversation(room); err == nil {
		return conversationTitle(st, cv, nil)
	}
	return localPart(room)
}

// postNotice sends a ladder notice into the original thread, so everyone in
// it sees the step.
func (cl *clinical) postNotice(s *sync.Session, l ladderState, step int, to, role, reason, text string) securestore.MessageID {
	what := fmt.Sprintf("step %d to %s", max(step, 1), l.Conv)
	if reason == reasonExhausted {
		what = "exhausted to " + l.Conv
	}
	m, err := s.Send(l.Conv, text, sync.SendOptions{Escalation: &sync.Escalation{Of: l.Origin, Step: max(step, 1), To: to, Role: role, Reason: reason},
		OriginID: cl.ladderOriginID(l, what)})
	if err != nil {
		cl.log.Warn("app: escalation notice not stored", "err", err)
		return 0
	}
	return m.ID
}

// reasonExhausted is the reason on the notice that nobody on the ladder
// acknowledged (the service's words too).
const reasonExhausted = "nobody on the ladder acknowledged"

// ladderOriginID is the origin-id of one message of this device's ladder:
// the one the escalation service derives for the same message, so a
// receiver keeps one copy when both fire a step (sync.EscalationOriginID).
// Only a ladder handed to a service gets one: a ladder the device runs
// alone keeps fresh ids.
func (cl *clinical) ladderOriginID(l ladderState, what string) string {
	if l.HandedTo == "" {
		return ""
	}
	return sync.EscalationOriginID(cl.host.Account(), l.Origin, what)
}

// ladderAcknowledged ends the ladder covering id: someone reached (by the
// original or an escalated copy) acknowledged. Everyone who got a copy
// learns that no action is needed, so their alerts stop.
func (cl *clinical) ladderAcknowledged(st *securestore.Store, id securestore.MessageID, by string, at time.Time) {
	if at.IsZero() {
		at = cl.clock.Now()
	}
	cl.endLadder(st, func(l *ladderState) bool { return l.covers(id) }, responderName(st, by), by, endAcknowledged, at)
}

// endLadder ends the matching running ladders; byJID is who acknowledged
// ("" when not an acknowledgement), told to the escalation service.
func (cl *clinical) endLadder(st *securestore.Store, match func(*ladderState) bool, by, byJID, reason string, at time.Time) {
	ended, s := cl.endLadders(st, match, by, reason, at)
	for _, l := range ended {
		cl.changes.push(Change{Kind: ConversationChanged, Conversation: l.Conv})
		cl.log.Info("app: escalation ended", "reason", reason, "steps", len(l.Reached))
		if l.HandedTo != "" && s != nil {
			// The service holds it: it tells everyone it reached. An
			// acknowledgement seen here (a text reply from a client
			// without Rounds reaches only the sender) or a cancel stops it.
			acked := ""
			if reason == endAcknowledged {
				acked = byJID
			}
			if err := s.StopHandOff(l.HandedTo, l.Origin, acked); err != nil {
				cl.log.Warn("app: the escalation service was not told the ladder ended", "err", err)
			}
		}
		if reason == endRecalled {
			continue // the copies are recalled instead
		}
		// Everyone the ladder reached, and the original thread, learn that
		// it is over: their alerts for it stop.
		targets := []string{}
		for _, r := range l.Reached {
			if (r.Copy != 0 || (r.Service && r.JID != "" && r.Failed == "")) && !slices.Contains(targets, r.JID) {
				targets = append(targets, r.JID)
			}
		}
		if len(targets) > 0 && !slices.Contains(targets, l.Conv) {
			targets = append(targets, l.Conv)
		}
		for _, to := range targets {
			cl.closeStep(s, l, to)
		}
	}
	if len(ended) > 0 {
		cl.changes.push(Change{Kind: InboxChanged})
	}
}

// endLadders ends the running ladders that match, saving each, and returns
// them with the Session to tell their targets on (nil when not following
// st).
func (cl *clinical) endLadders(st *securestore.Store, match func(*ladderState) bool, by, reason string, at time.Time) ([]ladderState, *sync.Session) {
	if !cl.follow(st) {
		return nil, nil
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var ended []ladderState
	for id, r := range cl.ladders {
		if !match(&r.ladderState) || !r.end(at, by, reason) {
			continue
		}
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		cl.saveLadderLocked(r)
		delete(cl.ladders, id)
		ended = append(ended, r.ladderState)
	}
	if len(ended) > 0 {
		cl.saveLadderIndexLocked()
	}
	return ended, cl.s
}

// closeStep tells to (a target reached, or the original thread) that the
// ladder is over: a closing notice, which ends their alerts for it.
func (cl *clinical) closeStep(s *sync.Session, l ladderState, to string) {
	if s == nil {
		return
	}
	text := "Acknowledged by " + l.EndedBy + " at " + threadTime(l.EndedAt, cl.clock.Now()) + ". No action needed."
	if l.EndReason == endCancelled {
		text = "The sender stopped the escalation at " + threadTime(l.EndedAt, cl.clock.Now()) + ". No action needed."
	}
	// The wire numbers steps from 1: the closing notice carries the last
	// step reached and, as its reason, the machine word "acknowledged" or
	// "cancelled" (the body says it in words).
	tag := &sync.Escalation{Of: l.Origin, Step: max(len(l.Reached), 1), To: to, Reason: l.EndReason}
	if _, err := s.Send(to, text, sync.SendOptions{Escalation: tag, OriginID: cl.ladderOriginID(l, "closed to "+to)}); err != nil {
		cl.log.Warn("app: escalation closing notice not stored", "err", err)
	}
}

// cancelEscalation is Client.CancelEscalation.
func (cl *clinical) cancelEscalation(conv string, id securestore.MessageID) error {
	st, err := cl.host.unlocked()
	if err != nil {
		return err
	}
	m, err := st.Message(id)
	if err != nil || m.ConversationID != jid.Bare(conv) {
		return ErrNoSuchMessage
	}
	cl.endLadder(st, func(l *ladderState) bool { return l.Message == id }, "", "", endCancelled, cl.clock.Now())
	return nil
}

// ladderRecalled: our message m was recalled; its running ladder ends
// and the escalated copies it sent are recalled too.
func (cl *clinical) ladderRecalled(st *securestore.Store, s *sync.Session, m securestore.Message) {
	if !cl.follow(st) {
		return
	}
	id := m.ID
	var copies []reachedStep
	cl.mu.Lock()
	if r := cl.ladders[id]; r != nil {
		copies = append(copies, r.Reached...)
	} else if v := m.Extra[extraLadder]; v != "" {
		var l ladderState
		if json.Unmarshal([]byte(v), &l) == nil {
			copies = l.Reached
		}
	}
	cl.mu.Unlock()
	cl.endLadder(st, func(l *ladderState) bool { return l.Message == id }, "", "", endRecalled, cl.clock.Now())
	for _, r := range copies {
		if r.Copy == 0 || s == nil {
			continue
		}
		if cp, err := st.Message(r.Copy); err == nil && cp.Extra[extraRetracted] == "" {
			if err := s.Retract(cp.ConversationID, r.Copy); err != nil {
				cl.log.Warn("app: recalling an escalated copy", "err", err)
			}
		}
	}
}

// escalationClosed: an incoming notice that a ladder is over (reason
// "acknowledged" or "cancelled") ends our alerts on the original and the
// escalated copies it covered.
func (cl *clinical) escalationClosed(msgs []securestore.Message) {
	cl.serviceSteps(msgs)
	for _, m := range msgs {
		of := m.Extra[extraEscalationOf]
		if of == "" || m.Direction != securestore.Incoming || ackRequired(m) || m.Urgency >= securestore.UrgencyHigh {
			continue
		}
		if r := m.Extra[extraEscalationReason]; r != endAcknowledged && r != endCancelled {
			continue // a step notice: the ladder goes on
		}
		conv := m.ConversationID
		// The original's sender closes a ladder it took back from the
		// escalation service: the service's copies of it (in the
		// conversation with the service, naming this sender) stop too.
		svc, sender := cl.host.effectivePolicy().Escalation.Service, m.Extra[securestore.ExtraSender]
		cl.mu.Lock()
		st := cl.st
		cl.mu.Unlock()
		// A ladder is its sender's and origin-id's (the origin-id is the
		// sender's choice: another sender's ladder may name the same one).
		// The copies in the conversation with the service belong to the
		// ladder whose sender they name: the service's closing notice ends
		// those naming the sender it names; the original's sender's own
		// notice, those naming it.
		ladderSender := sender
		if svc != "" && strings.EqualFold(sender, svc) {
			ladderSender = m.Extra[sync.ExtraEscalationSender]
		}
		serviceCopy := func(a *alertRun) bool {
			if svc == "" || st == nil || ladderSender == "" || !strings.EqualFold(a.Conversation, svc) || a.escalationOf != of {
				return false
			}
			cp, err := st.Message(a.Message)
			return err == nil && strings.EqualFold(cp.Extra[sync.ExtraEscalationSender], ladderSender)
		}
		cl.endAlerts(func(a *alertRun) bool {
			if svc != "" && strings.EqualFold(a.Conversation, svc) {
				return serviceCopy(a)
			}
			return a.Conversation == conv && (a.escalationOf == of || a.origin == of)
		})
		cl.serviceClosed(m, of)
	}
}

// serviceSteps: the escalation service that holds one of our ladders
// announces a step it took (its notice into the original thread, which
// reaches the sender's account too): the ladder's record here moves on, and
// the watchdog (ladderWatch) now waits for the next step's notice. A step
// notice for a ladder handed over but never confirmed (the <held/> was
// lost) counts as the confirmation when this device has paged nobody yet,
// as a late <held/> does (ladderHeld). Once this device has paged someone
// itself (it took the ladder back, or the confirmation came too late) the
// service's notices change nothing: both run the ladder to its end, and each
// receiver keeps one copy of a step (sync.EscalationOriginID). The engine
// filed the notice into our thread only if it came from the service the
// policy names; the ladder must also have been handed to it.
func (cl *clinical) serviceSteps(msgs []securestore.Message) {
	for _, m := range msgs {
		of, from := m.Extra[extraEscalationOf], m.Extra[securestore.ExtraSender]
		reason := m.Extra[extraEscalationReason]
		if of == "" || from == "" || m.Direction != securestore.Incoming || ackRequired(m) ||
			reason == endAcknowledged || reason == endCancelled {
			continue
		}
		n, err := strconv.Atoi(m.Extra[extraEscalStep])
		if err != nil || n < 1 {
			continue
		}
		cl.serviceStep(m, of, from, n, reason)
	}
}

func (cl *clinical) serviceStep(m securestore.Message, of, from string, n int, reason string) {
	me := cl.host.Account()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.st == nil {
		return
	}
	// The next step is expected After from when this device learned of
	// this one (not the notice's stamp): a notice delivered late, after
	// this device was offline, only moves the watch later, never makes the
	// device take back a ladder the service is still running on time.
	at := cl.clock.Now()
	for _, r := range cl.ladders {
		if !ownServiceNotice(&r.ladderState, m, of, from, me) || !r.active() || r.stepping {
			continue
		}
		if !r.Held && slices.ContainsFunc(r.Reached, func(rs reachedStep) bool { return !rs.Service }) {
			// This device has paged someone itself (it took the ladder
			// back, or the confirmation came too late): both run it to
			// the end, and each receiver keeps one copy of a step.
			return
		}
		switch {
		case reason == reasonExhausted:
			if r.Next < len(r.Steps) {
				return // the service's ladder is shorter than ours: ours goes on
			}
			r.exhaust()
		case n > r.Next && n <= len(r.Steps):
			for k := r.Next + 1; k <= n; k++ {
				rs := reachedStep{Step: k, Target: r.Steps[k-1], At: at, Service: true}
				if k == n {
					rs.JID = m.Extra[sync.ExtraEscalationTo]
				}
				if rs.JID == "" {
					rs.Failed = reason
				}
				r.Reached = append(r.Reached, rs)
			}
			r.Next = n
			r.DueAt = at.Add(r.After)
			if r.Reached[len(r.Reached)-1].Failed != "" {
				r.DueAt = at // the service moves on at once
			}
			r.Held = true
		default:
			return // a step this device (or the service) announced already
		}
		cl.saveLadderLocked(r)
		cl.scheduleLadderLocked(r, cl.gen)
		cl.changes.push(Change{Kind: ConversationChanged, Conversation: r.Conv})
		return
	}
}

// serviceClosed: the escalation service that holds one of our ladders says
// it is over (someone it reached acknowledged, or it was stopped): the
// ladder ends here too, so the page stops waiting in the sender's view.
// The engine filed the notice into our thread only if it came from the
// service the policy names; the ladder must also have been handed to it.
func (cl *clinical) serviceClosed(m securestore.Message, of string) {
	from, me := m.Extra[securestore.ExtraSender], cl.host.Account()
	cl.mu.Lock()
	st := cl.st
	cl.mu.Unlock()
	if st == nil || from == "" {
		return
	}
	ended, _ := cl.endLadders(st, func(l *ladderState) bool {
		return ownServiceNotice(l, m, of, from, me)
	}, "", m.Extra[extraEscalationReason], m.Timestamp)
	for _, l := range ended {
		cl.changes.push(Change{Kind: ConversationChanged, Conversation: l.Conv})
		cl.changes.push(Change{Kind: InboxChanged})
	}
}

// ownServiceNotice: m (of origin-id of, from from) is the notice of the
// service that holds l about l itself. The service keeps a ladder by its
// sender and origin-id, and the origin-id is the sender's choice: another
// account of the domain may hand over a ladder of its own naming the same
// origin-id and this account as its thread. Its notices come from the
// service too, but name that account as the original's sender (and the
// engine files them into the thread with it), so they neither move,
// confirm nor end this device's ladder.
// me is this account (the host is asked before clinical.mu is taken).
func ownServiceNotice(l *ladderState, m securestore.Message, of, from, me string) bool {
	return l.HandedTo != "" && l.Origin == of && strings.EqualFold(l.HandedTo, from) &&
		strings.EqualFold(m.Extra[sync.ExtraEscalationSender], me) &&
		strings.EqualFold(m.ConversationID, l.Conv)
}

// ladderActiveConversations maps each conversation with a running ladder
// to the highest level among its waiting messages.
func (cl *clinical) ladderActiveConversations() map[string]securestore.Urgency {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := map[string]securestore.Urgency{}
	for _, r := range cl.ladders {
		out[r.Conv] = max(out[r.Conv], r.Urgency)
	}
	return out
}

// escalationView is the ladder of m for its row (running: from memory;
// ended: from the message).
func (cl *clinical) escalationView(st *securestore.Store, m securestore.Message, names contactNames) *EscalationView {
	l, r := cl.runningLadder(st, m.ID)
	if r == nil {
		s := m.Extra[extraLadder]
		if s == "" || json.Unmarshal([]byte(s), &l) != nil {
			return nil
		}
	}
	v := &EscalationView{Active: l.active(), NextAt: l.DueAt, Exhausted: l.Exhausted, HeldByService: l.Held, TakenBack: l.TakenBack && !l.Held,
		EndedAt: l.EndedAt, EndedBy: l.EndedBy, EndReason: l.EndReason}
	for _, rs := range l.Reached {
		row := EscalationRow{Step: rs.Step, To: rs.JID, Role: rs.Target.Role, Room: rs.Target.Room != "",
			At: rs.At, Copy: rs.Copy, Failed: rs.Failed, ByService: rs.Service}
		if rs.Service {
			row.Via = "by the escalation service"
		}
		switch {
		case rs.JID == "":
		case row.Room:
			row.ToName = roomLabel(st, rs.JID)
		default:
			row.ToName = memberName(st, rs.JID, names)
		}
		v.Steps = append(v.Steps, row)
	}
	return v
}

// runningLadder copies the running ladder of message id (nil run when none;
// an empty copy when it runs over another store than st).
func (cl *clinical) runningLadder(st *securestore.Store, id securestore.MessageID) (ladderState, *ladderRun) {
	var l ladderState
	cl.mu.Lock()
	defer cl.mu.Unlock()
	r := cl.ladders[id]
	if r != nil && cl.st == st {
		l = r.ladderState
		l.Reached = slices.Clone(l.Reached)
	}
	return l, r
}

// responderName names whoever responded: a room member by nick, anyone
// else by roster name.
func responderName(st *securestore.Store, from string) string {
	if j, err := jid.Parse(from); err == nil && j.Resource != "" {
		if cv, err := st.Conversation(j.Bare().String()); err == nil && cv.Kind == securestore.KindRoom {
			return j.Resource
		}
	}
	return memberName(st, from, nil)
}

// handOff hands the ladder of a page to the escalation service the policy
// names (docs/PROTOCOL.md, "Server-side escalation"): a copy of the page
// with the plan goes to the service, and the device waits HandOffWait for
// its <held/>. Rooms, ladders without steps, and waits the wire cannot
// carry (under 30 s) stay on the device.
func (cl *clinical) handOff(st *securestore.Store, s *sync.Session, l *ladderState, text string) {
	svc := cl.host.effectivePolicy().Escalation.Service
	after := int(l.After / time.Second)
	if svc == "" || len(l.Steps) == 0 || after < 30 || after > 86400 {
		return
	}
	if cv, err := st.Conversation(l.Conv); err == nil && cv.Kind == securestore.KindRoom {
		return
	}
	plan := &sync.EscalationPlan{ID: l.Origin, To: l.Conv, AfterSeconds: after}
	for _, st := range l.Steps {
		plan.Steps = append(plan.Steps, sync.EscalationStep{To: st.To, Role: st.Role, Room: st.Room})
	}
	if _, err := s.Send(svc, text, sync.SendOptions{Urgency: l.Urgency, AckRequired: true, Plan: plan}); err != nil {
		cl.log.Warn("app: hand-off to the escalation service not stored; this device runs the ladder", "err", err)
		return
	}
	l.HandedTo, l.HandedAt = svc, cl.clock.Now()
}

// ladderHeld: the escalation service confirmed it holds the ladder of the
// message with origin-id of. Before this device took a step (even after
// HandOffWait) the device stops stepping; later, it keeps its own ladder.
func (cl *clinical) ladderHeld(e sync.LadderHeld) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, r := range cl.ladders {
		if r.Origin != e.Of || !strings.EqualFold(r.HandedTo, e.From) || r.Held || !r.active() {
			continue
		}
		if len(r.Reached) > 0 {
			// This device has paged someone already: the service pages
			// them too (a double page, safer than a lost one).
			cl.log.Warn("app: the escalation service confirmed after this device took a step; both run the ladder")
			return
		}
		r.Held = true
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		cl.saveLadderLocked(r)
		cl.changes.push(Change{Kind: ConversationChanged, Conversation: r.Conv})
		cl.log.Info("app: the escalation service holds the ladder")
		return
	}
}
