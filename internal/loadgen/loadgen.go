// Package loadgen is a load generator built on the project's own engine:
// many headless clients, each a sync.Session over an encrypted store of its
// own (securestore, fsync on as in production), signed in to one test
// server (or cluster), sending one-to-one messages between random pairs at
// a stepped total rate. For each step it measures send → recipient-stored
// latency (from the moment the message was due to be sent, so a sender that
// falls behind shows up as latency, not as a lower rate) and what the
// machine and the server spent meanwhile, and it checks that every message
// arrived exactly once at the right account.
//
// It is evidence for sizing advice, not a server benchmark: the clients,
// their 2×N fsyncing stores and the server share one machine
// (docs/BENCHMARKS.md, "Load"). It is bounded so it cannot be pointed at a
// hospital's server by mistake: loopback or the test cluster's TEST-NET-1
// addresses only, at most MaxClients clients, MaxRate messages a second and
// MaxDuration in all.
package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// Bounds: a run asking for more is refused before anything connects.
const (
	MaxClients  = 500
	MaxRate     = 1000 // messages a second, all clients together
	MaxSteps    = 12
	MaxStep     = 2 * time.Minute
	MaxDuration = 15 * time.Minute // sign-in, every step and its drain
)

// KDF is the stores' key derivation: the cheapest Argon2id parameters, as
// the headless sender's slots use (app.SlotKDF) and every test of the
// engine. The stores' key is random, so stretching would only slow the
// sign-in of hundreds of clients; everything after opening (encryption of
// every record, two fsyncs a commit) is what production does.
var KDF = securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}

// Account is one client's account on the server.
type Account struct{ JID, Password string }

// Config describes one run.
type Config struct {
	// URL is the WebSocket endpoint, or several separated by spaces (a
	// cluster's nodes, as the app stores them: sync.Endpoints). Each client
	// i starts at endpoint i mod n and keeps the others as alternates, so
	// the clients spread over a cluster's nodes.
	URL        string
	TLSConfig  *tls.Config
	HTTPClient *http.Client
	Accounts   []Account
	// Dir holds the clients' stores (one file each).
	Dir string
	// Rates are the steps' total rates (messages a second over all clients).
	Rates []float64
	// Step is how long each step sends; Drain how long after it the step's
	// stragglers are waited for before its figures are taken.
	Step, Drain time.Duration
	// Target is the p99 a step must stay under (default 1 s). Run stops
	// after the first step that misses it (the next would only pile up).
	Target time.Duration
	// SignInParallel is how many clients sign in at once (default 20).
	SignInParallel int
	// ServerCPU, when set, is the server's (all nodes') CPU time so far.
	ServerCPU func() time.Duration
	// ServerCores is how many cores the server can use at most (Prosody: 1,
	// it is one Lua thread; an ejabberd node: all of the machine's).
	ServerCores float64
	// ServerPIDs, when set, are the server's processes (one per node): how
	// long their threads waited for a CPU is read from /proc.
	ServerPIDs func() []int
	Seed       int64
	Logger     *slog.Logger
	// Progress, when set, gets one line per phase (the benchmark logs it).
	Progress func(string)
}

// Step is one step's figures.
type Step struct {
	Rate     float64 // asked for
	Sent     int     // messages handed to the engines
	Achieved float64 // Sent over the step's duration
	// Received is how many arrived by the end of the drain; Late the rest
	// (counted as slower than any received one in P99).
	Received, Late int
	P50, P99, Max  time.Duration
	// SendP99 is the p99 of due → Send returned (the sender's engine has
	// committed the message to its outbox and written it to the socket):
	// the sender's share of P99, its store's fsyncs and its queue.
	SendP99 time.Duration
	// ServerCPU is the server's CPU over the step and drain, as a share of
	// one core (1.0 = one core busy); ClientCPU the same for this process
	// (the 2×clients engines and stores).
	ServerCPU, ClientCPU float64
	// ServerWait and ClientWait are how long the threads of the server and
	// of this process stood runnable without a CPU (Linux schedstat), as a
	// share of the step's wall time summed over threads: CPU contention
	// from everything else on the machine, which CPU time alone hides.
	ServerWait, ClientWait float64
	// ServerPerMessage is the server's CPU time over the step and drain
	// divided by the messages sent: what one message (with its receipt,
	// archiving and the idle clients' upkeep meanwhile) costs the server,
	// a figure the machine's other load changes far less than latency.
	ServerPerMessage time.Duration
	// Machine is the whole machine's CPU over the step: busy and iowait as
	// shares of all cores (/proc/stat), and the load average at the end.
	Busy, IOWait, Load float64
	SendErrors         int
	Pass               bool
}

