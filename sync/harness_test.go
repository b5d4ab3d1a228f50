package sync

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// testKDF keeps Argon2id cheap in tests; production parameters are measured in
// securestore's benchmarks.
var testKDF = securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}

// device is one signed-in client in a test: a store, a Session running against
// a real server, and everything it emitted.
type device struct {
	t       testing.TB
	jid     string
	store   *securestore.Store
	path    string
	session *Session
	cancel  context.CancelFunc
	done    chan error

	mu     gosync.Mutex
	events []Event
	notify chan struct{}
}

type deviceOptions struct {
	url string
	// alternates and httpClient: more endpoints (a cluster's nodes) and the
	// dialer that reaches them (the cluster's namespace).
	alternates []string
	httpClient *http.Client
	resource   string
	storePath  string
	keepAlive  time.Duration
	limits     xmpp.Limits // zero: the defaults
	clock      Clock       // nil: the system clock
	// catchUpPage is the MAM page size (0: the engine's default).
	catchUpPage int
	// resumeTimeout is Config.ResumeTimeout (0: the engine's default).
	resumeTimeout time.Duration
	// applyEditFault is the session's test hook (session.go), set before Run.
	applyEditFault func(securestore.ReceivedEdit) error
	// atCrashPoint runs at the session's crash points (session.go:
	// pageCommitted, unreadableCommitted) with the device's store.
	atCrashPoint func(*securestore.Store)
	// beforeRun runs on the new Session before Run (the locked inbox merge).
	beforeRun func(*Session)
	// bookmarks: the device follows the account's room bookmarks
	// (Config.FollowBookmarks), as the app's devices do.
	bookmarks bool
	// onCommit receives the store's write-transaction timings
	// (securestore.Options.OnCommit; the latency benchmark).
	onCommit func(securestore.CommitStats)
	// sentLinger: securestore.Options.SentLinger (0: the default).
	sentLinger time.Duration
	// backoff: Config.Backoff (zero: 50 ms doubling to 500 ms).
	backoff Backoff
}

func openStore(t testing.TB, path string) *securestore.Store {
	t.Helper()
	return openStoreWith(t, path, deviceOptions{})
}

// openStoreWith is openStore with the device's store options (onCommit,
// sentLinger).
func openStoreWith(t testing.TB, path string, o deviceOptions) *securestore.Store {
	t.Helper()
	opts := securestore.Options{KDF: testKDF, Secrets: noSecrets{}, OnCommit: o.onCommit, SentLinger: o.sentLinger}
	// Diagnostic only (benchmarks): how much of a latency tail is fsync on a
	// shared disk. Never set in tests.
	opts.NoSync = os.Getenv("ROUNDS_BENCH_NOSYNC") == "1"
	st, err := securestore.Open(path, []byte("2468"), opts)
	if err != nil {
		st, err = securestore.Create(path, []byte("2468"), opts)
	}
	if err != nil {
		t.Fatalf("store %s: %v", path, err)
	}
	return st
}

// startDevice signs user in on srv and waits until the Session is online.
func startDevice(t testing.TB, srv *testserver.Server, user string, o deviceOptions) *device {
	t.Helper()
	if o.url == "" {
		o.url = srv.WSURL()
	}
	if o.resource == "" {
		o.resource = "dev" + xmpp.NewID()[:6]
	}
	if o.backoff == (Backoff{}) {
		o.backoff = Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}
	}
	if o.storePath == "" {
		o.storePath = filepath.Join(t.TempDir(), user+"-"+o.resource+".db")
	}
	d := &device{t: t, jid: srv.JID(user), path: o.storePath, notify: make(chan struct{}, 1), done: make(chan error, 1)}
	d.store = openStoreWith(t, o.storePath, o)
	s, err := New(Config{
		Store: d.store,
		XMPP: xmpp.Config{
			URL: o.url, Alternates: o.alternates, HTTPClient: o.httpClient, JID: d.jid, Resource: o.resource,
			Credentials: xmpp.Credentials{Password: testserver.Password},
			Limits:      o.limits,
		},
		Backoff:         o.backoff,
		KeepAlive:       o.keepAlive,
		Clock:           o.clock,
		CatchUpPage:     o.catchUpPage,
		ResumeTimeout:   o.resumeTimeout,
		FollowBookmarks: o.bookmarks,
	})
	if err != nil {
		t.Fatal(err)
	}
	d.session = s
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		for e := range s.Events() {
			d.mu.Lock()
			d.events = append(d.events, e)
			d.mu.Unlock()
			select {
			case d.notify <- struct{}{}:
			default:
			}
		}
	}()
	s.applyEditFault = o.applyEditFault
	if o.atCrashPoint != nil {
		s.pageCommitted = func(int) { o.atCrashPoint(d.store) }
		s.unreadableCommitted = func() { o.atCrashPoint(d.store) }
	}
	if o.beforeRun != nil {
		o.beforeRun(s)
	}
	go func() { d.done <- s.Run(ctx) }()
	t.Cleanup(d.stop)
	d.waitOnline()
	return d
}

