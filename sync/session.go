package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	gosync "sync"
	"sync/atomic"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Config describes one account's Session.
type Config struct {
	// Store is the account's unlocked store. The Session writes messages,
	// receipts, cursors, contacts and the SCRAM keys into it.
	Store *securestore.Store
	// XMPP says where and as whom to connect (URL, JID, Credentials, TLS,
	// Resource, Limits). Its callbacks are the Session's own and are replaced.
	XMPP xmpp.Config
	// Clock drives backoff and keepalive (default: the system clock).
	Clock Clock
	// Backoff spaces reconnect attempts (default 0.5 s doubling to 60 s).
	Backoff Backoff
	// KeepAlive is how often an idle Session pings the server to find a dead
	// socket (default 60 s); PingTimeout bounds each ping (default 20 s).
	KeepAlive, PingTimeout time.Duration
	// StepTimeout bounds each network step of a sign-in (default 30 s).
	StepTimeout time.Duration
	// ResumeTimeout bounds the wait for the server's answer to a stream
	// resumption (default 5 s; XMPP.ResumeTimeout when set wins). Past it the
	// Session signs in afresh, which loses nothing (catch-up, Outbox,
	// acked.go): a cluster node can sit on the resume of a session that
	// lived on its dead peer (docs/ADMIN.md).
	ResumeTimeout time.Duration
	// PasswordEveryTime: the caller hands the password to every Session (the
	// headless tools read it from a secret file each run). No SCRAM keys are
	// kept in the store, and keys an earlier version kept are removed, so a
	// copy of the store is no way to sign in as the account.
	PasswordEveryTime bool
	// FollowBookmarks: this is one of the user's own devices, whose rooms
	// follow the account's XEP-0402 bookmarks (bookmarks.go): joining and
	// leaving publish them, sign-in and notifications join and leave what
	// other devices did. Off for the headless tools (a run that joins a
	// room to send one message must not make every device leave it) and
	// service accounts.
	FollowBookmarks bool
	// CatchUpPage is the MAM page size (default 250, Prosody's cap).
	CatchUpPage int
	// PubSubService is the JID of the pubsub service holding the org policy
	// and on-call nodes (default "pubsub." + the account's domain). Event
	// notifications are accepted from this JID only.
	PubSubService string
	// TextAck says whether a plain-text reply can acknowledge a page, and
	// with which words (textack.go); the zero value counts DefaultAckWords.
	// SetTextAck changes it while running.
	TextAck TextAckRules
	Logger  *slog.Logger
}

// Session keeps one account's store in step with its server. Create it with
// New, run it with Run, talk to it with Send, MarkDisplayed, JoinRoom.
type Session struct {
	cfg     Config
	store   *securestore.Store
	log     *slog.Logger
	clock   Clock
	rnd     *rand.Rand
	events  *eventQueue
	account string // bare JID
	lost    chan error

	mu     gosync.Mutex
	state  ConnState
	client *xmpp.Client
	// gen counts fresh XMPP sessions; inflight records in which one each
	// outgoing message (by origin-id) was handed to the wire, so a flush after
	// sign-in and a concurrent Send never put the same message twice on one
	// stream. An entry stays after the server's ack (acked), so a flush whose
	// Outbox read still lists the message (its sent mark is written later,
	// securestore.MarkSentSoon) skips it; ackedKeys bounds those per stream.
	gen       int
	inflight  map[string]inflight
	ackedKeys []string
	rooms     map[string]*room
	// ready is true while the session is fully set up (rooms joined, caught
	// up). Only then does Send put messages straight on the wire; before, they
	// wait in the Outbox for the flush at the end of setup, so a room message
	// never reaches a room we have not rejoined yet.
	ready bool
	// lastOnline is the last time this device knew itself online (trust.go:
	// the floor under a server's <delay/>); lastOnlineSaved when the store
	// last recorded it.
	lastOnline, lastOnlineSaved time.Time
	// show and status are the presence the user chose; every fresh sign-in
	// announces them again.
	show, status string
	active       bool
	uploads      uploadCache                        // attachments.go
	names        names                              // incoming.go: one copy of each conversation id and sender
	textAck      atomic.Pointer[textAck]            // textack.go
	escService   atomic.Pointer[string]             // escalation.go
	textAckMu    gosync.Mutex                       // one reply matched at a time (live and catch-up); guards pages
	pages        map[string][]securestore.MessageID // textack.go: pages per conversation
	repliesSent  inOrder                            // outbox.go: ownReplySent after a sent mark is written
	// pageCommitted, when a test sets it, runs after each archive page (and
	// the edits it recorded) committed and before those edits are applied:
	// the crash point tests kill the process at.
	pageCommitted func(edits int)
	// applyEditFault, when a test sets it (before Run), stands for the
	// store's answer to applying a recorded edit: a non-nil error is handled
	// as ApplyReceivedEdit's would be, and the store is not asked.
	applyEditFault func(securestore.ReceivedEdit) error
	// unreadableCommitted, when a test sets it (before Run), runs right
	// after a live unreadable message's placeholder committed: a crash point.
	unreadableCommitted func()
	// beforeSM and afterSM, when a test sets them (before Run), run right
	// before and right after setup enables stream management: the cut
	// points of the window in which live traffic is not resumable.
	beforeSM, afterSM func()
	// flushListed, when a test sets it (before Run), runs in the Outbox
	// flush between its read of the Outbox and its sends.
	flushListed func(c *xmpp.Client, pending []securestore.Message)
	// lk is the locked-but-listening state (locked.go).
	lk lockedListen
	// archive: one read of the own archive at a time (archivetail.go).
	archive archiveReading
	// profilesMu: one merge of read cards into the store at a time
	// (profiles.go).
	profilesMu gosync.Mutex
	// avatars: the picture each person last announced (avatars.go).
	avatars avatarWanted
	// roomRecordsMu: one change at a time to the kept invitations
	// (invites.go) and the rooms seen bookmarked (bookmarks.go).
	roomRecordsMu gosync.Mutex
	// acked: what the server acknowledged lately, checked against our
	// archive after a fresh sign-in (acked.go).
	acked ackedWatch
}

