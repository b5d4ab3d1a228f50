package app

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// An urgent message must not be missed by a nurse who was with a patient
// when it arrived: it alerts again every policy interval until it is read,
// and for acknowledgement-required levels (urgent and STAT from Rounds)
// until someone on this account acknowledges it, here or on another device.

// Alert is an incoming urgent message still demanding attention. The UI
// shows it as a distinct alert (modal on desktop) with quick responses.
type Alert struct {
	Conversation string
	Message      securestore.MessageID
	From         string // sender's display name
	// FromAvatar and FromTitle stand for the sender as everywhere else: their
	// avatar (initials on their address's colour) and the job title their
	// own card claims ("" in rooms and for people without a card).
	FromAvatar Avatar
	FromTitle  string
	Title      string // conversation title (the room's name in rooms)
	// Role is the on-call role the page reached this user as ("Cardiology
	// on call": addressed to the role, or escalated to it), "" when it was
	// sent by name: whoever holds the pager must see it came to them as the
	// role.
	Role    string
	Urgency securestore.Urgency
	// AckRequired: only an acknowledgement ends the alert; reading it does not.
	AckRequired bool
	// Repeats counts the alerts sounded after the first; no more than
	// MaxRepeats (policy) are sounded, but an unacknowledged alert stays
	// listed (and its conversation pinned) after the last.
	Repeats, MaxRepeats int
	Since               time.Time // when it was raised
	NextAt              time.Time // next repeat; zero when no more will sound
}

// settingAlerts holds the open alerts so they survive a lock or restart.
const settingAlerts = "app.alerts"

// clinical is the clinical service: alerts on incoming urgent messages
// (alerts.go), escalation ladders of outgoing ones (escalation.go) and
// quick responses (responses.go). It has its own lock, cl.mu, which guards
// everything below it, so timers and the event loop never wait on the
// Client's. It follows the open store itself (follow) and reaches the rest
// of the Client only through clinicalHost. Client keeps one-line facades
// for the screens and the headless tools (clinicalhost.go).
//
// Locking: cl.mu is never held while calling clinicalHost (whose methods
// take Client.mu), nor while sending; Client.mu may be held when taking
// cl.mu, never the reverse.
type clinical struct {
	log     *slog.Logger
	changes *changeQueue // the Client's: screens hear of alerts changing
	clock   Clock
	sound   Sound
	host    clinicalHost

	mu  gosync.Mutex
	gen int // bumped at every start and stop: a stale timer does nothing
	st  *securestore.Store
	s   *sync.Session

	alerts  map[securestore.MessageID]*alertRun
	ladders map[securestore.MessageID]*ladderRun
}

// clinicalHost is what clinical needs from the rest of the Client, by
// concern. Its methods take Client.mu: call them without cl.mu held.
type clinicalHost interface {
	// The session (client.go): the open store and its Session (nil, nil
	// when locked), or them with ErrLocked; the account; activity, which
	// defers auto-lock (lock.go).
	openSession() (*securestore.Store, *sync.Session)
	sess() (*securestore.Store, *sync.Session, error)
	unlocked() (*securestore.Store, error)
	Account() string
	Touch()
	// People (people.go): how the screens show someone.
	Person(address string) Person
	avatarOf(st *securestore.Store, name, bare string) Avatar
	// Policy, on-call and orders (policy.go, oncall.go, orders.go).
	effectivePolicy() Policy
	schedule() []Shift
	ResolveRole(role string) (string, error)
	CheckOrderRecipient(conv string) error
	refuseOrder(err error, conv string) error
	// Attention and notifications (notify.go): whether the user is
	// looking at conv; showing an alert's notification.
	viewing(conv string) bool
	notifyAlert(st *securestore.Store, cv securestore.Conversation, m securestore.Message, a Alert)
	// Messages (views.go, actions.go): marking an answered page read.
	FirstUnread(conv string) (securestore.MessageID, bool)
	MarkShown(conv string, upTo securestore.MessageID) error
	// The audit log (audit.go).
	auditWith(st *securestore.Store, kind, detail string)
}

