package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	gosync "sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"rounds/app"
)

// pageSize is how many messages a conversation shows at first and per "load
// older" step.
const pageSize = 200

// Controller runs Rounds in one window: first sign-in (then a PIN) or unlock,
// then the shell, with every app change pushed into the screens. It is the
// only place ui/ talks to app.Client; the screens only draw.
type Controller struct {
	App      fyne.App
	Window   fyne.Window
	Config   app.Config
	Icon     fyne.Resource
	Defaults SignIn
	Version  string
	// Tray, when set, shows the unread count.
	Tray *Tray
	// Applied, when set, is called after each change from the Client has
	// been applied (its view models reloaded, the redraw queued), on the
	// Controller's own goroutine. tests/ counts the inbox reloads of a
	// catch-up with it (BenchmarkAppCatchUp10k).
	Applied func(app.Change)

	mu     gosync.Mutex
	client *app.Client
	shell  *Shell
	// thread is what the open conversation has drawn (app decides which
	// rows of a refresh are new and when to redraw instead of appending).
	thread *app.Thread
	// banner is the lock screen's count of what arrived while locked;
	// bannerOf the Client whose lock screen it is on (nil: a profile
	// not open yet).
	banner   *LockBanner
	bannerOf *app.Client
	// quit ends the Controller's own timers (controller_profiles.go).
	quit chan struct{}
}

// Start shows the first screen: unlock if this device has an account, else
// sign-in.
func (c *Controller) Start() {
	c.App.Lifecycle().SetOnEnteredForeground(func() {
		if cl := c.current(); cl != nil {
			cl.Foreground()
		}
	})
	c.App.Lifecycle().SetOnExitedForeground(func() {
		if cl := c.current(); cl != nil {
			cl.Background()
		}
	})
	c.offerLockNow()
	closeOnEscape(c.Window.Canvas())
	c.quit = make(chan struct{})
	go c.expireKeptProfiles(c.quit)
	c.showStart()
}

// Stop runs when the app quits: it locks the signed-in Client, so the
// session ends and the store is closed cleanly with its keys out of memory.
func (c *Controller) Stop() {
	if c.quit != nil {
		close(c.quit)
		c.quit = nil
	}
	if cl := c.current(); cl != nil {
		cl.Lock()
	}
}

// OpenFromNotification answers a tap on a conversation's notification
// (OSNotifier.OnOpen, any goroutine): it brings the window forward and, when
// unlocked, opens that conversation. While locked it only shows the unlock
// screen; the tap does not get past the PIN.
func (c *Controller) OpenFromNotification(conv string) {
	doUI(func() {
		c.Window.Show()
		c.Window.RequestFocus()
		c.mu.Lock()
		cl, shell := c.client, c.shell
		c.mu.Unlock()
		if cl == nil || shell == nil || cl.Locked() {
			return
		}
		(&actions{c: c, cl: cl}).Open(conv)
	})
}

func (c *Controller) current() *app.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// showSignIn asks for the address and password. The server checks them
// (app.CheckSignIn, on submit's goroutine while the button says "Signing
// in…") before the PIN is asked for: a wrong password is shown on this
// screen and costs no PIN choice. back, when set, returns to the lock
// screen (signing in another person on a shared device).
func (c *Controller) showSignIn(defaults SignIn, back func()) {
	c.Window.SetContent(withBack(SignInScreen(c.Icon, defaults, func(in SignIn) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		p, err := app.CheckSignIn(ctx, c.Config, in.Address, in.Password, in.ServerURL)
		if err != nil {
			return err
		}
		doUI(func() { c.showChoosePIN(p, in, back) })
		return nil
	}), back))
}

// showChoosePIN asks for the PIN of a sign-in the server accepted: a new
// one (as long as the hospital's policy, read at the check, requires) or,
// for someone already set up on this device, their own.
func (c *Controller) showChoosePIN(p *app.PendingSignIn, in SignIn, back func()) {
	finish := func(pin string) {
		cl, err := p.Finish([]byte(pin))
		doUI(func() {
			if errors.Is(err, app.ErrPINTooShort) {
				c.showChoosePIN(p, in, back)
				dialog.ShowError(err, c.Window)
				return
			}
			if err != nil {
				p.Discard()
				again := in
				again.Password = ""
				c.showSignIn(again, back)
				dialog.ShowError(errors.New(app.SignInErrorText(err)), c.Window)
				return
			}
			c.signedIn(cl)
		})
	}
	if p.Existing {
		c.Window.SetContent(withBack(UnlockScreen(c.Icon, p.Account(), func(pin string) error {
			finish(pin)
			return nil
		}), back))
		return
	}
	c.Window.SetContent(withBack(ChoosePINScreen(p.MinPINLength(), func(pin string) error {
		go finish(pin)
		return nil
	}), back))
}

