package sync

import (
	"context"
	"encoding/json"
	"time"

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

// AnswerPresenceRequest lets from see this account's presence (allow) or
// refuses (RFC 6121 §3.1: subscribed or unsubscribed). Allowing also asks
// to see theirs, unless the roster says we already do: colleagues
// who may see each other see each other.
func (s *Session) AnswerPresenceRequest(from string, allow bool) error {
	c := s.readyClient()
	if c == nil {
		return ErrNotConnected
	}
	bare := xmpp.BareJID(from)
	if !allow {
		if err := c.RefuseSubscription(bare); err != nil {
			return err
		}
		return s.forgetStranger(bare)
	}
	if err := c.ApproveSubscription(bare); err != nil {
		return err
	}
	if ct, err := s.store.Contact(bare); err == nil && (ct.Subscription == "to" || ct.Subscription == "both") {
		return nil
	}
	return c.Subscribe(bare)
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
	c := s.readyClient()
	if c == nil {
		return nil
	}
	if err := c.SetActive(active); err != nil {
		return err
	}
	if !active {
		// Prosody 0.12's mod_csi_simple pauses writes the moment <inactive/>
		// arrives; a message it had queued for the socket a moment before
		// (already past its "important, send now" check) then waits until the
		// client next sends something — up to the keepalive, a minute later.
		// Any bytes from us flush that buffer, so ask for an ack shortly after
		// (TestBackgroundOnDesktopKeepsSyncing caught it about 1 run in 40
		// under load). Wall time on purpose: this is about the server's event
		// loop, not about policy.
		time.AfterFunc(csiFlushAfter, func() {
			s.mu.Lock()
			still := !s.active
			s.mu.Unlock()
			if still && s.readyClient() == c {
				_ = c.RequestAck()
			}
		})
	}
	return nil
}

// csiFlushAfter is how long after going inactive the Session nudges the
// server to flush what it may have held back (see SetActive).
const csiFlushAfter = 500 * time.Millisecond

// forgetStranger drops the card and picture read to name bare in their
// presence request, once refused, unless bare is in the roster or has a
// conversation here: as with cards sent as notifications (onVCard), a
// stranger's card would only grow the store, and anyone can ask (the cards
// kept are bounded, so strangers would in time crowd out colleagues).
func (s *Session) forgetStranger(bare string) error {
	if _, err := s.store.Contact(bare); err == nil {
		return nil
	}
	if _, err := s.store.Conversation(bare); err == nil {
		return nil
	}
	s.profilesMu.Lock()
	all := Profiles(s.store)
	_, had := all[bare]
	var err error
	if had {
		delete(all, bare)
		var buf []byte
		if buf, err = json.Marshal(all); err == nil {
			err = s.store.SetSetting(settingProfiles, buf)
		}
	}
	s.profilesMu.Unlock()
	if err != nil {
		return err
	}
	s.avatars.set(bare, "")
	if err := s.store.DeleteAvatar(bare); err != nil {
		return err
	}
	if had {
		s.emit(ProfilesUpdated{})
	}
	return nil
}