type alertRun struct {
	Alert
	pending      bool   // the first ring waits for catch-up to settle
	origin       string // the message's origin-id
	escalationOf string // the message is an escalated copy of this origin-id
	timer        Timer
}

// storedAlert is an alert's persisted form (names are looked up again).
type storedAlert struct {
	Conversation string                `json:"conv"`
	Message      securestore.MessageID `json:"msg"`
	Urgency      securestore.Urgency   `json:"urgency"`
	AckRequired  bool                  `json:"ack,omitempty"`
	Repeats      int                   `json:"repeats"`
	MaxRepeats   int                   `json:"max"`
	Since        time.Time             `json:"since"`
	NextAt       time.Time             `json:"next,omitzero"`
	Pending      bool                  `json:"pending,omitempty"`
	Origin       string                `json:"origin,omitempty"`
	EscalationOf string                `json:"esc,omitempty"`
}

// urgentRepeat is the policy's repeat interval and count.
func (cl *clinical) urgentRepeat() (time.Duration, int) {
	p := cl.host.effectivePolicy()
	return p.UrgentRepeat, p.UrgentRepeatCount
}

// follow binds the clinical state to the open store st, loading the
// alerts and ladders saved before the last lock or restart and scheduling
// them on the Clock (due ones fire at once). Every clinical entry point
// calls it, so the state follows unlocks without a hook in the lifecycle;
// timers of an earlier unlock see another generation and do nothing. It
// reports false when st is no longer the open store.
func (cl *clinical) follow(st *securestore.Store) bool {
	open, s := cl.host.openSession()
	if open != st || st == nil {
		return false
	}
	cl.mu.Lock()
	if cl.st == st {
		cl.mu.Unlock()
		return true
	}
	cl.stopLocked()
	cl.gen++
	cl.st, cl.s = st, s
	cl.alerts = map[securestore.MessageID]*alertRun{}
	cl.ladders = map[securestore.MessageID]*ladderRun{}
	gen := cl.gen
	cl.loadAlertsLocked(st, gen)
	due, recalled := cl.loadLaddersLocked(st, gen)
	cl.mu.Unlock()
	cl.changes.push(Change{Kind: AlertsChanged})
	for _, id := range due {
		go cl.ladderDue(gen, id)
	}
	for _, m := range recalled {
		go cl.ladderRecalled(st, s, m)
	}
	return true
}

func (cl *clinical) stop() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.stopLocked()
}

func (cl *clinical) stopLocked() {
	cl.gen++
	for _, a := range cl.alerts {
		if a.timer != nil {
			a.timer.Stop()
		}
	}
	for _, l := range cl.ladders {
		if l.timer != nil {
			l.timer.Stop()
		}
	}
	cl.alerts, cl.ladders, cl.st, cl.s = nil, nil, nil, nil
}

// loadAlertsLocked restores saved alerts (cl.mu held).
func (cl *clinical) loadAlertsLocked(st *securestore.Store, gen int) {
	b, err := st.Setting(settingAlerts)
	if err != nil {
		if !errors.Is(err, securestore.ErrNotFound) {
			cl.log.Warn("app: loading alerts", "err", err)
		}
		return
	}
	var saved []storedAlert
	if err := json.Unmarshal(b, &saved); err != nil {
		cl.log.Warn("app: alerts record unreadable; dropped", "err", err)
		return
	}
	now := cl.clock.Now()
	for _, s := range saved {
		// Purged by retention, or recalled: a recall the store applied
		// whose event the app never handled (killed, or locked, in
		// between) must not ring again (TestRecalledAlertNotResumed).
		if m, err := st.Message(s.Message); err != nil || m.Extra[extraRetracted] != "" {
			continue
		}
		a := &alertRun{Alert: Alert{
			Conversation: s.Conversation, Message: s.Message, Urgency: s.Urgency, AckRequired: s.AckRequired,
			Repeats: s.Repeats, MaxRepeats: s.MaxRepeats, Since: s.Since, NextAt: s.NextAt,
		}, pending: s.Pending, origin: s.Origin, escalationOf: s.EscalationOf}
		cl.alerts[s.Message] = a
		if !a.NextAt.IsZero() {
			cl.scheduleAlertLocked(a, max(a.NextAt.Sub(now), 0), gen)
		}
	}
}

