package app

import (
	"bytes"
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

// policyState is the policy service: the clinical policy the organisation
// published, the user's stricter choices (prefs.go), the on-call schedule
// (oncall.go) and the order rule (orders.go), with what applying them
// needs. Client embeds it, so its methods are Client's facade as they are.
//
// Locking: its state is guarded by Client.mu (mu points at it), not a lock
// of its own: auto-lock, notifications and the lifecycle read the policy
// together with the session under that one lock (the …Locked methods
// expect it held). nodeMu serialises applying node items (fetch vs. live);
// it is taken before Client.mu. The rest of the Client is reached only
// through policyHost.
type policyState struct {
	mu         *gosync.Mutex // Client.mu
	configured *Policy       // &Client.cfg.Policy: the device's own word
	log        *slog.Logger
	clock      Clock
	changes    *changeQueue // the Client's: screens hear of policy and roles changing
	host       policyHost

	preferences // the user's choices within policy (prefs.go)
	org         *OrgPolicy
	shifts      []Shift
	pinLen      int          // length of the PIN last used to unlock (never the PIN)
	staleSeen   int          // an older org policy version already audited as ignored
	nodeMu      gosync.Mutex // serialises applying node items (fetch vs. live)
}

// policyHost is what the policy service needs from the rest of the Client.
// The …Locked methods expect Client.mu held; the others take it.
type policyHost interface {
	// The session (client.go): the open store and its Session (nil, nil
	// while locked), Client.mu held; or the open store, or ErrLocked; the
	// account.
	sessionLocked() (*securestore.Store, *sync.Session)
	unlocked() (*securestore.Store, error)
	Account() string
	// People (faces.go): a role holder's face.
	avatarOf(st *securestore.Store, name, bare string) Avatar
	// Auto-lock (lock.go): time since the last activity, and re-arming the
	// idle timer, for a lock limit that changed.
	idleLocked() time.Duration
	armTimerLocked(d time.Duration)
	// Notifications (notify.go): withdrawing the ones that show more than
	// a stricter preview allows.
	shownNotifications() []string
	clearNotification(conv string)
	// Retention and wipe (retention.go, wipe.go): a new retention period
	// re-arms the purge; a new admin list judges held wipe requests.
	armRetention(st *securestore.Store, now bool)
	judgeHeldWipes(st *securestore.Store)
	// The audit log (audit.go).
	audit(kind, detail string)
	auditWith(st *securestore.Store, kind, detail string)
}

// The hospital speaks through two channels: the Policy the device was
// configured with (Config.Policy, set when IT packages or deploys the app)
// and the org policy node (urn:rounds:policy:0) IT publishes on the server's
// pubsub service. Where they disagree on a safety setting the strictest wins
// (shorter lock, longer PIN, less revealing notifications, keyring only if
// both allow, shorter retention); the user's own choices (prefs.go) can only
// tighten further. Clinical settings the device config cannot know better
// (urgent repeats, escalation ladder, order recipients, level names) come
// from the node when it says anything.

// Policy node names (docs/PROTOCOL.md, "Rounds extensions").
const (
	PolicyNode = "urn:rounds:policy:0"
	OnCallNode = "urn:rounds:oncall:0"
)

// Defaults for the clinical fields of Policy.
const (
	DefaultMinPINLength      = 4
	DefaultUrgentRepeat      = 2 * time.Minute
	DefaultUrgentRepeatCount = 10
	DefaultEscalationAfter   = 5 * time.Minute
)

// OrgPolicy is the org policy document as published by IT. Every field is
// optional: a zero value means "the document says nothing about it", and the
// device's configured Policy stands.
type OrgPolicy struct {
	Version           int               `json:"version"`
	RetentionDays     int               `json:"retention_days,omitempty"`
	LockMax           time.Duration     `json:"lock_max,omitempty"`
	PINMinLength      int               `json:"pin_min_length,omitempty"`
	KeyringAllowed    *bool             `json:"keyring_allowed,omitempty"`
	Preview           *PreviewLevel     `json:"preview,omitempty"`
	UrgentRepeat      time.Duration     `json:"urgent_repeat,omitempty"`
	UrgentRepeatCount int               `json:"urgent_repeat_count,omitempty"`
	Escalation        EscalationPolicy  `json:"escalation,omitzero"`
	Admins            []string          `json:"admins,omitempty"`
	OrderRecipients   []string          `json:"order_recipients,omitempty"`
	Levels            UrgencyLevelNames `json:"levels,omitzero"`
	TextAck           *TextAckPolicy    `json:"text_ack,omitempty"`
	// ShiftKeep, when set, replaces the device's Policy.ShiftKeep: how long
	// a profile is kept locked after "End shift" (0: removed at once).
	ShiftKeep *time.Duration `json:"shift_keep,omitempty"`
	// LockedName, when set, replaces Policy.NameWhileLocked.
	LockedName *bool      `json:"locked_name,omitempty"`
	DND        *DNDPolicy `json:"dnd,omitempty"`
	// LockedRoutineNotify: do routine messages notify while locked (false:
	// only urgent and STAT do); nil says nothing.
	LockedRoutineNotify *bool `json:"locked_routine_notify,omitempty"`
	// ColdStartListen: may a desktop listen locked after a restart
	// (coldstart.go); false turns it off, nil says nothing.
	ColdStartListen *bool `json:"cold_start_listen,omitempty"`
}

// TextAckPolicy says whether a plain-text reply ("ack") from someone whose
// client does not speak Rounds acknowledges a page. Off turns it off; Words,
// when given, are the only replies that count (compared whole, trimmed and
// case-folded); none given means the engine's defaults (ack, acked,
// acknowledged).
type TextAckPolicy struct {
	Off   bool     `json:"off,omitempty"`
	Words []string `json:"words,omitempty"`
}

// EscalationPolicy is the default ladder for ack-required messages: after
// After without an acknowledgement, go to the next step.
type EscalationPolicy struct {
	After time.Duration    `json:"after,omitempty"`
	Steps []EscalationStep `json:"steps,omitempty"`
	// Service is the hospital's escalation service (bare JID): ladders
	// are handed to it, and only its notices are filed into threads. Only
	// the org policy names it.
	Service string `json:"service,omitempty"`
}

// EscalationStep names one target: a person, a role (resolved when the step
// fires) or a room. Exactly one is set.
type EscalationStep struct {
	To   string `json:"to,omitempty"`
	Role string `json:"role,omitempty"`
	Room string `json:"room,omitempty"`
}

// UrgencyLevelNames are the display names of the three levels; empty means
// the default ("Routine", "Urgent", "STAT").
type UrgencyLevelNames struct {
	Routine string `json:"routine,omitempty"`
	Urgent  string `json:"urgent,omitempty"`
	STAT    string `json:"stat,omitempty"`
}

// Name is the display name of u.
func (n UrgencyLevelNames) Name(u securestore.Urgency) string {
	switch u {
	case securestore.UrgencyHigh:
		return cmpOr(n.Urgent, "Urgent")
	case securestore.UrgencyCritical:
		return cmpOr(n.STAT, "STAT")
	}
	return cmpOr(n.Routine, "Routine")
}

func cmpOr(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

var (
	// ErrPINTooShort: the new PIN is shorter than the hospital's minimum;
	// see *PINTooShortError for the minimum.
	ErrPINTooShort = errors.New("the PIN is too short")
)

// PINTooShortError says how long a PIN must be. It matches ErrPINTooShort.
type PINTooShortError struct{ Min int }

func (e *PINTooShortError) Error() string {
	if e.Min <= MinPINLength {
		return fmt.Sprintf("A PIN has at least %d digits", e.Min)
	}
	return fmt.Sprintf("Your hospital requires a PIN of at least %d digits", e.Min)
}

// Is makes errors.Is(err, ErrPINTooShort) true.
func (e *PINTooShortError) Is(target error) bool { return target == ErrPINTooShort }

// SignInPINMinimum is the shortest PIN SignIn accepts with cfg: the
// configured policy's minimum (the org policy node cannot be read before the
// first sign-in; once it arrives, PINChangeRequired says whether the PIN
// chosen here is still long enough).
func SignInPINMinimum(cfg Config) int {
	return max(cfg.Policy.withDefaults().MinPINLength, MinPINLength)
}

// MinPINLength is the floor under every hospital's minimum for a PIN the
// user chooses (CheckNewPIN): no shorter PIN is offered, whatever the
// policy says.
const MinPINLength = DefaultMinPINLength

// The PIN rule's own refusals (besides *PINTooShortError).
var (
	ErrPINDigits   = errors.New("A PIN is digits only")
	ErrPINMismatch = errors.New("The two PINs do not match")
)

// CheckNewPIN is the rule for a PIN the user chooses, typed twice: digits
// only, at least min digits (the policy's minimum, never below
// MinPINLength), the same both times. The screens check with it before
// calling SignIn or ChangePIN, so the user learns the hospital's rule
// before the store is touched; SignIn, Finish and ChangePIN apply the
// same rule again (checkNewPIN).
func CheckNewPIN(pin, confirm string, min int) error {
	if err := checkNewPIN([]byte(pin), min); err != nil {
		return err
	}
	if pin != confirm {
		return ErrPINMismatch
	}
	return nil
}

// checkNewPIN is the PIN rule itself, for the screens (CheckNewPIN) and for
// every door that sets a PIN (SignIn, PendingSignIn.Finish, ChangePIN), so a
// caller that skips the screens' check meets the same rule: digits only,
// at least min digits and never fewer than MinPINLength.
func checkNewPIN(pin []byte, min int) error {
	for _, r := range string(pin) {
		if r < '0' || r > '9' {
			return ErrPINDigits
		}
	}
	return checkPINLength(pin, max(min, MinPINLength))
}

// PINRuleText is the rule as shown next to a PIN field.
func PINRuleText(min int) string {
	return fmt.Sprintf("At least %d digits.", max(min, MinPINLength))
}

// checkPINLength refuses a PIN shorter than min (counted in characters).
func checkPINLength(pin []byte, min int) error {
	if min <= 0 {
		min = 1
	}
	if n := len([]rune(string(pin))); n < min {
		if n == 0 && min == 1 {
			return fmt.Errorf("%w: choose a PIN", securestore.ErrInvalid)
		}
		return &PINTooShortError{Min: min}
	}
	return nil
}

// previewFromWire maps the policy document's words to PreviewLevel.
func previewFromWire(s string) (PreviewLevel, bool) {
	switch s {
	case "none":
		return PreviewNone, true
	case "sender":
		return PreviewSender, true
	case "content":
		return PreviewContent, true
	}
	return 0, false
}

// withDefaults fills the zero values of a configured Policy.
func (p Policy) withDefaults() Policy {
	if p.LockAfter <= 0 {
		p.LockAfter = DefaultLockAfter
	}
	if p.MaxWrongPINs <= 0 {
		p.MaxWrongPINs = DefaultMaxWrongPINs
	}
	if p.MinPINLength <= 0 {
		p.MinPINLength = DefaultMinPINLength
	}
	if p.UrgentRepeat <= 0 {
		p.UrgentRepeat = DefaultUrgentRepeat
	}
	if p.UrgentRepeatCount <= 0 {
		p.UrgentRepeatCount = DefaultUrgentRepeatCount
	}
	if p.Escalation.After <= 0 {
		p.Escalation.After = DefaultEscalationAfter
	}
	return p
}

// mergePolicy combines the configured policy (defaults applied) with the org
// policy document, strictest wins. org may be nil (none received yet).
func mergePolicy(base Policy, org *OrgPolicy) Policy {
	p := base
	p.Admins = slices.Clone(base.Admins)
	p.OrderRecipients = slices.Clone(base.OrderRecipients)
	p.Escalation.Steps = slices.Clone(base.Escalation.Steps)
	p.TextAck.Words = slices.Clone(base.TextAck.Words)
	if org == nil {
		return p
	}
	p.Version = org.Version
	if org.LockMax > 0 && org.LockMax < p.LockAfter {
		p.LockAfter = org.LockMax
	}
	if org.PINMinLength > p.MinPINLength {
		p.MinPINLength = org.PINMinLength
	}
	if org.KeyringAllowed != nil && !*org.KeyringAllowed {
		p.AllowKeyring = false
	}
	if org.ColdStartListen != nil && !*org.ColdStartListen {
		p.DeafAfterRestart = true // off wins: the device may be off already
	}
	if org.LockedRoutineNotify != nil && !*org.LockedRoutineNotify {
		p.QuietRoutineWhileLocked = true // quieter wins: the device may be quiet already
	}
	if org.Preview != nil && previewRank(*org.Preview) < previewRank(p.Preview) {
		p.Preview = *org.Preview
	}
	if org.RetentionDays > 0 {
		r := time.Duration(org.RetentionDays) * 24 * time.Hour
		if p.Retention <= 0 || r < p.Retention {
			p.Retention = r
		}
	}
	if org.UrgentRepeat > 0 {
		p.UrgentRepeat = org.UrgentRepeat
	}
	if org.UrgentRepeatCount > 0 {
		p.UrgentRepeatCount = org.UrgentRepeatCount
	}
	if org.Escalation.After > 0 {
		p.Escalation.After = org.Escalation.After
	}
	if len(org.Escalation.Steps) > 0 {
		p.Escalation.Steps = slices.Clone(org.Escalation.Steps)
	}
	if org.Escalation.Service != "" {
		p.Escalation.Service = org.Escalation.Service
	}
	// Both the deployment and the node are IT's word on who may wipe: either
	// may. The node's order list, when it names anyone, is the specified
	// contact list (it replaces the deployment's, never widens it silently).
	for _, a := range org.Admins {
		if a = normJID(a); a != "" && !slices.Contains(p.Admins, a) {
			p.Admins = append(p.Admins, a)
		}
	}
	if len(org.OrderRecipients) > 0 {
		p.OrderRecipients = nil
		for _, r := range org.OrderRecipients {
			if r = normJID(r); r != "" {
				p.OrderRecipients = append(p.OrderRecipients, r)
			}
		}
	}
	if t := org.TextAck; t != nil {
		p.TextAck = mergeTextAck(p.TextAck, *t)
	}
	if org.LockedName != nil {
		// Like ShiftKeep, a shared-device decision of the hospital's: the
		// node's word replaces the device's (off unless it says so).
		p.NameWhileLocked = *org.LockedName
	}
	if org.ShiftKeep != nil {
		// What a shared phone keeps between shifts is the hospital's
		// decision about its own devices: the node's word replaces the
		// built-in one (remove at end of shift) in either direction.
		p.ShiftKeep = max(*org.ShiftKeep, 0)
	}
	if d := org.DND; d != nil {
		p.DND = *d // a clinical setting: the node's word, when it says one
	}
	if org.Levels.Routine != "" {
		p.Levels.Routine = org.Levels.Routine
	}
	if org.Levels.Urgent != "" {
		p.Levels.Urgent = org.Levels.Urgent
	}
	if org.Levels.STAT != "" {
		p.Levels.STAT = org.Levels.STAT
	}
	return p
}

// mergeTextAck: strictest wins. Either side can switch text
// acknowledgements off; where both name words, only words both accept count
// (none in common: off); where one does, its words.
func mergeTextAck(base, org TextAckPolicy) TextAckPolicy {
	out := TextAckPolicy{Off: base.Off || org.Off, Words: slices.Clone(base.Words)}
	if len(org.Words) == 0 {
		return out
	}
	if len(base.Words) == 0 {
		out.Words = slices.Clone(org.Words)
		return out
	}
	out.Words = nil
	for _, w := range base.Words {
		if slices.ContainsFunc(org.Words, func(o string) bool { return sync.NormalizeReply(o) == sync.NormalizeReply(w) }) {
			out.Words = append(out.Words, w)
		}
	}
	if len(out.Words) == 0 {
		out.Off = true
	}
	return out
}

// textAckRules is the engine's form of the policy's text-acknowledgement
// setting.
func textAckRules(p Policy) sync.TextAckRules {
	return sync.TextAckRules{Off: p.TextAck.Off, Words: slices.Clone(p.TextAck.Words)}
}

// normJID is the lower-cased bare form of a JID, "" if it is not one.
func normJID(s string) string {
	j, err := jid.Parse(strings.TrimSpace(s))
	if err != nil || j.Domain == "" {
		return ""
	}
	return strings.ToLower(j.Bare().String())
}

// Policy is the policy in force on this device: the configured policy and the
// org policy node merged, strictest wins. The user's own choices within it
// are NotificationPreview and LockAfter. The settings screen offers only what
// this allows.
func (ps *policyState) Policy() Policy {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.policyLocked()
}

func (ps *policyState) policyLocked() Policy {
	return mergePolicy(ps.configured.withDefaults(), ps.org)
}

// effectivePolicy is Policy with the user's tighter choices applied: what
// alerts, escalation, auto-lock and notifications obey.
func (ps *policyState) effectivePolicy() Policy {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.policyLocked()
	p.Preview = ps.previewLocked()
	p.LockAfter = ps.lockAfterLocked()
	return p
}

// OrgPolicyVersion is the version of the org policy in force (0: none
// received yet, the configured policy alone applies).
func (ps *policyState) OrgPolicyVersion() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.org == nil {
		return 0
	}
	return ps.org.Version
}

// hasOrgPolicyLocked: an org policy was received (Client.mu held).
func (ps *policyState) hasOrgPolicyLocked() bool { return ps.org != nil }

// PINChangeRequired reports that the PIN this device was unlocked with is
// shorter than the policy now requires: the UI should ask for a new one
// (ChangePIN enforces the minimum).
func (ps *policyState) PINChangeRequired() bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.pinLen > 0 && ps.pinLen < ps.policyLocked().MinPINLength
}

