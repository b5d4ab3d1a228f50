package escalation

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Admin commands: the org policy's admins (<admin jid/>, the same people who
// may wipe devices) write to the service's account in any XMPP client:
//
//	ladders          lists the ladders running (sender, message id,
//	                 recipient, when handed over, steps taken, next step)
//	stop <message-id> ends that ladder as cancelled: the thread and everyone
//	                 it reached get the closing notice
//
// Anything from anyone else is ignored (logged without its text). Both are
// audited with who asked. Live messages only: a command caught up from the
// archive after a restart is not run again.
func (s *Service) command(m securestore.Message) {
	defer s.forgetIncoming(m) // handled: its words are not kept
	from := jid.Bare(m.From)
	s.mu.Lock()
	admin := slices.ContainsFunc(s.admins, func(a string) bool { return strings.EqualFold(a, from) })
	s.mu.Unlock()
	if !admin {
		s.log.Info("escalation: message from someone who is not an admin ignored", "from", from)
		return
	}
	fields := strings.Fields(m.Body)
	var reply string
	switch {
	case len(fields) == 1 && strings.EqualFold(fields[0], "ladders"):
		reply = s.listText()
		s.audit("escalation-admin", "by=%s command=ladders", from)
	case len(fields) == 2 && strings.EqualFold(fields[0], "stop"):
		reply = s.stop(fields[1], from)
	default:
		reply = "Commands: \"ladders\" lists the running escalation ladders; \"stop <message id>\" ends one."
	}
	if _, err := s.s.Send(from, reply, sync.SendOptions{}); err != nil {
		s.log.Warn("escalation: admin reply not stored", "err", err)
	}
}

func (s *Service) listText() string {
	ls := s.Active()
	if len(ls) == 0 {
		return "No escalation ladder is running."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d escalation ladder(s) running:", len(ls))
	for _, l := range ls {
		next := "no further step (exhausted)"
		if !l.NextAt.IsZero() {
			next = "next step " + l.NextAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "\n%s from %s to %s, handed over %s, %d step(s) taken, %s",
			l.Origin, l.Sender, l.Thread, l.Started.UTC().Format(time.RFC3339), l.Steps, next)
	}
	return b.String()
}

// stop ends the running ladder of message origin as cancelled by admin.
func (s *Service) stop(origin, admin string) string {
	now := s.clock.Now()
	s.mu.Lock()
	var key string
	for k, l := range s.ladders {
		if l.Origin == origin && l.active() {
			key = k
			l.EndedAt, l.EndedBy, l.EndReason, l.DueAt = now, admin, endCancelled, time.Time{}
			s.saveLocked(l)
			s.saveIndexLocked()
			break
		}
	}
	s.mu.Unlock()
	if key == "" {
		return "No running ladder for message " + origin + "."
	}
	s.audit("escalation-admin", "by=%s command=stop origin=%s", admin, origin)
	s.closeLadder(key)
	return "Stopped the escalation of message " + origin + "; everyone it reached is told no action is needed."
}