// saveAlertsLocked writes the open alerts (cl.mu held, so saves never
// overtake each other).
func (cl *clinical) saveAlertsLocked() {
	if cl.st == nil {
		return
	}
	out := make([]storedAlert, 0, len(cl.alerts))
	for _, a := range cl.alerts {
		out = append(out, storedAlert{
			Conversation: a.Conversation, Message: a.Message, Urgency: a.Urgency, AckRequired: a.AckRequired,
			Repeats: a.Repeats, MaxRepeats: a.MaxRepeats, Since: a.Since, NextAt: a.NextAt,
			Pending: a.pending, Origin: a.origin, EscalationOf: a.escalationOf,
		})
	}
	slices.SortFunc(out, func(a, b storedAlert) int { return int(a.Message) - int(b.Message) })
	b, _ := json.Marshal(out)
	if err := cl.st.SetSetting(settingAlerts, b); err != nil {
		cl.log.Warn("app: saving alerts", "err", err)
	}
}

func (cl *clinical) scheduleAlertLocked(a *alertRun, d time.Duration, gen int) {
	if a.timer != nil {
		a.timer.Stop()
	}
	id := a.Message
	a.timer = cl.clock.AfterFunc(d, func() { cl.alertDue(gen, id) })
}

// alertWanted says whether an incoming message raises an alert: urgent or
// STAT, or routine with an acknowledgement asked (a silent alert: it only
// keeps the conversation pinned until acknowledged); never a response or a
// recalled message.
func alertWanted(m securestore.Message) bool {
	if m.Direction != securestore.Incoming || (m.Urgency < securestore.UrgencyHigh && !ackRequired(m)) {
		return false
	}
	if m.Extra[extraResponseTo] != "" || m.Extra[extraRetracted] != "" {
		return false
	}
	return true
}

func ackRequired(m securestore.Message) bool { return m.Extra[extraAck] == "required" }

// settleAfter delays the first ring of a message that arrives late (archive
// catch-up, a resumed stream): the read or acknowledgement another device
// already gave usually follows within moments, and a message that waited
// minutes can wait seconds more rather than ring for nothing.
const settleAfter = 5 * time.Second

// lateBy is how old a message is on arrival before it counts as late.
const lateBy = 30 * time.Second

