package app

import (
	"log/slog"
	gosync "sync"
	"time"

	"rounds/securestore"
)

// autoLock is the idle timer: the last touch and the timer that locks the
// app once the policy's idle time has passed (timerGen makes a stale timer
// do nothing). Its state is guarded by Client.mu (mu points at it): the
// policy re-arms it and the lifecycle stops it under that one lock. It
// reaches the rest of the Client through autoLockHost, and calls Lock only
// after letting mu go. Client embeds it, so Touch is Client's facade
// without a line of its own. Background and Foreground (below) are the
// lifecycle's, Client's own.
type autoLock struct {
	lastTouch time.Time
	timer     Timer
	timerGen  int

	mu    *gosync.Mutex // Client.mu
	log   *slog.Logger
	clock Clock
	host  autoLockHost
}

// autoLockHost is what the idle timer asks of the rest of the Client:
// whether a store is open (hosts.go) and the idle time allowed (prefs.go),
// both with Client.mu held, and Lock (client.go), which takes it.
type autoLockHost interface {
	storeLocked() *securestore.Store
	lockAfterLocked() time.Duration
	Lock()
}

// Touch records user activity; the Client locks itself after
// Policy.LockAfter without any. Cheap enough to call on every input event.
func (a *autoLock) Touch() {
	a.mu.Lock()
	a.lastTouch = a.clock.Now()
	a.mu.Unlock()
}

// armTimerLocked schedules the idle check; Client.mu is held.
func (a *autoLock) armTimerLocked(d time.Duration) {
	a.stopTimerLocked()
	gen := a.timerGen
	a.timer = a.clock.AfterFunc(d, func() { a.idleCheck(gen) })
}

func (a *autoLock) stopTimerLocked() {
	a.timerGen++
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

// idleCheck runs when the idle timer fires: lock if idle long enough, else
// check again when it could be.
func (a *autoLock) idleCheck(gen int) {
	a.mu.Lock()
	if gen != a.timerGen || a.host.storeLocked() == nil {
		a.mu.Unlock()
		return
	}
	idle := a.clock.Now().Sub(a.lastTouch)
	if left := a.host.lockAfterLocked() - idle; left > 0 {
		a.armTimerLocked(left)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.log.Info("app: idle; locking")
	a.host.Lock()
}

// Background is the app leaving the screen (mobile lifecycle, or a desktop
// window minimised). On Android and iOS it locks at once
// (docs/ARCHITECTURE.md, "Security model"); on the desktop it only tells the
// server we are inactive (XEP-0352) and keeps syncing and notifying.
func (c *Client) Background() {
	c.mu.Lock()
	c.bg = true
	s := c.session
	c.mu.Unlock()
	if s != nil {
		_ = s.SetActive(false) // XEP-0352: also for the Session that listens while locked
	}
	if lockInBackground {
		c.Lock()
	}
}

// Foreground reverses Background (on mobile the UI then shows the unlock
// screen, since Background locked).
func (c *Client) Foreground() {
	c.mu.Lock()
	c.bg = false
	s := c.session
	c.mu.Unlock()
	c.Touch()
	if s != nil {
		_ = s.SetActive(true)
	}
}
