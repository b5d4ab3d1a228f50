package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// Listening from a cold start (docs/STORE.md, "Listening from a cold
// start"; docs/ADMIN.md, <cold-start/>). A locked Client listens (locked.go)
// with what it holds in memory: the SCRAM keys, the store's public receive
// key, the rooms. A restart loses those, and without them a nurse-station
// desktop that rebooted overnight, or Rounds restarted by an update, would
// hear nothing until someone types a PIN. So each unlock and each lock
// keeps them in a listen ticket, sealed by securestore under a key filed in
// the OS keyring, and ListenLocked starts a locked, listening Client from
// it at the next start. The ticket never holds the password or any key of
// the store: with it one can sign in as the user (as the SCRAM keys in
// memory of a locked Client can), never read a message.
//
// The policy decides (Policy.DeafAfterRestart, <cold-start listen/>); on
// by default, because a STAT that rings nowhere is the harm a hospital
// fears here, and the keys it keeps are the ones a locked session already
// holds. Where the OS keyring is missing (phones, a desktop without a
// Secret Service) there is no ticket and the lock screen says so
// (ColdStartNote).

// listenTicket is what a locked Session needs after a restart. JSON inside
// the sealed ticket.
type listenTicket struct {
	V          int         `json:"v"`
	Account    string      `json:"account"`
	URL        string      `json:"url"`
	Resource   string      `json:"resource"`
	Mechanism  string      `json:"mechanism"`
	Salt       []byte      `json:"salt"`
	Iterations int         `json:"iterations"`
	ClientKey  []byte      `json:"client_key"`
	ServerKey  []byte      `json:"server_key"`
	ReceiveKey []byte      `json:"receive_key"` // the public half: not secret
	Rooms      []sync.Room `json:"rooms,omitempty"`
	Org        *OrgPolicy  `json:"org,omitempty"`
	Created    time.Time   `json:"created"` // the store's set-up time (decideWipe)
	// What do not disturb needs to answer and forward while locked, as
	// the lock keeps it in memory (docs/STORE.md "Locked inbox"): the
	// state, the conversations answered in the period, the cover
	// resolved and named; the on-call schedule (a role covers); our
	// presence.
	DND          *sync.DND `json:"dnd,omitempty"`
	Replied      []string  `json:"replied,omitempty"`
	Cover        string    `json:"cover,omitempty"`
	CoverName    string    `json:"cover_name,omitempty"`
	Shifts       []Shift   `json:"shifts,omitempty"`
	Show, Status string    `json:",omitempty"`
}

const listenTicketVersion = 1

// ErrNotListening: a locked start found nothing to listen with (no ticket,
// no keyring, policy off, keys refused); messages arrive after the unlock.
var ErrNotListening = errors.New("messages will arrive only after unlock")

// keepListenTicket files (or, where it must not be kept, removes) the
// listen ticket of the open store st, whose Session is sess. Called at the
// end of start (a restart of an unlocked Rounds) and at each lock (the
// rooms now).
func (c *Client) keepListenTicket(st *securestore.Store, sess *sync.Session) {
	c.mu.Lock()
	pol := c.policyLocked()
	org := c.org
	headless := c.headless != nil
	c.mu.Unlock()
	if headless {
		return // a command-line run keeps no keys (PasswordEveryTime)
	}
	if pol.DeafAfterRestart {
		c.dropListenTicket()
		return
	}
	acct, err := st.Account()
	if err != nil {
		return
	}
	k := acct.Credentials
	if len(k.ClientKey) == 0 || len(k.ServerKey) == 0 {
		// Only SCRAM keys are kept, never a password (a PLAIN account).
		c.dropListenTicket()
		return
	}
	pub, err := st.ReceiveKey()
	if err != nil {
		c.log.Warn("app: listen ticket not kept", "err", err)
		return
	}
	c.mu.Lock()
	shifts := c.shifts
	show, status := c.show, c.status
	c.mu.Unlock()
	dnd, replied, cover, coverName := c.dnd.forTicket(st)
	t := listenTicket{V: listenTicketVersion, DND: dnd, Replied: replied, Cover: cover, CoverName: coverName,
		Shifts: shifts, Show: show, Status: status, Account: acct.JID, URL: acct.WebSocketURL, Resource: acct.Resource,
		Mechanism: k.Mechanism, Salt: k.Salt, Iterations: k.Iterations, ClientKey: k.ClientKey, ServerKey: k.ServerKey,
		ReceiveKey: pub, Rooms: sess.Rooms(), Org: org, Created: storeCreated(st)}
	b, err := json.Marshal(t)
	if err != nil {
		return
	}
	// The keyring is another process (the Secret Service over D-Bus,
	// which may be slow or ask the user to unlock it): never on the
	// unlock's or the lock's way.
	c.tickets.do(func() {
		err := securestore.SealListenTicket(c.path, c.cfg.Secrets, b)
		clear(b)
		if err != nil {
			// No keyring (a phone, a desktop without a Secret Service):
			// after a restart this device hears nothing until the
			// unlock, and its lock screen says so.
			c.log.Info("app: no listening after a restart on this device", "err", err)
			_ = securestore.RemoveListenTicket(c.path, c.cfg.Secrets)
		}
	})
}

