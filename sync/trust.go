package sync

import (
	"fmt"
	"strings"

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
		fmt.Fprintf(&b, " [id %q from %q type %q: %s]", r.id, r.from, r.typ, r.reason)
	}
	s.log.Warn("sync: dropped forged archive results", "archive", owner, "count", len(rs))
	if err := s.store.Audit(securestore.AuditRejected, b.String()); err != nil {
		s.log.Warn("sync: audit", "err", err)
	}
}
