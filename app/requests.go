package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Presence requests: someone asks to see when this account is available
// (RFC 6121 subscription request). The user allows or refuses each one;
// until then the server hands it over again at every sign-in, so the list
// lives in memory only. A request answered on another device goes when
// the roster says so.

// PresenceRequest is one person asking to see this account's presence.
type PresenceRequest struct {
	Address string // bare JID, as their server stamped it
	Name    string
	Avatar  Avatar
	// Text is the line the screens show: "Dr Ama Osei wants to see when
	// you are available", with the address after a name that is only the
	// person's own claim (their card) rather than the user's roster.
	Text string
}

// maxPresenceRequests bounds the list: anyone can ask.
const maxPresenceRequests = 50

// ErrNoPresenceRequest: nobody at this address is asking (any more).
var ErrNoPresenceRequest = errors.New("this request was already answered")

// notePresenceRequest keeps a request; it reports whether it is new.
func (b *presenceBook) notePresenceRequest(from string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Contains(b.requests, from) || len(b.requests) >= maxPresenceRequests {
		return false
	}
	b.requests = append(b.requests, from)
	return true
}

// dropPresenceRequest forgets from's request; it reports whether there was one.
func (b *presenceBook) dropPresenceRequest(from string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.requests, from)
	if i < 0 {
		return false
	}
	b.requests = slices.Delete(b.requests, i, i+1)
	return true
}

// onPresenceRequested keeps a request and reads the requester's card, so
// the request can name them.
func (b *presenceBook) onPresenceRequested(s *sync.Session, e sync.PresenceRequested) {
	if !b.notePresenceRequest(e.From) {
		return
	}
	b.changes.push(Change{Kind: InboxChanged})
	if s != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_ = s.RefreshProfiles(ctx, e.From) // ProfilesUpdated redraws the row
		}()
	}
}

// onRosterAnswered drops a request the roster shows answered (allowed on
// another device: they now see ours).
func (b *presenceBook) onRosterAnswered(ct securestore.Contact) {
	if ct.Subscription == "from" || ct.Subscription == "both" {
		if b.dropPresenceRequest(jid.Bare(ct.JID)) {
			b.changes.push(Change{Kind: InboxChanged})
		}
	}
}

// PresenceRequests lists who asks to see this account's presence, oldest
// first.
func (b *presenceBook) PresenceRequests() []PresenceRequest {
	b.mu.Lock()
	from := slices.Clone(b.requests)
	b.mu.Unlock()
	out := make([]PresenceRequest, 0, len(from))
	for _, bare := range from {
		p := b.host.Person(bare)
		who := p.Name
		if p.Claimed {
			who += " (" + bare + ")"
		} else if who == localPart(bare) {
			who = bare
		}
		out = append(out, PresenceRequest{Address: bare, Name: p.Name, Avatar: p.Avatar,
			Text: who + " wants to see when you are available"})
	}
	return out
}

// AnswerPresenceRequest allows from to see this account's presence (and
// asks to see theirs) or refuses. Needs a connection; the request stays
// listed when it could not be sent.
func (b *presenceBook) AnswerPresenceRequest(from string, allow bool) error {
	bare := jid.Bare(from)
	b.mu.Lock()
	asked := slices.Contains(b.requests, bare)
	b.mu.Unlock()
	if !asked {
		return ErrNoPresenceRequest
	}
	_, s, err := b.host.sess()
	if err != nil {
		return err
	}
	if err := s.AnswerPresenceRequest(bare, allow); err != nil {
		if errors.Is(err, sync.ErrNotConnected) {
			return ErrAnswerOffline
		}
		return err
	}
	if b.dropPresenceRequest(bare) {
		b.changes.push(Change{Kind: InboxChanged})
	}
	return nil
}

// ErrAnswerOffline: an answer to a request needs a connection.
var ErrAnswerOffline = errors.New("you are offline; answer once connected")
