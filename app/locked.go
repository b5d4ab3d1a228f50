package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// Locked but listening (docs/STORE.md, "Locked inbox"; docs/PROTOCOL.md,
// "While locked"). Lock closes the store and drops its keys as before, but
// the Session keeps running: it seals what arrives into the store's locked
// inbox and tells the app only each message's level (sync.ArrivedLocked).
// Urgent and STAT messages then raise a notification without sender or
// text ("STAT message — unlock Rounds"), repeated on the policy's urgent
// interval while locked, and the unlock screen shows a count
// (LockedBanner). Routine ones notify the same way unless the policy
// keeps them quiet (Policy.QuietRoutineWhileLocked). The unlock starts a
// new Session on the reopened store, which merges the inbox before it
// signs in, so the alert for a STAT that came while locked is up at once.
//
// What stays in memory while locked: the account, the server's address,
// the SCRAM keys (to sign in again after a lost socket; they let their
// holder sign in as the user, as the password would, but they open no
// message), the store's public receive key, the rooms joined and the
// counts below; in sync, the sender and ids of each message announced
// while locked (a resent copy is announced once, an ack elsewhere ends a
// page's ring: sync.LockedAnswered); the org policy and the store's set-up
// time, by which a remote wipe arriving while locked is judged at once
// (onLockedWipeRequest). No store key, no message text.

// LockedNotification is the ConversationID of the one notification a
// locked Client raises (it names no conversation: which one is not told
// while locked). Tapping it only brings Rounds forward.
const LockedNotification = "rounds:locked"

// lockedListening is the state of a locked Client that still listens, and
// the service that counts, notifies and rings for what arrives then. Its
// state is guarded by Client.mu (mu points at it), not a lock of its own:
// the lifecycle (lockListening, stopListening, wipeLockedProfile, below) takes and
// ends the listener under that one lock with the store and the Session, so
// the …Locked methods expect it held. It reaches the rest of the Client
// through lockedHost, and never calls it holding mu, except the host's
// …Locked methods. Client embeds it, so Listening and LockedBanner are
// Client's facade without a line of their own.
type lockedListening struct {
	listen *listener
	// waiting counts the messages announced while locked, by level
	// (securestore.Urgency); ackWaiting the routine ones among them that
	// ask for acknowledgement (they alert like urgent ones).
	waiting    [securestore.UrgencyCritical + 1]int
	ackWaiting int
	ring       Timer
	ringGen    int
	rings      int

	mu       *gosync.Mutex // Client.mu
	log      *slog.Logger
	clock    Clock
	notifier Notifier
	sound    Sound
	changes  *changeQueue
	dnd      *dndService // whether do not disturb keeps an arrival quiet
	host     lockedHost
}

// lockedHost is what locked listening asks of the rest of the Client: the
// policy (policy.go: policyLocked expects Client.mu held, effectivePolicy
// takes it) and whom the locked notification names (lockedFor,
// profiles.go; it takes Client.mu).
type lockedHost interface {
	policyLocked() Policy
	effectivePolicy() Policy
	lockedFor() string
}

// listener is the Session that runs on while the Client is locked, and its
// locked inbox.
type listener struct {
	session *sync.Session
	inbox   *securestore.Inbox
	stop    context.CancelFunc
	done    chan struct{}
	// created is when the store was set up (storeCreated), read before
	// it closed: with the policy, which stays in memory, it is all a
	// wipe directive is judged by (decideWipe), so a lost, locked
	// device is wiped without its key (onLockedWipeRequest).
	created time.Time
	// shown are the conversations with a notification up at the lock:
	// a wipe withdraws them, as the unlocked wipe does.
	shown []string
}