// unlockFailed: a wiped store leaves the device; the lock screen of whoever
// else is set up on it (or sign-in) comes next.
func (c *Controller) unlockFailed(err error) error {
	if errors.Is(err, app.ErrWiped) {
		doUI(func() {
			c.showStart()
			dialog.ShowInformation("Rounds was wiped", "Too many wrong PINs: this person's messages were deleted from this device. Sign in again.", c.Window)
		})
	}
	return err
}

// Follow shows the shell over a Client opened outside the screens (by
// app.SignIn or app.Unlock) and applies its changes as after a sign-in on
// the screens; the benchmark in tests/ drives the real Controller this way.
// A Client already locked gets its lock screen, never the shell: its Locked
// change may have gone to whoever read Changes before, and the shell over
// it would look unlocked with no PIN field (TestFollowLockedClientShowsLockScreen).
// Follow must then be the Client's only reader of Changes.
func (c *Controller) Follow(cl *app.Client) {
	if !cl.Locked() {
		c.signedIn(cl)
		return
	}
	if prev := c.current(); prev != nil && prev != cl {
		c.leave()
	}
	c.mu.Lock()
	c.client, c.shell, c.thread = cl, nil, nil
	c.mu.Unlock()
	go c.follow(cl)
	c.showUnlock(cl)
}

// signedIn starts following a new Client's changes and shows the shell.
func (c *Controller) signedIn(cl *app.Client) {
	// Only a person before this one is left: on a first sign-in there is
	// nobody, and leaving would withdraw the notifications the new Client
	// already raised while it caught up (app.SignIn syncs before it returns).
	if prev := c.current(); prev != nil && prev != cl {
		c.leave() // the person before (still listening while locked) and their notifications
	}
	c.mu.Lock()
	c.client = cl
	c.mu.Unlock()
	go c.follow(cl)
	c.showShell(cl)
}

func (c *Controller) showShell(cl *app.Client) {
	c.mu.Lock()
	c.shell = NewShell(&actions{c: c, cl: cl}, c.settingsState(cl))
	c.thread = nil
	shell := c.shell
	c.mu.Unlock()
	shell.SetPINChangeRequired(cl.PINChangeRequired(), cl.Policy().MinPINLength)
	c.Window.SetContent(shell.Content())
	go c.refreshAll(cl)
}

// settingsState is what the settings screen offers: the user's choices
// within the policy in force (the device's configuration merged with the
// hospital's org policy node, strictest wins).
func (c *Controller) settingsState(cl *app.Client) SettingsState {
	show, status := cl.Presence()
	if show == "" {
		show = "available"
	}
	return SettingsState{
		Account: cl.Account(), Presence: show, Status: status,
		Preview: cl.NotificationPreview(), LockAfter: cl.LockAfter(),
		Policy: cl.Policy(), Version: c.Version, DND: cl.DND(),
		Avatar: cl.OwnAvatar(),
	}
}

// refreshAll reloads the inbox, directory and connection state.
func (c *Controller) refreshAll(cl *app.Client) {
	c.refreshInbox(cl)
	if contacts, err := cl.Directory(""); err == nil {
		doUI(func() {
			if s := c.currentShell(); s != nil {
				s.Directory.SetContacts(contacts)
			}
		})
	}
	conn := cl.Connection()
	doUI(func() {
		if s := c.currentShell(); s != nil {
			s.Inbox.SetConnection(conn)
		}
	})
	c.refreshClinical(cl) // levels, roles, alerts (alert.go)
	c.refreshDND(cl)
}

// refreshDND shows do not disturb's state in the inbox and settings.
func (c *Controller) refreshDND(cl *app.Client) {
	state, settings := cl.DND(), c.settingsState(cl)
	doUI(func() {
		if s := c.currentShell(); s != nil {
			s.Inbox.SetDND(state)
			s.SetSettings(settings)
		}
	})
}

