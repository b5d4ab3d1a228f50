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
func (ps *policyState) NotificationPreview() PreviewLevel {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.previewLocked()
}

func (ps *policyState) previewLocked() PreviewLevel {
	limit := ps.policyLocked().Preview
	if ps.prefPreview != nil && previewRank(*ps.prefPreview) < previewRank(limit) {
		return *ps.prefPreview
	}
	return limit
}

// SetNotificationPreview chooses what notifications reveal, within policy.
func (ps *policyState) SetNotificationPreview(p PreviewLevel) error {
	ps.mu.Lock()
	limit := ps.policyLocked().Preview
	ps.mu.Unlock()
	if previewRank(p) > previewRank(limit) {
		return fmt.Errorf("%w: notifications may reveal at most %v", ErrBeyondPolicy, limit)
	}
	ps.mu.Lock()
	st, _ := ps.host.sessionLocked()
	ps.prefPreview = &p
	ps.mu.Unlock()
	if st == nil {
		return ErrLocked
	}
	return st.SetSetting(settingPreview, []byte{byte(p)})
}

// LockAfter is the idle time before the app locks itself.
func (ps *policyState) LockAfter() time.Duration {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.lockAfterLocked()
}

func (ps *policyState) lockAfterLocked() time.Duration {
	limit := ps.policyLocked().LockAfter
	if ps.prefLockAfter > 0 && ps.prefLockAfter < limit {
		return ps.prefLockAfter
	}
	return limit
}

// SetLockAfter shortens the idle lock timeout (never beyond policy).
func (ps *policyState) SetLockAfter(d time.Duration) error {
	ps.mu.Lock()
	limit := ps.policyLocked().LockAfter
	ps.mu.Unlock()
	if d <= 0 || d > limit {
		return fmt.Errorf("%w: lock after at most %v", ErrBeyondPolicy, limit)
	}
	ps.mu.Lock()
	st, _ := ps.host.sessionLocked()
	ps.prefLockAfter = d
	if st != nil {
		ps.host.armTimerLocked(ps.lockAfterLocked())
	}
	ps.mu.Unlock()
	if st == nil {
		return ErrLocked
	}
	return st.SetSetting(settingLockAfter, binary.BigEndian.AppendUint64(nil, uint64(d)))
}

// loadPrefsLocked reads the user's choices from the store (Client.mu held).
func (ps *policyState) loadPrefsLocked(st *securestore.Store) {
	if b, err := st.Setting(settingPreview); err == nil && len(b) == 1 {
		p := PreviewLevel(b[0])
		ps.prefPreview = &p
	}
	if b, err := st.Setting(settingLockAfter); err == nil && len(b) == 8 {
		ps.prefLockAfter = time.Duration(binary.BigEndian.Uint64(b))
	}
}
