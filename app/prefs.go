package app

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"rounds/securestore"
)

// preferences are the user's choices within policy; nil or zero means the
// policy's default.
type preferences struct {
	prefPreview   *PreviewLevel
	prefLockAfter time.Duration
}

// The user may make the app stricter than the hospital's policy, never looser:
// a shorter lock timeout, a notification that reveals less.

var (
	// ErrBeyondPolicy: the setting would be looser than the hospital allows.
	ErrBeyondPolicy = errors.New("app: not allowed by your hospital's policy")
)

const (
	settingPreview   = "app.preview"
	settingLockAfter = "app.lock-after"
)

// previewRank orders preview levels by how much they reveal.
func previewRank(p PreviewLevel) int {
	switch p {
	case PreviewNone:
		return 0
	case PreviewSender:
		return 1
	}
	return 2
}

// NotificationPreview is what notifications currently reveal.
func (c *Client) NotificationPreview() PreviewLevel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.previewLocked()
}

func (c *Client) previewLocked() PreviewLevel {
	limit := c.policyLocked().Preview
	if c.prefPreview != nil && previewRank(*c.prefPreview) < previewRank(limit) {
		return *c.prefPreview
	}
	return limit
}

// SetNotificationPreview chooses what notifications reveal, within policy.
func (c *Client) SetNotificationPreview(p PreviewLevel) error {
	c.mu.Lock()
	limit := c.policyLocked().Preview
	c.mu.Unlock()
	if previewRank(p) > previewRank(limit) {
		return fmt.Errorf("%w: notifications may reveal at most %v", ErrBeyondPolicy, limit)
	}
	c.mu.Lock()
	st := c.store
	c.prefPreview = &p
	c.mu.Unlock()
	if st == nil {
		return ErrLocked
	}
	return st.SetSetting(settingPreview, []byte{byte(p)})
}

// LockAfter is the idle time before the app locks itself.
func (c *Client) LockAfter() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lockAfterLocked()
}

func (c *Client) lockAfterLocked() time.Duration {
	limit := c.policyLocked().LockAfter
	if c.prefLockAfter > 0 && c.prefLockAfter < limit {
		return c.prefLockAfter
	}
	return limit
}

// SetLockAfter shortens the idle lock timeout (never beyond policy).
func (c *Client) SetLockAfter(d time.Duration) error {
	c.mu.Lock()
	limit := c.policyLocked().LockAfter
	c.mu.Unlock()
	if d <= 0 || d > limit {
		return fmt.Errorf("%w: lock after at most %v", ErrBeyondPolicy, limit)
	}
	c.mu.Lock()
	st := c.store
	c.prefLockAfter = d
	if st != nil {
		c.armTimerLocked(c.lockAfterLocked())
	}
	c.mu.Unlock()
	if st == nil {
		return ErrLocked
	}
	return st.SetSetting(settingLockAfter, binary.BigEndian.AppendUint64(nil, uint64(d)))
}

// loadPrefsLocked reads the user's choices from the store (c.mu held).
func (c *Client) loadPrefsLocked(st *securestore.Store) {
	if b, err := st.Setting(settingPreview); err == nil && len(b) == 1 {
		p := PreviewLevel(b[0])
		c.prefPreview = &p
	}
	if b, err := st.Setting(settingLockAfter); err == nil && len(b) == 8 {
		c.prefLockAfter = time.Duration(binary.BigEndian.Uint64(b))
	}
}