const (
	settingOrgPolicy = "app.org-policy"
	// auditPolicyChanged records every change of the org policy in force.
	auditPolicyChanged = "policy-changed"
)

// loadOrgPolicyLocked reads the last org policy received, so it applies from
// the first moment after unlock, before (or without) a connection.
func (ps *policyState) loadOrgPolicyLocked(st *securestore.Store) {
	ps.org = nil
	b, err := st.Setting(settingOrgPolicy)
	if err != nil {
		if !errors.Is(err, securestore.ErrNotFound) {
			ps.log.Warn("app: reading stored org policy", "err", err)
		}
		return
	}
	var p OrgPolicy
	if err := json.Unmarshal(b, &p); err != nil {
		ps.log.Warn("app: stored org policy unreadable; waiting for the server's", "err", err)
		return
	}
	ps.org = &p
}

// applyOrgPolicy makes p the org policy in force: persisted, applied at once
// (lock timer, keyring, retention, the views) and audited. An identical
// document changes nothing and is not audited again; an older version than
// the one in force is refused (audited).
func (ps *policyState) applyOrgPolicy(st *securestore.Store, p OrgPolicy) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	ps.mu.Lock()
	var old []byte
	oldVersion := 0
	if ps.org != nil {
		old, _ = json.Marshal(ps.org)
		oldVersion = ps.org.Version
	}
	ps.mu.Unlock()
	if bytes.Equal(old, b) {
		return nil
	}
	if old != nil && p.Version < oldVersion {
		// A fetch racing a newer notification, or an archive replay: never
		// step back. (IT bumps the version with every edit, docs/ADMIN.md.)
		ps.mu.Lock()
		again := ps.staleSeen == p.Version
		ps.staleSeen = p.Version
		ps.mu.Unlock()
		if !again {
			ps.host.auditWith(st, auditPolicyChanged, fmt.Sprintf("policy version %d ignored: older than version %d in force", p.Version, oldVersion))
		}
		return nil
	}
	if err := st.SetSetting(settingOrgPolicy, b); err != nil {
		return mapErr(err)
	}
	ps.mu.Lock()
	open, sess := ps.host.sessionLocked()
	if open != st {
		ps.mu.Unlock()
		return ErrLocked
	}
	prevRetention, prevPreview := ps.policyLocked().Retention, ps.previewLocked()
	ps.org = &p
	eff := ps.policyLocked()
	if sess != nil {
		sess.SetTextAck(textAckRules(eff))
		sess.SetEscalationService(eff.Escalation.Service)
	}
	// The lock timer re-checks idleness against the new limit now, so a
	// shorter lock takes effect without waiting for the old timeout.
	ps.host.armTimerLocked(max(ps.lockAfterLocked()-ps.host.idleLocked(), 0))
	ps.mu.Unlock()

	detail := fmt.Sprintf("policy changed: version %d", p.Version)
	if old != nil {
		detail += fmt.Sprintf(" (was %d)", oldVersion)
	}
	ps.host.auditWith(st, auditPolicyChanged, detail)
	ps.log.Info("app: org policy applied", "version", p.Version)
	ps.enforceKeyring(st, eff)
	if prevPreview == PreviewContent && ps.NotificationPreview() != PreviewContent {
		// Message text on screen is now beyond policy: withdraw it (the
		// conversations stay unread).
		for _, conv := range ps.host.shownNotifications() {
			ps.host.clearNotification(conv)
		}
	}
	if eff.Retention != prevRetention {
		ps.host.armRetention(st, true)
	}
	ps.changes.push(Change{Kind: PolicyChanged})
	ps.host.judgeHeldWipes(st)
	return nil
}

