package escalation

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

var testKDF = securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}

type noSecrets struct{}

func (noSecrets) Get(string) ([]byte, error) { return nil, securestore.ErrKeyringUnavailable }
func (noSecrets) Set(string, []byte) error   { return securestore.ErrKeyringUnavailable }
func (noSecrets) Delete(string) error        { return nil }

// testClock is the wall clock moved forward by Advance: timers fire in real
// time or when an Advance passes them, so the Session's backoff and
// keepalive work while a test jumps a ladder's minutes at once.
type testClock struct {
	mu      gosync.Mutex
	off     time.Duration
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.waiters = append(c.waiters, waiter{time.Now().Add(c.off + d), ch})
	c.mu.Unlock()
	time.AfterFunc(d, c.check)
	return ch
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
	c.check()
}

func (c *testClock) check() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().Add(c.off)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if now.Before(w.at) {
			kept = append(kept, w)
			continue
		}
		w.ch <- now
	}
	c.waiters = kept
}

// node is one signed-in account in a test: a store and a running Session.
// Its events go to a Service when it is the escalation service, else they
// are collected.
type node struct {
	t      testing.TB
	jid    string
	path   string
	store  *securestore.Store
	s      *sync.Session
	svc    *Service
	lease  *PubSubLease
	cancel context.CancelFunc
	done   chan struct{}

	mu     gosync.Mutex
	events []sync.Event
}

type nodeOptions struct {
	resource     string
	path         string
	clock        sync.Clock
	service      bool          // run a Service on it
	leaseTTL     time.Duration // one of several instances, with a PubSubLease
	leaseClock   sync.Clock    // the lease's clock (nil: the wall clock)
	maxPerSender int           // Config.MaxPerSender
}

func openStore(t testing.TB, path string) *securestore.Store {
	t.Helper()
	opts := securestore.Options{KDF: testKDF, Secrets: noSecrets{}}
	st, err := securestore.Open(path, []byte("2468"), opts)
	if err != nil {
		st, err = securestore.Create(path, []byte("2468"), opts)
	}
	if err != nil {
		t.Fatalf("store %s: %v", path, err)
	}
	return st
}

func start(t testing.TB, srv *testserver.Server, account string, o nodeOptions) *node {
	t.Helper()
	if o.resource == "" {
		o.resource = "r" + xmpp.NewID()[:6]
	}
	if o.path == "" {
		o.path = filepath.Join(t.TempDir(), strings.ReplaceAll(account, "@", "_")+"-"+o.resource+".db")
	}
	if !strings.Contains(account, "@") {
		account = srv.JID(account)
	}
	n := &node{t: t, jid: account, path: o.path, done: make(chan struct{})}
	n.store = openStore(t, o.path)
	s, err := sync.New(sync.Config{
		Store: n.store,
		XMPP: xmpp.Config{URL: srv.WSURL(), JID: account, Resource: o.resource,
			Credentials: xmpp.Credentials{Password: testserver.Password}},
		Backoff: sync.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		Clock:   o.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	n.s = s
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	if o.service {
		cfg := Config{Session: s, Store: n.store, Clock: o.clock, MaxPerSender: o.maxPerSender}
		if o.leaseTTL > 0 {
			// The lease runs on the wall clock: the test clock jumps a
			// ladder's minutes at once, which would make every lease look
			// expired at the same moment (in service both are one clock
			// that moves steadily).
			n.lease = NewPubSubLease(s, o.resource, o.leaseTTL, o.leaseClock, nil)
			cfg.Lease = n.lease
		}
		n.svc, err = New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = n.svc.Run(ctx) }()
		if n.lease != nil {
			go n.lease.Run(ctx, n.svc.poke)
		}
	} else {
		go func() {
			for e := range s.Events() {
				n.mu.Lock()
				n.events = append(n.events, e)
				n.mu.Unlock()
			}
		}()
	}
	go func() { _ = s.Run(ctx); close(n.done) }()
	t.Cleanup(n.stop)
	n.waitFor("online", 30*time.Second, func() bool { return s.State().Connectivity == sync.Online })
	return n
}

// stop ends the node as a crash would from the outside: the Session and the
// Service stop where they are; the store is closed.
func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.t.Errorf("%s: Run did not return", n.jid)
	}
	n.cancel = nil
	_ = n.store.Close()
}

