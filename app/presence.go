package app

import (
	"strings"
	gosync "sync"
	"unicode/utf8"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Presence: what we know of each contact device's availability, and the
// show and status this account announces.

type presence struct{ show, status string }

// presenceBook is what we know of presence: each contact device's, the
// show and status we announce, and who asks to see ours; and the service
// that keeps them (presence.go, requests.go). Its state is guarded by
// Client.mu (mu points at it), not a lock of its own: the lifecycle
// announces our presence and forgets theirs under that one lock with the
// Session. It reaches the rest of the Client through presenceHost, never
// holding mu except for the host's …Locked methods. Client embeds it, so
// SetPresence, Presence, PresenceRequests and AnswerPresenceRequest are
// Client's facade without a line of their own.
type presenceBook struct {
	presence map[string]map[string]presence
	show     string
	status   string
	// requests: who asks to see ours, oldest first (requests.go).
	requests []string

	mu      *gosync.Mutex // Client.mu
	changes *changeQueue
	host    presenceHost
}

// presenceHost is what presence asks of the rest of the Client: the
// session (client.go, hosts.go: the …Locked ones expect Client.mu held,
// sess takes it) and how a person is named (people.go).
type presenceHost interface {
	sessionLocked() (*securestore.Store, *sync.Session)
	accountLocked() string
	sess() (*securestore.Store, *sync.Session, error)
	Person(bare string) Person
}

// SetPresence sets availability ("" available, "away", "dnd", "xa", "chat")
// and a status text ("In surgery"); kept across sign-ins and unlocks.
func (b *presenceBook) SetPresence(show, status string) error {
	switch show {
	case "", "away", "dnd", "xa", "chat":
	default:
		return ErrInvalidPresence
	}
	status = strings.TrimSpace(status)
	if utf8.RuneCountInString(status) > 200 {
		status = string([]rune(status)[:200])
	}
	b.mu.Lock()
	b.show, b.status = show, status
	_, s := b.host.sessionLocked()
	b.mu.Unlock()
	if s == nil {
		return nil // applied at the next unlock
	}
	return s.SetPresence(show, status)
}

// Presence is what SetPresence last set.
func (b *presenceBook) Presence() (show, status string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.show, b.status
}

// presenceOf is a contact's best presence over their devices: available
// beats dnd beats away beats xa; "" when offline or unknown.
func (b *presenceBook) presenceOf(bare string) (show, status string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.best(bare)
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
func (b *presenceBook) notePresence(e sync.PresenceChanged) bool {
	j, err := jid.Parse(e.From)
	if err != nil {
		return false
	}
	bare := j.Bare().String()
	b.mu.Lock()
	defer b.mu.Unlock()
	if bare == b.host.accountLocked() {
		return false // our own other devices
	}
	return b.note(bare, j.Resource, e.Available, e.Show, e.Status)
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
