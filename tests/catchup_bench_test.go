//go:build linux

package tests

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fynetest "fyne.io/fyne/v2/test"

	"rounds/app"
	"rounds/internal/archivebench"
	"rounds/internal/testserver"
	"rounds/sync"
	"rounds/ui"
)

// BenchmarkAppCatchUp10k measures catch-up as the user's device does it:
// app.Unlock of a signed-in profile (the platform's real Argon2id, outside
// the measured window) against a real Prosody whose archive holds 10,000
// messages for the account, read in pages of 250 into the encrypted store,
// with the real ui.Controller over Fyne's test driver following the
// Client's changes and reloading the inbox as the desktop does. In each
// round, against the same server: a raw reader of the same pages (the
// server's own limit) and slixmpp reading the archive (storing nothing).
// docs/BENCHMARKS.md, "Catch-up through the app", says what each figure
// includes; run:
//
//	go test ./tests/ -run '^$' -bench AppCatchUp10k -benchtime 5x -count 1 -timeout 30m -v
//
// The window of a round opens when the app dials the server (after the
// KDF and the store's opening) and closes when the Client reports Online
// (signed in, caught up, outbox flushed). ROUNDS_APP_CATCHUP_PROFILE=file
// writes a CPU profile of the last round's window.
func BenchmarkAppCatchUp10k(b *testing.B) {
	const pin = "2468"
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("ROUNDS_APP_CATCHUP_N")); err == nil && v > 0 {
		n = v // shorter diagnostic runs
	}
	arch := appArchive(b, n, pin)
	srv := arch.srv
	var wallRatio, appS, rawS, appCPU, slixCPU, cpuRatio, srvRatio, reloads, reloadRate, shellMS []float64
	for i := range b.N {
		load := archivebench.LoadAverage()
		s0, t0 := srv.CPUTime(), time.Now()
		if got := archivebench.Raw(b, srv, "reader", 250); got != n {
			b.Fatalf("raw reader read %d of %d", got, n)
		}
		rawWall, rawSrv := time.Since(t0), srv.CPUTime()-s0

		profile := ""
		if i == b.N-1 {
			profile = os.Getenv("ROUNDS_APP_CATCHUP_PROFILE")
		}
		r := appCatchUp(b, arch, pin, profile)
		if r.stored != n {
			b.Fatalf("the app stored %d of %d", r.stored, n)
		}

		got, slixSec := archivebench.Slixmpp(b, srv, "reader")
		if got != n {
			b.Fatalf("slixmpp read %d of %d", got, n)
		}
		perMsg := float64(r.cpu.Microseconds()) / float64(n)
		slix := slixSec * 1e6 / float64(n)
		wallRatio = append(wallRatio, r.wall.Seconds()/rawWall.Seconds())
		appS, rawS = append(appS, r.wall.Seconds()), append(rawS, rawWall.Seconds())
		appCPU, slixCPU = append(appCPU, perMsg), append(slixCPU, slix)
		cpuRatio = append(cpuRatio, slix/perMsg)
		if rawSrv > 0 {
			srvRatio = append(srvRatio, r.srv.Seconds()/rawSrv.Seconds())
		}
		shellMS = append(shellMS, float64(r.shell.Microseconds())/1000)
		reloads = append(reloads, float64(r.inboxReloads))
		reloadRate = append(reloadRate, float64(r.inboxReloads)/r.wall.Seconds())
		b.Logf("round %d (load %s): raw %.2f s, app %.2f s, wall ratio %.3f; app CPU %.1f µs/msg, slixmpp %.1f µs/msg, slixmpp/app %.2f; inbox reloads %d (%.1f/s), conversation reloads %d; building the shell %.0f ms CPU (in the app's); Prosody CPU raw %.2f s, app %.2f s; unlock (KDF, store) %.2f s before the window; load after %s",
			i+1, load, rawWall.Seconds(), r.wall.Seconds(), r.wall.Seconds()/rawWall.Seconds(), perMsg, slix, slix/perMsg,
			r.inboxReloads, float64(r.inboxReloads)/r.wall.Seconds(), r.convReloads, float64(r.shell.Microseconds())/1000, rawSrv.Seconds(), r.srv.Seconds(), r.unlock.Seconds(), archivebench.LoadAverage())
	}
	b.ReportMetric(archivebench.Median(appS), "app-s")
	b.ReportMetric(archivebench.Median(rawS), "raw-s")
	b.ReportMetric(archivebench.Median(wallRatio), "wall-ratio")
	b.ReportMetric(archivebench.Median(appCPU), "app-cpu-µs/msg")
	b.ReportMetric(archivebench.Median(slixCPU), "slixmpp-cpu-µs/msg")
	b.ReportMetric(archivebench.Median(cpuRatio), "slixmpp/app")
	b.ReportMetric(archivebench.Median(shellMS), "shell-cpu-ms")
	b.ReportMetric(archivebench.Median(reloads), "inbox-reloads")
	b.ReportMetric(archivebench.Median(reloadRate), "inbox-reloads/s")
	if len(srvRatio) > 0 {
		b.ReportMetric(archivebench.Median(srvRatio), "server-cpu-ratio")
	}
}