// lockListening is halt for Lock: the Session goes on into the locked
// inbox (sync.Session.Lock) instead of stopping. It reports the store to
// close and whether the Client was unlocked. Where the inbox cannot be
// opened it falls back to halt: a deaf lock, as before.
func (c *Client) lockListening() (*securestore.Store, bool) {
	c.mu.Lock()
	st, sess, stop, done := c.store, c.session, c.stop, c.done
	if st == nil || sess == nil || c.ended || c.wiping || c.headless != nil {
		c.mu.Unlock()
		return c.halt()
	}
	c.mu.Unlock()
	created := storeCreated(st)
	pub, err := st.ReceiveKey()
	var q *securestore.Inbox
	if err == nil {
		q, err = securestore.OpenInbox(c.path, pub, c.cfg.storeOptions())
	}
	if err != nil {
		c.log.Warn("app: locked inbox not opened; locking without listening", "err", err)
		return c.halt()
	}
	// What do not disturb needs while locked, kept in memory (docs/STORE.md):
	// the cover resolved and named now, while the store can name it.
	c.dnd.keepCover(st)
	c.keepListenTicket(st, sess) // the rooms now, for a restart while locked (coldstart.go)
	// From here on the Session does not touch the store.
	sess.LockAnswering(q, c.dnd.locked(sess, c.Account()))
	c.mu.Lock()
	if c.store != st {
		// Halted meanwhile (sign-out, wipe): nothing to keep.
		c.mu.Unlock()
		q.Close()
		return nil, false
	}
	c.store, c.session, c.stop, c.done = nil, nil, nil, nil
	var shown []string
	for conv := range c.notified {
		shown = append(shown, conv)
	}
	c.listen = &listener{session: sess, inbox: q, stop: stop, done: done, created: created, shown: shown}
	c.waiting, c.ackWaiting, c.rings = [securestore.UrgencyCritical + 1]int{}, 0, 0
	c.presence = map[string]map[string]presence{}
	c.roomsOut = nil
	c.notified = map[string]notice{}
	c.stopTimerLocked()
	c.stopRetentionLocked()
	c.mu.Unlock()
	c.stopClinical()
	c.dnd.stopped()
	c.dropThumbnails()
	return st, true
}

// stopListening ends the locked Session (if any), closes its inbox and
// withdraws the locked notification. The inbox file stays for the merge.
// It does not wait for the Session's goodbye to the server (up to seconds
// while the server flushes what it still had): the inbox is closed first,
// so a message that comes in the meantime is not sealed and not receipted,
// and the unlocked Session's catch-up, which starts from the cursors the
// store kept before the lock, fetches it from the archive.
func (c *Client) stopListening() {
	c.mu.Lock()
	l := c.listen
	c.listen = nil
	c.waiting, c.ackWaiting, c.rings = [securestore.UrgencyCritical + 1]int{}, 0, 0
	c.stopRingLocked()
	c.mu.Unlock()
	if l == nil {
		return
	}
	l.stop()
	if err := l.inbox.Close(); err != nil {
		c.log.Warn("app: closing the locked inbox", "err", err)
	}
	c.cfg.Notifier.Clear(LockedNotification)
	c.changes.push(Change{Kind: LockedWaiting})
}

// Listening reports whether the Client is locked and still receiving.
func (l *lockedListening) Listening() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.listen != nil
}

// onLockedArrival is the event loop's step for sync.ArrivedLocked.
func (l *lockedListening) onLockedArrival(e sync.ArrivedLocked) {
	urgent := e.Urgency >= securestore.UrgencyHigh || e.AckRequired
	l.mu.Lock()
	if l.listen == nil {
		l.mu.Unlock()
		return // unlocked meanwhile: the merge raises it
	}
	if e.AckRequired && e.Urgency < securestore.UrgencyHigh {
		l.ackWaiting++
	} else {
		l.waiting[min(e.Urgency, securestore.UrgencyCritical)]++
	}
	quiet := !urgent && l.host.policyLocked().QuietRoutineWhileLocked
	if urgent {
		// Each new page gets the policy's repeats: a later STAT is not
		// left without any because an earlier one used them up.
		l.rings = 0
	}
	startRing := urgent && l.ring == nil
	l.mu.Unlock()
	l.changes.push(Change{Kind: LockedWaiting})
	if quiet || l.dnd.keepsQuiet(e.Urgency) { // do not disturb (dnd.go)
		return
	}
	// The repeat is armed before the first ring is heard, so anyone who
	// hears it (or a test's clock) finds the next one already due.
	if startRing {
		l.armRing()
	}
	l.lockedNotify()
}