// enforceKeyring removes the keyring slot when the policy forbids unlocking
// without the PIN (the store audits the removal).
func (ps *policyState) enforceKeyring(st *securestore.Store, p Policy) {
	if p.AllowKeyring {
		return
	}
	on, err := st.KeyringEnabled()
	if err != nil || !on {
		return
	}
	if err := st.DisableKeyring(); err != nil {
		ps.log.Warn("app: disabling keyring unlock per policy", "err", err)
		return
	}
	ps.log.Info("app: keyring unlock disabled by policy")
}

// setPINLen remembers how long the unlocking PIN was (for PINChangeRequired);
// the PIN itself is not kept.
func (ps *policyState) setPINLen(pin []byte) {
	ps.mu.Lock()
	ps.pinLen = len([]rune(string(pin)))
	ps.mu.Unlock()
}

// orgPolicyFromWire converts the parsed policy document (sync/xmpp checks
// its bounds) to the app's form.
func orgPolicyFromWire(w sync.OrgPolicy) OrgPolicy {
	secs := func(n int) time.Duration { return time.Duration(n) * time.Second }
	p := OrgPolicy{Version: w.Version, RetentionDays: w.RetentionDays, LockMax: secs(w.LockMaxSeconds),
		PINMinLength: w.PINMinLength, KeyringAllowed: w.KeyringAllowed,
		UrgentRepeat: secs(w.UrgentRepeatSeconds), UrgentRepeatCount: w.UrgentRepeatCount,
		Escalation: EscalationPolicy{After: secs(w.Escalation.AfterSeconds), Service: w.Escalation.Service},
		Admins:     slices.Clone(w.Admins), OrderRecipients: slices.Clone(w.OrderRecipients),
		Levels: UrgencyLevelNames{Routine: w.LevelNames.Routine, Urgent: w.LevelNames.Urgent, STAT: w.LevelNames.STAT}}
	if t := w.TextAck; t != nil {
		p.TextAck = &TextAckPolicy{Off: !t.Allowed, Words: slices.Clone(t.Words)}
	}
	if b := w.LockedNameAllowed; b != nil {
		v := *b
		p.LockedName = &v
	}
	if h := w.ShiftKeepHours; h != nil {
		d := time.Duration(*h) * time.Hour
		p.ShiftKeep = &d
	}
	if d := w.DND; d != nil {
		p.DND = &DNDPolicy{UrgentSilenced: !d.Urgent, STATSilenced: !d.STAT}
	}
	if b := w.LockedRoutineNotify; b != nil {
		v := *b
		p.LockedRoutineNotify = &v
	}
	if b := w.ColdStartListen; b != nil {
		v := *b
		p.ColdStartListen = &v
	}
	if pv, ok := previewFromWire(w.NotificationPreview); ok {
		p.Preview = &pv
	}
	for _, s := range w.Escalation.Steps {
		p.Escalation.Steps = append(p.Escalation.Steps, EscalationStep{To: s.To, Role: s.Role, Room: s.Room})
	}
	return p
}

