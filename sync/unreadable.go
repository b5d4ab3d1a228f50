package sync

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// A message the client could not read (too large, too deep, malformed; see
// sync/xmpp/unreadable.go) is not lost silently and does not stop syncing: it
// is stored as a placeholder in the conversation it belongs to, with no body
// and the reason in its Extra, so the user sees that a message from that
// person exists and can ask for it another way. Which conversation, which
// direction and which ids count follow toStored, exactly as for a readable
// message; an archived one is keyed by its archive id, so fetching the page
// again finds it already stored. Each placeholder stored is audited once, in
// the transaction that stores it.

// Extra keys of a placeholder.
const (
	ExtraUnreadable     = "unreadable"      // xmpp.Reason*: why it could not be read
	ExtraUnreadableSize = "unreadable.size" // size in bytes of what the server sent
)

// The values of ExtraUnreadable: why the wire could not read a message
// (xmpp.Reason*), for the app to put into words.
const (
	UnreadableTooLarge     = xmpp.ReasonTooLarge     // over the frame limit
	UnreadableTooDeep      = xmpp.ReasonTooDeep      // nested too deep
	UnreadableTooManyAttrs = xmpp.ReasonTooManyAttrs // an element with too many attributes
	UnreadableTooMany      = xmpp.ReasonTooMany      // too many elements
	UnreadableMalformed    = xmpp.ReasonMalformed    // not XML the decoder accepts
	UnreadableBadUTF8      = xmpp.ReasonBadUTF8      // not UTF-8
)

// unreadablePlaceholder turns an unreadable message into the store message
// that stands for it, or false if it belongs to no conversation we keep.
func (s *Session) unreadablePlaceholder(m *xmpp.Message, archived bool) (securestore.Message, bool) {
	if m.From == "" && m.To == "" {
		return securestore.Message{}, false // whose it was is not in the part we read
	}
	sm, ok := s.toStored(m, archived)
	if !ok {
		return sm, false
	}
	sm.Body = ""
	extra := make(map[string]string, len(sm.Extra)+2)
	for k, v := range sm.Extra {
		extra[k] = v
	}
	extra[ExtraUnreadable] = m.Unreadable.Reason
	extra[ExtraUnreadableSize] = strconv.FormatInt(m.Unreadable.Size, 10)
	sm.Extra = extra
	return sm, true
}

// archivedUnreadable is convertPage's step for an unreadable archive result:
// the placeholder, keyed by the archive's id.
func (s *Session) archivedUnreadable(r xmpp.ArchivedMessage, owner string) (securestore.Message, bool) {
	sm, ok := s.unreadablePlaceholder(r.Message, true)
	if !ok {
		s.log.Warn("sync: unreadable archived message has no conversation", "archive_id", r.ID,
			"reason", r.Message.Unreadable.Reason, "bytes", r.Message.Unreadable.Size)
		return sm, false
	}
	sm.StanzaID, sm.StanzaIDBy = r.ID, owner
	s.stampTime(&sm, r.Message, r.Timestamp)
	return sm, true
}

// onUnreadable stores the placeholder of a live (or carbon) message we
// could not read. No receipt is sent: the sender must not believe the reader
// got what it cannot show.
func (s *Session) onUnreadable(m *xmpp.Message) {
	sm, ok := s.unreadablePlaceholder(m, false)
	if !ok {
		s.log.Warn("sync: unreadable message has no conversation", "id", m.ID, "from", m.From,
			"reason", m.Unreadable.Reason, "bytes", m.Unreadable.Size)
		return
	}
	added, _, err := s.store.AppendMessagesAudited([]securestore.Message{sm}, nil, "", "", unreadableAudit)
	if err != nil {
		s.log.Error("sync: storing placeholder of an unreadable message", "err", err)
		return
	}
	if s.unreadableCommitted != nil {
		s.unreadableCommitted()
	}
	if len(added) > 0 {
		s.emit(MessagesAdded{Messages: added})
	}
}

// onWireMessage is the Client's OnMessage: unreadable messages to their
// placeholder, everything else to onMessage.
func (s *Session) onWireMessage(m *xmpp.Message) {
	release, locked := s.enterHandler()
	defer release()
	if locked != nil {
		s.sealArrival(locked, m)
		if m.PubSub != nil && m.PubSub.Node == NodePolicy {
			s.onLockedPolicyEvent(m) // pubsub.go
		}
		return
	}
	if m.Unreadable != nil {
		s.onUnreadable(m)
		return
	}
	s.onMessage(m)
}

// unreadableAudit is the audit entry for the newly stored placeholders of
// one batch (a live message, or an archive page), written in the
// transaction that stores them (AppendMessagesAudited), so a crash cannot
// leave a placeholder never audited: ids, sender, reason and size of each,
// never content (there is none to leak: the body was never decoded). One
// entry per batch, not per placeholder: every audit append fsyncs, scrubs
// the file's free pages under the store's exclusive lock and moves the
// keyring anchor, so a hostile archive of small malformed messages must not
// cost that per message (a page holds at most 250 results and 16 MiB,
// xep0313.go, so the entry stays bounded). No placeholder, no entry.
func unreadableAudit(added []securestore.Message) (kind, detail string) {
	var b strings.Builder
	n := 0
	for _, m := range added {
		reason := m.Extra[ExtraUnreadable]
		if reason == "" {
			continue
		}
		if n > 0 {
			b.WriteString("; ")
		}
		n++
		fmt.Fprintf(&b, "message %d in %s from %s could not be read (%s, %s bytes): origin-id %q, stanza-id %q by %q, at %s",
			m.ID, auditField(m.ConversationID), auditField(m.From), reason, m.Extra[ExtraUnreadableSize], auditField(m.OriginID), auditField(m.StanzaID), auditField(m.StanzaIDBy),
			m.Timestamp.UTC().Format(time.RFC3339))
	}
	if n == 0 {
		return "", ""
	}
	return securestore.AuditUnreadable, b.String()
}
