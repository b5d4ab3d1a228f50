package app

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// The headless sender (rounds send, rounds admin; docs/CLI.md) is a Client
// too: one command-line run signs in with a password it is handed, keeps a
// small store of its own (a slot, headlessstore.go), sends one thing, waits
// for how far it got and ends. It goes through the same rules as the screens
// (orders, roles, text acknowledgement, what counts as declined), but shows
// nothing and keeps nothing running after it ends: no notifications, alerts,
// escalation ladders, auto-lock or retention timer. The policy and on-call
// nodes it needs are read from the server when a command needs them, so a
// run acts on what is published now, not on what its slot saw last time.

// HeadlessConfig is what a command-line run gives the headless Client.
type HeadlessConfig struct {
	// Dir is the account's state directory (mode 700; docs/CLI.md says
	// where): it holds the slots.
	Dir string
	// Account is the bare JID to sign in as; Password is held in memory for
	// this run only and never stored.
	Account, Password string
	// URL is the checked wss:// endpoint.
	URL       string
	TLSConfig *tls.Config
	Logger    *slog.Logger
	// HTTPClient, when set, dials the WebSocket and carries uploads (a
	// proxy; the ward Wi-Fi tests' shaped link), as Config.HTTPClient does.
	HTTPClient *http.Client
}

// headlessRun is what a headless Client has besides a UI Client's state.
type headlessRun struct {
	watch  *watcher
	runErr chan error // the Session's Run result, once
}

// OpenHeadless opens a free slot's store (creating it on first use; waiting
// for one until ctx ends when all are busy), marks what an earlier run left
// unsent as failed, crypto-shreds what is older than the slot's retention and
// starts the Session. WaitOnline then waits until it can send; Close ends the
// run.
func OpenHeadless(ctx context.Context, hc HeadlessConfig) (*Client, error) {
	log := hc.Logger
	if log == nil {
		log = slog.Default()
	}
	st, slot, err := OpenHeadlessStore(ctx, hc.Dir, log)
	if err != nil {
		return nil, err
	}
	abandonOutbox(st, log)
	// The bot's record of what it sent is kept for headlessRetention and then
	// crypto-shredded, so a state dir used for years stays small.
	if _, err := st.Purge(time.Now().Add(-headlessRetention)); err != nil {
		log.Warn("cli: state retention", "err", err)
	}
	s, err := sync.New(sync.Config{
		Store: st,
		XMPP: sync.Server{URL: hc.URL, JID: hc.Account, Resource: "rounds-cli-" + strconv.Itoa(slot),
			Password: hc.Password, TLSConfig: hc.TLSConfig, HTTPClient: hc.HTTPClient}.XMPP(),
		Backoff: sync.Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second},
		Logger:  log,
		// The secret file is read every run: the slot keeps no keys that
		// would sign in without it (docs/ADMIN.md, "The bot's state folder").
		PasswordEveryTime: true,
	})
	if err != nil {
		st.Close()
		return nil, &HeadlessConfigError{Err: err}
	}
	// Quiet platform services: no notifier or sound (the defaults), and no
	// OS keyring: a slot is locked by the key beside it.
	c := newClient(Config{DataDir: hc.Dir, Logger: log, Secrets: NoKeySecrets{}}.withDefaults(), "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	h := &headlessRun{runErr: make(chan error, 1)}
	c.mu.Lock()
	c.account = hc.Account
	c.store, c.session, c.stop, c.done = st, s, cancel, done
	c.headless = h
	c.mu.Unlock()
	h.watch = newWatcher(s)
	go func() {
		defer close(done)
		h.runErr <- s.Run(ctx)
	}()
	return c, nil
}

// HeadlessConfigError: the Session refused its configuration (a bad URL or
// account); the caller's input is at fault.
type HeadlessConfigError struct{ Err error }

func (e *HeadlessConfigError) Error() string { return e.Err.Error() }
func (e *HeadlessConfigError) Unwrap() error { return e.Err }

// NotOnlineError says why a headless run could not get online: the Session
// ended (Ended), or ctx ran out first with the last connection error as
// Reason; BadCertificate when that was the server's certificate.
type NotOnlineError struct {
	Ended          error
	Reason         string
	BadCertificate bool
}

func (e *NotOnlineError) Error() string {
	if e.Ended != nil {
		return "session ended: " + e.Ended.Error()
	}
	return "not online: " + e.Reason
}

// WaitOnline waits for the headless Session to be ready (caught up, rooms
// rejoined, ready to send), or for it to give up: ErrWrongPassword when the
// server refused the credentials, a *NotOnlineError otherwise.
func (c *Client) WaitOnline(ctx context.Context) error {
	_, s, err := c.sess()
	if err != nil {
		return err
	}
	h := c.headless
	for {
		st := s.State()
		switch st.Connectivity {
		case sync.Online:
			return nil
		case sync.AuthFailed:
			return ErrWrongPassword
		}
		select {
		case err := <-h.runErr:
			h.runErr <- err // for Close
			if errors.Is(err, sync.ErrNotAuthorized) {
				return ErrWrongPassword
			}
			return &NotOnlineError{Ended: err}
		case <-h.watch.changed():
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			reason := "no answer"
			if st.Reason != nil {
				reason = st.Reason.Error()
			}
			bad := strings.Contains(reason, "x509:") || strings.Contains(reason, "tls: failed to verify certificate")
			return &NotOnlineError{Reason: reason, BadCertificate: bad}
		}
	}
}

// Close ends a headless run: the stream is closed (so the server keeps no
// resumable session) and the slot's store closed, freeing the slot.
func (c *Client) Close() {
	c.mu.Lock()
	st, stop, done, h, already := c.store, c.stop, c.done, c.headless, c.ended
	c.store, c.session, c.stop, c.done = nil, nil, nil, nil
	c.ended = true
	c.mu.Unlock()
	if !already {
		c.changes.close()
	}
	if st == nil || h == nil {
		return
	}
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.log.Warn("cli: session did not stop in time")
	}
	h.watch.stop()
	_ = st.Close()
}

// watcher keeps every event of a Session, so a command can wait for one that
// may already have happened.
type watcher struct {
	mu     gosync.Mutex
	events []sync.Event
	notify chan struct{}
	done   chan struct{}
}

func newWatcher(s *sync.Session) *watcher {
	w := &watcher{notify: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for e := range s.Events() {
			w.mu.Lock()
			w.events = append(w.events, e)
			w.mu.Unlock()
			select {
			case w.notify <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

func (w *watcher) changed() <-chan struct{} { return w.notify }

// since returns the events from index i on, and the next index.
func (w *watcher) since(i int) ([]sync.Event, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i > len(w.events) {
		i = len(w.events)
	}
	return append([]sync.Event(nil), w.events[i:]...), len(w.events)
}

func (w *watcher) stop() {
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
	}
}

var errNotHeadless = errors.New("app: not a headless run")

// headlessSess is the store and Session of a headless run.
func (c *Client) headlessSess() (*securestore.Store, *sync.Session, *headlessRun, error) {
	st, s, err := c.sess()
	if err != nil {
		return nil, nil, nil, err
	}
	if c.headless == nil {
		return nil, nil, nil, errNotHeadless
	}
	return st, s, c.headless, nil
}

// isHeadless reports whether this is a command-line run (do not disturb
// never answers for the account of one: dndHost).
func (c *Client) isHeadless() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.headless != nil
}
