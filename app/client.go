package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// Client is one account on this device: its encrypted store, the sync Session
// keeping it current, and the app's behaviour on top (view models, actions,
// notifications, auto-lock). All methods are safe for concurrent use.
//
// Locking (Lock, auto-lock, Background on mobile) closes the store, so a
// locked app holds no key and no PHI in memory (docs/ARCHITECTURE.md,
// "Security model"), but the Session goes on listening: what arrives is
// sealed into the store's locked inbox, and urgent messages notify without
// sender or text (locked.go). Unlock with the PIN merges the inbox, and
// catch-up fetches what a lost socket missed. The Client object and its
// Changes channel survive lock and unlock; only SignOut and WipeDevice end
// them.
type Client struct {
	cfg     Config
	path    string
	log     *slog.Logger
	changes *changeQueue

	// unlocking is held by Unlock from its first look until it has taken
	// the listener, and by wipeLockedProfile while it destroys the locked file:
	// a wipe never runs on a store an Unlock has open (it could not read
	// the header, and would leave the keyring secret behind).
	unlocking gosync.Mutex

	mu      gosync.Mutex
	account string // bare JID; kept while locked (the unlock screen may show it)
	store   *securestore.Store
	session *sync.Session
	stop    context.CancelFunc
	done    chan struct{} // closed when the Session and its event loop ended
	ended   bool          // signed out or wiped
	// Each concern's state, in the file that holds its methods; all of it
	// is guarded by mu unless its type says otherwise.
	presenceBook    // contacts' presence, our own, requests: a service under mu (presence.go)
	attention       // what the user is looking at; notifications: a service under mu (notify.go)
	autoLock        // the idle timer: a service under mu (lock.go)
	lockedListening // the Session listening while locked, its alerts: a service under mu (locked.go)
	roomsAway       // rooms the last sign-in could not rejoin: a service under mu (events.go)
	policyState     // policy, preferences, on-call, orders: a service under mu (policy.go)
	retentionClock  // retention purges and their clock: a service under mu (retention.go)
	wipeOrders      // remote wipe directives: a service under mu (wipe.go)
	conversations   // messages, chats, rooms, search, replies, mute: a service with no state (actions.go)
	// Alerts, escalation ladders and responses, with its own lock (alerts.go).
	clin clinical
	// Attachments: sending, showing, the copies handed to other apps and
	// the thumbnail cache, with their own locks (attachments.go).
	att attachmentService
	// The audit log, a service over the store (audit.go).
	trail auditTrail
	// Do not disturb with coverage, with its own lock (dnd.go).
	dnd dndService
	// People's decoded pictures, with their own lock (faces.go).
	faces faceBook
	// Freed heap handed back once a history load settles, with its own
	// lock (memory.go).
	heap heapReturn
	// Broadcasts: sending one and its records, with their writer lock
	// (broadcast.go).
	broadcasts broadcastBook
	// The listen ticket's keyring and file work, off the lock and unlock
	// paths, one job at a time (coldstart.go).
	tickets listenKeeper
	// headless is set for a command-line run (headless.go), nil for a
	// Client behind screens.
	headless *headlessRun
	// The headless sender's work: pages, documents, wipes (headlesssend.go).
	sender headlessSender
}

