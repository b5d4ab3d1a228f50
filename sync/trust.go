package sync

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// What an archive may claim. The MAM wrapper's from is checked on the wire
// (sync/xmpp/xep0313.go): the result comes from the archive's owner. What the
// forwarded message inside says is the owner's claim, and an owner may only
// speak for itself:
//   - a room's archive holds what was said in that room: type groupchat, from
//     an occupant of that room (room@service/nick). A room (on any server the
//     user joined, federated included) must not be able to inject a 1:1
//     message "from" a colleague, a message stored as the user's own outgoing
//     message, or a wipe directive "from" an administrator.
//   - the user's own archive (kept by the user's own server) holds the user's
//     1:1 traffic: from the account, or addressed to it. Room messages come
//     from the room's own archive, never from the user's.
//
// archiveClaimProblem returns why m cannot be in owner's archive, or "".
func (s *Session) archiveClaimProblem(m *xmpp.Message, owner string) string {
	if m == nil {
		return "no message"
	}
	if owner != s.account {
		if m.Type != "groupchat" {
			return "not a groupchat message"
		}
		j, err := xmpp.ParseJID(m.From)
		if err != nil || j.Bare().String() != owner || j.Resource == "" {
			return "not from an occupant of the room"
		}
		if m.To != "" && !xmpp.SameBare(m.To, owner) && !xmpp.SameBare(m.To, s.account) {
			return "addressed elsewhere"
		}
		return ""
	}
	if m.Type == "groupchat" {
		return "a groupchat message in the user's archive"
	}
	if xmpp.SameBare(m.From, s.account) {
		return ""
	}
	if !xmpp.SameBare(m.To, s.account) {
		return "neither from nor to the account"
	}
	return ""
}

// rejectedResult is one archive result dropped because of what it claimed.
type rejectedResult struct {
	id, from, typ, reason string
}

// maxAuditedRejects bounds one audit entry: a hostile archive can send a
// page of forgeries, and the log records ids and JIDs only, never content.
const maxAuditedRejects = 20

// auditRejected records the archive results of one page that were dropped
// for claiming what their archive cannot say: the security officer sees that
// an archive tried, and which ids and JIDs it named.
func (s *Session) auditRejected(owner string, rs []rejectedResult) {
	if len(rs) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "archive %s: dropped %d result(s) claiming what it cannot say:", owner, len(rs))
	for i, r := range rs {
		if i == maxAuditedRejects {
			fmt.Fprintf(&b, " (and %d more)", len(rs)-i)
			break
		}
		fmt.Fprintf(&b, " [id %q from %q type %q: %s]", auditField(r.id), auditField(r.from), auditField(r.typ), r.reason)
	}
	s.log.Warn("sync: dropped forged archive results", "archive", owner, "count", len(rs))
	if err := s.store.Audit(securestore.AuditRejected, b.String()); err != nil {
		s.log.Warn("sync: audit", "err", err)
	}
}

// maxAuditField bounds each id or JID an audit entry quotes from the wire.
// A JID is at most 3071 bytes (RFC 7622); ids have no limit but the frame's:
// a hostile archive quoting megabyte "ids" must not make the audit log,
// which is never purged, hold megabytes per entry.
const maxAuditField = 256