// Report is a run's result.
type Report struct {
	Clients int
	// SignIn is how long all clients took to be online; SignInServerCPU
	// what the server spent on it.
	SignIn, SignInServerCPU time.Duration
	Steps                   []Step
	// Best is the highest rate whose step passed (0: none did).
	Best float64
	// PerMessage and Idle are a least-squares line through the passing
	// steps' server CPU against their rate: what one more message a second
	// costs the server (CPU time a message) and what it spends at no
	// messages on the connected clients (in cores). Zero with fewer than
	// two passing steps, or when the line does not rise with the rate (the
	// machine's other load outweighed the messages: there is no figure to
	// give, and a negative CPU a message would be nonsense). One core divided by PerMessage is where a
	// one-thread server (Prosody) would run out, before anything else.
	PerMessage time.Duration
	Idle       float64
	// Saturated names what ran out first in the first failing step (or
	// the last step when all passed): "server", "machine CPU", "disk",
	// or "" when nothing stood out.
	Saturated string
	// Invariants, checked after the last drain and a final wait: every
	// message stored once by its recipient and nowhere else.
	Lost, Duplicated, Misrouted int
	// StoreMismatch counts (sender, recipient) pairs whose stored incoming
	// messages (read back from the recipient's store) differ from what was
	// sent.
	StoreMismatch int
}

// ErrRefused is returned (wrapped) for a run outside the bounds.
var ErrRefused = errors.New("loadgen: refused")

// Check refuses a configuration outside the bounds or aimed off the test
// addresses.
func (c *Config) Check() error {
	if len(c.Accounts) < 2 || len(c.Accounts) > MaxClients {
		return fmt.Errorf("%w: %d clients (2..%d)", ErrRefused, len(c.Accounts), MaxClients)
	}
	if len(c.Rates) == 0 || len(c.Rates) > MaxSteps {
		return fmt.Errorf("%w: %d steps (1..%d)", ErrRefused, len(c.Rates), MaxSteps)
	}
	for _, r := range c.Rates {
		if r <= 0 || r > MaxRate {
			return fmt.Errorf("%w: rate %v (0..%d a second)", ErrRefused, r, MaxRate)
		}
	}
	if c.Step <= 0 || c.Step > MaxStep || c.Drain < 0 || c.Drain > MaxStep {
		return fmt.Errorf("%w: step %v, drain %v (each at most %v)", ErrRefused, c.Step, c.Drain, MaxStep)
	}
	if total := time.Duration(len(c.Rates)) * (c.Step + c.Drain); total > MaxDuration {
		return fmt.Errorf("%w: %v of steps (at most %v)", ErrRefused, total, MaxDuration)
	}
	eps := sync.Endpoints(c.URL)
	if len(eps) == 0 {
		return fmt.Errorf("%w: no URL", ErrRefused)
	}
	for _, e := range eps {
		if err := testAddress(e); err != nil {
			return err
		}
	}
	return nil
}

// lookupIP resolves "localhost" for testAddress (a test makes it answer
// elsewhere).
var lookupIP = net.LookupIP

// testAddress accepts only a literal loopback address, "localhost" when every
// address it resolves to is loopback, or the cluster harness's TEST-NET-1
// (192.0.2.0/24, RFC 5737: never routed). The name is resolved, not trusted:
// Go looks it up in /etc/hosts and then in DNS, which may answer anything.
func testAddress(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return fmt.Errorf("%w: %q is not a ws:// or wss:// URL", ErrRefused, raw)
	}
	h := u.Hostname()
	if h == "localhost" {
		ips, err := lookupIP(h)
		if err != nil || len(ips) == 0 {
			return fmt.Errorf("%w: localhost does not resolve here: %v", ErrRefused, err)
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return fmt.Errorf("%w: localhost resolves to %s here, not a loopback address", ErrRefused, ip)
			}
		}
		return nil
	}
	ip := net.ParseIP(h)
	_, testNet, _ := net.ParseCIDR("192.0.2.0/24")
	if ip == nil || !(ip.IsLoopback() || testNet.Contains(ip)) {
		return fmt.Errorf("%w: %s is not a loopback or test address", ErrRefused, h)
	}
	return nil
}