type inflight struct {
	id  securestore.MessageID
	gen int
	// edit is the origin-id of a retraction or correction of message id;
	// keep says the message stays on the Outbox after its ack (an edit of it
	// is still pending).
	edit string
	keep bool
	// acked: the server acknowledged it on stream gen; not sent again on it.
	acked bool
}

// New prepares a Session; nothing happens on the network until Run.
func New(cfg Config) (*Session, error) {
	if cfg.Store == nil {
		return nil, errors.New("sync: Config.Store is required")
	}
	acct, err := xmpp.ParseJID(cfg.XMPP.JID)
	if err != nil || acct.Local == "" {
		return nil, fmt.Errorf("sync: account %q: want user@domain", cfg.XMPP.JID)
	}
	for _, u := range append([]string{cfg.XMPP.URL}, cfg.XMPP.Alternates...) {
		if _, err := xmpp.CheckURL(u); err != nil {
			return nil, err
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 60 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 20 * time.Second
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = 30 * time.Second
	}
	if cfg.CatchUpPage <= 0 {
		cfg.CatchUpPage = 250
	}
	if cfg.ResumeTimeout <= 0 {
		cfg.ResumeTimeout = 5 * time.Second
	}
	if cfg.XMPP.ResumeTimeout <= 0 {
		cfg.XMPP.ResumeTimeout = cfg.ResumeTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PubSubService == "" {
		cfg.PubSubService = "pubsub." + acct.Domain
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	s := &Session{
		cfg: cfg, store: cfg.Store, clock: cfg.Clock,
		log:      cfg.Logger.With("account", acct.Bare().String()),
		rnd:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		events:   newEventQueue(),
		account:  acct.Bare().String(),
		lost:     make(chan error, 1),
		inflight: map[string]inflight{},
		rooms:    map[string]*room{},
		state:    ConnState{Connectivity: Offline, Since: cfg.Clock.Now()},
		active:   true,
	}
	s.textAck.Store(cfg.TextAck.compile())
	s.lastOnline = s.loadLastOnline()
	s.lastOnlineSaved = s.lastOnline
	return s, nil
}

// Events delivers what happened, in order. It is closed when Run returns.
func (s *Session) Events() <-chan Event { return s.events.out }

// State is the current connection state.
func (s *Session) State() ConnState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Account is the bare JID this Session signs in as.
func (s *Session) Account() string { return s.account }

func (s *Session) setState(c Connectivity, reason error, attempt int, retryAt time.Time) {
	s.mu.Lock()
	st := ConnState{Connectivity: c, Reason: reason, Since: s.clock.Now(), Attempt: attempt, RetryAt: retryAt}
	changed := s.state.Connectivity != c || s.state.Attempt != attempt
	s.state = st
	s.mu.Unlock()
	if changed {
		s.emit(ConnectionChanged{State: st})
	}
}

func (s *Session) emit(e Event) { s.events.push(e) }

func (s *Session) setReady(r bool) {
	s.mu.Lock()
	s.ready = r
	s.mu.Unlock()
	if r {
		s.noteOnline(true)
	}
}

// readyClient is the client if the session is fully set up, else nil.
func (s *Session) readyClient() *xmpp.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		return nil
	}
	return s.client
}

// Run connects and keeps the Session connected until ctx ends or the server
// refuses the credentials (then it returns an error matching
// xmpp.ErrNotAuthorized and the state is AuthFailed). Everything else is
// retried: a lost socket is resumed (XEP-0198) or signed in again with backoff.
func (s *Session) Run(ctx context.Context) error {
	defer s.events.close()
	// Last before the events end (after the client closed): the server's
	// acks still waiting to be written (MarkSentSoon) are written, and what
	// follows them done, before the caller closes the store. Lock did it
	// already for a locked Session, which no longer uses the store.
	defer func() {
		if !s.Locked() {
			if err := s.store.FlushSent(); err != nil {
				s.log.Warn("sync: marking sent", "err", err)
			}
		}
		s.repliesSent.wait()
	}()
	var c *xmpp.Client
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	// The tail reads (archivetail.go) end with ctx; Run waits for them.
	ctx, stop := context.WithCancel(ctx)
	defer s.archive.wg.Wait()
	defer stop()
	needSetup := true
	attempt := 0
	// replacements counts the sessions in a row that ended replaced by
	// another sign-in with our resource (<conflict/>); see replaced.
	replacements := 0
	for {
		if err := ctx.Err(); err != nil {
			s.setState(Offline, err, 0, time.Time{})
			return err
		}
		s.setReady(false)
		s.setState(Connecting, nil, attempt, time.Time{})
		var err error
		if c == nil {
			c, err = s.connect(ctx)
			needSetup = true
		} else {
			err = s.resume(ctx, c)
			var rf *xmpp.ResumeFailedError
			if errors.As(err, &rf) {
				// The old session is gone; the client signed in afresh on the
				// new socket. What was unacknowledged is still in the outbox.
				s.log.Info("sync: resumption refused; signing in afresh", "reason", rf.Condition)
				needSetup, err = true, nil
			}
		}
		if err == nil && needSetup {
			if err = s.setup(ctx, c); err == nil {
				needSetup = false
			} else {
				c.Drop()
			}
		}
		if err == nil {
			// Ready first, flush second: a Send that saw "not ready" had
			// already stored its message, so this flush finds it; one that saw
			// "ready" sent it itself, and the flush skips it. After a
			// resumption the server replayed what it had not acknowledged; the
			// flush adds what was queued while the socket was down.
			s.setReady(true)
			err = s.flushOutbox(c)
		}
		if err == nil {
			attempt = 0
			s.setState(Online, nil, 0, time.Time{})
			err = s.online(ctx, c)
			if ctx.Err() != nil {
				continue
			}
			s.noteCut() // acked.go
			if !replaced(err) {
				replacements = 0
				s.setState(Offline, err, 0, time.Time{})
				continue // resume at once; back off only if that fails
			}
			// Another sign-in with our resource took the session over.
			// Signing in again at once would replace it in turn, and if it
			// does the same, the two replace each other without end, each
			// time a full sign-in and catch-up for the server.
			replacements++
			delay := s.cfg.Backoff.Delay(replacements, s.rnd)
			s.log.Warn("sync: replaced by another sign-in with this device's resource; waiting", "times", replacements, "retry_in", delay)
			s.setState(Offline, err, replacements, s.clock.Now().Add(delay))
			select {
			case <-s.clock.After(delay):
			case <-ctx.Done():
			}
			continue
		}
		if errors.Is(err, xmpp.ErrNotAuthorized) {
			s.setState(AuthFailed, err, attempt+1, time.Time{})
			s.log.Warn("sync: credentials refused; not retrying")
			return err
		}
		if ctx.Err() != nil {
			continue
		}
		attempt++
		delay := s.cfg.Backoff.Delay(attempt, s.rnd)
		s.log.Info("sync: offline", "err", err, "attempt", attempt, "retry_in", delay)
		s.setState(Offline, err, attempt, s.clock.Now().Add(delay))
		select {
		case <-s.clock.After(delay):
		case <-ctx.Done():
		}
	}
}

// replaced says the server ended the session because another sign-in bound
// the same resource (RFC 6120 §4.9.3.3 <conflict/>): a copy of this
// device's profile elsewhere, or this device's own resumption that the
// client had given up on and the server completed later (its answer can
// take longer than ResumeTimeout), which then replaced the fresh session.
// Proved by TestResourceConflictBacksOff.
func replaced(err error) bool {
	var se *xmpp.StreamError
	return errors.As(err, &se) && !se.Local && se.Condition == "conflict"
}

// connect creates the client and signs in (a fresh session).
func (s *Session) connect(ctx context.Context) (*xmpp.Client, error) {
	cfg := s.cfg.XMPP
	if cfg.Logger == nil {
		cfg.Logger = s.cfg.Logger
	}
	if ls := s.lk.state.Load(); ls != nil {
		cfg.Credentials = ls.creds
	} else {
		cfg.Credentials = s.credentials(cfg.Credentials)
	}
	// The archives are read before stream management is on (setup enables
	// it after the catch-up): see enableStreamManagement.
	cfg.LateStreamManagement = true
	cfg.OnMessage = s.onWireMessage
	cfg.OnPresence = s.onPresence
	cfg.OnRosterPush = s.onRosterPush
	cfg.OnAcked = s.onAcked
	cfg.OnDisplayedSync = s.onDisplayedSync
	cfg.OnDND = s.onDND
	cfg.OnVCard = s.onVCard
	cfg.OnAvatar = s.onAvatar
	if s.cfg.FollowBookmarks {
		cfg.OnBookmarks = s.onBookmarks // bookmarks.go
	}
	cfg.OnDisconnect = func(err error) {
		select {
		case s.lost <- err:
		default:
		}
	}
	c, err := xmpp.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
	defer cancel()
	if err := c.Connect(sctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	s.mu.Lock()
	s.client = c
	s.mu.Unlock()
	return c, nil
}

func (s *Session) resume(ctx context.Context, c *xmpp.Client) error {
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
	defer cancel()
	return c.Resume(sctx)
}

// setup runs after every fresh sign-in (not after a resumption, which loses
// nothing): keep the SCRAM keys instead of the password, carbons, roster,
// presence, rooms, catch-up from the archives. The outbox is flushed after it.
func (s *Session) setup(ctx context.Context, c *xmpp.Client) error {
	s.mu.Lock()
	s.gen++
	gen := s.gen
	for _, k := range s.ackedKeys {
		if f, ok := s.inflight[k]; ok && f.acked {
			delete(s.inflight, k) // acknowledged on an older stream
		}
	}
	s.ackedKeys = nil
	s.mu.Unlock()
	locked := s.Locked()
	if !locked {
		s.keepCredentials(c)
	}
	step := func(name string, f func(context.Context) error) error {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		defer cancel()
		if err := f(sctx); err != nil {
			return fmt.Errorf("sync: %s: %w", name, err)
		}
		return nil
	}
	if err := step("carbons", c.EnableCarbons); err != nil {
		// A server without carbons still works: this device just will not see
		// what the user's other devices send.
		s.log.Warn("sync: carbons unavailable", "err", err)
	}
	if locked {
		// Locked, nothing is read from the archives, and what arrives live
		// may ring an alert: managed from the start, as before presence
		// nothing is routed to us.
		if err := s.enableStreamManagement(ctx, c); err != nil {
			return err
		}
		return s.setupLocked(ctx, c)
	}
	if err := step("roster", func(ctx context.Context) error { return s.syncRoster(ctx, c) }); err != nil {
		return err
	}
	s.mu.Lock()
	show, status, active := s.show, s.status, s.active
	s.mu.Unlock()
	if err := c.SetPresence(show, status); err != nil {
		return err
	}
	if !active {
		_ = c.SetActive(false)
	}
	if s.cfg.FollowBookmarks {
		if err := step("bookmarks", func(ctx context.Context) error { return s.syncBookmarks(ctx, c) }); err != nil {
			return err
		}
	}
	if err := s.rejoinRooms(ctx, c); err != nil {
		return err
	}
	lookBackFrom := s.lookBackFloor() // archivetail.go
	if err := s.catchUp(ctx, c); err != nil {
		return err
	}
	if err := s.enableStreamManagement(ctx, c); err != nil {
		return err
	}
	s.archive.wg.Add(1)
	go s.followArchiveTail(ctx, c, gen, lookBackFrom)
	go s.followNodes(ctx, c)
	go s.followDND(ctx, c) // autoreply.go
	go s.followProfiles(ctx, c)
	return nil
}

// enableStreamManagement turns XEP-0198 on at the end of setup, once the
// archives are read. A server keeps a copy of every stanza it sends on a
// managed stream until we acknowledge it: with stream management on during
// catch-up, Prosody's smacks copied each of thousands of MAM results into its
// resend queue, costing the (single-threaded) server a third more time than
// the read itself (docs/BENCHMARKS.md).
//
// Why nothing is lost in the window this opens (sign-in until <enabled/>):
// what arrives live in it is stored by the read loop as it arrives, and a
// cut in it cannot be resumed, so Run signs in afresh and runs setup again,
// whose catch-up reads on from the cursor of the last committed page. Every
// message the server routed to us in the window is in our archive after that
// cursor (the cursor only moves with pages read from the archive, never with
// live traffic), so it is read again; what was stored live dedupes. The
// archive may show it only later than the new catch-up reads (ejabberd
// archives in the old session's process, which may still be busy): the tail
// reads after setup fetch it then (archivetail.go). From <enabled/> on, the
// stream resumes as before. Presence, carbons, rooms and the roster are set
// up afresh by the new session. Proved by TestCutDuringCatchUpLosesNothing,
// TestCutBeforeStreamManagement, TestCutAfterStreamManagement
// (faults_test.go) and TestStalledOldSessionArchivesLate (archivetail_test.go).
func (s *Session) enableStreamManagement(ctx context.Context, c *xmpp.Client) error {
	if s.beforeSM != nil {
		s.beforeSM()
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
	defer cancel()
	if err := c.EnableStreamManagement(sctx); err != nil {
		return fmt.Errorf("sync: stream management: %w", err)
	}
	if s.afterSM != nil {
		s.afterSM()
	}
	return nil
}

// keepCredentials stores the SCRAM keys from this sign-in so the password need
// not be kept (docs/ARCHITECTURE.md, "Security model").
func (s *Session) keepCredentials(c *xmpp.Client) {
	k := c.SCRAMKeys()
	if k == nil {
		return
	}
	a, err := s.store.Account()
	if err != nil && !errors.Is(err, securestore.ErrNotFound) {
		s.log.Warn("sync: reading account", "err", err)
		return
	}
	if a.JID == "" {
		a.JID = s.account
	}
	if s.cfg.PasswordEveryTime {
		if len(a.Credentials.ClientKey) > 0 || a.Credentials.PlainPassword != "" || errors.Is(err, securestore.ErrNotFound) {
			a.Credentials = securestore.Credentials{}
			if err := s.store.SetAccount(a); err != nil {
				s.log.Warn("sync: removing kept credentials", "err", err)
			}
		}
		return
	}
	a.Credentials = securestore.Credentials{
		Mechanism: c.Mechanism(), Salt: k.Salt, Iterations: k.Iterations,
		ClientKey: k.ClientKey, ServerKey: k.ServerKey,
	}
	if err := s.store.SetAccount(a); err != nil {
		s.log.Warn("sync: storing credentials", "err", err)
	}
}

// credentials adds the SCRAM keys kept in the store to what the app passed,
// so a device that dropped the password still signs in. A password passed
// now wins over keys kept from an earlier one: a headless run handed a
// changed (or wrong) secret file must sign in with it or be refused, never
// slip in on keys the state folder still holds (issue 19).
func (s *Session) credentials(given xmpp.Credentials) xmpp.Credentials {
	if given.Password != "" {
		return given
	}
	a, err := s.store.Account()
	if err != nil {
		return given
	}
	if k, ok := scramKeys(a.Credentials); ok {
		given.Keys = append(given.Keys, k)
	}
	return given
}

// online waits while connected, pinging when idle so a socket whose network
// vanished is found within KeepAlive+PingTimeout rather than never.
func (s *Session) online(ctx context.Context, c *xmpp.Client) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.lost:
			if c.Connected() {
				continue // a stale report from an earlier socket
			}
			if err == nil {
				err = xmpp.ErrDisconnected
			}
			return err
		case <-s.clock.After(s.cfg.KeepAlive):
			pctx, cancel := context.WithTimeout(ctx, s.cfg.PingTimeout)
			err := c.Ping(pctx)
			cancel()
			if err == nil {
				s.noteOnline(false)
			}
			if err != nil && ctx.Err() == nil {
				s.log.Info("sync: keepalive failed; dropping socket", "err", err)
				c.Drop()
			}
		}
	}
}

// Stop is Run's context being cancelled; Close here ends the stream cleanly so
// the server does not keep a resumable session around.
func (s *Session) currentClient() *xmpp.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}
