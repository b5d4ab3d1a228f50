package sync

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// cpuTime is this process's user+system CPU time. Prosody is another process,
// so during a catch-up it measures the client alone.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fillArchive sends n chat messages from "sender" to "reader" while the
// reader is offline, so they sit in the reader's archive only (NoOffline).
//
// Filling is Prosody's work: with SQLite it commits each message to an
// archive, about 4 ms of its CPU per message. On the shared 2-core machine at
// load 10-14 Prosody got ~5% of a core and stored ~6 messages/s, so a fixed
// 5-minute wait for the whole fill failed ("server did not ack the archive
// fill") although nothing was stuck. The sender's own archive is switched off
// (XEP-0313 preferences, default never): catch-up reads only the reader's,
// and it halves the server's commits. The wait fails only when the server
// acknowledges nothing for fillStall, and says how far it got.
func fillArchive(b *testing.B, srv *testserver.Server, n int) {
	b.Helper()
	const fillStall = 2 * time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var acked = make(chan struct{}, n+16)
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("sender"),
		Credentials: xmpp.Credentials{Password: testserver.Password},
		OnAcked: func(el *xmpp.Element) {
			if el.Name.Local == "message" {
				acked <- struct{}{}
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	prefsCtx, prefsCancel := context.WithTimeout(ctx, fillStall)
	_, err = c.SendIQ(prefsCtx, xmpp.NewElement(xmpp.NSClient, "iq", "type", "set").
		Append(xmpp.NewElement(xmpp.NSMAM, "prefs", "default", "never")))
	prefsCancel()
	if err != nil {
		b.Fatalf("sender's archive preferences: %v", err)
	}
	t0 := time.Now()
	for i := range n {
		if err := c.Send(xmpp.NewChat(srv.JID("reader"), fmt.Sprintf("Obs round %05d: HR 72, BP 118/76, SpO2 98%%, no change.", i))); err != nil {
			b.Fatal(err)
		}
		if i%500 == 499 {
			_ = c.RequestAck()
		}
	}
	_ = c.RequestAck()
	stall := time.NewTimer(fillStall)
	defer stall.Stop()
	for got := 0; got < n; {
		select {
		case <-acked:
			got++
			stall.Reset(fillStall)
		case <-stall.C:
			b.Fatalf("server did not ack the archive fill: %d of %d acked, none in the last %v (%.0f s in)", got, n, fillStall, time.Since(t0).Seconds())
		}
	}
	b.Logf("archive fill: %d messages in %.0f s", n, time.Since(t0).Seconds())
}

// rawCatchUp is the server's own limit: sign in with the least possible work
// and read every MAM page off the socket without parsing the messages.
func rawCatchUp(b *testing.B, srv *testserver.Server, page int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, srv.WSURL(), &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		b.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	defer conn.CloseNow()
	send := func(s string) {
		if err := conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			b.Fatal(err)
		}
	}
	read := func() string {
		_, p, err := conn.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return string(p)
	}
	open := `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="` + srv.Domain + `" version="1.0"/>`
	send(open)
	read()
	read()
	send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte("\x00reader\x00"+testserver.Password)) + `</auth>`)
	if f := read(); !strings.Contains(f, "success") {
		b.Fatalf("raw auth: %s", f)
	}
	send(open)
	read()
	read()
	send(`<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	read()
	after, count := "", 0
	for q := 0; ; q++ {
		set := fmt.Sprintf("<max>%d</max>", page)
		if after != "" {
			set += "<after>" + after + "</after>"
		}
		send(fmt.Sprintf(`<iq xmlns="jabber:client" type="set" id="q%d"><query xmlns="urn:xmpp:mam:2" queryid="q%d"><set xmlns="http://jabber.org/protocol/rsm">%s</set></query></iq>`, q, q, set))
		for {
			f := read()
			if strings.Contains(f, "<result") {
				count++
				continue
			}
			if i := strings.Index(f, "<fin"); i >= 0 {
				complete := strings.Contains(f[i:], `complete="true"`) || strings.Contains(f[i:], `complete='true'`)
				l := strings.Index(f, "<last>")
				if complete || l < 0 {
					return count
				}
				after = f[l+6 : strings.Index(f, "</last>")]
				break
			}
		}
	}
}

// wireCatchUp reads the whole archive with a bare wire client that stores
// nothing, with stream management on from the start (as before the engine
// read its archives first) or not yet enabled (late): the difference is what
// the server's resend queue costs.
func wireCatchUp(b *testing.B, srv *testserver.Server, late bool) (int, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("reader"), Resource: "wire",
		Credentials: xmpp.Credentials{Password: testserver.Password}, LateStreamManagement: late})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	count, after := 0, ""
	for {
		p, err := c.QueryArchive(ctx, xmpp.ArchiveQuery{After: after, Max: 250})
		if err != nil {
			b.Fatal(err)
		}
		count += len(p.Results)
		if p.Complete || len(p.Results) == 0 {
			break
		}
		after = p.Last
	}
	if late {
		if err := c.EnableStreamManagement(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return count, time.Since(t0)
}

// catchUpCounts are load-independent counts over the engine's catch-up:
// the writer's page transactions (storePage), read syscalls of the process
// (/proc/self/io syscr: socket reads, including those that found nothing and
// parked the read loop), and context switches of its threads (getrusage:
// voluntary = a thread slept, on the network poller, a channel, a lock or
// fsync; involuntary = preempted).
type catchUpCounts struct {
	commits, reads, vcsw, ivcsw int64
}

func processCounts() catchUpCounts {
	var c catchUpCounts
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	c.vcsw, c.ivcsw = ru.Nvcsw, ru.Nivcsw
	if b, err := os.ReadFile("/proc/self/io"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "syscr: "); ok {
				c.reads, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return c
}

func (c catchUpCounts) since(c0 catchUpCounts) catchUpCounts {
	return catchUpCounts{c.commits - c0.commits, c.reads - c0.reads, c.vcsw - c0.vcsw, c.ivcsw - c0.ivcsw}
}

// engineCatchUp signs a fresh store in and returns once the Session is online,
// which is after the whole archive is stored.
func engineCatchUp(b *testing.B, srv *testserver.Server) (int, time.Duration, time.Duration, catchUpCounts) {
	path := filepath.Join(b.TempDir(), "reader.db")
	st := openStore(b, path)
	defer st.Close()
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: srv.WSURL(), JID: srv.JID("reader"),
		Credentials: xmpp.Credentials{Password: testserver.Password}}, StepTimeout: 2 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	var commits atomic.Int64
	s.pageCommitted = func(int) { commits.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	online := make(chan struct{})
	go func() {
		for e := range s.Events() {
			if cc, ok := e.(ConnectionChanged); ok && cc.State.Connectivity == Online {
				close(online)
			}
		}
	}()
	n0 := processCounts()
	cpu0, t0 := cpuTime(), time.Now()
	go func() { _ = s.Run(ctx) }()
	<-online
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	counts := processCounts().since(n0)
	counts.commits = commits.Load()
	msgs, err := st.Latest(srv.JID("sender"), 1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	return len(msgs), wall, cpu, counts
}

// catchUpArchive is the Prosody holding BenchmarkCatchUp10k's archive,
// filled once per test process and stopped by TestMain: -benchtime 5x calls
// the benchmark twice (N=1, then N=5), and on a busy machine one fill takes
// the server minutes.
var catchUpArchive struct {
	once   gosync.Once
	srv    *testserver.Server
	filled bool
}

func filledArchive(b *testing.B, n int) *testserver.Server {
	catchUpArchive.once.Do(func() {
		srv, err := testserver.Start(testserver.Options{SQL: true, NoOffline: true})
		if err != nil {
			b.Fatalf("prosody: %v", err)
		}
		catchUpArchive.srv = srv
		for _, a := range []string{"sender", "reader"} {
			if err := srv.CreateAccount(a, testserver.Password); err != nil {
				b.Fatal(err)
			}
		}
		fillArchive(b, srv, n)
		catchUpArchive.filled = true
	})
	if !catchUpArchive.filled {
		b.Fatal("the archive fill failed in an earlier run")
	}
	return catchUpArchive.srv
}

// loadAverage is the 1-minute load average, for the log of each round.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// BenchmarkCatchUp10k measures MAM catch-up of 10,000 messages into the
// encrypted store against two baselines in each round: a raw reader of the
// same pages (wall time: the server is the bound) and slixmpp fetching the same
// archive and storing nothing (client CPU per message). Each round is logged
// with the load average; the metrics are medians over the rounds
// (-benchtime 5x: five rounds). server-cpu-ratio is Prosody's own CPU time
// while serving the engine ÷ while serving the raw reader.
func BenchmarkCatchUp10k(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("ROUNDS_CATCHUP_N")); err == nil && v > 0 {
		n = v // a shorter run, to try a change (the fill takes the server ~4 ms per message)
	}
	srv := filledArchive(b, n)
	var wallRatio, engS, rawS, engCPU, slixCPU, cpuRatio, srvRatio, smRatio, lateRatio []float64
	var commits, reads, vcsw, ivcsw []float64
	for i := range b.N {
		load := loadAverage()
		s0, t0 := srv.CPUTime(), time.Now()
		if got := rawCatchUp(b, srv, 250); got != n {
			b.Fatalf("raw reader read %d of %d", got, n)
		}
		rawWall, rawSrv := time.Since(t0), srv.CPUTime()-s0

		// The same read by a bare wire client, with stream management on
		// from the start and enabled after the read.
		var smWall [2]time.Duration
		var smSrv [2]time.Duration
		for k, late := range []bool{false, true} {
			s := srv.CPUTime()
			got, w := wireCatchUp(b, srv, late)
			if got != n {
				b.Fatalf("wire reader read %d of %d", got, n)
			}
			smWall[k], smSrv[k] = w, srv.CPUTime()-s
		}
		smRatio = append(smRatio, smWall[0].Seconds()/rawWall.Seconds())
		lateRatio = append(lateRatio, smWall[1].Seconds()/rawWall.Seconds())

		var prof *os.File
		if path := os.Getenv("ROUNDS_CATCHUP_PROFILE"); path != "" {
			prof, _ = os.Create(path)
			_ = pprof.StartCPUProfile(prof)
		}
		s1 := srv.CPUTime()
		got, wall, cpu, counts := engineCatchUp(b, srv)
		engSrv := srv.CPUTime() - s1
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
		if got != n {
			b.Fatalf("engine stored %d of %d", got, n)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		peer, err := testpeer.Start(ctx, b.TempDir(), testpeer.Options{JID: srv.JID("reader"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile()})
		if err != nil {
			b.Fatal(err)
		}
		res, err := peer.MAM(ctx, "", true)
		peer.Close()
		cancel()
		if err != nil || res.Count != n {
			b.Fatalf("slixmpp read %d of %d: %v", res.Count, n, err)
		}
		perMsg := float64(cpu.Microseconds()) / float64(n)
		slix := res.CPUSeconds * 1e6 / float64(n)
		commits = append(commits, float64(counts.commits))
		reads = append(reads, float64(counts.reads)/float64(n))
		vcsw = append(vcsw, float64(counts.vcsw)/float64(n))
		ivcsw = append(ivcsw, float64(counts.ivcsw)/float64(n))
		wallRatio = append(wallRatio, wall.Seconds()/rawWall.Seconds())
		engS, rawS = append(engS, wall.Seconds()), append(rawS, rawWall.Seconds())
		engCPU, slixCPU = append(engCPU, perMsg), append(slixCPU, slix)
		cpuRatio = append(cpuRatio, slix/perMsg)
		if rawSrv > 0 {
			srvRatio = append(srvRatio, engSrv.Seconds()/rawSrv.Seconds())
		}
		b.Logf("round %d (load %s): raw %.2f s, engine %.2f s, wall ratio %.3f; engine CPU %.1f µs/msg, slixmpp %.1f µs/msg, slixmpp/engine %.2f; Prosody CPU raw %.2f s, engine %.2f s; wire reader SM from the start %.2f s (Prosody %.2f s), SM after the read %.2f s (Prosody %.2f s); load after %s",
			i+1, load, rawWall.Seconds(), wall.Seconds(), wall.Seconds()/rawWall.Seconds(), perMsg, slix, slix/perMsg, rawSrv.Seconds(), engSrv.Seconds(),
			smWall[0].Seconds(), smSrv[0].Seconds(), smWall[1].Seconds(), smSrv[1].Seconds(), loadAverage())
		b.Logf("round %d engine counts: %d commits, %.2f read syscalls/msg, %.2f voluntary and %.2f involuntary context switches/msg",
			i+1, counts.commits, float64(counts.reads)/float64(n), float64(counts.vcsw)/float64(n), float64(counts.ivcsw)/float64(n))
	}
	b.ReportMetric(median(commits), "engine-commits")
	b.ReportMetric(median(reads), "engine-reads/msg")
	b.ReportMetric(median(vcsw), "engine-vcsw/msg")
	b.ReportMetric(median(ivcsw), "engine-ivcsw/msg")
	b.ReportMetric(median(engS), "engine-s")
	b.ReportMetric(median(rawS), "raw-s")
	b.ReportMetric(median(wallRatio), "wall-ratio")
	b.ReportMetric(median(engCPU), "engine-cpu-µs/msg")
	b.ReportMetric(median(slixCPU), "slixmpp-cpu-µs/msg")
	b.ReportMetric(median(cpuRatio), "slixmpp/engine")
	b.ReportMetric(median(smRatio), "wire-sm-early-ratio")
	b.ReportMetric(median(lateRatio), "wire-sm-late-ratio")
	if len(srvRatio) > 0 {
		b.ReportMetric(median(srvRatio), "server-cpu-ratio")
	}
}

// latencyN is the number of messages of the latency benchmarks: 10,000, or
// ROUNDS_LATENCY_N for shorter diagnostic runs.
func latencyN() int {
	if v, err := strconv.Atoi(os.Getenv("ROUNDS_LATENCY_N")); err == nil && v > 0 {
		return v
	}
	return 10_000
}

// reportLatency reports p50, p99, p99.9 and the maximum of lat in ms.
func reportLatency(b *testing.B, lat []time.Duration) {
	lat = slices.Clone(lat)
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(0.999), "p99.9-ms")
	b.ReportMetric(q(1.0), "max-ms")
}

// commitLog collects a store's write-transaction timings
// (securestore.Options.OnCommit) during a latency run.
type commitLog struct {
	mu gosync.Mutex
	c  []securestore.CommitStats
}

func (l *commitLog) add(cs securestore.CommitStats) {
	l.mu.Lock()
	l.c = append(l.c, cs)
	l.mu.Unlock()
}

func (l *commitLog) all() []securestore.CommitStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.c)
}

// latencySample is one message of BenchmarkSendLatency10k: sent at t0, Send
// returned after send (the sender's outbox commit and the hand-off to the
// socket), bob's engine announced it after lat.
type latencySample struct {
	t0        time.Time
	send, lat time.Duration
}

// stallSlow is the latency from which a message counts as slow in the
// stall analysis (the p99 target).
const stallSlow = 20 * time.Millisecond

// stallKinds name the store events a slow message is checked against. A
// commit is a "long fsync" when its page writes and two fdatasyncs took
// 10 ms or more, "long wait" when it waited 10 ms or more for the writer
// before it.
var stallKinds = []string{"tail merge", "remap", "file growth", "long fsync", "long wait", "any commit ≥ 10 ms"}

func stallKindsOf(c securestore.CommitStats) []bool {
	const long = 10 * time.Millisecond
	return []bool{c.Merged > 0, c.Remapped, c.Grew, c.Write >= long, c.Wait >= long, c.Total >= long}
}

// logStalls writes where the time went: commits and fdatasyncs per message
// on each side, each kind of store event with its count and worst duration,
// and how many slow messages (≥ stallSlow) overlap each kind. Counts and
// durations of the events are less sensitive to the machine's load than the
// quantiles are.
func logStalls(b *testing.B, samples []latencySample, logs map[string][]securestore.CommitStats) {
	n := len(samples)
	for _, who := range []string{"alice", "bob"} {
		cs := logs[who]
		var grows, remaps, merges, merged int
		var worst = map[string]time.Duration{}
		var totals []time.Duration
		for _, c := range cs {
			totals = append(totals, c.Total)
			k := stallKindsOf(c)
			for i, name := range stallKinds {
				if k[i] && c.Total > worst[name] {
					worst[name] = c.Total
				}
			}
			if c.Grew {
				grows++
			}
			if c.Remapped {
				remaps++
			}
			if c.Merged > 0 {
				merges++
				merged += c.Merged
				if c.Merge > worst["merge work"] {
					worst["merge work"] = c.Merge
				}
			}
		}
		slices.Sort(totals)
		qt := func(p float64) time.Duration {
			if len(totals) == 0 {
				return 0
			}
			return totals[int(p*float64(len(totals)-1))]
		}
		b.Logf("%s store: %d commits (%.2f per message, %.2f fdatasyncs per message + %d file-growth fsyncs); commit p50 %v p99 %v max %v; "+
			"tail merges %d (%d entries, worst commit %v, merge work %v); remaps %d (worst commit %v); file growths %d (worst %v); long fsyncs worst %v",
			who, len(cs), float64(len(cs))/float64(n), 2*float64(len(cs))/float64(n), grows, qt(0.5).Round(time.Microsecond), qt(0.99).Round(time.Microsecond), qt(1).Round(time.Microsecond),
			merges, merged, worst["tail merge"].Round(time.Microsecond), worst["merge work"].Round(time.Microsecond), remaps, worst["remap"].Round(time.Microsecond),
			grows, worst["file growth"].Round(time.Microsecond), worst["long fsync"].Round(time.Microsecond))
	}
	// Which slow messages overlap which kind of event (on either store).
	// Commits are sorted by start; a message's window is searched from the
	// longest commit's length before it.
	type indexed struct {
		cs    []securestore.CommitStats
		kinds [][]bool
		long  time.Duration
	}
	idx := map[string]*indexed{}
	for _, who := range []string{"alice", "bob"} {
		x := &indexed{cs: slices.Clone(logs[who])}
		slices.SortFunc(x.cs, func(a, b securestore.CommitStats) int { return a.Start.Compare(b.Start) })
		for _, c := range x.cs {
			x.kinds = append(x.kinds, stallKindsOf(c))
			x.long = max(x.long, c.Total)
		}
		idx[who] = x
	}
	hit := make([]int, len(stallKinds))
	slow, explained := 0, 0
	type ranked struct {
		s    latencySample
		why  []string
		aMax time.Duration
		bMax time.Duration
	}
	var worst []ranked
	for _, s := range samples {
		if s.lat < stallSlow {
			continue
		}
		slow++
		end := s.t0.Add(s.lat)
		r := ranked{s: s}
		seen := make([]bool, len(stallKinds))
		for _, who := range []string{"alice", "bob"} {
			x := idx[who]
			from := s.t0.Add(-x.long)
			i, _ := slices.BinarySearchFunc(x.cs, from, func(c securestore.CommitStats, t time.Time) int { return c.Start.Compare(t) })
			for ; i < len(x.cs) && !x.cs[i].Start.After(end); i++ {
				c := x.cs[i]
				if c.Start.Add(c.Total).Before(s.t0) {
					continue
				}
				if who == "alice" {
					r.aMax = max(r.aMax, c.Total)
				} else {
					r.bMax = max(r.bMax, c.Total)
				}
				for k, on := range x.kinds[i] {
					if on && !seen[k] {
						seen[k] = true
						r.why = append(r.why, who+" "+stallKinds[k])
					}
				}
			}
		}
		overlaps := false
		for i, v := range seen {
			if v {
				hit[i]++
				overlaps = true
			}
		}
		if overlaps {
			explained++
		}
		worst = append(worst, r)
	}
	var parts []string
	for i, name := range stallKinds {
		parts = append(parts, fmt.Sprintf("%s %d", name, hit[i]))
	}
	b.Logf("slow messages (≥ %v): %d of %d; overlapping: %s; with no commit ≥ 10 ms or store event: %d",
		stallSlow, slow, n, strings.Join(parts, ", "), slow-explained)
	slices.SortFunc(worst, func(x, y ranked) int { return int(y.s.lat - x.s.lat) })
	for _, r := range worst[:min(len(worst), 10)] {
		b.Logf("  slow: %v (Send %v; longest overlapping commit alice %v, bob %v) %s", r.s.lat.Round(time.Microsecond), r.s.send.Round(time.Microsecond),
			r.aMax.Round(time.Microsecond), r.bMax.Round(time.Microsecond), strings.Join(r.why, ", "))
	}
}

// BenchmarkSendLatency10k: send → the peer's engine has stored it, over
// loopback, one message at a time, 10,000 times. Prosody runs with its default
// flat-file storage here: with SQLite every message costs the server two
// synchronous SQLite commits (both archives), which is the server's latency,
// not the client's (BenchmarkSendLatencyWire measures that floor).
//
// Both stores report every commit's timing (securestore.Options.OnCommit),
// and the run logs which store events the slow messages overlap (logStalls).
func BenchmarkSendLatency10k(b *testing.B) {
	n := latencyN()
	srv := testserver.StartT(b, testserver.Options{}, "alice", "bob")
	logs := map[string]*commitLog{"alice": {}, "bob": {}}
	alice := startDevice(b, srv, "alice", deviceOptions{onCommit: logs["alice"].add})
	bob := startDevice(b, srv, "bob", deviceOptions{onCommit: logs["bob"].add})
	// Read bob's events directly: each MessagesAdded ends one measurement.
	arrived := make(chan string, 16)
	bob.mu.Lock()
	bob.events = nil
	bob.mu.Unlock()
	go func() {
		seen := 0
		for range bob.notify {
			bob.mu.Lock()
			evs := bob.events[seen:]
			seen = len(bob.events)
			bob.mu.Unlock()
			for _, e := range evs {
				if ma, ok := e.(MessagesAdded); ok {
					for _, m := range ma.Messages {
						arrived <- m.Body
					}
				}
			}
		}
	}()
	var samples []latencySample
	var lat []time.Duration
	for range b.N {
		lat, samples = lat[:0], samples[:0]
		for _, l := range logs {
			l.mu.Lock()
			l.c = l.c[:0]
			l.mu.Unlock()
		}
		for i := range n {
			body := fmt.Sprintf("lat-%d-%d", b.N, i)
			t0 := time.Now()
			if _, err := alice.session.Send(bob.jid, body, SendOptions{}); err != nil {
				b.Fatal(err)
			}
			sent := time.Since(t0)
			for got := <-arrived; got != body; got = <-arrived {
			}
			lat = append(lat, time.Since(t0))
			samples = append(samples, latencySample{t0: t0, send: sent, lat: lat[len(lat)-1]})
		}
	}
	reportLatency(b, lat)
	logStalls(b, samples, map[string][]securestore.CommitStats{"alice": logs["alice"].all(), "bob": logs["bob"].all()})
}

// BenchmarkSendLatencyWire is the floor under BenchmarkSendLatency10k: the same
// loopback round through Prosody with two bare wire clients that store
// nothing, over as many messages.
func BenchmarkSendLatencyWire(b *testing.B) {
	n := latencyN()
	srv := testserver.StartT(b, testserver.Options{}, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	got := make(chan string, 16)
	bob, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("bob"), Credentials: xmpp.Credentials{Password: testserver.Password},
		OnMessage: func(m *xmpp.Message) {
			if m.Body != "" {
				got <- m.Body
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	defer bob.Close()
	if err := bob.SetPresence("", ""); err != nil {
		b.Fatal(err)
	}
	alice, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("alice"), Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		b.Fatal(err)
	}
	defer alice.Close()
	var lat []time.Duration
	for range b.N {
		lat = lat[:0]
		for i := range n {
			body := fmt.Sprintf("wire-%d", i)
			t0 := time.Now()
			if err := alice.Send(xmpp.NewChat(srv.JID("bob"), body)); err != nil {
				b.Fatal(err)
			}
			for g := <-got; g != body; g = <-got {
			}
			lat = append(lat, time.Since(t0))
		}
	}
	reportLatency(b, lat)
}

// BenchmarkStoreArchive10k is the client's own share of a catch-up, without a
// server: 40 pages of 250 MAM results as Prosody frames them, each decoded and
// parsed as the read loop does, then converted and committed page by page
// (convertPage, storePage) into a fresh encrypted store. It is the target for
// profiling the read → store path (-cpuprofile, -benchmem); it leaves out the
// socket, the page round trips and the goroutine hand-offs, which
// BenchmarkCatchUp10k includes.
func BenchmarkStoreArchive10k(b *testing.B) {
	const n = 10_000
	page := 250
	if v, err := strconv.Atoi(os.Getenv("ROUNDS_STORE_PAGE")); err == nil && v > 0 {
		page = v // diagnostic: what a larger commit per step would save
	}
	frames := make([][]byte, n)
	for i := range n {
		id := fmt.Sprintf("%016d", i)
		frames[i] = fmt.Appendf(nil, `<message xmlns='jabber:client' to='reader@rounds.test/dev1'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='%s'>`+
			`<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-03-14T09:26:53.589Z'/>`+
			`<message xmlns='jabber:client' from='sender@rounds.test/dev2' to='reader@rounds.test' type='chat' id='m%s'>`+
			`<body>Obs round %05d: HR 72, BP 118/76, SpO2 98%%, no change.</body><request xmlns='urn:xmpp:receipts'/>`+
			`<markable xmlns='urn:xmpp:chat-markers:0'/><origin-id xmlns='urn:xmpp:sid:0' id='m%s'/></message></forwarded></result></message>`, id, id, i, id)
	}
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		st := openStore(b, filepath.Join(b.TempDir(), "reader.db"))
		s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: "ws://127.0.0.1:1/xmpp-websocket", JID: "reader@rounds.test"}})
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for range s.Events() {
			}
		}()
		b.StartTimer()
		cpu0 := cpuTime()
		var reuse []securestore.Message // as catchUpArchive's writer
		for p := 0; p < n; p += page {
			var ap xmpp.ArchivePage
			for _, f := range frames[p : p+page] {
				el, err := xmpp.DecodeElement(f, xmpp.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				r := el.Child(xmpp.NSMAM, "result")
				fwd := r.Child(xmpp.NSForward, "forwarded")
				m := xmpp.ParseMessage(fwd.Child(xmpp.NSClient, "message"))
				ap.Results = append(ap.Results, xmpp.ArchivedMessage{ID: r.Attr("id"), Timestamp: xmpp.ParseDelay(fwd).Stamp, Message: m})
			}
			ap.Last = ap.Results[len(ap.Results)-1].ID
			cp := s.convertPage(ap, s.account, reuse)
			cp.cursor = ap.Last
			if err := s.storePage(s.cursorKey(""), cp); err != nil {
				b.Fatal(err)
			}
			reuse = reusePage(cp.batch)
		}
		cpu += cpuTime() - cpu0
		b.StopTimer()
		s.events.close()
		if got, _ := st.Latest("sender@rounds.test", 1); len(got) != 1 {
			b.Fatal("nothing stored")
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/msg")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/msg")
}
