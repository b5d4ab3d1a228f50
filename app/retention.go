package app

import (
	"errors"

	"time"

	"rounds/securestore"
)

// Local retention: messages older than the policy's retention are
// crypto-shredded (securestore.Purge destroys their period keys and compacts
// the file). It runs at unlock, whenever the policy's retention changes, and
// once a day while unlocked, on the injected Clock. Server-side retention is
// the server's (docs/ADMIN.md).

// retentionEvery is how often purge runs while the app stays unlocked.
const retentionEvery = 24 * time.Hour

// armRetention schedules the daily purge for st (and purges at once when
// now). Without a retention in force nothing is scheduled.
func (c *Client) armRetention(st *securestore.Store, now bool) {
	c.mu.Lock()
	if c.store != st {
		c.mu.Unlock()
		return
	}
	c.stopRetentionLocked()
	keep := c.policyLocked().Retention
	if keep <= 0 {
		c.mu.Unlock()
		return
	}
	gen := c.retGen
	c.retTimer = c.cfg.Clock.AfterFunc(retentionEvery, func() { c.retentionDue(st, gen) })
	c.mu.Unlock()
	if now {
		go c.purge(st)
	}
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
	c.purge(st)
	c.armRetention(st, false)
}

// purge applies the retention in force to st. Serialised, so a policy change
// and the daily timer do not compact the file twice at once.
func (c *Client) purge(st *securestore.Store) {
	c.purgeMu.Lock()
	defer c.purgeMu.Unlock()
	c.mu.Lock()
	keep := c.policyLocked().Retention
	open := c.store == st
	c.mu.Unlock()
	if keep <= 0 || !open {
		return
	}
	before := c.cfg.Clock.Now().Add(-keep)
	rep, err := st.Purge(before)
	if err != nil {
		if !errors.Is(err, securestore.ErrLocked) {
			c.log.Warn("app: retention purge", "err", err)
		}
		return
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
}