// refreshPINChange shows or removes the shell's "change your PIN" banner:
// the policy may have lengthened the minimum, or the PIN was just changed.
func (c *Controller) refreshPINChange(cl *app.Client) {
	required, min := cl.PINChangeRequired(), cl.Policy().MinPINLength
	doUI(func() {
		if s := c.currentShell(); s != nil {
			s.SetPINChangeRequired(required, min)
		}
	})
}

func (c *Controller) currentShell() *Shell {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shell
}

func (c *Controller) refreshInbox(cl *app.Client) {
	rows, err := cl.Inbox("")
	if err != nil {
		return
	}
	reqs := cl.PresenceRequests()
	unread := 0
	for _, r := range rows {
		unread += r.Unread
	}
	invites, _ := cl.Invitations()
	doUI(func() {
		if s := c.currentShell(); s != nil {
			s.Inbox.SetRows(rows)
			s.Inbox.SetPresenceRequests(reqs)
			s.Inbox.SetInvitations(invites)
			if v := s.Conversation(); v != nil {
				for _, r := range rows {
					if r.ID == v.ID() {
						v.SetHeader(conversationInfo(r))
					}
				}
			}
		}
		if c.Tray != nil {
			c.Tray.SetUnread(unread)
		}
	})
}

// follow applies the Client's changes until it signs out.
func (c *Controller) follow(cl *app.Client) {
	for ch := range cl.Changes() {
		switch ch.Kind {
		case app.InboxChanged:
			c.refreshInbox(cl)
		case app.ConversationChanged:
			c.refreshConversation(cl, ch.Conversation)
			c.refreshBroadcast(cl)
		case app.DirectoryChanged:
			if contacts, err := cl.Directory(""); err == nil {
				doUI(func() {
					if s := c.currentShell(); s != nil {
						s.Directory.SetContacts(contacts)
					}
				})
			}
		case app.AlertsChanged:
			c.refreshAlerts(cl)
		case app.DNDChanged:
			c.refreshDND(cl)
		case app.RolesChanged:
			c.refreshRoles(cl)
		case app.PolicyChanged:
			c.refreshPolicy(cl)
			c.refreshPINChange(cl)
		case app.ConnectionChanged:
			conn := cl.Connection()
			note, locked := cl.LockedNote(), cl.Locked()
			doUI(func() {
				if s := c.currentShell(); s != nil {
					s.Inbox.SetConnection(conn)
				}
				c.mu.Lock()
				b := c.banner
				mine := c.client == cl && c.bannerOf == cl
				c.mu.Unlock()
				if locked && mine && b != nil {
					b.SetNote(note) // the server refused the saved sign-in
				}
			})
		case app.LockedWaiting:
			text, urgent := cl.LockedBanner()
			doUI(func() {
				c.mu.Lock()
				b := c.banner
				mine := c.client == cl && c.bannerOf == cl
				c.mu.Unlock()
				if mine && b != nil {
					b.Set(text, urgent)
				}
			})
		case app.Locked, app.Unlocked:
			if cl.Locked() {
				doUI(func() {
					c.mu.Lock()
					mine := c.client == cl
					if mine {
						c.shell, c.thread = nil, nil
					}
					c.mu.Unlock()
					if mine {
						c.showUnlock(cl)
					}
				})
			}
		}
		if c.Applied != nil {
			c.Applied(ch)
		}
	}
	// Signed out, wiped or the shift ended. After a switch of user the
	// next person's screen is already up: leave it alone.
	doUI(func() {
		c.mu.Lock()
		mine := c.client == cl
		if mine {
			c.client, c.shell, c.thread = nil, nil, nil
		}
		c.mu.Unlock()
		if mine {
			c.withdrawNotifications()
			c.showStart()
		}
	})
}

// refreshConversation brings the open conversation up to date: new messages
// are appended, changed receipts updated in place.
// refreshBroadcast redraws the broadcast view on screen, if any: a
// message changed, perhaps a recipient's receipt (ui/broadcast.go).
func (c *Controller) refreshBroadcast(cl *app.Client) {
	doUI(func() {
		s := c.currentShell()
		if s == nil || s.Directory.OpenBroadcast() == "" {
			return
		}
		id := s.Directory.OpenBroadcast()
		go func() {
			b, err := cl.Broadcast(id)
			if err != nil {
				return
			}
			doUI(func() { s.Directory.ShowBroadcastState(b) })
		}()
	})
}