// client is one signed-in headless client.
type client struct {
	i       int
	jid     string
	store   *securestore.Store
	session *sync.Session
	cancel  context.CancelFunc
	done    chan error
	queue   chan job
}

type job struct {
	seq int
	to  int
}

// record is one message's fate.
type record struct {
	from, to int
	step     int
	due      time.Time
	queued   time.Time // Send returned: stored in the sender's outbox, on the wire
	arrived  time.Time
	got      int // times stored by its recipient
	wrong    int // times stored by another client
	sendErr  bool
}

// run is one Run's shared state.
type run struct {
	cfg     Config
	mu      gosync.Mutex
	records []record
	clients []*client
	byJID   map[string]int
	prefix  string
	arrived chan struct{} // a message arrived (non-blocking nudge)
}

// Run signs every account in, runs the steps and checks the invariants. It
// returns the report so far with an error when a client cannot sign in or
// ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.Target == 0 {
		cfg.Target = time.Second
	}
	if cfg.SignInParallel <= 0 {
		cfg.SignInParallel = 20
	}
	if cfg.ServerCores == 0 {
		cfg.ServerCores = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if cfg.Progress == nil {
		cfg.Progress = func(string) {}
	}
	if cfg.ServerCPU == nil {
		cfg.ServerCPU = func() time.Duration { return 0 }
	}
	r := &run{cfg: cfg, byJID: map[string]int{}, prefix: fmt.Sprintf("load-%d ", time.Now().UnixNano()), arrived: make(chan struct{}, 1)}
	rep := &Report{Clients: len(cfg.Accounts)}
	defer r.stop()

	t0, cpu0 := time.Now(), cfg.ServerCPU()
	if err := r.signIn(ctx); err != nil {
		return rep, err
	}
	rep.SignIn, rep.SignInServerCPU = time.Since(t0), cfg.ServerCPU()-cpu0
	cfg.Progress(fmt.Sprintf("%d clients online in %v (server CPU %v)", len(r.clients), rep.SignIn.Round(time.Millisecond), rep.SignInServerCPU))

	rng := rand.New(rand.NewSource(cfg.Seed))
	for si, rate := range cfg.Rates {
		st, err := r.step(ctx, si, rate, rng)
		if err != nil {
			return rep, err
		}
		rep.Steps = append(rep.Steps, st)
		cfg.Progress(st.String())
		if st.Pass {
			rep.Best = rate
		} else {
			break
		}
	}
	if n := len(rep.Steps); n > 0 {
		rep.Saturated = rep.Steps[n-1].saturated(cfg.ServerCores)
	}
	rep.fit()
	// Stragglers of a failed step get a last chance before counting as lost.
	r.waitAll(ctx, 60*time.Second)
	r.check(rep)
	return rep, nil
}