// dropListenTicket removes the listen ticket: its file at once (without
// it the keyring item opens nothing), the keyring item it named after any
// job still running, with any ticket such a job filed meanwhile.
func (c *Client) dropListenTicket() {
	deleteItem, err := securestore.DetachListenTicket(c.path)
	if err != nil {
		c.log.Warn("app: listen ticket not removed", "err", err)
	}
	// The detached item goes even when a later job overtakes this one.
	c.tickets.always(func() {
		if err := deleteItem(c.cfg.Secrets); err != nil {
			c.log.Warn("app: listen ticket's keyring item not removed", "err", err)
		}
	})
	c.tickets.do(func() {
		if err := securestore.RemoveListenTicket(c.path, c.cfg.Secrets); err != nil {
			c.log.Warn("app: listen ticket not removed", "err", err)
		}
	})
}

// listenKeeper runs the listen ticket's jobs one at a time, in the order
// they were asked for, each off the caller's path; a job overtaken by a
// later one before it started is skipped (the later one says what
// should be on disk).
type listenKeeper struct {
	mu    gosync.Mutex // guards asked
	asked uint64
	run   gosync.Mutex // held by the job running; guards ran
	ran   uint64
	wg    gosync.WaitGroup
}

func (k *listenKeeper) do(job func()) { k.queue(job, true) }

// always runs job in turn even when a later job overtakes it.
func (k *listenKeeper) always(job func()) { k.queue(job, false) }

func (k *listenKeeper) queue(job func(), skippable bool) {
	k.mu.Lock()
	k.asked++
	my := k.asked
	k.mu.Unlock()
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		k.run.Lock()
		defer k.run.Unlock()
		if skippable && my < k.ran {
			return
		}
		k.ran = max(k.ran, my)
		job()
	}()
}

// wait returns when no job is left (tests).
func (k *listenKeeper) wait() { k.wg.Wait() }