func (c *Controller) refreshConversation(cl *app.Client, conv string) {
	if c.openThread().Conversation() != conv {
		return
	}
	rows, err := cl.Messages(conv, 50)
	if err != nil {
		return
	}
	doUI(func() {
		s := c.currentShell()
		if s == nil || s.Conversation() == nil || s.Conversation().ID() != conv {
			return
		}
		th := c.openThread() // the one drawn now (the conversation may have been opened again)
		if th.Conversation() != conv {
			return
		}
		fresh, gap := th.Fresh(rows)
		if gap {
			go c.reload(cl, conv)
			return
		}
		for _, r := range rows {
			s.Conversation().Update(r)
		}
		if len(fresh) > 0 {
			s.Conversation().Append(fresh...)
		}
	})
}

// openThread is what the open conversation has drawn (nil when none is open).
func (c *Controller) openThread() *app.Thread {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.thread
}

// reload redraws the open conversation from the store.
func (c *Controller) reload(cl *app.Client, conv string) {
	rows, err := cl.Messages(conv, pageSize)
	if err != nil {
		return
	}
	doUI(func() {
		s := c.currentShell()
		if s == nil || s.Conversation() == nil || s.Conversation().ID() != conv {
			return
		}
		if th := c.openThread(); th.Conversation() == conv {
			th.Redrawn(rows)
		}
		s.Conversation().SetMessages(rows, len(rows) == pageSize)
	})
}

// conversationInfo is a conversation's header from its inbox row: the inbox
// and the header read the same row, at opening and at every inbox change, so
// the header never says Offline while the list says Available.
func conversationInfo(r app.ConversationRow) ConversationInfo {
	return ConversationInfo{ID: r.ID, Title: r.Title, IsRoom: r.IsRoom, Presence: r.Presence, Unread: r.Unread, Unavailable: r.Unavailable, Avatar: r.Avatar, Role: r.Role, Muted: r.Muted}
}

// actions adapts app.Client to what the screens ask (ui.Actions).
type actions struct {
	c  *Controller
	cl *app.Client
}

func (a *actions) Open(conv string) {
	a.cl.Touch()
	a.cl.SetOpenConversation(conv, true)
	go func() {
		rows, err := a.cl.Messages(conv, pageSize)
		if err != nil {
			slog.Warn("ui: open conversation", "err", err)
			return
		}
		var info ConversationInfo
		if inbox, err := a.cl.Inbox(""); err == nil {
			for _, r := range inbox {
				if r.ID == conv {
					info = conversationInfo(r)
				}
			}
		}
		if info.ID == "" {
			info = ConversationInfo{ID: conv, Title: conv}
		}
		th := app.NewThread(conv, rows)
		doUI(func() {
			a.c.mu.Lock()
			a.c.thread = th
			a.c.mu.Unlock()
			if s := a.c.currentShell(); s != nil {
				s.ShowConversation(info, rows, len(rows) == pageSize)
			}
		})
	}()
}

// OpenAt opens conv on message id (a search hit): the thread reaches back
// to it and the view scrolls to it.
func (a *actions) OpenAt(conv string, id app.MessageID) {
	a.cl.Touch()
	a.cl.SetOpenConversation(conv, true)
	go func() {
		rows, hasOlder, _, err := a.cl.ThreadAround(conv, id)
		if err != nil {
			slog.Warn("ui: open conversation at a message", "err", err)
			return
		}
		info := ConversationInfo{ID: conv, Title: conv}
		if inbox, err := a.cl.Inbox(""); err == nil {
			for _, r := range inbox {
				if r.ID == conv {
					info = conversationInfo(r)
				}
			}
		}
		th := app.NewThread(conv, rows)
		doUI(func() {
			a.c.mu.Lock()
			a.c.thread = th
			a.c.mu.Unlock()
			if s := a.c.currentShell(); s != nil {
				s.ShowConversation(info, rows, hasOlder)
				if v := s.Conversation(); v != nil && v.ID() == conv {
					v.ScrollToMessage(id)
				}
			}
		})
	}()
}

func (a *actions) PrepareSearch() { a.cl.PrepareSearch() }

