package app

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	"rounds/securestore"
)

// retentionClock is the retention service: it runs the retention purges,
// with their timer and the clock's anchor in this process.
//
// Locking: its state is guarded by Client.mu (mu points at it), as the
// lifecycle stops its timer under that lock (client.go, halt) and its
// checks that the store is still open must hold with the policy's
// retention read at the same moment. purgeMu serialises purges; it is taken
// before Client.mu. The rest of the Client is reached only through
// retentionHost.
type retentionClock struct {
	mu      *gosync.Mutex // Client.mu
	log     *slog.Logger
	clock   Clock
	changes *changeQueue // the Client's: purged conversations are redrawn
	host    retentionHost

	retTimer             Timer
	retGen               int
	purgeMu              gosync.Mutex
	retBase, retBaseLast time.Time
	retClockWarned       bool
}

// retentionHost is what the retention service needs from the rest of the
// Client, all with Client.mu held but auditWith: the open store, the
// policy's retention, and the audit log.
type retentionHost interface {
	storeLocked() *securestore.Store
	policyLocked() Policy
	auditWith(st *securestore.Store, kind, detail string)
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
func (rc *retentionClock) armRetention(st *securestore.Store, now bool) {
	rc.mu.Lock()
	if rc.host.storeLocked() != st {
		rc.mu.Unlock()
		return
	}
	rc.stopRetentionLocked()
	keep := rc.host.policyLocked().Retention
	gen := rc.retGen
	if keep > 0 {
		rc.retTimer = rc.clock.AfterFunc(retentionEvery, func() { rc.retentionDue(st, gen) })
	}
	rc.mu.Unlock()
	if now {
		go func() {
			if rc.purge(st) {
				rc.retryRetention(st, gen)
			}
		}()
	}
}

// retryRetention replaces the daily timer with a retry in retentionRetry
// (a compaction is pending), unless st was locked or re-armed meanwhile.
func (rc *retentionClock) retryRetention(st *securestore.Store, gen int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if gen != rc.retGen || rc.host.storeLocked() != st {
		return
	}
	if rc.retTimer != nil {
		rc.retTimer.Stop()
	}
	rc.retTimer = rc.clock.AfterFunc(retentionRetry, func() { rc.retentionDue(st, gen) })
}

func (rc *retentionClock) stopRetentionLocked() {
	rc.retGen++
	if rc.retTimer != nil {
		rc.retTimer.Stop()
		rc.retTimer = nil
	}
}

func (rc *retentionClock) retentionDue(st *securestore.Store, gen int) {
	rc.mu.Lock()
	stale := gen != rc.retGen || rc.host.storeLocked() != st
	rc.mu.Unlock()
	if stale {
		return
	}
	if rc.purge(st) {
		rc.retryRetention(st, gen)
		return
	}
	rc.armRetention(st, false)
}

// purge applies the retention in force to st and reports whether a
// compaction is still pending (retry soon). Serialised, so a policy change
// and the daily timer do not compact the file twice at once.
func (rc *retentionClock) purge(st *securestore.Store) (pending bool) {
	rc.purgeMu.Lock()
	defer rc.purgeMu.Unlock()
	rc.mu.Lock()
	keep := rc.host.policyLocked().Retention
	open := rc.host.storeLocked() == st
	rc.mu.Unlock()
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
			rc.log.Warn("app: finishing an earlier purge", "err", err)
			return true
		}
		if done {
			rc.log.Info("app: earlier purge's compaction completed")
		}
		return false
	}
	rep, err := st.Purge(rc.retentionNow(st).Add(-keep))
	if err != nil && !rep.CompactionPending {
		if !errors.Is(err, securestore.ErrLocked) {
			rc.log.Warn("app: retention purge", "err", err)
		}
		return false
	}
	if err != nil {
		rc.log.Warn("app: retention purge committed; compaction pending, will retry", "err", err)
	}
	if len(rep.Failed) > 0 {
		rc.log.Warn("app: unsent messages past retention marked failed", "count", len(rep.Failed))
		for _, id := range rep.Failed {
			if m, err := st.Message(id); err == nil {
				rc.changes.push(Change{Kind: ConversationChanged, Conversation: m.ConversationID})
			}
		}
		rc.changes.push(Change{Kind: InboxChanged})
	}
	if rep.Messages > 0 || rep.Attachments > 0 {
		rc.log.Info("app: retention purge", "periods", rep.Periods, "messages", rep.Messages)
		rc.changes.push(Change{Kind: InboxChanged})
		if convs, err := st.Conversations(); err == nil {
			for _, cv := range convs {
				rc.changes.push(Change{Kind: ConversationChanged, Conversation: cv.ID})
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
func (rc *retentionClock) retentionNow(st *securestore.Store) time.Time {
	now := rc.clock.Now()
	var last time.Time
	if b, err := st.Setting(settingRetentionClock); err == nil && len(b) == 8 {
		last = time.Unix(0, int64(binary.BigEndian.Uint64(b)))
	}
	rc.mu.Lock()
	if rc.retBase.IsZero() {
		rc.retBase, rc.retBaseLast = now, last
	}
	base, anchor := rc.retBase, rc.retBaseLast
	rc.mu.Unlock()
	r := now
	if !last.IsZero() {
		if anchor.IsZero() {
			anchor = base
		}
		elapsed := now.Sub(base) // monotonic with the real Clock
		if ec, ok := rc.clock.(interface {
			Elapsed(since time.Time) time.Duration
		}); ok {
			elapsed = ec.Elapsed(base) // a test clock that simulates wall jumps
		}
		limit := anchor.Add(maxClockStep + max(elapsed, 0))
		if r.After(limit) {
			rc.mu.Lock()
			warned := rc.retClockWarned
			rc.retClockWarned = true
			rc.mu.Unlock()
			rc.log.Warn("app: device clock ahead of the retention clock; retention uses the last known time", "ahead", now.Sub(limit).Round(time.Minute).String())
			if !warned {
				rc.host.auditWith(st, securestore.AuditPurge, fmt.Sprintf("retention clock held back: device clock %s ahead of the last known time",
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
			rc.log.Warn("app: recording the retention clock", "err", err)
		}
	}
	return r
}