// raiseAlerts opens an alert for each incoming urgent message in a batch
// and sounds it, unless it is already acknowledged (the batch recorded our
// other device's ack) or, needing no ack, already read. It returns the
// messages it took over (the ordinary notification leaves them out) and
// the conversations it notified.
func (cl *clinical) raiseAlerts(st *securestore.Store, msgs []securestore.Message, catchUp bool) (handled map[securestore.MessageID]bool, notified map[string]bool) {
	var candidates []securestore.Message
	for _, m := range msgs {
		if alertWanted(m) {
			candidates = append(candidates, m)
		}
	}
	if len(candidates) == 0 || !cl.follow(st) {
		return nil, nil
	}
	handled = map[securestore.MessageID]bool{}
	interval, count := cl.urgentRepeat()
	now := cl.clock.Now()
	var ring []Alert
	cl.mu.Lock()
	if cl.st != st {
		cl.mu.Unlock()
		return nil, nil
	}
	gen := cl.gen
	for _, m := range candidates {
		handled[m.ID] = true
		if _, ok := cl.alerts[m.ID]; ok {
			continue
		}
		// The stored copy has the responses recorded since (the engine's
		// ResponseReceived come before the batch's MessagesAdded).
		fresh, err := st.Message(m.ID)
		if err != nil || !alertWanted(fresh) {
			continue
		}
		m = fresh
		ack := ackRequired(m)
		if acknowledged(m) {
			continue
		}
		if !ack && catchUp {
			if cv, err := st.Conversation(m.ConversationID); err == nil && cv.Unread == 0 {
				continue // read on another device meanwhile
			}
		}
		a := &alertRun{Alert: Alert{
			Conversation: m.ConversationID, Message: m.ID, Urgency: m.Urgency, AckRequired: ack,
			MaxRepeats: count, Since: now,
		}, origin: m.OriginID, escalationOf: m.Extra[extraEscalationOf]}
		// A message older than the whole repeat window (a catch-up after a
		// night offline) is listed and pinned but no longer repeats; nor
		// does a routine one ring. One that asks for an acknowledgement and
		// has none (it was not in this batch) rings once, after catch-up
		// settles: an unacknowledged page must not arrive without a sound,
		// and its age is a stamp (offline storage's, or one a sender wrote
		// that arrived while the stream was set up, sync/trust.go), not a
		// reason to stay silent.
		late := catchUp || (!m.Timestamp.IsZero() && m.ReceivedAt.Sub(m.Timestamp) > lateBy)
		old := !m.Timestamp.IsZero() && now.Sub(m.Timestamp) >= interval*time.Duration(count+1)
		switch {
		case m.Urgency < securestore.UrgencyHigh:
			a.MaxRepeats = 0
		case old && ack:
			a.Repeats = count
			a.pending = true
			a.NextAt = now.Add(settleAfter)
		case old:
			a.Repeats = count
		case late:
			a.pending = true
			a.NextAt = now.Add(settleAfter)
		default:
			a.NextAt = now.Add(interval)
			if count == 0 {
				a.NextAt = time.Time{}
			}
			ring = append(ring, a.Alert)
		}
		cl.alerts[m.ID] = a
		if !a.NextAt.IsZero() {
			cl.scheduleAlertLocked(a, a.NextAt.Sub(now), gen)
		}
	}
	cl.saveAlertsLocked()
	cl.mu.Unlock()
	// A live push even for catch-up: it cuts the catch-up window, so a
	// page from the archive shows as soon as a live one
	// (TestUrgentCatchUpCutsCatchUpWait).
	cl.changes.push(Change{Kind: AlertsChanged})
	notified = map[string]bool{}
	for _, a := range ring {
		if notified[a.Conversation] {
			continue
		}
		notified[a.Conversation] = true
		cl.ringAlert(st, a, !cl.host.viewing(a.Conversation))
	}
	return handled, notified
}

// alertDue sounds a repeat and schedules the next.
func (cl *clinical) alertDue(gen int, id securestore.MessageID) {
	interval, _ := cl.urgentRepeat() // before cl.mu: never c.mu inside cl.mu
	cl.mu.Lock()
	a := cl.alerts[id]
	if gen != cl.gen || a == nil || a.NextAt.IsZero() {
		cl.mu.Unlock()
		return
	}
	st := cl.st
	first := a.pending
	if first {
		a.pending = false // the settled first ring, not a repeat
	} else {
		a.Repeats++
	}
	a.NextAt = time.Time{}
	if a.Repeats < a.MaxRepeats {
		a.NextAt = cl.clock.Now().Add(interval)
		cl.scheduleAlertLocked(a, interval, gen)
	} else {
		a.timer = nil
	}
	snap := a.Alert
	cl.saveAlertsLocked()
	cl.mu.Unlock()
	cl.changes.push(Change{Kind: AlertsChanged})
	cl.ringAlert(st, snap, !first || !cl.host.viewing(snap.Conversation))
	cl.log.Info("app: urgent alert rang", "repeat", snap.Repeats, "of", snap.MaxRepeats)
}

// ringAlert shows the alert's notification (no PHI by default: "STAT
// message from Dr Osei") and plays the urgent sound.
func (cl *clinical) ringAlert(st *securestore.Store, a Alert, notify bool) {
	if notify {
		cv, err := st.Conversation(a.Conversation)
		if err != nil {
			cv = securestore.Conversation{ID: a.Conversation}
		}
		m, err := st.Message(a.Message)
		if err != nil {
			return // gone meanwhile (recalled, purged)
		}
		cl.host.notifyAlert(st, cv, m, a)
	}
	cl.sound.NewMessage(true)
}