func (r *run) signIn(ctx context.Context) error {
	eps := sync.Endpoints(r.cfg.URL)
	r.clients = make([]*client, len(r.cfg.Accounts))
	for i, a := range r.cfg.Accounts {
		r.byJID[a.JID] = i
	}
	sem := make(chan struct{}, r.cfg.SignInParallel)
	errc := make(chan error, len(r.cfg.Accounts))
	var wg gosync.WaitGroup
	for i, a := range r.cfg.Accounts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Rotate the endpoint list so client i starts on node i mod n.
			k := i % len(eps)
			url := strings.Join(append(append([]string{}, eps[k:]...), eps[:k]...), " ")
			c, err := r.start(ctx, i, a, url)
			if err != nil {
				errc <- fmt.Errorf("loadgen: client %d (%s): %w", i, a.JID, err)
				return
			}
			r.mu.Lock()
			r.clients[i] = c
			r.mu.Unlock()
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

type noKeyring struct{}

func (noKeyring) Get(string) ([]byte, error) { return nil, securestore.ErrKeyringUnavailable }
func (noKeyring) Set(string, []byte) error   { return securestore.ErrKeyringUnavailable }
func (noKeyring) Delete(string) error        { return nil }

func (r *run) start(ctx context.Context, i int, a Account, url string) (*client, error) {
	path := filepath.Join(r.cfg.Dir, "client-"+strconv.Itoa(i)+".db")
	opts := securestore.Options{KDF: KDF, Secrets: noKeyring{}, Logger: r.cfg.Logger}
	st, err := securestore.Create(path, []byte("load-"+strconv.Itoa(i)), opts)
	if err != nil {
		return nil, err
	}
	s, err := sync.New(sync.Config{
		Store: st,
		XMPP: sync.Server{URL: url, JID: a.JID, Resource: "load", Password: a.Password,
			TLSConfig: r.cfg.TLSConfig, HTTPClient: r.cfg.HTTPClient, Logger: r.cfg.Logger}.XMPP(),
		Backoff: sync.Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second},
		Logger:  r.cfg.Logger,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	c := &client{i: i, jid: a.JID, store: st, session: s, cancel: cancel, done: make(chan error, 1), queue: make(chan job, 1<<14)}
	online := make(chan struct{}, 1)
	go func() {
		for e := range s.Events() {
			switch e := e.(type) {
			case sync.MessagesAdded:
				r.stored(i, e.Messages)
			case sync.ConnectionChanged:
				if e.State.Connectivity == sync.Online {
					select {
					case online <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	go func() { c.done <- s.Run(sctx) }()
	go r.send(c)
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	for s.State().Connectivity != sync.Online {
		select {
		case <-online:
		case err := <-c.done:
			c.done <- err
			c.close()
			return nil, fmt.Errorf("session ended: %v", err)
		case <-deadline.C:
			c.close()
			return nil, fmt.Errorf("not online after 2 minutes: %v", s.State().Reason)
		case <-ctx.Done():
			c.close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return c, nil
}

// send hands c's queued messages to its engine, one at a time (one store,
// one writer): Send stores the message in the outbox and puts it on the wire.
func (r *run) send(c *client) {
	for j := range c.queue {
		to := r.cfg.Accounts[j.to].JID
		_, err := c.session.Send(to, r.prefix+strconv.Itoa(j.seq), sync.SendOptions{})
		now := time.Now()
		r.mu.Lock()
		r.records[j.seq].queued = now
		r.records[j.seq].sendErr = err != nil
		r.mu.Unlock()
	}
}

// stored notes messages client i's engine stored (live or caught up).
func (r *run) stored(i int, ms []securestore.Message) {
	now := time.Now()
	r.mu.Lock()
	for _, m := range ms {
		if m.Direction != securestore.Incoming || !strings.HasPrefix(m.Body, r.prefix) {
			continue
		}
		seq, err := strconv.Atoi(strings.TrimPrefix(m.Body, r.prefix))
		if err != nil || seq < 0 || seq >= len(r.records) {
			continue
		}
		rec := &r.records[seq]
		if rec.to != i {
			rec.wrong++
			continue
		}
		rec.got++
		if rec.got == 1 {
			rec.arrived = now
		}
	}
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

func (r *run) step(ctx context.Context, si int, rate float64, rng *rand.Rand) (Step, error) {
	st := Step{Rate: rate}
	first := r.numRecords()
	cpu0, self0, m0 := r.cfg.ServerCPU(), selfCPU(), machineCPU()
	sw0, cw0 := runWait(r.serverPIDs()...), runWait(os.Getpid())
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	n := len(r.clients)
	for k := 0; ; k++ {
		due := start.Add(time.Duration(k) * interval)
		if due.Sub(start) >= r.cfg.Step {
			break
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return st, ctx.Err()
			}
		}
		from := rng.Intn(n)
		to := rng.Intn(n - 1)
		if to >= from {
			to++
		}
		r.mu.Lock()
		seq := len(r.records)
		r.records = append(r.records, record{from: from, to: to, step: si, due: due})
		r.mu.Unlock()
		r.clients[from].queue <- job{seq: seq, to: to}
		st.Sent++
	}
	st.Achieved = float64(st.Sent) / r.cfg.Step.Seconds()
	// Drain: wait for this step's messages, at most Drain.
	deadline := time.Now().Add(r.cfg.Drain)
	for time.Now().Before(deadline) && r.pending(first) > 0 {
		select {
		case <-r.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return st, ctx.Err()
		}
	}
	wall := time.Since(start)
	st.ServerCPU = (r.cfg.ServerCPU() - cpu0).Seconds() / wall.Seconds()
	if st.Sent > 0 {
		st.ServerPerMessage = (r.cfg.ServerCPU() - cpu0) / time.Duration(st.Sent)
	}
	st.ClientCPU = (selfCPU() - self0).Seconds() / wall.Seconds()
	st.ServerWait = (runWait(r.serverPIDs()...) - sw0).Seconds() / wall.Seconds()
	st.ClientWait = (runWait(os.Getpid()) - cw0).Seconds() / wall.Seconds()
	m1 := machineCPU()
	if tot := m1.total - m0.total; tot > 0 {
		st.Busy = float64(m1.busy-m0.busy) / float64(tot)
		st.IOWait = float64(m1.iowait-m0.iowait) / float64(tot)
	}
	st.Load = loadAverage()

	var lat, send []time.Duration
	r.mu.Lock()
	for _, rec := range r.records[first:] {
		if rec.sendErr {
			st.SendErrors++
		}
		if !rec.queued.IsZero() {
			send = append(send, rec.queued.Sub(rec.due))
		}
		if rec.got > 0 {
			st.Received++
			lat = append(lat, rec.arrived.Sub(rec.due))
		} else {
			st.Late++
		}
	}
	r.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	// Late messages are slower than every received one: they fill the top
	// of the distribution, and a quantile that lands on them is "over Drain".
	q := func(p float64) time.Duration {
		total := len(lat) + st.Late
		if total == 0 {
			return 0
		}
		k := int(p * float64(total-1))
		if k >= len(lat) {
			return r.cfg.Step + r.cfg.Drain // at least: not there by the end of the drain
		}
		return lat[k]
	}
	st.P50, st.P99, st.Max = q(0.50), q(0.99), q(1.0)
	if len(send) > 0 {
		sort.Slice(send, func(i, j int) bool { return send[i] < send[j] })
		st.SendP99 = send[int(0.99*float64(len(send)-1))]
	}
	st.Pass = st.Late == 0 && st.SendErrors == 0 && st.P99 < r.cfg.Target
	return st, nil
}

func (r *run) serverPIDs() []int {
	if r.cfg.ServerPIDs == nil {
		return nil
	}
	return r.cfg.ServerPIDs()
}

// runWait sums how long every thread of the given processes has waited on
// a run queue so far (/proc/PID/task/TID/schedstat, second field, ns).
func runWait(pids ...int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		if pid <= 0 {
			continue
		}
		dir := "/proc/" + strconv.Itoa(pid) + "/task"
		tasks, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, t := range tasks {
			b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
			if err != nil {
				continue
			}
			f := strings.Fields(string(b))
			if len(f) < 2 {
				continue
			}
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// fit draws the line of server cores against rate through the passing
// steps (a starved failing step would bend it).
func (rep *Report) fit() {
	var n, sx, sy, sxx, sxy float64
	for _, s := range rep.Steps {
		if !s.Pass {
			continue
		}
		n++
		sx += s.Rate
		sy += s.ServerCPU
		sxx += s.Rate * s.Rate
		sxy += s.Rate * s.ServerCPU
	}
	d := n*sxx - sx*sx
	if n < 2 || d == 0 {
		return
	}
	slope := (n*sxy - sx*sy) / d
	if slope <= 0 {
		return
	}
	rep.PerMessage = time.Duration(slope * float64(time.Second))
	rep.Idle = max((sy-slope*sx)/n, 0)
}

func (r *run) numRecords() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records)
}

func (r *run) pending(from int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records[from:] {
		if rec.got == 0 {
			n++
		}
	}
	return n
}

func (r *run) waitAll(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && r.pending(0) > 0 {
		select {
		case <-r.arrived:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

// check counts lost, duplicated and misrouted messages from the events, and
// reads every recipient's store back: the incoming messages of this run from
// each sender must be exactly those sent.
func (r *run) check(rep *Report) {
	want := map[[2]int]map[string]bool{}
	r.mu.Lock()
	for seq, rec := range r.records {
		switch {
		case rec.got == 0:
			rep.Lost++
		case rec.got > 1:
			rep.Duplicated++
		}
		rep.Misrouted += rec.wrong
		k := [2]int{rec.from, rec.to}
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		want[k][r.prefix+strconv.Itoa(seq)] = true
	}
	r.mu.Unlock()
	for k, bodies := range want {
		c := r.clients[k[1]]
		ms, err := c.store.Latest(r.cfg.Accounts[k[0]].JID, 1_000_000)
		if err != nil {
			rep.StoreMismatch++
			continue
		}
		seen := map[string]int{}
		for _, m := range ms {
			if m.Direction == securestore.Incoming && strings.HasPrefix(m.Body, r.prefix) {
				seen[m.Body]++
			}
		}
		ok := len(seen) == len(bodies)
		for b, n := range seen {
			if n != 1 || !bodies[b] {
				ok = false
			}
		}
		if !ok {
			rep.StoreMismatch++
		}
	}
}

func (r *run) stop() {
	var wg gosync.WaitGroup
	for _, c := range r.clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); c.close() }()
	}
	wg.Wait()
}

func (c *client) close() {
	close(c.queue)
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
	}
	_ = c.store.Close()
}

// saturated names what ran out in this step: the server's cores, the
// machine's CPU, or the disk (iowait), in that order of evidence.
func (s Step) saturated(serverCores float64) string {
	switch {
	case s.ServerCPU >= 0.85*serverCores:
		return "server"
	case s.Busy >= 0.90:
		// The cores were busy, but not with the server: other processes
		// (the clients, or whatever else runs on the machine) took them.
		return "machine CPU"
	case s.IOWait >= 0.20:
		return "disk"
	}
	return ""
}

func (s Step) String() string {
	return fmt.Sprintf("%6.0f msg/s (achieved %.1f): sent %d, received %d, late %d, p50 %v p99 %v max %v (sender's share p99 %v); server CPU %.0f%% of a core (waiting for a CPU %.0f%%), clients %.0f%% (waiting %.0f%%), machine busy %.0f%% iowait %.0f%%, load %.1f; pass=%v",
		s.Rate, s.Achieved, s.Sent, s.Received, s.Late, s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond), s.Max.Round(time.Millisecond), s.SendP99.Round(time.Millisecond),
		100*s.ServerCPU, 100*s.ServerWait, 100*s.ClientCPU, 100*s.ClientWait, 100*s.Busy, 100*s.IOWait, s.Load, s.Pass)
}

// selfCPU is this process's user+system CPU time (Linux /proc; 0 elsewhere).
func selfCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

type cpuTimes struct{ busy, iowait, total int64 }

// machineCPU reads the machine's cumulative CPU ticks (/proc/stat "cpu").
func machineCPU() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return cpuTimes{}
	}
	var v [8]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	var t cpuTimes
	for _, x := range v {
		t.total += x
	}
	t.iowait = v[4]
	t.busy = t.total - v[3] - v[4]
	return t
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	x, _ := strconv.ParseFloat(f[0], 64)
	return x
}

// Table writes the report as the Markdown table docs/BENCHMARKS.md keeps.
func (rep *Report) Table(w io.Writer) {
	fmt.Fprintf(w, "| rate asked | achieved | received/sent | p50 | p99 | max | due → sent p99 | server CPU (cores) | server CPU a message | server run-queue wait | client process CPU (cores) | client run-queue wait | machine busy | iowait | load | p99 < 1 s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range rep.Steps {
		fmt.Fprintf(w, "| %.0f | %.1f | %d/%d | %v | %v | %v | %v | %.2f | %v | %.2f | %.2f | %.2f | %.0f%% | %.0f%% | %.1f | %v |\n",
			s.Rate, s.Achieved, s.Received, s.Sent, s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond), s.Max.Round(time.Millisecond),
			s.SendP99.Round(time.Millisecond), s.ServerCPU, s.ServerPerMessage.Round(100*time.Microsecond), s.ServerWait, s.ClientCPU, s.ClientWait, 100*s.Busy, 100*s.IOWait, s.Load, map[bool]string{true: "yes", false: "**no**"}[s.Pass])
	}
	fmt.Fprintf(w, "\n%d clients signed in in %v (server CPU %v); best rate with p99 < 1 s: %.0f msg/s; saturated first: %q; server CPU a further message %v, at no messages %.2f cores (fit over the passing steps); lost %d, duplicated %d, misrouted %d, store mismatches %d\n",
		rep.Clients, rep.SignIn.Round(time.Millisecond), rep.SignInServerCPU, rep.Best, rep.Saturated, rep.PerMessage.Round(100*time.Microsecond), rep.Idle, rep.Lost, rep.Duplicated, rep.Misrouted, rep.StoreMismatch)
}