// auditField is s as an audit entry quotes it: cut at maxAuditField bytes
// (on a rune boundary), with how long it was.
func auditField(s string) string {
	if len(s) <= maxAuditField {
		return s
	}
	cut := maxAuditField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// When a message was sent. A <delay/> stamp is believed only from whoever
// held the stanza for us: the user's own server (offline storage, XEP-0198
// replay: from = our domain or our bare JID) while it is still delivering
// what it held, that is while the stream is being set up (offline messages
// follow the initial presence, before the answers to the setup's later
// queries). Our server holds no groupchat message offline, so a groupchat
// message is believed only with the stamp XEP-0198 replay adds (our bare
// JID): a room occupant's <delay from="our domain"/> passes the room
// unchanged. A room's own stamp is never believed on a live message: rooms
// are joined without history (maxstanzas="0", xep0045.go), so a room never
// legitimately stamps one, and a room that does not strip an occupant's
// <delay from="room"/> (Prosody strips only the exact room JID) would let
// any occupant backdate a message or silence an urgent one. Once the
// Session is ready, messages are live: a "server" stamp then came from the
// sender (Prosody passes a sender's <delay/> through unchanged). A sender's
// stamp is the sender's claim: it neither orders the conversation nor
// decides retention or whether an urgent message still rings. An archive's
// own stamp (<forwarded><delay/>) is its owner's and trusted. Nothing is in
// the future: a later stamp is clamped to the time of receipt.
//
// While setting up, a sender can still write <delay from="our domain"/> (or
// our bare JID) on a message that reaches us live during catch-up, or on one
// our server held offline: Prosody passes it through unchanged, and its
// offline storage adds its own stamp as the last <delay/> (so the last one
// from our server is taken, never an earlier one). Our server held a message
// only while no resource of ours was online, so its stamp cannot be earlier
// than this device's last time online: a session became ready, or a
// keepalive ping was answered (recorded in the store, settingLastOnline, by
// the device's clock). A stamp earlier than that, less maxServerClockSkew for
// the two clocks, is not believed: the message is stored at its receipt, and
// cannot be backdated into old history or an expired retention period. A
// device that never was online has no floor (its first sign-in).

// ExtraClaimedAt holds, in RFC 3339, the time a sender's <delay/> claimed
// when it was not believed and differs from the stored time by more than a
// minute: shown, never used for order, retention or alerting.
const ExtraClaimedAt = "claimed-at"

// stampTime sets sm.Timestamp (and ExtraClaimedAt) for wire message m;
// archived is the archive's stamp for it (zero for live and carbon copies).
func (s *Session) stampTime(sm *securestore.Message, m *xmpp.Message, archived time.Time) {
	now := s.clock.Now()
	at := now
	if !archived.IsZero() {
		at = archived
	} else if d, ok := s.trustedDelay(m); ok {
		at = d
	}
	if at.After(now) {
		at = now
	}
	sm.Timestamp = at
	delete(sm.Extra, ExtraClaimedAt)
	if len(m.Delays) > 0 {
		if c := m.Delays[0].Stamp; c.Sub(at) > time.Minute || at.Sub(c) > time.Minute {
			if sm.Extra == nil {
				sm.Extra = map[string]string{}
			}
			sm.Extra[ExtraClaimedAt] = c.UTC().Format(time.RFC3339)
		}
	}
}

// trustedDelay returns the stamp of the last <delay/> added by whoever held
// m for us: our server while the stream is set up (for a groupchat message
// only XEP-0198 replay's stamp, from our bare JID).
func (s *Session) trustedDelay(m *xmpp.Message) (time.Time, bool) {
	s.mu.Lock()
	flushing := !s.ready
	s.mu.Unlock()
	if !flushing {
		return time.Time{}, false
	}
	domain := ""
	if j, err := xmpp.ParseJID(s.account); err == nil {
		domain = j.Domain
	}
	for i := len(m.Delays) - 1; i >= 0; i-- {
		d := m.Delays[i]
		switch {
		case d.From == "":
		case d.From == s.account, d.From == domain && m.Type != "groupchat":
			if floor := s.onlineFloor(); !floor.IsZero() && d.Stamp.Before(floor.Add(-maxServerClockSkew)) {
				return time.Time{}, false
			}
			return d.Stamp, true
		}
	}
	return time.Time{}, false
}

// maxServerClockSkew is how far our server's clock may be behind this
// device's for its <delay/> stamp to be believed (see stampTime).
const maxServerClockSkew = 5 * time.Minute

// settingLastOnline is the store setting holding lastOnline (RFC 3339).
const settingLastOnline = "sync.last-online"

// saveLastOnlineEvery bounds how often keepalives write lastOnline.
const saveLastOnlineEvery = time.Minute

// onlineFloor is the last time this device knew itself online (zero: never).
func (s *Session) onlineFloor() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastOnline
}

// noteOnline records that this device is online now: always when a session
// becomes ready (force), else at most every saveLastOnlineEvery.
func (s *Session) noteOnline(force bool) {
	now := s.clock.Now()
	s.mu.Lock()
	s.lastOnline = now
	save := force || now.Sub(s.lastOnlineSaved) >= saveLastOnlineEvery
	if save {
		s.lastOnlineSaved = now
	}
	s.mu.Unlock()
	if !save || s.Locked() {
		return
	}
	if err := s.store.SetSetting(settingLastOnline, []byte(now.UTC().Format(time.RFC3339Nano))); err != nil {
		s.log.Warn("sync: last time online not recorded", "err", err)
	}
}

// loadLastOnline reads the recorded last time online (zero if none or
// unreadable: then no floor, as on a first sign-in).
func (s *Session) loadLastOnline() time.Time {
	v, err := s.store.Setting(settingLastOnline)
	if err != nil {
		if !errors.Is(err, securestore.ErrNotFound) {
			s.log.Warn("sync: last time online not read", "err", err)
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		s.log.Warn("sync: last time online unreadable", "err", err)
		return time.Time{}
	}
	return t
}