func (n *node) waitFor(what string, timeout time.Duration, cond func() bool) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			n.t.Fatalf("%s: timed out waiting for %s", n.jid, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// messages lists conv's stored messages, oldest first.
func (n *node) messages(conv string) []securestore.Message {
	n.t.Helper()
	ms, err := n.store.Latest(conv, 100000)
	if err != nil {
		n.t.Fatal(err)
	}
	return ms
}

// count counts conv's messages that match.
func (n *node) count(conv string, match func(securestore.Message) bool) int {
	c := 0
	for _, m := range n.messages(conv) {
		if match(m) {
			c++
		}
	}
	return c
}

func (n *node) held(of string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.events {
		if h, ok := e.(sync.LadderHeld); ok && h.Of == of {
			return true
		}
	}
	return false
}

// heldCount counts the <held/>s for of that n got.
func (n *node) heldCount(of string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, e := range n.events {
		if h, ok := e.(sync.LadderHeld); ok && h.Of == of {
			c++
		}
	}
	return c
}

// policy publishes the org policy and the on-call schedule as the pubsub
// admin.
func publish(t testing.TB, srv *testserver.Server, policy, schedule string) {
	t.Helper()
	admin := start(t, srv, testserver.PubSubAdmin, nodeOptions{})
	defer admin.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for node, doc := range map[string]string{sync.NodePolicy: policy, sync.NodeOnCall: schedule} {
		if doc == "" {
			continue
		}
		el, err := xmpp.DecodeElement([]byte(doc), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.s.PublishDocument(ctx, node, el); err != nil {
			t.Fatal(err)
		}
	}
}

func policyDoc(srv *testserver.Server, afterSeconds int, steps string) string {
	return fmt.Sprintf(`<policy xmlns='urn:rounds:policy:0' version='1'><escalation after-seconds='%d' service='%s'>%s</escalation></policy>`,
		afterSeconds, srv.JID("escalation"), steps)
}

func scheduleDoc(role, holder string, from, until time.Time) string {
	return fmt.Sprintf(`<schedule xmlns='urn:rounds:oncall:0'><shift role='%s' jid='%s' from='%s' until='%s'/></schedule>`,
		role, holder, from.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
}

// waitPolicy waits until the service follows the published policy and
// schedule.
func (n *node) waitPolicy(shifts int) {
	n.t.Helper()
	n.waitFor("the org policy", 20*time.Second, func() bool {
		n.svc.mu.Lock()
		defer n.svc.mu.Unlock()
		return n.svc.policy.AfterSeconds > 0 && len(n.svc.shifts) >= shifts
	})
}

// page sends a STAT page from n to `to` and hands its ladder to the service
// (steps "" uses the policy's ladder), returning the original's origin-id.
func (n *node) page(to, text string, plan *sync.EscalationPlan) string {
	n.t.Helper()
	n.s.SetEscalationService(strings.Replace(n.jid, strings.SplitN(n.jid, "@", 2)[0], "escalation", 1))
	m, err := n.s.Send(to, text, sync.SendOptions{Urgency: securestore.UrgencyCritical, AckRequired: true})
	if err != nil {
		n.t.Fatal(err)
	}
	if plan == nil {
		plan = &sync.EscalationPlan{}
	}
	plan.ID, plan.To = m.OriginID, to
	if _, err := n.s.Send(n.s.EscalationService(), text, sync.SendOptions{Urgency: securestore.UrgencyCritical, AckRequired: true, Plan: plan}); err != nil {
		n.t.Fatal(err)
	}
	return m.OriginID
}

func (n *node) auditKinds() []string {
	n.t.Helper()
	log, err := n.store.AuditLog()
	if err != nil {
		n.t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		out = append(out, e.Kind)
	}
	return out
}
