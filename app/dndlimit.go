package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// Forwards to the cover are bounded (docs/PROTOCOL.md "Do not disturb"). A
// flood of urgent pages to someone on do not disturb (a misfiring lab
// system, a sender's loop, someone paging again every few seconds) would
// otherwise become the same flood on the colleague who covers, burying
// the pages that matter there. In any forwardWindow at most
// forwardsPerSender forwards go out for one sender and forwardsInAll for
// everyone together, except that each sender's first page in the window
// is forwarded whatever the others sent (so others' pages never keep a
// sender from reaching the cover at all). A page past the bound is not forwarded (never later
// either: it would arrive out of date); it still arrives, rings through
// per the policy and shows unread on the user's own devices. Once per
// window the sender gets an automatic notice to page the cover directly,
// and the user's audit log a `dnd.forward-limited` entry (addresses and a
// count, never the text); a page limited while locked is audited at the
// unlock.
const (
	forwardWindow     = 10 * time.Minute
	forwardsPerSender = 5
	forwardsInAll     = 20
	// maxForwardRefused bounds the pages remembered as not forwarded (so
	// the unlock's merge does not forward them late).
	maxForwardRefused = 4096
)

// AuditDNDForwardLimited is the audit kind of a sender's urgent pages no
// longer forwarded to the cover in a window (the bound above). Its detail
// names addresses and a count, never a text.
const AuditDNDForwardLimited = "dnd.forward-limited"

// forwardLimit is the bound's memory, guarded by dndService.mu: the times
// of the forwards in the window, by sender and in all; when each sender
// was last told; the pages refused; what was refused while locked and is
// audited at the unlock.
type forwardLimit struct {
	bySender map[string][]time.Time
	all      []time.Time
	told     map[string]time.Time
	refused  map[string]bool
	// allowed are the pages forwarded (or let through) already: the
	// merge after a locked period meets them again, and they count once.
	allowed map[string]bool
	// heldLocked: senders limited while locked, by how many pages, for
	// the audit entry written at the unlock.
	heldLocked map[string]int
}

// recent keeps the times after now-forwardWindow.
func recent(ts []time.Time, now time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < forwardWindow {
			out = append(out, t)
		}
	}
	return out
}

// take decides a forward of page ref from sender at now: ok, the forward
// may go (and is counted); otherwise tell is true for the first refusal
// of this sender in a window (notice and audit), and n is how many
// forwards the window holds for them.
func (f *forwardLimit) take(sender, ref string, now time.Time) (ok, tell bool, n int) {
	sender = strings.ToLower(sender)
	if f.bySender == nil {
		f.bySender, f.told, f.refused, f.allowed = map[string][]time.Time{}, map[string]time.Time{}, map[string]bool{}, map[string]bool{}
	}
	if f.refused[ref] {
		return false, false, 0 // refused before (the merge after a locked period)
	}
	if f.allowed[ref] {
		return true, false, 0 // counted when it was let through
	}
	f.all = recent(f.all, now)
	mine := recent(f.bySender[sender], now)
	f.bySender[sender] = mine
	// A sender's first forward in the window goes even when others
	// filled the bound in all: one account's (or a few accounts') flood
	// must not keep a colleague's STAT from the cover.
	if len(mine) < forwardsPerSender && (len(mine) == 0 || len(f.all) < forwardsInAll) {
		f.bySender[sender] = append(mine, now)
		f.all = append(f.all, now)
		if len(f.allowed) >= maxForwardRefused {
			clear(f.allowed)
		}
		f.allowed[ref] = true
		return true, false, 0
	}
	if len(f.refused) < maxForwardRefused {
		f.refused[ref] = true
	}
	if t, ok := f.told[sender]; ok && now.Sub(t) < forwardWindow {
		return false, false, len(mine)
	}
	f.told[sender] = now
	for s, ts := range f.bySender {
		if len(recent(ts, now)) == 0 {
			delete(f.bySender, s) // the map stays as small as the window
		}
	}
	return false, true, len(mine)
}

// limited is forward for a page the bound refused: audited (unlocked, the
// first refusal of the sender in the window; locked, counted for the
// unlock), and the sender told once per window to page the cover directly.
func (d *dndService) limited(st *securestore.Store, sess *sync.Session, m securestore.Message, cover, coverName string, tell bool, n int) {
	sender := m.ConversationID
	d.log.Info("app: urgent message not forwarded to the cover: too many in a short time")
	if st == nil {
		d.mu.Lock()
		if d.limit.heldLocked == nil {
			d.limit.heldLocked = map[string]int{}
		}
		if len(d.limit.heldLocked) < maxForwardRefused {
			d.limit.heldLocked[sender]++
		}
		d.mu.Unlock()
	} else if tell {
		d.host.auditWith(st, AuditDNDForwardLimited, fmt.Sprintf(
			"urgent messages from %s no longer forwarded to %s (covering) from message %d on: %d forwarded for them in the last %s (at most %d per sender, %d in all)",
			sender, cover, m.ID, n, forwardWindow, forwardsPerSender, forwardsInAll))
	}
	if !tell {
		return
	}
	notice := fmt.Sprintf("Automatic: too many urgent messages in a short time; this one was not forwarded to %s. Page them directly.", coverName)
	d.mu.Lock()
	told := d.limit.told[strings.ToLower(sender)]
	d.mu.Unlock()
	key := "limited\x00" + sender + "\x00" + told.UTC().Format(time.RFC3339Nano)
	if _, err := sess.SendAuto(sender, notice, sync.AutoReplied, key, sync.SendOptions{}); err != nil && !errors.Is(err, sync.ErrAlreadySent) {
		d.log.Warn("app: forward limit notice not sent", "err", err)
	}
}

// auditLockedLimits writes, at the unlock, the audit entries of the pages
// the bound kept from the cover while locked.
func (d *dndService) auditLockedLimits(st *securestore.Store) {
	d.mu.Lock()
	held := d.limit.heldLocked
	d.limit.heldLocked = nil
	d.mu.Unlock()
	for sender, n := range held {
		d.host.auditWith(st, AuditDNDForwardLimited, fmt.Sprintf(
			"%d urgent messages from %s not forwarded to the cover while locked: more than %d per sender (%d in all) in %s",
			n, sender, forwardsPerSender, forwardsInAll, forwardWindow))
	}
}
