package app

import (
	"encoding/binary"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"rounds/securestore"
)

// retentionClock runs the retention purges: their timer and the clock's
// anchor in this process. purgeMu serialises purges (not guarded by mu).
type retentionClock struct {
	retTimer             Timer
	retGen               int
	purgeMu              gosync.Mutex
	retBase, retBaseLast time.Time
	retClockWarned       bool
}

// Local retention: messages older than the policy's retention are
// crypto-shredded (securestore.Purge destroys their period keys, scrubs the
// file's free pages and compacts it). It runs at unlock, whenever the
// policy's retention changes, and once a day while unlocked, on the injected
// Clock. A compaction that failed (full disk) is retried at the next of these
// and every retentionRetry until it succeeds, also when no retention is in
// force any more. Server-side retention is the server's (docs/ADMIN.md).
//
// Unsent messages are never purged silently: securestore fails them with a
// reason first (securestore.ReasonRetention) and the conversation is redrawn
// so the user sees it.
//
// The retention clock: the injected Clock, bounded by the last retention time
// recorded in the store (never moves back; see retentionNow).

// retentionEvery is how often purge runs while the app stays unlocked.
const retentionEvery = 24 * time.Hour

// retentionRetry is how soon a purge whose compaction failed is tried again.
const retentionRetry = 15 * time.Minute

// maxClockStep is how far the retention clock may run ahead of the last
// known time beyond the time that really passed in this process.
const maxClockStep = 48 * time.Hour

// settingRetentionClock holds the last retention time (Unix ns, 8 bytes BE).
const settingRetentionClock = "retention.clock"

// armRetention schedules the daily purge for st (and purges at once when
// now). Without a retention in force nothing is scheduled, unless a
// compaction is still pending.
func (c *Client) armRetention(st *securestore.Store, now bool) {
	c.mu.Lock()
	if c.store != st {
		c.mu.Unlock()
		return
	}
	c.stopRetentionLocked()
	keep := c.policyLocked().Retention
	gen := c.retGen
	if keep > 0 {
		c.retTimer = c.cfg.Clock.AfterFunc(retentionEvery, func() { c.retentionDue(st, gen) })
	}
	c.mu.Unlock()
	if now {
		go func() {
			if c.purge(st) {
				c.retryRetention(st, gen)
			}
		}()
	}
}

// retryRetention replaces the daily timer with a retry in retentionRetry
// (a compaction is pending), unless st was locked or re-armed meanwhile.
func (c *Client) retryRetention(st *securestore.Store, gen int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.retGen || c.store != st {
		return
	}
	if c.retTimer != nil {
		c.retTimer.Stop()
	}
	c.retTimer = c.cfg.Clock.AfterFunc(retentionRetry, func() { c.retentionDue(st, gen) })
}

func (c *Client) stopRetentionLocked() {
	c.retGen++
	if c.retTimer != nil {
		c.retTimer.Stop()
		c.retTimer = nil
	}
}

func (c *Client) retentionDue(st *securestore.Store, gen int) {
	c.mu.Lock()
	stale := gen != c.retGen || c.store != st
	c.mu.Unlock()
	if stale {
		return
	}
	if c.purge(st) {
		c.retryRetention(st, gen)
		return
	}
	c.armRetention(st, false)
}

