package sync

import (
	"context"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// syncRoster replaces the stored contacts with the server's roster after each
// fresh sign-in (pushes keep it current while online).
func (s *Session) syncRoster(ctx context.Context, c *xmpp.Client) error {
	items, err := c.Roster(ctx)
	if err != nil {
		return err
	}
	stored, err := s.store.Contacts()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, it := range items {
		ct := securestore.Contact{JID: xmpp.BareJID(it.JID), Name: it.Name, Subscription: it.Subscription, Groups: it.Groups}
		seen[ct.JID] = true
		if err := s.store.PutContact(ct); err != nil {
			return err
		}
	}
	for _, ct := range stored {
		if !seen[ct.JID] {
			if err := s.store.DeleteContact(ct.JID); err != nil {
				return err
			}
			s.emit(RosterChanged{Contact: ct, Removed: true})
		}
	}
	return nil
}

// AddContact adds someone to the roster and asks to see their presence.
func (s *Session) AddContact(ctx context.Context, jid, name string) error {
	c := s.currentClient()
	if c == nil {
		return xmpp.ErrDisconnected
	}
	if err := c.RosterSet(ctx, xmpp.RosterItem{JID: xmpp.BareJID(jid), Name: name}); err != nil {
		return err
	}
	return c.Subscribe(xmpp.BareJID(jid))
}

// SetPresence publishes availability ("", "away", "dnd", "xa") and a status
// text ("In surgery"), now if connected and again after every sign-in.
func (s *Session) SetPresence(show, status string) error {
	s.mu.Lock()
	s.show, s.status = show, status
	s.mu.Unlock()
	if c := s.readyClient(); c != nil {
		return c.SetPresence(show, status)
	}
	return nil
}

// SetActive tells the server whether the app is in the foreground (XEP-0352):
// in the background it may hold back presence updates and other chatter.
func (s *Session) SetActive(active bool) error {
	s.mu.Lock()
	s.active = active
	s.mu.Unlock()
	if c := s.readyClient(); c != nil {
		return c.SetActive(active)
	}
	return nil
}