// onLockedAnswered is the event loop's step for sync.LockedAnswered: a page
// counted while locked was acknowledged on another device (or by the
// team). It no longer counts as urgent: it waits as a routine message, the
// ring stops when nothing urgent is left, and the notification is replaced
// (or withdrawn) without a sound.
func (l *lockedListening) onLockedAnswered(e sync.LockedAnswered) {
	l.mu.Lock()
	if l.listen == nil {
		l.mu.Unlock()
		return
	}
	if e.AckRequired && e.Urgency < securestore.UrgencyHigh {
		l.ackWaiting = max(l.ackWaiting-1, 0)
	} else if u := min(e.Urgency, securestore.UrgencyCritical); l.waiting[u] > 0 {
		l.waiting[u]--
	}
	l.waiting[securestore.UrgencyNormal]++
	urgentLeft := l.ackWaiting > 0
	for u := securestore.UrgencyHigh; u <= securestore.UrgencyCritical; u++ {
		urgentLeft = urgentLeft || l.waiting[u] > 0
	}
	if !urgentLeft {
		l.stopRingLocked()
	}
	l.mu.Unlock()
	l.changes.push(Change{Kind: LockedWaiting})
	if urgentLeft {
		return
	}
	l.notifier.Clear(LockedNotification)
	l.log.Info("app: locked alert answered on another device")
}

// lockedNotify raises (or replaces) the locked notification for what
// waits: no sender, no text, no count of routine messages by conversation.
func (l *lockedListening) lockedNotify() {
	l.mu.Lock()
	w, ack := l.waiting, l.ackWaiting
	levels := l.host.policyLocked().Levels
	quietRoutine := l.host.policyLocked().QuietRoutineWhileLocked
	l.mu.Unlock()
	top := securestore.UrgencyNormal
	for u := securestore.UrgencyCritical; u > securestore.UrgencyNormal; u-- {
		if w[u] > 0 {
			top = u
			break
		}
	}
	urgent := top >= securestore.UrgencyHigh || ack > 0
	if !urgent && (quietRoutine || w[securestore.UrgencyNormal] == 0) {
		return
	}
	n := Notification{ConversationID: LockedNotification, Title: "Rounds", Urgent: urgent}
	what := "New message"
	if top >= securestore.UrgencyHigh {
		n.Level = levels.Name(top)
		what = n.Level + " message"
	} else if urgent {
		n.Level = levels.Name(securestore.UrgencyHigh)
		what = "Message to acknowledge"
	}
	n.Body = what + l.host.lockedFor() + " — unlock Rounds"
	l.notifier.Notify(n)
	l.sound.NewMessage(urgent)
	l.log.Info("app: notified while locked", "urgent", urgent)
}

// armRing schedules the next repeat of the locked alert: every
// Policy.UrgentRepeat, at most UrgentRepeatCount times, while locked.
func (l *lockedListening) armRing() {
	p := l.host.effectivePolicy()
	every, count := p.UrgentRepeat, p.UrgentRepeatCount
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.listen == nil || every <= 0 || l.rings >= count {
		return
	}
	l.stopRingLocked()
	gen := l.ringGen
	l.ring = l.clock.AfterFunc(every, func() { l.ringDue(gen) })
}

func (l *lockedListening) stopRingLocked() {
	l.ringGen++
	if l.ring != nil {
		l.ring.Stop()
		l.ring = nil
	}
}

func (l *lockedListening) ringDue(gen int) {
	l.mu.Lock()
	if gen != l.ringGen || l.listen == nil {
		l.mu.Unlock()
		return
	}
	l.ring = nil
	l.rings++
	l.mu.Unlock()
	l.armRing()
	l.lockedNotify()
}