func newClient(cfg Config, path string) *Client {
	c := &Client{
		cfg: cfg, path: path, log: cfg.Logger,
		changes:      newChangeQueue(coalesceWindow, catchUpWindow),
		presenceBook: presenceBook{presence: map[string]map[string]presence{}},
		attention:    attention{notified: map[string]notice{}},
	}
	c.clin.log, c.clin.changes, c.clin.clock, c.clin.sound, c.clin.host = cfg.Logger, c.changes, cfg.Clock, cfg.Sound, c
	c.trail = auditTrail{door: c, log: cfg.Logger, clock: cfg.Clock}
	ps := &c.policyState
	ps.mu, ps.configured, ps.log, ps.clock, ps.changes, ps.host = &c.mu, &c.cfg.Policy, cfg.Logger, cfg.Clock, c.changes, c
	rc := &c.retentionClock
	rc.mu, rc.log, rc.clock, rc.changes, rc.host = &c.mu, cfg.Logger, cfg.Clock, c.changes, c
	wo := &c.wipeOrders
	wo.mu, wo.log, wo.host = &c.mu, cfg.Logger, c
	c.att.log, c.att.clock, c.att.changes, c.att.host = cfg.Logger, cfg.Clock, c.changes, c
	c.dnd.log, c.dnd.clock, c.dnd.changes, c.dnd.host = cfg.Logger, cfg.Clock, c.changes, c
	c.broadcasts.log, c.broadcasts.clock, c.broadcasts.host = cfg.Logger, cfg.Clock, c
	c.presenceBook.mu, c.presenceBook.changes, c.presenceBook.host = &c.mu, c.changes, c
	c.autoLock.mu, c.autoLock.log, c.autoLock.clock, c.autoLock.host = &c.mu, cfg.Logger, cfg.Clock, c
	c.roomsAway.mu, c.roomsAway.changes, c.roomsAway.host = &c.mu, c.changes, c
	c.sender = headlessSender{configured: &c.cfg.Policy, clock: cfg.Clock, host: c}
	at := &c.attention
	at.mu, at.log, at.clock, at.notifier, at.sound, at.host = &c.mu, cfg.Logger, cfg.Clock, cfg.Notifier, cfg.Sound, c
	ll := &c.lockedListening
	ll.mu, ll.log, ll.clock, ll.notifier, ll.sound, ll.changes, ll.dnd, ll.host = &c.mu, cfg.Logger, cfg.Clock, cfg.Notifier, cfg.Sound, c.changes, &c.dnd, c
	c.heap.clock = cfg.Clock
	c.conversations = conversations{log: cfg.Logger, clock: cfg.Clock, changes: c.changes, clin: &c.clin, att: &c.att, heap: &c.heap, host: c}
	return c
}

// start runs the Session over an unlocked store.
func (c *Client) start(st *securestore.Store) error {
	if n := sweepStaleExports(time.Now()); n > 0 {
		c.log.Info("app: removed attachment copies a previous run left behind", "count", n)
	}
	acct, err := st.Account()
	if err != nil {
		return fmt.Errorf("app: account record: %w", err)
	}
	sess, err := sync.New(sync.Config{
		Store: st,
		XMPP: sync.Server{
			URL: acct.WebSocketURL, JID: acct.JID, Resource: acct.Resource,
			Password:  acct.Credentials.PlainPassword,
			TLSConfig: c.cfg.TLSConfig, HTTPClient: c.cfg.HTTPClient,
		}.XMPP(),
		Logger:          c.log,
		PubSubService:   c.cfg.PubSubService,
		FollowBookmarks: true,
		CatchUpPage:     catchUpPage,
	})
	if err != nil {
		return err
	}
	// What arrived while locked, before anything else: its alerts are up
	// at once, and the sign-in's catch-up finds it stored.
	if n, err := sess.MergeLockedInbox(); err != nil {
		c.log.Warn("app: locked inbox not merged; it stays for the next unlock", "err", err)
	} else if n > 0 {
		c.log.Info("app: merged what arrived while locked", "entries", n)
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return ErrSignedOut
	}
	if c.show != "" || c.status != "" {
		_ = sess.SetPresence(c.show, c.status)
	}
	if c.bg {
		_ = sess.SetActive(false)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.account = acct.JID
	c.store, c.session, c.stop, c.done = st, sess, cancel, done
	c.presence = map[string]map[string]presence{}
	c.roomsOut = nil
	c.notified = map[string]notice{}
	c.lastTouch = c.cfg.Clock.Now()
	c.loadPrefsLocked(st)
	c.loadOrgPolicyLocked(st)
	c.loadScheduleLocked(st)
	c.armTimerLocked(c.lockAfterLocked())
	pol := c.policyLocked()
	sess.SetTextAck(textAckRules(pol))
	sess.SetEscalationService(pol.Escalation.Service)
	c.mu.Unlock()
	c.enforceKeyring(st, pol)
	c.armRetention(st, true)
	c.clinicalFor(st) // resume alerts and escalation ladders
	c.dnd.started(st, sess)
	c.keepListenTicket(st, sess) // coldstart.go: listening after a restart

	c.runSession(ctx, st, sess, done, "app: sync stopped")
	// Argon2id just used 64 MiB that the Go runtime would otherwise keep from
	// the OS for minutes; give it back once (docs/BENCHMARKS.md, ## app).
	debug.FreeOSMemory()
	c.changes.push(Change{Kind: Unlocked})
	c.changes.push(Change{Kind: InboxChanged})
	c.changes.push(Change{Kind: ConnectionChanged})
	return nil
}

// halt stops the Session and closes the store; it reports whether the Client
// was unlocked. The store key leaves memory.
func (c *Client) halt() (*securestore.Store, bool) {
	c.mu.Lock()
	st, stop, done := c.store, c.stop, c.done
	if st == nil {
		c.mu.Unlock()
		return nil, false
	}
	c.store, c.session, c.stop, c.done = nil, nil, nil, nil
	c.presence = map[string]map[string]presence{}
	c.roomsOut = nil
	c.notified = map[string]notice{}
	c.stopTimerLocked()
	c.stopRetentionLocked()
	c.mu.Unlock()
	c.stopClinical()
	c.dnd.stopped()
	c.dropThumbnails() // decoded pictures leave memory with the key (attachments.go)
	stop()
	<-done
	return st, true
}

// Lock closes the store: no key and no PHI stay in memory. The Session goes
// on into the locked inbox (locked.go). The UI gets a Locked change and
// shows the unlock screen.
func (c *Client) Lock() {
	var shown []string
	if c.NotificationPreview() == PreviewContent {
		// Notifications showing message text must not outlive the unlock.
		shown = c.shownNotifications()
	}
	st, ok := c.lockListening()
	c.removeExports() // plaintext copies must not outlive the unlock
	if !ok {
		return
	}
	for _, conv := range shown {
		c.cfg.Notifier.Clear(conv)
	}
	if err := st.Close(); err != nil {
		c.log.Warn("app: closing store", "err", err)
	}
	c.faces.forget()
	c.log.Info("app: locked")
	c.changes.push(Change{Kind: Locked})
}

// Locked reports whether the Client is locked (or signed out).
func (c *Client) Locked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.store == nil
}

