package app

import "time"

// autoLock is the idle timer: the last touch and the timer that locks the
// app once the policy's idle time has passed (timerGen makes a stale timer
// do nothing).
type autoLock struct {
	lastTouch time.Time
	timer     Timer
	timerGen  int
}

// Touch records user activity; the Client locks itself after
// Policy.LockAfter without any. Cheap enough to call on every input event.
func (c *Client) Touch() {
	c.mu.Lock()
	c.lastTouch = c.cfg.Clock.Now()
	c.mu.Unlock()
}

// armTimerLocked schedules the idle check; c.mu is held.
func (c *Client) armTimerLocked(d time.Duration) {
	c.stopTimerLocked()
	gen := c.timerGen
	c.timer = c.cfg.Clock.AfterFunc(d, func() { c.idleCheck(gen) })
}

func (c *Client) stopTimerLocked() {
	c.timerGen++
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// idleCheck runs when the idle timer fires: lock if idle long enough, else
// check again when it could be.
func (c *Client) idleCheck(gen int) {
	c.mu.Lock()
	if gen != c.timerGen || c.store == nil {
		c.mu.Unlock()
		return
	}
	idle := c.cfg.Clock.Now().Sub(c.lastTouch)
	if left := c.lockAfterLocked() - idle; left > 0 {
		c.armTimerLocked(left)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.log.Info("app: idle; locking")
	c.Lock()
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
