package ui

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"

	"rounds/app"
)

// The Controller's side of a shared device: which lock screen comes first,
// switching user, signing in another person, lock now and end of shift.
// One Client is alive at a time; before the next person's lock screen or
// sign-in is shown, the current Client is locked and signed out (leave), so
// nothing of the previous person is left in the Controller, the screens or
// the app.

// LockShortcut locks Rounds at once (Ctrl+L; Cmd+L on macOS).
var LockShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierShortcutDefault}

// showStart shows the lock screen of whoever used the device last, or
// sign-in when nobody is set up. A person whose locked Client still
// listens keeps it: their lock screen comes back.
func (c *Controller) showStart() {
	if cl := c.current(); cl != nil && cl.Locked() {
		c.showUnlock(cl)
		return
	}
	profiles, err := app.Profiles(c.Config)
	if err != nil || len(profiles) == 0 {
		c.showSignIn(c.Defaults, nil)
		return
	}
	// After a restart, the last person's profile listens locked from
	// what its last unlock kept (app.ListenLocked): a STAT rings at the
	// lock screen before anyone types a PIN. Where it cannot, the lock
	// screen says that messages arrive only after the unlock.
	cl, err := app.ListenLocked(c.Config, profiles[0].ID)
	if err == nil {
		c.Follow(cl)
		return
	}
	slog.Info("ui: not listening before the unlock", "err", err)
	c.showLock(profiles[0], nil)
}

// showUnlock is the lock screen for cl, a Client that just locked.
func (c *Controller) showUnlock(cl *app.Client) {
	profiles, _ := app.Profiles(c.Config)
	for _, p := range profiles {
		if strings.EqualFold(p.Account, cl.Account()) {
			c.showLock(p, cl)
			return
		}
	}
	c.showLock(app.Profile{Account: cl.Account()}, cl)
}

// showLock asks p for their PIN. cl is p's locked Client when there is one
// (lock and unlock keep it); otherwise unlocking opens p's profile.
func (c *Controller) showLock(p app.Profile, cl *app.Client) {
	profiles, _ := app.Profiles(c.Config)
	var switchUser func()
	if len(profiles) > 1 {
		// Looking at the list signs nobody out: the person whose phone
		// it is keeps listening (and ringing) until someone else's PIN
		// opens their profile (signedIn leaves then), so Switch user
		// and Back cannot make a locked phone deaf.
		switchUser = c.showSwitchUser
	}
	// Signing in another person signs nobody out either: the owner
	// keeps listening until the new person's sign-in succeeds (signedIn
	// leaves then), so opening the form and going Back leaves the phone
	// ringing for its locked owner.
	another := c.showSignInAnother
	banner := NewLockBanner()
	if cl != nil {
		banner.Set(cl.LockedBanner())
		banner.SetNote(cl.LockedNote())
	} else {
		banner.SetNote(app.ColdStartNote(app.ErrNotListening)) // nobody listens for p
	}
	c.mu.Lock()
	c.banner, c.bannerOf = banner, cl
	c.mu.Unlock()
	defer banner.FocusPIN(c.Window.Canvas())
	c.Window.SetContent(LockScreenWithBanner(c.Icon, LockWhoOf(p), banner, func(pin string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if cl != nil {
			if err := cl.Unlock(ctx, []byte(pin)); err != nil {
				return c.unlockFailed(err)
			}
			doUI(func() { c.showShell(cl) })
			return nil
		}
		fresh, err := app.UnlockProfile(ctx, c.Config, p.ID, []byte(pin))
		if err != nil {
			return c.unlockFailed(err)
		}
		doUI(func() { c.signedIn(fresh) })
		return nil
	}, switchUser, another))
}

// showSwitchUser lists the people set up on this device.
func (c *Controller) showSwitchUser() {
	profiles, _ := app.Profiles(c.Config)
	if len(profiles) == 0 {
		c.showSignIn(c.Defaults, nil)
		return
	}
	choose := func(p app.Profile) {
		if cl := c.current(); cl != nil && strings.EqualFold(cl.Account(), p.Account) {
			c.showLock(p, cl) // the person still listening: their own Client
			return
		}
		c.showLock(p, nil)
	}
	c.Window.SetContent(SwitchUserScreen(profiles, choose, c.showSignInAnother, c.showStart))
}

