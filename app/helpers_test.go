package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

var (
	testKDF = securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}
	testPIN = []byte("2468")
)

// fakeNotifier records what the OS would show.
type fakeNotifier struct {
	mu      gosync.Mutex
	shown   []Notification
	cleared []string
	// notified, when a benchmark sets it, hears of every notification.
	notified chan Notification
}

func (n *fakeNotifier) Notify(x Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shown = append(n.shown, x)
	if n.notified != nil {
		n.notified <- x
	}
}

func (n *fakeNotifier) Clear(conv string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cleared = append(n.cleared, conv)
}

func (n *fakeNotifier) notifications() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Notification(nil), n.shown...)
}

func (n *fakeNotifier) countFor(conv string) int {
	k := 0
	for _, x := range n.notifications() {
		if x.ConversationID == conv {
			k++
		}
	}
	return k
}

func (n *fakeNotifier) clearedFor(conv string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.cleared {
		if c == conv {
			return true
		}
	}
	return false
}

func (n *fakeNotifier) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shown, n.cleared = nil, nil
}

type fakeSound struct {
	mu     gosync.Mutex
	plays  int
	urgent int
}

func (s *fakeSound) NewMessage(urgent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plays++
	if urgent {
		s.urgent++
	}
}

// fakeClock fires AfterFunc callbacks when Advance passes their time.
func (s *fakeSound) counts() (plays, urgent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plays, s.urgent
}

type fakeClock struct {
	mu     gosync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves time forward, running due callbacks in time order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

// fakeKeyring is an in-memory OS keyring.
type fakeKeyring struct {
	mu gosync.Map
}

func (k *fakeKeyring) Get(id string) ([]byte, error) {
	v, ok := k.mu.Load(id)
	if !ok {
		return nil, securestore.ErrNotFound
	}
	return append([]byte(nil), v.([]byte)...), nil
}
func (k *fakeKeyring) Set(id string, s []byte) error {
	k.mu.Store(id, append([]byte(nil), s...))
	return nil
}
func (k *fakeKeyring) Delete(id string) error { k.mu.Delete(id); return nil }

// device is one app instance in a test.
type device struct {
	t        testing.TB
	cfg      Config
	c        *Client
	notifier *fakeNotifier
	sound    *fakeSound
	jid      string

	mu      gosync.Mutex
	changes []Change
}

func testConfig(t testing.TB) Config {
	return Config{
		DataDir: t.TempDir(), KDF: testKDF, Secrets: &fakeKeyring{},
		Notifier: &fakeNotifier{}, Sound: &fakeSound{},
	}
}

// signIn signs user in on srv with cfg (DataDir etc. from testConfig when
// zero) and waits until online.
func signIn(t testing.TB, srv *testserver.Server, user string, cfg Config) *device {
	t.Helper()
	if cfg.DataDir == "" {
		base := testConfig(t)
		base.Policy, base.Clock, base.Resource = cfg.Policy, cfg.Clock, cfg.Resource
		cfg = base
	}
	c, err := SignIn(context.Background(), cfg, srv.JID(user), testserver.Password, srv.WSURL(), testPIN)
	if err != nil {
		t.Fatalf("sign in %s: %v", user, err)
	}
	d := &device{t: t, cfg: cfg, c: c, notifier: cfg.Notifier.(*fakeNotifier), sound: cfg.Sound.(*fakeSound), jid: srv.JID(user)}
	d.collect()
	t.Cleanup(c.SignOut)
	d.waitOnline()
	return d
}

func (d *device) collect() {
	ch := d.c.Changes()
	go func() {
		for x := range ch {
			d.mu.Lock()
			d.changes = append(d.changes, x)
			d.mu.Unlock()
		}
	}()
}

func (d *device) changeCount(want Change) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, x := range d.changes {
		if x == want {
			n++
		}
	}
	return n
}

func (d *device) changeList() []Change {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Change(nil), d.changes...)
}

func (d *device) waitOnline() {
	d.t.Helper()
	waitFor(d.t, d.jid+" online", 30*time.Second, func() bool { return d.c.Connection().Connectivity == 2 })
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// row returns the inbox row of conv.
func (d *device) row(conv string) (ConversationRow, bool) {
	rows, err := d.c.Inbox("")
	if err != nil {
		d.t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == conv {
			return r, true
		}
	}
	return ConversationRow{}, false
}

func (d *device) waitUnread(conv string, n int) {
	d.t.Helper()
	waitFor(d.t, d.jid+" unread", 30*time.Second, func() bool {
		r, ok := d.row(conv)
		return ok && r.Unread >= n
	})
}

// storeFilesIn lists the stores in dir: the profiles' (profiles.go) and any
// left in the single-profile layout.
func storeFilesIn(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "profiles", "*", "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		t.Fatal(err)
	}
	return append(m, old...)
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func containsAny(n Notification, s string) bool {
	return strings.Contains(n.Title, s) || strings.Contains(n.Body, s)
}