// Unlock reopens a locked Client with the PIN and resumes syncing. Errors as
// for the package-level Unlock (WrongPINError, ErrWiped).
func (c *Client) Unlock(ctx context.Context, pin []byte) error {
	c.unlocking.Lock()
	c.mu.Lock()
	ended, unlocked := c.ended || c.wiping, c.store != nil
	c.mu.Unlock()
	if ended {
		c.unlocking.Unlock()
		return ErrSignedOut
	}
	if unlocked {
		c.unlocking.Unlock()
		return nil
	}
	st, err := openStore(c.path, pin, c.cfg)
	if err != nil {
		if errors.Is(err, ErrWiped) {
			c.stopListening()    // its inbox went with the store
			c.dropListenTicket() // the ticket too; also any a job still running keeps
		}
		c.unlocking.Unlock()
		return err
	}
	unlockOpened()    // a test's hook: a locked wipe racing this unlock
	c.stopListening() // the new Session merges its inbox
	c.mu.Lock()
	wiping := c.wiping || c.ended
	c.mu.Unlock()
	c.unlocking.Unlock()
	if wiping {
		// A remote wipe that arrived while locked claimed the profile
		// before stopListening did (wipeLockedProfile): its file is going.
		st.Close()
		return ErrSignedOut
	}
	c.setPINLen(pin)
	if err := c.start(st); err != nil {
		st.Close()
		return err
	}
	return nil
}

// unlockOpened runs in Unlock between opening the store and taking the
// listener; only tests set it (TestLockedWipeRacingUnlock).
var unlockOpened = func() {}

// Account is the signed-in bare JID.
func (c *Client) Account() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.account
}

// SignOut stops syncing and closes the store, keeping the data on the device
// (the next start shows the unlock screen). The Client is finished and its
// Changes channel closes.
func (c *Client) SignOut() {
	c.stopListening()
	c.dropListenTicket() // signed out, nobody is heard after a restart either (coldstart.go)
	if st, ok := c.halt(); ok {
		if err := st.Close(); err != nil {
			c.log.Warn("app: closing store", "err", err)
		}
	}
	c.removeExports()
	c.finish()
}

func (c *Client) finish() {
	c.mu.Lock()
	already := c.ended
	c.ended = true
	c.mu.Unlock()
	if !already {
		c.changes.push(Change{Kind: SignedOut})
		c.changes.close()
	}
}

// WipeDevice erases this account's data from the device: the store file is
// overwritten and removed and the keyring secret deleted (an audit entry is
// written first, though it goes with the file). Works only while unlocked.
func (c *Client) WipeDevice() error { return c.wipeDevice("user wiped this device") }