// purge applies the retention in force to st and reports whether a
// compaction is still pending (retry soon). Serialised, so a policy change
// and the daily timer do not compact the file twice at once.
func (c *Client) purge(st *securestore.Store) (pending bool) {
	c.purgeMu.Lock()
	defer c.purgeMu.Unlock()
	c.mu.Lock()
	keep := c.policyLocked().Retention
	open := c.store == st
	c.mu.Unlock()
	if !open {
		return false
	}
	if keep <= 0 {
		// No retention now, but an earlier purge may not be finished.
		done, err := st.FinishPurge()
		if err != nil {
			if errors.Is(err, securestore.ErrLocked) {
				return false
			}
			c.log.Warn("app: finishing an earlier purge", "err", err)
			return true
		}
		if done {
			c.log.Info("app: earlier purge's compaction completed")
		}
		return false
	}
	rep, err := st.Purge(c.retentionNow(st).Add(-keep))
	if err != nil && !rep.CompactionPending {
		if !errors.Is(err, securestore.ErrLocked) {
			c.log.Warn("app: retention purge", "err", err)
		}
		return false
	}
	if err != nil {
		c.log.Warn("app: retention purge committed; compaction pending, will retry", "err", err)
	}
	if len(rep.Failed) > 0 {
		c.log.Warn("app: unsent messages past retention marked failed", "count", len(rep.Failed))
		for _, id := range rep.Failed {
			if m, err := st.Message(id); err == nil {
				c.changes.push(Change{Kind: ConversationChanged, Conversation: m.ConversationID})
			}
		}
		c.changes.push(Change{Kind: InboxChanged})
	}
	if rep.Messages > 0 || rep.Attachments > 0 {
		c.log.Info("app: retention purge", "periods", rep.Periods, "messages", rep.Messages)
		c.changes.push(Change{Kind: InboxChanged})
		if convs, err := st.Conversations(); err == nil {
			for _, cv := range convs {
				c.changes.push(Change{Kind: ConversationChanged, Conversation: cv.ID})
			}
		}
	}
	return rep.CompactionPending
}

// retentionNow is the retention clock. The device clock can jump (a wrong
// RTC after a battery change, a bad time server, a user setting the date):
// a jump forward must not shred history that is still within retention.
// So the retention clock is the injected Clock, but
//   - never earlier than the last retention time recorded in the store
//     (a clock set back purges nothing new and un-purges nothing), and
//   - never later than the last recorded time plus maxClockStep plus the
//     time that really passed since this process first looked (with the real
//     Clock, a monotonic reading: wall-clock jumps do not count).
//
// A genuine long absence (device off for a week) is caught up by at most
// maxClockStep per app start plus real time; a wrong clock can shred at most
// maxClockStep of extra history per app start. Unsent messages are never
// shredded by it at all (securestore.Purge fails them first).
func (c *Client) retentionNow(st *securestore.Store) time.Time {
	now := c.cfg.Clock.Now()
	var last time.Time
	if b, err := st.Setting(settingRetentionClock); err == nil && len(b) == 8 {
		last = time.Unix(0, int64(binary.BigEndian.Uint64(b)))
	}
	c.mu.Lock()
	if c.retBase.IsZero() {
		c.retBase, c.retBaseLast = now, last
	}
	base, anchor := c.retBase, c.retBaseLast
	c.mu.Unlock()
	r := now
	if !last.IsZero() {
		if anchor.IsZero() {
			anchor = base
		}
		elapsed := now.Sub(base) // monotonic with the real Clock
		if ec, ok := c.cfg.Clock.(interface {
			Elapsed(since time.Time) time.Duration
		}); ok {
			elapsed = ec.Elapsed(base) // a test clock that simulates wall jumps
		}
		limit := anchor.Add(maxClockStep + max(elapsed, 0))
		if r.After(limit) {
			c.mu.Lock()
			warned := c.retClockWarned
			c.retClockWarned = true
			c.mu.Unlock()
			c.log.Warn("app: device clock ahead of the retention clock; retention uses the last known time", "ahead", now.Sub(limit).Round(time.Minute).String())
			if !warned {
				c.auditWith(st, securestore.AuditPurge, fmt.Sprintf("retention clock held back: device clock %s ahead of the last known time",
					now.Sub(limit).Round(time.Minute)))
			}
			r = limit
		}
		if r.Before(last) {
			r = last
		}
	}
	if r.After(last) {
		if err := st.SetSetting(settingRetentionClock, binary.BigEndian.AppendUint64(nil, uint64(r.UnixNano()))); err != nil {
			c.log.Warn("app: recording the retention clock", "err", err)
		}
	}
	return r
}
