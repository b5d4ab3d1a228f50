package escalation

import (
	"fmt"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// ladder is the persisted state of one ladder the service holds. Deadlines
// are absolute times: a restart after a deadline fires that step at once,
// and only that step.
type ladder struct {
	Sender  string                `json:"sender"` // bare JID of the original's sender
	Origin  string                `json:"origin"` // the original's origin-id
	Thread  string                `json:"thread"` // the original's conversation (recipient or room)
	HandOff securestore.MessageID `json:"handoff"`
	Urgency securestore.Urgency   `json:"urgency"`
	After   time.Duration         `json:"after"`
	Steps   []sync.EscalationStep `json:"steps"`
	Started time.Time             `json:"started"`
	// Next is the index of the next step; DueAt when it (or, past the last
	// step, the "nobody acknowledged" notice) fires. Zero DueAt: nothing more
	// happens without an acknowledgement.
	Next      int       `json:"next"`
	DueAt     time.Time `json:"due,omitzero"`
	Fired     []fired   `json:"fired,omitempty"`
	Exhausted bool      `json:"exhausted,omitempty"`
	// ExhaustedAt: when the last step's wait ran out (the purge bound
	// counts from it).
	ExhaustedAt time.Time `json:"exhausted_at,omitzero"`
	// ExhaustSent: the "nobody acknowledged" notices are out.
	ExhaustSent bool      `json:"exhaust_sent,omitempty"`
	EndedAt     time.Time `json:"ended,omitzero"`
	EndedBy     string    `json:"by,omitempty"`
	EndReason   string    `json:"why,omitempty"`
	// CloseSent: the closing notices are out.
	CloseSent bool `json:"close_sent,omitempty"`
}

// fired is one step taken. It is saved before its messages are sent (Sent
// false), and Sent after: a restart re-sends a step that is not Sent with
// the same origin-ids, so it is stored and delivered once.
type fired struct {
	Step   int       `json:"step"`
	JID    string    `json:"jid,omitempty"` // where it went ("" when it reached nobody)
	Role   string    `json:"role,omitempty"`
	Room   bool      `json:"room,omitempty"`
	Reason string    `json:"reason"`
	Failed string    `json:"failed,omitempty"`
	At     time.Time `json:"at"`
	Sent   bool      `json:"sent,omitempty"`
}

// Reasons a ladder ends (the words on the closing notice's <escalation/>,
// as app/escalation.go uses them).
const (
	endAcknowledged = "acknowledged"
	endCancelled    = "cancelled"
)

func ladderKey(sender, origin string) string { return strings.ToLower(sender) + " " + origin }

func (l *ladder) key() string  { return ladderKey(l.Sender, l.Origin) }
func (l *ladder) active() bool { return l.EndedAt.IsZero() }
func (l *ladder) due(now time.Time) bool {
	return l.active() && !l.DueAt.IsZero() && !now.Before(l.DueAt)
}

// over is when the ladder stopped needing the page's text: when it ended,
// when it ran out of steps, or (a ladder this instance never fired, the
// other instance's) when its last step's wait would have run out.
func (l *ladder) over() time.Time {
	switch {
	case !l.EndedAt.IsZero():
		return l.EndedAt
	case !l.ExhaustedAt.IsZero():
		return l.ExhaustedAt
	}
	return l.Started.Add(time.Duration(len(l.Steps)+1) * l.After)
}

// originID is the origin-id of one message of the ladder (what, e.g.
// "copy 2"): derived from the ladder, so every instance and every restart
// sends a step's messages with the same ids, and receivers keep one copy.
func (l *ladder) originID(what string) string {
	return sync.EscalationOriginID(l.Sender, l.Origin, what)
}

// reached lists who may end the ladder: the original's recipient and
// everyone a step reached.
func (l *ladder) reached() []string {
	out := []string{l.Thread}
	for _, f := range l.Fired {
		if f.JID != "" {
			out = append(out, f.JID)
		}
	}
	return out
}

// waited is how long the page has waited when the next step falls due,
// from the plan and the steps taken (a step that reached nobody moves on at
// once), not from anyone's clock: the notice's text is the same whichever
// instance sends it, so receivers keep one copy.
func (l *ladder) waited() string {
	n := 1
	for _, f := range l.Fired {
		if f.Failed == "" {
			n++
		}
	}
	return shortDuration(time.Duration(n) * l.After)
}

func shortDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 120 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}