func shiftsFromWire(w []sync.Shift) []Shift {
	out := make([]Shift, len(w))
	for i, s := range w {
		out[i] = Shift{Role: s.Role, JID: s.JID, From: s.From, Until: s.Until, Backup: s.Backup, Orders: s.Orders}
	}
	return out
}

// onPolicyUpdated applies the org policy document the engine parsed from the
// policy node, fetched or notified. The engine accepts it only from the
// configured pubsub service and reports nothing for a document that does not
// parse, so the last good one stays in force.
func (ps *policyState) onPolicyUpdated(st *securestore.Store, e sync.PolicyUpdated) {
	ps.nodeMu.Lock()
	defer ps.nodeMu.Unlock()
	if err := ps.applyOrgPolicy(st, orgPolicyFromWire(e.Policy)); err != nil {
		ps.log.Warn("app: applying org policy", "err", err)
	}
}

// onOnCallUpdated applies the on-call schedule, as onPolicyUpdated the policy.
func (ps *policyState) onOnCallUpdated(st *securestore.Store, e sync.OnCallUpdated) {
	ps.nodeMu.Lock()
	defer ps.nodeMu.Unlock()
	if err := ps.applySchedule(st, shiftsFromWire(e.Shifts)); err != nil {
		ps.log.Warn("app: applying on-call schedule", "err", err)
	}
}