// appArchiveState is the Prosody with the filled archive and a profile
// signed in before the fill (so its store has no archive cursor), kept for
// the process: -benchtime 5x calls the benchmark twice (N=1, then N=5).
type appArchiveState struct {
	srv      *testserver.Server
	template string // DataDir of the signed-in profile, copied for each round
	filled   bool
}

var appArchiveOnce struct {
	once gosync.Once
	st   *appArchiveState
}

// stopAppArchive stops the server and removes the template (TestMain).
func stopAppArchive() {
	if st := appArchiveOnce.st; st != nil {
		st.srv.Stop()
		if st.template != "" {
			os.RemoveAll(st.template)
		}
	}
}

func appArchive(b *testing.B, n int, pin string) *appArchiveState {
	appArchiveOnce.once.Do(func() {
		srv, err := testserver.Start(testserver.Options{SQL: true, NoOffline: true})
		if err != nil {
			b.Fatalf("prosody: %v", err)
		}
		st := &appArchiveState{srv: srv}
		appArchiveOnce.st = st
		for _, a := range []string{"sender", "reader"} {
			if err := srv.CreateAccount(a, testserver.Password); err != nil {
				b.Fatal(err)
			}
		}
		dir, err := os.MkdirTemp("", "rounds-appbench-")
		if err != nil {
			b.Fatal(err)
		}
		st.template = dir
		cfg := app.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cl, err := app.SignIn(ctx, cfg, srv.JID("reader"), testserver.Password, srv.WSURL(), []byte(pin))
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for range cl.Changes() {
			}
		}()
		waitOnline(b, cl)
		cl.SignOut()
		archivebench.Fill(b, srv, "reader", n)
		st.filled = true
	})
	if appArchiveOnce.st == nil || !appArchiveOnce.st.filled {
		b.Fatal("the archive fill failed in an earlier run")
	}
	return appArchiveOnce.st
}

// appRound is one catch-up through the app.
type appRound struct {
	stored                    int
	wall, cpu, srv, unlock    time.Duration
	shell                     time.Duration // CPU of building the shell (in cpu)
	inboxReloads, convReloads int
}

// dialMark records the moment the app first dials the server: the
// measured window opens there, after the KDF and the store's opening.
type dialMark struct {
	once  gosync.Once
	at    time.Time
	cpu   time.Duration
	srv   time.Duration
	onset func()
	base  http.RoundTripper
	srvOf *testserver.Server
}

func (m *dialMark) RoundTrip(r *http.Request) (*http.Response, error) {
	m.once.Do(func() {
		if m.onset != nil {
			m.onset()
		}
		m.at, m.cpu, m.srv = time.Now(), archivebench.CPUTime(), m.srvOf.CPUTime()
	})
	return m.base.RoundTrip(r)
}

// threadCPU is the calling thread's CPU time (RUSAGE_THREAD).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func appCatchUp(b *testing.B, arch *appArchiveState, pin, profile string) appRound {
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS(arch.template)); err != nil {
		b.Fatal(err)
	}
	var prof *os.File
	mark := &dialMark{base: http.DefaultTransport, srvOf: arch.srv}
	if profile != "" {
		mark.onset = func() {
			prof, _ = os.Create(filepath.Clean(profile))
			_ = pprof.StartCPUProfile(prof)
		}
	}
	cfg := app.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler),
		HTTPClient: &http.Client{Transport: mark}}

	a := fynetest.NewApp()
	defer a.Quit()
	w := fynetest.NewWindow(nil)
	defer w.Close()
	w.Resize(fyne.NewSize(1280, 800))
	var inbox, conv atomic.Int64
	var closed atomic.Bool // counts stop at the end of the window
	ctl := &ui.Controller{App: a, Window: w, Config: cfg, Applied: func(ch app.Change) {
		if closed.Load() {
			return
		}
		switch ch.Kind {
		case app.InboxChanged:
			inbox.Add(1)
		case app.ConversationChanged:
			conv.Add(1)
		}
	}}

	t0 := time.Now()
	cl, err := app.Unlock(context.Background(), cfg, []byte(pin))
	if err != nil {
		b.Fatal(err)
	}
	// The shell is built on this goroutine (Follow returns once it is on
	// the window): its CPU, counted by this thread alone, is the fixed
	// part of the window's CPU (fonts loaded, text measured).
	runtime.LockOSThread()
	th0 := threadCPU()
	ctl.Follow(cl)
	shell := threadCPU() - th0
	runtime.UnlockOSThread()
	for cl.Connection().Connectivity != sync.Online {
		if time.Since(t0) > 5*time.Minute {
			b.Fatalf("not online after 5 minutes: %+v", cl.Connection())
		}
		time.Sleep(2 * time.Millisecond)
	}
	end, cpu, srv := time.Now(), archivebench.CPUTime(), arch.srv.CPUTime()
	closed.Store(true)
	if prof != nil {
		pprof.StopCPUProfile()
		prof.Close()
	}
	r := appRound{wall: end.Sub(mark.at), cpu: cpu - mark.cpu, srv: srv - mark.srv, unlock: mark.at.Sub(t0), shell: shell,
		inboxReloads: int(inbox.Load()), convReloads: int(conv.Load())}
	rows, err := cl.Inbox("")
	if err != nil {
		b.Fatal(err)
	}
	for _, row := range rows {
		if row.ID == arch.srv.JID("sender") {
			r.stored = row.Unread
		}
	}
	cl.SignOut()
	return r
}
