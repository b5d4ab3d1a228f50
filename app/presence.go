package app

import (
	"strings"
	"unicode/utf8"

	"rounds/jid"
	"rounds/sync"
)

// Presence: what we know of each contact device's availability, and the
// show and status this account announces.

type presence struct{ show, status string }

// presenceBook is what we know of presence: each contact device's, and the
// show and status we announce.
type presenceBook struct {
	presence map[string]map[string]presence
	show     string
	status   string
	// requests: who asks to see ours, oldest first (requests.go).
	requests []string
}

// SetPresence sets availability ("" available, "away", "dnd", "xa", "chat")
// and a status text ("In surgery"); kept across sign-ins and unlocks.
func (c *Client) SetPresence(show, status string) error {
	switch show {
	case "", "away", "dnd", "xa", "chat":
	default:
		return ErrInvalidPresence
	}
	status = strings.TrimSpace(status)
	if utf8.RuneCountInString(status) > 200 {
		status = string([]rune(status)[:200])
	}
	c.mu.Lock()
	c.show, c.status = show, status
	s := c.session
	c.mu.Unlock()
	if s == nil {
		return nil // applied at the next unlock
	}
	return s.SetPresence(show, status)
}

// Presence is what SetPresence last set.
func (c *Client) Presence() (show, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.show, c.status
}

// presenceOf is a contact's best presence over their devices: available
// beats dnd beats away beats xa; "" when offline or unknown.
func (c *Client) presenceOf(bare string) (show, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.presenceBook.best(bare)
}

// best is bare's best presence over their devices (presenceOf); the caller
// holds Client.mu.
func (b *presenceBook) best(bare string) (show, status string) {
	best := -1
	for _, p := range b.presence[bare] {
		if r := showRank(p.show); r > best {
			best, show, status = r, p.show, p.status
		}
	}
	return show, status
}

func showRank(s string) int {
	switch s {
	case "available":
		return 4
	case "dnd":
		return 3
	case "away":
		return 2
	case "xa":
		return 1
	}
	return 0
}

// notePresence records a contact device's presence; it reports whether
// anything changed.
func (c *Client) notePresence(e sync.PresenceChanged) bool {
	j, err := jid.Parse(e.From)
	if err != nil {
		return false
	}
	bare := j.Bare().String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if bare == c.account {
		return false // our own other devices
	}
	return c.presenceBook.note(bare, j.Resource, e.Available, e.Show, e.Status)
}

// note records one device's presence (notePresence); the caller holds
// Client.mu.
func (b *presenceBook) note(bare, resource string, available bool, show, status string) bool {
	devs := b.presence[bare]
	if !available {
		if _, ok := devs[resource]; !ok {
			return false
		}
		delete(devs, resource)
		if len(devs) == 0 {
			delete(b.presence, bare)
		}
		return true
	}
	if devs == nil {
		devs = map[string]presence{}
		b.presence[bare] = devs
	}
	p := presence{show: show, status: status}
	if p.show == "" || p.show == "chat" {
		p.show = "available"
	}
	if old, ok := devs[resource]; ok && old == p {
		return false
	}
	devs[resource] = p
	return true
}
