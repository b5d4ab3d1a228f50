package sync

import (
	"context"
	"errors"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// MarkDisplayed records that the user saw a conversation up to message id: the
// unread count drops, the sender gets a XEP-0333 displayed marker if they asked
// for one, and our other devices learn it through XEP-0490 so their alerts stop.
func (s *Session) MarkDisplayed(ctx context.Context, conv string, id securestore.MessageID) error {
	m, err := s.store.Message(id)
	if err != nil {
		return err
	}
	if m.ConversationID != conv {
		return errors.New("sync: message is not in that conversation")
	}
	s.markReadLocally(conv, id)
	c := s.currentClient()
	if c == nil || m.Direction != securestore.Incoming {
		return nil
	}
	if m.Extra[extraMarkable] == "1" {
		if el := s.displayedMarker(m); el != nil {
			if err := c.Send(el); err != nil {
				return err
			}
		}
	}
	if m.StanzaID != "" {
		if err := c.PublishDisplayed(ctx, conv, m.StanzaID); err != nil {
			// Other devices still learn it from the marker's carbon or MAM;
			// a server without PEP just loses the cross-device sync.
			s.log.Info("sync: displayed sync not published", "err", err)
		}
	}
	return nil
}

// displayedMarker builds the marker for a stored incoming message: to the
// sender's full JID quoting their id in a chat, to the room quoting the room's
// stanza-id in a groupchat.
func (s *Session) displayedMarker(m securestore.Message) *xmpp.Element {
	to, id, typ := m.From, m.OriginID, "chat"
	if s.isRoom(m.ConversationID) {
		to, id, typ = m.ConversationID, m.StanzaID, "groupchat"
	}
	if to == "" || id == "" {
		return nil
	}
	return xmpp.NewElement(xmpp.NSClient, "message", "to", to, "type", typ, "id", xmpp.NewID()).Append(
		xmpp.NewElement(xmpp.NSMarkers, "displayed", "id", id),
		xmpp.NewElement("urn:xmpp:hints", "store"))
}

// markReadLocally updates the store and tells the app, without telling anyone
// else (used for reads that happened on another of our devices).
func (s *Session) markReadLocally(conv string, id securestore.MessageID) {
	before, _ := s.store.Conversation(conv)
	if err := s.store.MarkRead(conv, id); err != nil {
		s.log.Warn("sync: mark read", "err", err)
		return
	}
	after, err := s.store.Conversation(conv)
	if err == nil && (after.LastReadID != before.LastReadID || after.Unread != before.Unread) {
		s.emit(ConversationRead{Conversation: conv, Message: id})
	}
}

// onDisplayedSync handles a XEP-0490 notification from our own account: the
// user read conv up to stanzaID on another device.
func (s *Session) onDisplayedSync(conv, stanzaID string) {
	release, locked := s.enterHandler()
	defer release()
	if locked != nil {
		// Locked: the store is closed. The displayed marker's carbon, if
		// the other device sent one, is sealed and merged at the unlock.
		return
	}
	m, err := s.store.MessageByStanzaID(conv, stanzaID)
	if err != nil {
		return
	}
	s.markReadLocally(conv, m.ID)
}
