package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	gosync "sync"
	"time"
	"unicode/utf8"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Do not disturb with coverage. While it is on (until its end time, or
// until turned off) routine messages arrive without a sound or a
// notification, and urgent and STAT ones as the policy says per level
// (Policy.DND); everyone who writes gets one automatic reply per
// conversation per period; a colleague (or an on-call role) may cover, and
// then urgent messages are forwarded to them, audited, and the sender is
// told whom they went to. The state is the user's own: kept in the store
// (it survives restart) and shared with their other devices through a
// private node on the server (sync/autoreply.go, docs/PROTOCOL.md).
//
// The forward is sent by this device: while none of the user's devices is
// online nothing is forwarded and no reply goes out (the messages wait in
// the server's offline storage and archive); the first device to come
// online answers those still inside the period.

// DNDSettings are what the user chooses.
type DNDSettings struct {
	// Until is when it ends by itself; zero: until turned off.
	Until time.Time
	// Reply is the automatic reply, as typed ("In theatre until 14:00 —
	// urgent: page Dr Osei"); empty: a reply in the app's words.
	Reply string
	// Cover is the colleague who covers (a bare JID), or CoverRole an
	// on-call role resolved when a message is forwarded; at most one.
	Cover, CoverRole string
	// OffShift: "off shift" rather than "do not disturb" (same handling,
	// other words and presence).
	OffShift bool
}

// DNDView is the state as the screens show it.
type DNDView struct {
	On bool
	DNDSettings
	Since time.Time
	// CoverName names the cover ("Dr Lee", "ICU registrar"); "" without one.
	CoverName string
	// Line is the one-line state for the header and settings: "Do not
	// disturb until 14:00 · Dr Lee covers"; "" when off.
	Line string
}

// Errors of SetDND (dndService.set).
var (
	ErrDNDUntilPast  = errors.New("The end time has already passed")
	ErrDNDReplyLong  = fmt.Errorf("An automatic reply has at most %d characters", maxDNDReply)
	ErrDNDCoverTwice = errors.New("Choose a colleague or a role to cover, not both")
	ErrDNDCoverSelf  = errors.New("You cannot cover for yourself")
)

const maxDNDReply = 500 // sync/xmpp MaxDNDReplyRunes

// AuditDNDForward is the audit kind of an urgent message forwarded to the
// cover. Its detail names ids and addresses, never the text.
const AuditDNDForward = "dnd.forward"

// settingDND holds the state and the conversations already answered in
// this period, sealed in the store like every setting.
const settingDND = "app.dnd"

// dndService is do not disturb: the state of the open store, the
// automatic replies, the forwards to the cover. Its own lock mu guards the
// fields above log and is never held while calling the host, the Session
// or the store; Client.mu may be held when mu is taken, never the reverse.
// It reaches the rest of the Client only through dndHost. Client's
// facades are dndhost.go.
type dndService struct {
	mu      gosync.Mutex
	st      *securestore.Store
	state   sync.DND
	replied map[string]bool // conversations answered in this period
	timer   Timer
	// lockedCover is the cover resolved at the lock, with its name (the
	// store that names it is closed while locked).
	lockedCover struct{ jid, name string }
	// limit bounds the forwards to the cover (dndlimit.go).
	limit forwardLimit

	log     *slog.Logger
	clock   Clock
	changes *changeQueue
	host    dndHost
}

// dndHost is what do not disturb asks of the rest of the Client. Every
// method may take Client.mu, so the service never calls it holding d.mu.
type dndHost interface {
	// The session (client.go): the open store with its Session, or
	// ErrLocked; the account; whether this is a command-line run
	// (headless.go), which never answers for its account.
	sess() (*securestore.Store, *sync.Session, error)
	unlocked() (*securestore.Store, error)
	Account() string
	isHeadless() bool
	// The user's own presence (presence.go), restored when it ends.
	Presence() (show, status string)
	// Policy and on-call (policy.go, oncall.go): which levels ring
	// through, the level names, who holds a covering role.
	Policy() Policy
	schedule() []Shift
	// The audit log (audit.go): a forward to the cover.
	auditWith(st *securestore.Store, kind, detail string)
}

// clockTime is a time as a thread shows it (conversations.clockTime).
func (d *dndService) clockTime(t time.Time) string { return threadTime(t, d.clock.Now()) }

type dndRecord struct {
	Since, Until, Changed time.Time
	Reply, Cover, Role    string
	OffShift              bool
	Replied               []string
}

// started loads the state of a store just opened and, when it is on,
// announces it (before the Session signs in, so the first presence says
// so). Called by start.
func (d *dndService) started(st *securestore.Store, sess *sync.Session) {
	var rec dndRecord
	if b, err := st.Setting(settingDND); err == nil && len(b) > 0 {
		if err := json.Unmarshal(b, &rec); err != nil {
			d.log.Warn("app: do-not-disturb setting unreadable; off", "err", err)
			rec = dndRecord{}
		}
	}
	d.mu.Lock()
	d.st = st
	d.state = sync.DND{Since: rec.Since, Until: rec.Until, Changed: rec.Changed, Reply: rec.Reply,
		Cover: rec.Cover, CoverRole: rec.Role, OffShift: rec.OffShift}
	d.replied = map[string]bool{}
	for _, r := range rec.Replied {
		d.replied[r] = true
	}
	d.mu.Unlock()
	d.apply(st, sess)
}

// stopped forgets the store (lock, sign out).
func (d *dndService) stopped() {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.st = nil
	d.mu.Unlock()
}

// apply makes presence and the end timer follow the state: dnd (xa off
// shift) with the reply as status while on, the user's own choice after.
func (d *dndService) apply(st *securestore.Store, sess *sync.Session) {
	now := d.clock.Now()
	d.mu.Lock()
	if d.st != st {
		d.mu.Unlock()
		return
	}
	state := d.state
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if state.On(now) && !state.Until.IsZero() {
		d.timer = d.clock.AfterFunc(state.Until.Sub(now), func() {
			if s, ss, err := d.host.sess(); err == nil && s == st {
				d.apply(st, ss)
			}
		})
	}
	d.mu.Unlock()
	show, status := d.host.Presence()
	show, status = d.presence(state, now, show, status)
	if sess != nil {
		_ = sess.SetPresence(show, status)
	}
	d.changes.push(Change{Kind: DNDChanged})
}

// presence is what the user's devices announce with state at now: dnd (xa
// off shift) with the reply as status while on, else the user's own show
// and status. A cold-started locked Session announces it too (coldstart.go).
func (d *dndService) presence(state sync.DND, now time.Time, show, status string) (string, string) {
	if !state.On(now) {
		return show, status
	}
	show = "dnd"
	if state.OffShift {
		show = "xa"
	}
	return show, previewText(d.replyText(state, ""))
}

// view is the do-not-disturb state now (Client.DND).
func (d *dndService) view() DNDView {
	now := d.clock.Now()
	d.mu.Lock()
	state := d.state
	d.mu.Unlock()
	if !state.On(now) {
		return DNDView{}
	}
	v := DNDView{On: true, Since: state.Since, DNDSettings: DNDSettings{Until: state.Until, Reply: state.Reply,
		Cover: state.Cover, CoverRole: state.CoverRole, OffShift: state.OffShift}}
	v.CoverName = d.coverName(state)
	v.Line = "Do not disturb"
	if state.OffShift {
		v.Line = "Off shift"
	}
	if !state.Until.IsZero() {
		v.Line += " until " + d.clockTime(state.Until)
	}
	if v.CoverName != "" {
		v.Line += " · " + v.CoverName + " covers"
	}
	return v
}

// set turns do-not-disturb on (again: a new period, everyone gets a
// reply again) with s, saves it and tells the user's other devices.
func (d *dndService) set(s DNDSettings) error {
	now := d.clock.Now()
	s.Reply = strings.TrimSpace(s.Reply)
	s.CoverRole = strings.TrimSpace(s.CoverRole)
	switch {
	case !s.Until.IsZero() && !s.Until.After(now):
		return ErrDNDUntilPast
	case utf8.RuneCountInString(s.Reply) > maxDNDReply:
		return ErrDNDReplyLong
	case strings.TrimSpace(s.Cover) != "" && s.CoverRole != "":
		return ErrDNDCoverTwice
	}
	if strings.TrimSpace(s.Cover) != "" {
		bare, err := chatJID(s.Cover)
		if err != nil {
			return err
		}
		if strings.EqualFold(bare, d.host.Account()) {
			return ErrDNDCoverSelf
		}
		s.Cover = bare
	}
	since := now.UTC().Truncate(time.Millisecond)
	if !s.Until.IsZero() {
		s.Until = s.Until.UTC().Truncate(time.Second)
	}
	return d.setState(sync.DND{Since: since, Until: s.Until, Changed: since, Reply: s.Reply,
		Cover: s.Cover, CoverRole: s.CoverRole, OffShift: s.OffShift}, true)
}

// end turns do-not-disturb off here and on the user's other devices.
func (d *dndService) end() error {
	return d.setState(sync.DND{Changed: d.clock.Now().UTC().Truncate(time.Millisecond)}, true)
}

// setState saves state, applies it and, when publish, shares it.
func (d *dndService) setState(state sync.DND, publish bool) error {
	st, sess, err := d.host.sess()
	if err != nil {
		return err
	}
	d.mu.Lock()
	if d.st != st {
		d.mu.Unlock()
		return ErrLocked
	}
	if !state.Since.Equal(d.state.Since) {
		d.replied = map[string]bool{} // a new period
	}
	d.state = state
	d.mu.Unlock()
	if err := d.save(st); err != nil {
		return mapErr(err)
	}
	d.apply(st, sess)
	if publish {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		if err := sess.PublishDND(ctx, state); err != nil {
			// Kept here; published at the next sign-in (onChanged).
			d.log.Info("app: do-not-disturb not shared yet", "err", err)
		}
	}
	return nil
}

func (d *dndService) save(st *securestore.Store) error {
	d.mu.Lock()
	rec := dndRecord{Since: d.state.Since, Until: d.state.Until, Changed: d.state.Changed, Reply: d.state.Reply,
		Cover: d.state.Cover, Role: d.state.CoverRole, OffShift: d.state.OffShift}
	for conv := range d.replied {
		rec.Replied = append(rec.Replied, conv)
	}
	d.mu.Unlock()
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return st.SetSetting(settingDND, b)
}

// onChanged applies the state another device published, or the one read
// at sign-in: the later change wins, and a change made here while offline
// is published now.
func (d *dndService) onChanged(st *securestore.Store, e sync.DNDChanged) {
	d.mu.Lock()
	if d.st != st {
		d.mu.Unlock()
		return
	}
	mine := d.state
	d.mu.Unlock()
	if e.State.Changed.Before(mine.Changed) || (e.Fetched && e.State.Changed.Equal(mine.Changed) && !e.State.Since.Equal(mine.Since)) {
		if e.Fetched {
			if err := d.setState(mine, true); err != nil {
				d.log.Info("app: do-not-disturb not shared", "err", err)
			}
		}
		return
	}
	if e.State.Changed.Equal(mine.Changed) && e.State.Since.Equal(mine.Since) {
		return
	}
	if err := d.setState(e.State, false); err != nil {
		d.log.Info("app: do-not-disturb from another device not applied", "err", err)
	}
}

// incoming handles a batch of stored messages while do-not-disturb is
// on: it answers and forwards, and returns the ids to keep quiet (no
// alert, no notification, no sound): routine ones, and urgent or STAT ones
// whose level the policy does not let through.
func (d *dndService) incoming(st *securestore.Store, msgs []securestore.Message) map[securestore.MessageID]bool {
	now := d.clock.Now()
	d.mu.Lock()
	state, mine := d.state, d.st == st
	d.mu.Unlock()
	if mine {
		d.auditLockedForwards(st, msgs)
		d.auditLockedLimits(st)
	}
	if !mine || !state.On(now) || d.host.isHeadless() {
		return nil // a command-line run never answers for its account
	}
	pol := d.host.Policy().DND
	account := d.host.Account()
	quiet := map[securestore.MessageID]bool{}
	for _, m := range msgs {
		if m.Direction != securestore.Incoming {
			if m.Extra[sync.ExtraAuto] == sync.AutoReplied {
				d.markReplied(st, m.ConversationID, state) // another device of ours answered
			}
			continue
		}
		if !pol.breaksThrough(m.Urgency) {
			quiet[m.ID] = true
		}
		if !dndAnswerable(m, state, account, isRoomConv(st, m.ConversationID)) {
			continue
		}
		d.answer(st, m, state)
	}
	return quiet
}

// sameDomain: a and b are JIDs of one domain.
func sameDomain(a, b string) bool {
	x, errA := jid.Parse(a)
	y, errB := jid.Parse(b)
	return errA == nil && errB == nil && x.Domain != "" && strings.EqualFold(x.Domain, y.Domain)
}

// dndAnswerable: a person of our own domain wrote m to us in a chat during
// the period. No reply goes to an automatic message (no loops between two
// people on do not disturb), a forward, a quick response, a room, or
// ourselves. Nothing goes to, or is forwarded for, an account of another
// domain the server routes: its STAT page would reach the cover as ours
// (a stranger's text laundered through a colleague), and the reply says
// where the user is and who covers.
func dndAnswerable(m securestore.Message, state sync.DND, account string, room bool) bool {
	switch {
	case !sameDomain(m.ConversationID, account):
		return false
	case m.Extra[sync.ExtraAuto] != "", m.Extra[sync.ExtraForwardedFrom] != "",
		m.Extra[sync.ExtraResponse] != "", m.Extra[sync.ExtraWipe] != "":
		return false
	case !m.Timestamp.IsZero() && m.Timestamp.Before(state.Since):
		return false // written before the period (a catch-up)
	case !strings.Contains(m.ConversationID, "@"):
		return false // a server, not a person
	}
	return !room
}

// isRoomConv: conv is a room in st (or unknown there: not answered).
func isRoomConv(st *securestore.Store, conv string) bool {
	cv, err := st.Conversation(conv)
	return err != nil || cv.Kind == securestore.KindRoom
}

// answer sends the period's reply to m's conversation (once), and
// forwards m to the cover when it is urgent.
func (d *dndService) answer(st *securestore.Store, m securestore.Message, state sync.DND) {
	_, sess, err := d.host.sess()
	if err != nil {
		return
	}
	cover, coverName := d.resolveCover(st, state)
	d.respond(st, sess, m, state, cover, coverName)
}

// respond is answer's work, unlocked (st) or locked (st nil: the
// Session sends on the wire and seals its copy; the merge stores it, and
// the audit entry is written then, see forward).
func (d *dndService) respond(st *securestore.Store, sess *sync.Session, m securestore.Message, state sync.DND, cover, coverName string) {
	conv := m.ConversationID
	if m.Urgency >= securestore.UrgencyHigh && cover != "" && !strings.EqualFold(cover, conv) {
		d.forward(st, sess, m, cover, coverName)
	}
	d.mu.Lock()
	done := d.replied[conv]
	d.mu.Unlock()
	if done {
		return
	}
	key := "reply\x00" + conv + "\x00" + state.Since.UTC().Format(time.RFC3339Nano)
	_, err := sess.SendAuto(conv, d.replyText(state, coverName), sync.AutoReplied, key, sync.SendOptions{})
	if err != nil && !errors.Is(err, sync.ErrAlreadySent) {
		d.log.Warn("app: automatic reply not sent", "err", err)
		return
	}
	if st == nil {
		// Locked: remembered in memory; the merge stores the reply,
		// and incoming records it then.
		d.mu.Lock()
		if d.state.Since.Equal(state.Since) {
			d.replied[conv] = true
		}
		d.mu.Unlock()
		return
	}
	d.markReplied(st, conv, state)
}

// markReplied records that conv was answered in the period that began at
// state.Since.
func (d *dndService) markReplied(st *securestore.Store, conv string, state sync.DND) {
	d.mu.Lock()
	if d.st != st || !d.state.Since.Equal(state.Since) || d.replied[conv] {
		d.mu.Unlock()
		return
	}
	d.replied[conv] = true
	d.mu.Unlock()
	if err := d.save(st); err != nil {
		d.log.Warn("app: saving do-not-disturb replies", "err", err)
	}
}

// locked is the locked Session's do-not-disturb decision (LockAnswering):
// the same rule (dndAnswerable) and the same sends as unlocked, from what
// the lock kept in memory: the state, the conversations answered in the
// period, and the cover as resolved at the lock.
func (d *dndService) locked(sess *sync.Session, account string) func(securestore.Message, bool) {
	return func(m securestore.Message, room bool) {
		now := d.clock.Now()
		d.mu.Lock()
		state, lc := d.state, d.lockedCover
		d.mu.Unlock()
		if !state.On(now) || !dndAnswerable(m, state, account, room) {
			return
		}
		cover, name := lc.jid, lc.name
		if state.CoverRole != "" {
			// Whoever holds the role now (the schedule is in memory).
			sh, who, _, err := resolveShift(d.host.schedule(), state.CoverRole, now, account)
			if err != nil {
				return
			}
			if !strings.EqualFold(who, lc.jid) {
				name = who + " (" + sh.Role + ")"
			}
			cover = who
		}
		d.respond(nil, sess, m, state, cover, name)
	}
}

// keepCover resolves and names the cover at the lock, while the store can
// name it, for the locked Session's decisions (locked); the rest of the
// state is in memory already.
func (d *dndService) keepCover(st *securestore.Store) {
	d.mu.Lock()
	state := d.state
	d.mu.Unlock()
	cover, coverName := d.resolveCover(st, state)
	d.mu.Lock()
	d.lockedCover.jid, d.lockedCover.name = cover, coverName
	d.mu.Unlock()
}

// forTicket is what the listen ticket keeps of do not disturb
// (coldstart.go): the state (nil when it was never set), the
// conversations answered in the period, and the cover resolved and named
// with open store st.
func (d *dndService) forTicket(st *securestore.Store) (state *sync.DND, replied []string, cover, coverName string) {
	d.mu.Lock()
	s := d.state
	for conv := range d.replied {
		replied = append(replied, conv)
	}
	d.mu.Unlock()
	if s.Since.IsZero() {
		return nil, replied, "", ""
	}
	cover, coverName = d.resolveCover(st, s)
	return &s, replied, cover, coverName
}

// fromTicket restores, for a cold-started locked Client (ListenLocked),
// what a lock keeps in memory: the state, the conversations answered and
// the cover as the ticket kept them.
func (d *dndService) fromTicket(state sync.DND, replied []string, cover, coverName string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state = state
	d.replied = map[string]bool{}
	for _, conv := range replied {
		d.replied[conv] = true
	}
	d.lockedCover.jid, d.lockedCover.name = cover, coverName
}

// forward passes urgent message m on to the cover, audits it, and tells
// the sender whom it went to. Locked (st nil) it is not audited: the merge
// stores our copy marked ExtraSentLocked, and the unlocked path, finding
// it already sent, audits it then (once: the merge stores each entry once).
func (d *dndService) forward(st *securestore.Store, sess *sync.Session, m securestore.Message, cover, coverName string) {
	d.mu.Lock()
	ok, tell, n := d.limit.take(m.ConversationID, sess.MessageRef(m), d.clock.Now())
	d.mu.Unlock()
	if !ok {
		d.limited(st, sess, m, cover, coverName, tell, n) // dndlimit.go
		return
	}
	fwd, err := sess.Forward(cover, m, sync.SendOptions{})
	if errors.Is(err, sync.ErrAlreadySent) {
		// Another device of ours forwarded it, or this one while locked
		// (audited when the merge stored it: auditLockedForwards).
		return
	}
	if err != nil {
		d.log.Warn("app: urgent message not forwarded to the cover", "err", err)
		return
	}
	if st != nil {
		d.auditForward(st, m, cover, fwd, "")
	}
	level := d.host.Policy().Levels.Name(m.Urgency)
	notice := fmt.Sprintf("Automatic: your %s message was forwarded to %s, who covers for me.", level, coverName)
	if _, err := sess.SendAuto(m.ConversationID, notice, sync.AutoReplied, "notice\x00"+m.ConversationID+"\x00"+sess.MessageRef(m), sync.SendOptions{}); err != nil &&
		!errors.Is(err, sync.ErrAlreadySent) {
		d.log.Warn("app: forward notice not sent", "err", err)
	}
}

// auditLockedForwards writes the audit entry of each forward this device
// sent while locked, as the merge stores it (marked ExtraSentLocked). It
// runs whether or not do-not-disturb is still on: the period may have
// ended before the unlock, and the page went to the cover all the same.
func (d *dndService) auditLockedForwards(st *securestore.Store, msgs []securestore.Message) {
	for _, m := range msgs {
		if m.Direction != securestore.Outgoing || m.Extra[sync.ExtraSentLocked] == "" || m.Extra[sync.ExtraForwardedFrom] == "" {
			continue
		}
		d.host.auditWith(st, AuditDNDForward, fmt.Sprintf("message from %s (written %s) forwarded to %s (covering) while locked as message %d",
			m.Extra[sync.ExtraForwardedFrom], m.Extra[sync.ExtraForwardedAt], m.ConversationID, m.ID))
	}
}

func (d *dndService) auditForward(st *securestore.Store, m securestore.Message, cover string, fwd securestore.Message, how string) {
	d.host.auditWith(st, AuditDNDForward, fmt.Sprintf("message %d (origin-id %s) from %s forwarded to %s (covering)%s as message %d",
		m.ID, m.OriginID, m.ConversationID, cover, how, fwd.ID))
}

// resolveCover is the JID that covers now and how to name it: the
// colleague, or whoever holds the role (its backup when the holder is us).
func (d *dndService) resolveCover(st *securestore.Store, state sync.DND) (string, string) {
	if state.Cover != "" {
		return state.Cover, memberName(st, state.Cover, nil)
	}
	if state.CoverRole == "" {
		return "", ""
	}
	sh, who, _, err := resolveShift(d.host.schedule(), state.CoverRole, d.clock.Now(), d.host.Account())
	if err != nil {
		return "", ""
	}
	return who, memberName(st, who, nil) + " (" + sh.Role + ")"
}

// coverName names the cover for the screens without resolving a role.
func (d *dndService) coverName(state sync.DND) string {
	if state.CoverRole != "" {
		return state.CoverRole
	}
	if state.Cover == "" {
		return ""
	}
	if st, err := d.host.unlocked(); err == nil {
		return memberName(st, state.Cover, nil)
	}
	return state.Cover
}

// replyText is the automatic reply: the user's text (else the state in
// words), and the cover when there is one.
func (d *dndService) replyText(state sync.DND, coverName string) string {
	text := state.Reply
	if text == "" {
		text = "Do not disturb"
		if state.OffShift {
			text = "Off shift"
		}
		if !state.Until.IsZero() {
			text += " until " + d.clockTime(state.Until)
		}
		text += "."
	}
	if coverName != "" {
		text += "\nCovering for me: " + coverName + "."
	}
	return text
}

// DNDPolicy says which urgent levels ring through do-not-disturb (routine
// never does). The zero value lets urgent and STAT through.
type DNDPolicy struct {
	UrgentSilenced bool // urgent messages stay quiet too
	STATSilenced   bool // STAT messages stay quiet too
}

func (p DNDPolicy) breaksThrough(u securestore.Urgency) bool {
	switch {
	case u >= securestore.UrgencyCritical:
		return !p.STATSilenced
	case u >= securestore.UrgencyHigh:
		return !p.UrgentSilenced
	}
	return false
}

// keepsQuiet says whether a message of level u arriving now stays
// quiet because do not disturb is on (a locked device's arrivals: the state
// stays in memory while locked; it holds no message).
func (d *dndService) keepsQuiet(u securestore.Urgency) bool {
	d.mu.Lock()
	state := d.state
	d.mu.Unlock()
	return state.On(d.clock.Now()) && !d.host.Policy().DND.breaksThrough(u)
}

// withoutIDs is msgs less those in drop.
func withoutIDs(msgs []securestore.Message, drop map[securestore.MessageID]bool) []securestore.Message {
	if len(drop) == 0 {
		return msgs
	}
	out := make([]securestore.Message, 0, len(msgs))
	for _, m := range msgs {
		if !drop[m.ID] {
			out = append(out, m)
		}
	}
	return out
}

// autoRow marks a row written by its sender's client: an automatic reply,
// or a forward, which names who forwarded it (the sender the server
// vouched for) and whom that person says wrote it.
func autoRow(st *securestore.Store, m securestore.Message, names contactNames, r *MessageRow) {
	if m.Extra[sync.ExtraAuto] != "" {
		r.Automatic = true
	}
	from := m.Extra[sync.ExtraForwardedFrom]
	if from == "" {
		return
	}
	fw := &ForwardView{FromJID: from, From: memberName(st, from, names), By: r.Sender}
	if from == "?" {
		fw.From, fw.FromJID = "someone not named", ""
	}
	if t, err := time.Parse(time.RFC3339, m.Extra[sync.ExtraForwardedAt]); err == nil {
		fw.At = t
	}
	r.Forward = fw
}

// ForwardView is what a thread says of a forwarded message: By forwarded it
// (the server vouches for that), From is whom By says wrote it and At when
// (claims, shown as By's). Header is the small line drawn above the text:
// "Forwarded · from Dr Ama Osei · 14:02".
type ForwardView struct {
	By, From, FromJID string
	At                time.Time
	Header            string
}

// autoLines are the words a thread shows above a row's status: that it is
// automatic, and for a forward who forwarded it and whom they name. They
// set the forward's Header too.
func autoLines(r MessageRow, clock func(time.Time) string) []string {
	var out []string
	if f := r.Forward; f != nil {
		by := f.By
		if r.Outgoing {
			by = "you"
		}
		line := "Forwarded by " + by + ": originally from " + f.From
		if f.FromJID != "" && f.FromJID != f.From {
			line += " (" + f.FromJID + ")"
		}
		f.Header = "Forwarded · from " + f.From
		if !f.At.IsZero() {
			line += " at " + clock(f.At)
			f.Header += " · " + clock(f.At)
		}
		out = append(out, line)
	}
	if r.Automatic && r.Forward == nil {
		out = append(out, "Automatic reply")
	}
	return out
}