// LockedBanner is what the unlock screen says about messages that arrived
// while locked, without sender or text: "1 STAT message waiting", "2
// urgent messages and 1 STAT message waiting". Urgent and STAT messages
// always count; routine ones only where the policy lets them notify while
// locked. Empty when nothing is waiting. Urgent is true for urgent, STAT
// or to-acknowledge messages (the screen draws the banner as an alert).
func (l *lockedListening) LockedBanner() (text string, urgent bool) {
	l.mu.Lock()
	w, ack := l.waiting, l.ackWaiting
	pol := l.host.policyLocked()
	listening := l.listen != nil
	l.mu.Unlock()
	if !listening {
		return "", false
	}
	type part struct {
		n    int
		what string
	}
	crit, high := securestore.UrgencyCritical, securestore.UrgencyHigh
	all := []part{
		{w[crit], pol.Levels.Name(crit) + " " + plural(w[crit], "message", "messages")},
		{w[high], pol.Levels.Name(high) + " " + plural(w[high], "message", "messages")},
		{ack, plural(ack, "message", "messages") + " to acknowledge"},
	}
	urgent = w[crit]+w[high]+ack > 0
	if !pol.QuietRoutineWhileLocked {
		n := w[securestore.UrgencyNormal]
		all = append(all, part{n, "new " + plural(n, "message", "messages")})
	}
	var parts []string
	for _, p := range all {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, " and ") + " waiting", urgent
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// onLockedWipeRequest is the event loop's step for a sync.WipeRequested
// that arrived while locked. It is judged at once by the rule the unlocked
// path uses (decideWipe), against the policy in memory and the store's
// set-up time kept at the lock. A genuine one wipes the profile without
// its key (wipeLockedProfile). Anything else does nothing now: the directive is
// sealed in the locked inbox, and the merge at the unlock reports it again
// to onWipeRequested, which audits it as ignored (the audit log is in the
// store, closed while locked) or holds it for a policy not yet arrived.
func (c *Client) onLockedWipeRequest(from, id string, issued time.Time) {
	c.mu.Lock()
	l := c.listen
	p := c.policyLocked()
	known := c.hasOrgPolicyLocked() || len(p.Admins) > 0
	c.mu.Unlock()
	if l == nil {
		return // unlocked meanwhile: the merge judges the sealed copy
	}
	if !known || decideWipe(p, from, issued, l.created) != wipeNow {
		c.log.Info("app: wipe directive while locked not acted on; judged and audited at unlock")
		return
	}
	c.log.Warn("app: remote wipe by an administrator while locked")
	// Off the event loop: stopping the locked Session waits for it.
	go func() {
		if err := c.wipeLockedProfile(l); err != nil {
			c.log.Warn("app: remote wipe while locked", "err", err)
		}
	}()
}

// wipeLockedProfile is wipeDevice for a locked Client: the store, its attachment
// vault and its locked inbox are destroyed without the key
// (securestore.Remove), the locked Session ends and the Client signs out.
// No audit entry: the audit log is inside the store being destroyed (the
// unlocked wipe writes one, and it goes with the file all the same).
// Unlock, which also takes the listener (stopListening), checks wiping
// after it, and both hold unlocking, so exactly one of them has the
// profile and the file is never destroyed while an Unlock has it open.
func (c *Client) wipeLockedProfile(l *listener) error {
	c.unlocking.Lock()
	defer c.unlocking.Unlock()
	c.mu.Lock()
	if c.listen != l || c.wiping || c.ended {
		c.mu.Unlock()
		return nil // unlocked, signed out or wiped meanwhile
	}
	c.wiping = true // no Unlock may reopen the file being destroyed
	c.mu.Unlock()
	c.stopListening()
	c.removeExports()
	err := securestore.Remove(c.path, c.cfg.storeOptions())
	c.dropListenTicket() // any a job still running keeps (coldstart.go)
	for _, conv := range l.shown {
		c.cfg.Notifier.Clear(conv)
	}
	c.finish()
	c.log.Warn("app: device wiped while locked")
	return err
}