func (a *actions) MuteConversation(conv string, until time.Time) error {
	return a.cl.MuteConversation(conv, until)
}
func (a *actions) UnmuteConversation(conv string) error { return a.cl.UnmuteConversation(conv) }
func (a *actions) Muted(conv string) (bool, time.Time)  { return a.cl.Muted(conv) }
func (a *actions) SaveDraft(conv, text string) error    { return a.cl.SaveDraft(conv, text) }

// Care teams (careteam.go).
func (a *actions) RoomMembers(room string) ([]app.RoomMemberRow, error) {
	return a.cl.RoomMembers(room)
}
func (a *actions) AddRoomMember(room, address string) error {
	a.cl.Touch()
	return a.cl.AddRoomMember(room, address)
}
func (a *actions) RemoveRoomMember(room, address string) error {
	a.cl.Touch()
	return a.cl.RemoveRoomMember(room, address)
}
func (a *actions) MakeRoomAdmin(room, address string) error {
	a.cl.Touch()
	return a.cl.MakeRoomAdmin(room, address)
}
func (a *actions) ReadBy(room string, id app.MessageID) ([]app.ReadByRow, error) {
	return a.cl.ReadBy(room, id)
}
func (a *actions) Invitations() ([]app.InvitationRow, error) { return a.cl.Invitations() }
func (a *actions) AcceptInvitation(room string) (string, error) {
	a.cl.Touch()
	return a.cl.AcceptInvitation(room)
}
func (a *actions) DeclineInvitation(room string) error {
	a.cl.Touch()
	return a.cl.DeclineInvitation(room)
}
func (a *actions) Draft(conv string) string { return a.cl.Draft(conv) }

func (a *actions) Reply(conv string, to app.MessageID, text string) error {
	a.cl.Touch()
	_, err := a.cl.Reply(conv, to, text, app.ClinicalOptions{})
	return err
}

func (a *actions) SendBroadcast(to []string, role, text string, urgency app.Urgency, ack bool) (app.BroadcastView, error) {
	a.cl.Touch()
	return a.cl.SendBroadcast(to, role, text, app.ClinicalOptions{Urgency: urgency, AckRequired: ack})
}

func (a *actions) Broadcasts() ([]app.BroadcastView, error) {
	a.cl.Touch()
	return a.cl.Broadcasts()
}

func (a *actions) Broadcast(id string) (app.BroadcastView, error) {
	a.cl.Touch()
	return a.cl.Broadcast(id)
}

func (a *actions) ExportBroadcast(w io.Writer, id string) error {
	a.cl.Touch()
	return a.cl.ExportBroadcast(w, id)
}

func (a *actions) ForwardTargets() ([]app.ConversationRow, error) {
	a.cl.Touch()
	return a.cl.Inbox("")
}

func (a *actions) Forward(id app.MessageID, to string, urgency app.Urgency) error {
	a.cl.Touch()
	_, err := a.cl.Forward(id, to, app.ClinicalOptions{Urgency: urgency})
	return err
}

func (a *actions) React(conv string, id app.MessageID, emoji string) error {
	a.cl.Touch()
	return a.cl.React(conv, id, emoji)
}

func (a *actions) SearchMessages(q app.MessageSearch) ([]app.SearchHit, error) {
	a.cl.Touch()
	return a.cl.SearchMessages(q)
}

func (a *actions) Send(conv, text string) error {
	a.cl.Touch()
	_, err := a.cl.Send(conv, text)
	return err
}

func (a *actions) MarkShown(conv string, upTo app.MessageID) {
	a.cl.Touch()
	if err := a.cl.MarkShown(conv, upTo); err != nil && !errors.Is(err, app.ErrLocked) {
		slog.Info("ui: mark shown", "err", err)
	}
}

// Reading is the user scrolling the conversation: activity, like a tap.
func (a *actions) Reading(string) { a.cl.Touch() }

// LoadOlder is the user scrolling back through the history: reading is use,
// so it defers auto-lock like a tap.
func (a *actions) LoadOlder(conv string, before app.MessageID) {
	a.cl.Touch()
	rows, err := a.cl.Older(conv, before, pageSize)
	if err != nil {
		return
	}
	doUI(func() {
		if s := a.c.currentShell(); s != nil && s.Conversation() != nil && s.Conversation().ID() == conv {
			if th := a.c.openThread(); th.Conversation() == conv {
				th.Prepended(rows)
			}
			s.Conversation().Prepend(rows, len(rows) == pageSize)
		}
	})
}