func (d *device) stop() {
	if d.cancel == nil {
		return
	}
	d.cancel()
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		// Where it is stuck, for a failure seen only in CI or under load.
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		d.t.Errorf("%s: Run did not return within 10 s of its cancel; goroutines:\n%s", d.jid, buf[:n])
	}
	d.cancel = nil
	_ = d.store.Close()
}

// waitFor polls cond on every event (and every 50 ms) until it holds.
func (d *device) waitFor(what string, timeout time.Duration, cond func() bool) {
	d.t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-d.notify:
		case <-tick.C:
		case <-deadline:
			d.t.Fatalf("%s: timed out waiting for %s (state %v)", d.jid, what, d.session.State())
		}
	}
}

func (d *device) waitOnline() {
	d.t.Helper()
	d.waitFor("online", 30*time.Second, func() bool { return d.session.State().Connectivity == Online })
}

// conversation returns all stored messages of conv, oldest first.
func (d *device) conversation(conv string) []securestore.Message {
	d.t.Helper()
	ms, err := d.store.Latest(xmpp.BareJID(conv), 1_000_000)
	if err != nil {
		d.t.Fatal(err)
	}
	return ms
}

// bodies counts stored message bodies of conv by direction.
func (d *device) bodies(conv string, dir securestore.Direction) map[string]int {
	out := map[string]int{}
	for _, m := range d.conversation(conv) {
		if m.Direction == dir {
			out[m.Body]++
		}
	}
	return out
}

// send queues messages body-0..body-(n-1) to conv and returns their ids.
func (d *device) send(conv, prefix string, n int) []securestore.MessageID {
	d.t.Helper()
	ids := make([]securestore.MessageID, n)
	for i := range n {
		m, err := d.session.Send(conv, fmt.Sprintf("%s-%04d", prefix, i), SendOptions{})
		if err != nil {
			d.t.Fatal(err)
		}
		ids[i] = m.ID
	}
	return ids
}

// expectExactlyOnce asserts that conv holds every prefix-i (i < n) once and
// nothing else with that prefix: nothing lost, nothing shown twice.
func expectExactlyOnce(t testing.TB, got map[string]int, prefix string, n int) {
	t.Helper()
	missing, dup := 0, 0
	for i := range n {
		switch c := got[fmt.Sprintf("%s-%04d", prefix, i)]; {
		case c == 0:
			missing++
		case c > 1:
			dup++
		}
	}
	if missing > 0 || dup > 0 {
		t.Fatalf("%s: %d of %d missing, %d duplicated", prefix, missing, n, dup)
	}
}

func (d *device) receiptState(id securestore.MessageID) securestore.ReceiptState {
	m, err := d.store.Message(id)
	if err != nil {
		d.t.Fatal(err)
	}
	return m.Receipt.State
}

// allAtLeast waits until every message reached state.
func (d *device) allAtLeast(ids []securestore.MessageID, state securestore.ReceiptState, timeout time.Duration) {
	d.t.Helper()
	d.waitFor(fmt.Sprintf("%d messages %v", len(ids), state), timeout, func() bool {
		for _, id := range ids {
			if s := d.receiptState(id); s < state || s == securestore.ReceiptFailed {
				return false
			}
		}
		return true
	})
}

// noSecrets is the keyring of a device whose policy forbids it: PIN only.
type noSecrets struct{}

func (noSecrets) Get(string) ([]byte, error) { return nil, securestore.ErrKeyringUnavailable }
func (noSecrets) Set(string, []byte) error   { return securestore.ErrKeyringUnavailable }
func (noSecrets) Delete(string) error        { return nil }