// ListenLocked starts profile id's Client locked and listening, from the
// listen ticket its last lock or unlock kept: no PIN, the store stays
// closed, what arrives is sealed into the locked inbox and urgent messages
// ring without sender or text, exactly as after Lock. Unlock with the PIN
// then opens the store and merges. It returns ErrNotListening (wrapping
// the cause) when it cannot listen: the lock screen then shows
// ColdStartNote and the profile opens with UnlockProfile as before. It
// does not wait for the server: a refusal of the keys shows in LockedNote.
func ListenLocked(cfg Config, id string) (*Client, error) {
	cfg = cfg.withDefaults()
	if !validProfileID(id) {
		return nil, fmt.Errorf("%w: no such profile", ErrNotListening)
	}
	if cfg.Policy.DeafAfterRestart {
		return nil, fmt.Errorf("%w: off by policy", ErrNotListening)
	}
	path := ProfileStorePath(cfg.DataDir, id)
	raw, err := openTicketWithin(path, cfg.Secrets, keyringWait)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotListening, err)
	}
	var t listenTicket
	err = json.Unmarshal(raw, &t)
	clear(raw)
	if err == nil && (t.V != listenTicketVersion || t.Account == "" || len(t.ClientKey) == 0 || len(t.ReceiveKey) != 32) {
		err = errors.New("listen ticket incomplete")
	}
	if err == nil && profileID(t.Account) != id {
		// Another profile's ticket in this one's place (each ticket
		// opens with its own keyring item wherever its file lies): it
		// would listen as that person under this profile, sealing their
		// messages into this inbox and asking their PIN for this store.
		err = errors.New("listen ticket of another profile")
	}
	if err == nil && t.Org != nil && mergePolicy(cfg.Policy, t.Org).DeafAfterRestart {
		err = errors.New("off by the hospital's policy")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotListening, err)
	}
	defer func() { clear(t.ClientKey); clear(t.ServerKey) }()
	q, err := securestore.OpenInbox(path, t.ReceiveKey, cfg.storeOptions())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotListening, err)
	}
	st := securestore.NotOpened(path, cfg.storeOptions())
	c := newClient(cfg, path)
	// Do not disturb answers and forwards as on a locked Client (dnd.go,
	// locked): the state, answered conversations and cover from the ticket.
	var sess *sync.Session
	answer := func(m securestore.Message, room bool) { c.dnd.locked(sess, t.Account)(m, room) }
	sess, err = sync.StartLocked(sync.Config{
		Store: st,
		XMPP: sync.Server{URL: t.URL, JID: t.Account, Resource: t.Resource,
			TLSConfig: cfg.TLSConfig, HTTPClient: cfg.HTTPClient}.XMPP(),
		Logger: cfg.Logger, PubSubService: cfg.PubSubService,
	}, q, securestore.Credentials{Mechanism: t.Mechanism, Salt: t.Salt, Iterations: t.Iterations,
		ClientKey: clone(t.ClientKey), ServerKey: clone(t.ServerKey)}, t.Rooms, answer)
	if err != nil {
		q.Close()
		c.changes.close()
		return nil, fmt.Errorf("%w: %w", ErrNotListening, err)
	}
	// Our presence as the lock left it announced: do not disturb's while
	// it is on (dnd.go presence), else the user's own.
	show, status := t.Show, t.Status
	if t.DND != nil {
		show, status = c.dnd.presence(*t.DND, cfg.Clock.Now(), show, status)
	}
	if show != "" || status != "" {
		_ = sess.SetPresence(show, status)
	}
	if t.DND != nil {
		c.dnd.fromTicket(*t.DND, t.Replied, t.Cover, t.CoverName)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.mu.Lock()
	c.account = t.Account
	c.org = t.Org
	c.shifts = t.Shifts
	c.show, c.status = t.Show, t.Status
	c.listen = &listener{session: sess, inbox: q, stop: cancel, done: done, created: t.Created}
	c.mu.Unlock()
	c.runSession(ctx, st, sess, done, "app: listening from a cold start stopped")
	c.log.Info("app: started locked; listening")
	c.changes.push(Change{Kind: Locked})
	return c, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// keyringWait is how long a start waits for the keyring (another process:
// the Secret Service over D-Bus may hang, or wait for the user to unlock
// it). Past it the start shows the lock screen deaf, saying so, rather than
// no screen at all.
var keyringWait = 5 * time.Second

// errKeyringSlow: the keyring did not answer within keyringWait.
var errKeyringSlow = errors.New("the keyring did not answer in time")

// openTicketWithin is securestore.OpenListenTicket, given up after d (the
// read goes on in the background and its result is dropped).
func openTicketWithin(path string, secrets securestore.KeySecrets, d time.Duration) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := securestore.OpenListenTicket(path, secrets)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(d):
		go func() { clear((<-ch).b) }()
		return nil, errKeyringSlow
	}
}

// Words for the lock screen when Rounds is locked and does not hear
// anything (docs/STORE.md): said plainly, so nobody trusts a deaf screen.
const (
	noteDeaf        = "Messages will arrive only after you unlock."
	noteKeysRefused = "The server did not accept this device's saved sign-in (was the password changed?). Messages will arrive only after you unlock."
	noteOffline     = "Not connected to the server: STAT messages cannot ring here until the connection is back."
)

// ColdStartNote is what the lock screen says when ListenLocked returned
// err ("" when it listens).
func ColdStartNote(err error) string {
	if err == nil {
		return ""
	}
	return noteDeaf
}

// OfflineNote is what the lock screen says while a locked Rounds cannot
// reach the server (LockedNote; the screenshots draw it).
func OfflineNote() string { return noteOffline }

// LockedNote is what the lock screen says about a locked Client that does
// not hear: no listening session (the inbox could not be opened), or one
// whose saved keys the server refused (the password changed on the
// server: the Session stopped, with no retry), or one whose attempts to
// reach the server keep failing. "" while it listens, or when unlocked.
func (c *Client) LockedNote() string {
	c.mu.Lock()
	l, locked, ended := c.listen, c.store == nil, c.ended
	c.mu.Unlock()
	switch {
	case !locked || ended:
		return ""
	case l == nil:
		return noteDeaf
	}
	switch st := l.session.State(); {
	case st.Connectivity == sync.AuthFailed:
		return noteKeysRefused
	case st.Connectivity != sync.Online && st.Attempt > 0:
		// Attempts failing (no network, the server down): nothing
		// rings here meanwhile; the lock screen must not look as if
		// it listened. What is sent waits on the server.
		return noteOffline
	}
	return ""
}