// endAlerts removes the alerts matching keep==false and reports whether any
// ended.
func (cl *clinical) endAlerts(match func(a *alertRun) bool) bool {
	cl.mu.Lock()
	ended := false
	for id, a := range cl.alerts {
		if match(a) {
			if a.timer != nil {
				a.timer.Stop()
			}
			delete(cl.alerts, id)
			ended = true
		}
	}
	if ended {
		cl.saveAlertsLocked()
	}
	cl.mu.Unlock()
	if ended {
		cl.changes.push(Change{Kind: AlertsChanged})
		cl.changes.push(Change{Kind: InboxChanged})
	}
	return ended
}

// alertsRead ends the alerts of conv that need no acknowledgement and are
// now read (here or on another device).
func (cl *clinical) alertsRead(st *securestore.Store, conv string, upTo securestore.MessageID) {
	cv, err := st.Conversation(conv)
	if err != nil {
		return
	}
	var bound time.Time
	if m, err := st.Message(upTo); err == nil {
		bound = m.Timestamp
	}
	cl.endAlerts(func(a *alertRun) bool {
		if a.Conversation != conv || a.AckRequired {
			return false
		}
		if cv.Unread == 0 || a.Message == upTo {
			return true
		}
		m, err := st.Message(a.Message)
		return err != nil || !m.Timestamp.After(bound)
	})
}

// alertAcknowledged ends the alert on message id (our acknowledgement,
// here or from another of our devices).
func (cl *clinical) alertAcknowledged(id securestore.MessageID) bool {
	return cl.endAlerts(func(a *alertRun) bool { return a.Message == id })
}

// listAlerts is Client.Alerts.
func (cl *clinical) listAlerts() []Alert {
	st, err := cl.host.unlocked()
	if err != nil || !cl.follow(st) {
		return nil
	}
	out := cl.openAlerts()
	names, _ := loadContacts(st)
	for i := range out {
		cv, err := st.Conversation(out[i].Conversation)
		if err != nil {
			cv = securestore.Conversation{ID: out[i].Conversation}
		}
		out[i].Title = conversationTitle(st, cv, names)
		if m, err := st.Message(out[i].Message); err == nil {
			out[i].From = senderName(st, cv, m, names)
			out[i].FromAvatar = AvatarOf(out[i].From, m.From) // a room's occupant: initials
			if cv.Kind != securestore.KindRoom {
				// The same face as the inbox row (its title's initials).
				out[i].FromAvatar = cl.host.avatarOf(st, out[i].From, cv.ID)
				out[i].FromTitle = cl.host.Person(cv.ID).Role
			}
			out[i].Role = alertRole(m)
		}
	}
	slices.SortFunc(out, func(a, b Alert) int {
		if r := b.Since.Compare(a.Since); r != 0 {
			return r
		}
		return int(b.Message) - int(a.Message)
	})
	return out
}

// openAlerts copies the open alerts, in no order.
func (cl *clinical) openAlerts() []Alert {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := make([]Alert, 0, len(cl.alerts))
	for _, a := range cl.alerts {
		out = append(out, a.Alert)
	}
	return out
}

// alertRole is the on-call role a message reached this user as: the role
// it was addressed to, or the role an escalation step named when the copy
// came to us as that role's holder.
func alertRole(m securestore.Message) string {
	if r := strings.TrimSpace(m.Extra[sync.ExtraRole]); r != "" {
		return r
	}
	return strings.TrimSpace(m.Extra[sync.ExtraEscalationRole])
}

// alertingConversations maps each conversation with an open alert to the
// alert that speaks for it in the inbox: the highest level, then the
// newest.
func (cl *clinical) alertingConversations() map[string]Alert {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := map[string]Alert{}
	for _, a := range cl.alerts {
		b, ok := out[a.Conversation]
		if !ok || a.Urgency > b.Urgency || (a.Urgency == b.Urgency && a.Since.After(b.Since)) {
			out[a.Conversation] = a.Alert
		}
	}
	return out
}