// showSignInAnother is sign-in for someone new on this device, with a way
// back to the lock screen. The server URL the device was set up with stays
// filled in; the address and password do not.
func (c *Controller) showSignInAnother() {
	c.showSignIn(SignIn{ServerURL: c.Defaults.ServerURL}, c.showStart)
}

// leave locks and signs out the current Client and forgets it: the
// Controller holds nothing of the person who used the device before.
func (c *Controller) leave() {
	c.mu.Lock()
	cl := c.client
	c.client, c.shell, c.thread = nil, nil, nil
	c.mu.Unlock()
	if cl != nil {
		cl.Lock()
		cl.SignOut()
	}
	c.withdrawNotifications()
	if c.Tray != nil {
		c.Tray.SetUnread(0)
	}
}

// withdrawNotifications takes the previous person's notifications off the
// screen where the platform can (they name who wrote to them) and re-arms
// every conversation, so the next person's first message from the same
// colleague is not taken for one already shown.
func (c *Controller) withdrawNotifications() {
	if n, ok := c.Config.Notifier.(interface{ ClearAll() }); ok {
		n.ClearAll()
	}
}

// ClearAll withdraws every outstanding notification (where the platform
// can; Fyne's own fallback cannot) and re-arms every conversation.
func (o *OSNotifier) ClearAll() {
	o.mu.Lock()
	convs := make([]string, 0, len(o.outstanding))
	for conv := range o.outstanding {
		convs = append(convs, conv)
	}
	o.mu.Unlock()
	for _, conv := range convs {
		o.Clear(conv)
	}
}

// expireKeptProfiles removes, every few minutes while Rounds runs, the
// profiles kept after End shift whose keep time has passed (app.Profiles
// does it whenever it lists them), so a phone left on a lock screen does not
// keep them past the policy's time.
func (c *Controller) expireKeptProfiles(quit <-chan struct{}) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			if _, err := app.Profiles(c.Config); err != nil {
				slog.Warn("ui: profile list", "err", err)
			}
		}
	}
}

// LockNow locks Rounds at once (settings, the tray menu, Ctrl+L); the idle
// lock is unchanged.
func (c *Controller) LockNow() {
	if cl := c.current(); cl != nil {
		go cl.Lock() // the Locked change brings the lock screen
	}
}

// offerLockNow binds Ctrl+L and adds "Lock now" to the tray menu.
func (c *Controller) offerLockNow() {
	c.Window.Canvas().AddShortcut(LockShortcut, func(fyne.Shortcut) { c.LockNow() })
	c.Tray.OfferLockNow(c.LockNow)
}

// OfferLockNow adds "Lock now" to the tray menu; nil-safe.
func (t *Tray) OfferLockNow(lock func()) {
	if t == nil {
		return
	}
	t.menu.Items = append(t.menu.Items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Lock now (Ctrl+L)", lock))
	t.menu.Refresh()
}

// The settings screen's shift actions (ShiftActions).

func (a *actions) LockNow() { a.c.LockNow() }

func (a *actions) ShiftHandover() (app.ShiftHandover, error) { return a.cl.ShiftHandoverPreview() }

func (a *actions) EndShift() (app.ShiftHandover, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := a.cl.EndShift(ctx)
	if err == nil {
		doUI(func() {
			dialog.ShowInformation("Shift ended", endedText(h), a.c.Window)
		})
	}
	return h, err
}

// endedText says what End shift did.
func endedText(h app.ShiftHandover) string {
	if h.Keep > 0 {
		return "Your messages stay on this device, locked with your PIN, until " + h.KeepUntil.Local().Format("Mon 15:04") + "."
	}
	return "Your messages were removed from this device."
}

var _ ShiftActions = (*actions)(nil)