func (a *actions) StartChat(jid string) {
	conv, err := a.cl.StartChat(jid)
	if err != nil {
		doUI(func() { dialog.ShowError(err, a.c.Window) })
		return
	}
	a.Open(conv)
}

func (a *actions) CreateRoom(address, name string, members []string) error {
	a.cl.Touch()
	conv, err := a.cl.CreateRoom(address, "", name, members)
	if err != nil {
		return err
	}
	a.Open(conv)
	return nil
}

func (a *actions) JoinRoom(room, nick string) error {
	conv, err := a.cl.JoinRoom(room, nick)
	if err != nil {
		return err
	}
	a.Open(conv)
	return nil
}

func (a *actions) SetDND(s app.DNDSettings) error { a.cl.Touch(); return a.cl.SetDND(s) }
func (a *actions) EndDND() error                  { a.cl.Touch(); return a.cl.EndDND() }
func (a *actions) DND() app.DNDView               { return a.cl.DND() }

func (a *actions) SetOwnPicture(data []byte) (app.Avatar, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.cl.SetOwnPicture(ctx, data); err != nil {
		return app.Avatar{}, err
	}
	return a.cl.OwnAvatar(), nil
}

func (a *actions) RemoveOwnPicture() (app.Avatar, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.cl.RemoveOwnPicture(ctx); err != nil {
		return app.Avatar{}, err
	}
	return a.cl.OwnAvatar(), nil
}

func (a *actions) AnswerPresenceRequest(from string, allow bool) error {
	return a.cl.AnswerPresenceRequest(from, allow)
}

func (a *actions) SetPresence(show, status string) error {
	if show == "available" {
		show = ""
	}
	return a.cl.SetPresence(show, status)
}

func (a *actions) SetNotificationPreview(p app.PreviewLevel) error {
	return a.cl.SetNotificationPreview(p)
}

func (a *actions) SetLockAfter(d time.Duration) error { return a.cl.SetLockAfter(d) }

func (a *actions) ChangePIN(oldPIN, newPIN string) error {
	err := a.cl.ChangePIN([]byte(oldPIN), []byte(newPIN))
	if err == nil {
		go a.c.refreshPINChange(a.cl)
	}
	return err
}

func (a *actions) SignOut() error {
	a.cl.SignOut()
	return nil
}

func (a *actions) Wipe() error { return a.cl.WipeDevice() }

// The controller's actions forward the clinical intents to the Client.

func (a *actions) SendClinical(conv, text string, o app.ClinicalOptions) (app.Sent, error) {
	a.cl.Touch()
	return a.cl.SendClinical(conv, text, o)
}

func (a *actions) SendSBAR(conv string, f [4]string, o app.ClinicalOptions) (app.Sent, error) {
	a.cl.Touch()
	return a.cl.SendSBAR(conv, f, o)
}

func (a *actions) Respond(conv string, msg app.MessageID, kind app.ResponseKind, text string) error {
	return a.cl.Respond(conv, msg, kind, text)
}

func (a *actions) Recall(conv string, id app.MessageID) error { return a.cl.Recall(conv, id) }

func (a *actions) Correct(conv string, id app.MessageID, text string) error {
	return a.cl.Correct(conv, id, text)
}

func (a *actions) History(id app.MessageID) ([]app.BodyVersion, error) {
	return a.cl.History(id)
}

func (a *actions) ExportConversation(w io.Writer, conv, format string) error {
	return a.cl.ExportConversation(w, conv, format)
}

func (a *actions) CancelEscalation(conv string, id app.MessageID) error {
	return a.cl.CancelEscalation(conv, id)
}

func (a *actions) SendToRole(role, text string, o app.ClinicalOptions) (app.Sent, error) {
	a.cl.Touch()
	return a.cl.SendToRole(role, text, o)
}

func (a *actions) AuditEntries() ([]app.AuditRow, error) { return a.cl.AuditEntries() }
func (a *actions) AuditIntact() error                    { return a.cl.AuditIntact() }
func (a *actions) ExportAudit(w io.Writer, format string) error {
	return a.cl.ExportAudit(w, format)
}

var (
	_ ClinicalActions = (*actions)(nil)
	_ AlertActions    = (*actions)(nil)
	_ RoleActions     = (*actions)(nil)
	_ AuditActions    = (*actions)(nil)
)