// wipeDevice is WipeDevice with the audit detail (user or remote wipe).
func (c *Client) wipeDevice(detail string) error {
	c.mu.Lock()
	st := c.store
	if st != nil {
		c.wiping = true // no Unlock may reopen the file being destroyed
	}
	c.mu.Unlock()
	if st == nil {
		return ErrLocked
	}
	if err := st.Audit(securestore.AuditWipe, detail); err != nil {
		c.log.Warn("app: audit before wipe", "err", err)
	}
	shown := c.shownNotifications()
	st, _ = c.halt()
	c.removeExports()
	if st == nil {
		return ErrLocked
	}
	err := st.Wipe()
	c.dropListenTicket() // and any a job still running keeps (coldstart.go)
	for _, conv := range shown {
		c.cfg.Notifier.Clear(conv)
	}
	c.finish()
	c.log.Warn("app: device wiped")
	return err
}

// ChangePIN re-wraps the store key under a new PIN. A wrong old PIN counts
// towards the policy's wrong-PIN limit like a wrong PIN at unlock (an
// unattended unlocked device must not be a free PIN oracle): it returns a
// *WrongPINError with the attempts left, and at the limit the store erases
// itself, the Client signs out and ChangePIN returns ErrWiped.
func (c *Client) ChangePIN(oldPIN, newPIN []byte) error {
	st, err := c.unlocked()
	if err != nil {
		return err
	}
	if err := checkNewPIN(newPIN, c.Policy().MinPINLength); err != nil {
		return err
	}
	err = st.ChangePIN(oldPIN, newPIN)
	var wp *securestore.WrongPINError
	switch {
	case errors.As(err, &wp):
		c.log.Warn("app: wrong PIN at PIN change", "attempts_left", wp.Remaining)
		return &WrongPINError{Remaining: wp.Remaining}
	case errors.Is(err, securestore.ErrWrongPIN):
		return &WrongPINError{}
	case errors.Is(err, securestore.ErrWiped):
		c.log.Warn("app: wrong-PIN limit reached at PIN change; local data erased")
		c.mu.Lock()
		c.wiping = true
		c.mu.Unlock()
		shown := c.shownNotifications()
		c.halt()
		c.dropListenTicket()
		c.removeExports()
		for _, conv := range shown {
			c.cfg.Notifier.Clear(conv)
		}
		c.finish()
		return fmt.Errorf("%w (%v)", ErrWiped, err)
	}
	if err == nil {
		c.mu.Lock()
		c.pinLen = len([]rune(string(newPIN)))
		c.mu.Unlock()
	}
	return mapErr(err)
}

// unlocked returns the open store or ErrLocked / ErrSignedOut.
func (c *Client) unlocked() (*securestore.Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store == nil {
		if c.ended {
			return nil, ErrSignedOut
		}
		return nil, ErrLocked
	}
	return c.store, nil
}

// openSession is the open store and its Session (nil, nil while locked).
func (c *Client) openSession() (*securestore.Store, *sync.Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.store, c.session
}

func (c *Client) sess() (*securestore.Store, *sync.Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store == nil {
		if c.ended {
			return nil, nil, ErrSignedOut
		}
		return nil, nil, ErrLocked
	}
	return c.store, c.session, nil
}

// mapErr turns a store's "closed under us" into the app's ErrLocked.
func mapErr(err error) error {
	if errors.Is(err, securestore.ErrLocked) {
		return ErrLocked
	}
	return err
}

// Connection is the current connection state (Offline while locked).
func (c *Client) Connection() Connection {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s == nil {
		return Connection{Connectivity: Offline, Reason: ErrLocked}
	}
	st := s.State()
	return Connection{Connectivity: st.Connectivity, Reason: st.Reason, Since: st.Since, Attempt: st.Attempt, RetryAt: st.RetryAt}
}

// Changes tells the UI what to redraw. Bursts are coalesced: at most one
// change of each kind (per conversation) every 100 ms. It closes after
// SignOut or WipeDevice.
func (c *Client) Changes() <-chan Change { return c.changes.out }

// runSession runs sess until ctx ends and hands each of its events to
// handle, in order; done closes once both have finished. st is the
// profile's store: open after a PIN, not opened for a session listening
// locked from a cold start (securestore.NotOpened). One loop serves both,
// so an event is handled the same way whichever started the session.
func (c *Client) runSession(ctx context.Context, st *securestore.Store, sess *sync.Session, done chan struct{}, stopped string) {
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		if err := sess.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			c.log.Warn(stopped, "err", err)
		}
	}()
	go func() {
		defer close(done)
		for e := range sess.Events() {
			c.handle(st, e)
		}
		<-runDone
	}()
}
