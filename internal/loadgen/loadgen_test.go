//go:build linux

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// accounts creates n accounts (load-000…) on srv, several at a time: one
// prosodyctl run costs ~0.1-0.5 s, an ejabberd HTTP API call ~50 ms. On a
// Prosody with SQLite storage one at a time: concurrent prosodyctl runs
// fail with "database is locked".
func accounts(t testing.TB, srv *testserver.Server, n int, sqlite bool) []Account {
	t.Helper()
	out := make([]Account, n)
	sem := make(chan struct{}, map[bool]int{false: 8, true: 1}[sqlite])
	errc := make(chan error, n)
	var wg gosync.WaitGroup
	for i := range n {
		user := fmt.Sprintf("load-%03d", i)
		out[i] = Account{JID: srv.JID(user), Password: testserver.Password}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := srv.CreateAccount(user, testserver.Password); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return out
}

// checkInvariants fails t unless every message was stored exactly once, by
// its recipient only, and the stores read back agree.
func checkInvariants(t testing.TB, rep *Report) {
	t.Helper()
	sent := 0
	for _, s := range rep.Steps {
		sent += s.Sent
	}
	if sent == 0 {
		t.Fatal("no message sent")
	}
	if rep.Lost != 0 || rep.Duplicated != 0 || rep.Misrouted != 0 || rep.StoreMismatch != 0 {
		t.Fatalf("invariants broken over %d messages: lost %d, duplicated %d, misrouted %d, store mismatches %d",
			sent, rep.Lost, rep.Duplicated, rep.Misrouted, rep.StoreMismatch)
	}
}

// TestLoadShort is the CI proof that the generator works against each real
// server of the matrix: 20 clients, two short steps, every message once at
// the right recipient (events and the recipients' stores read back), the
// figures filled in. It asserts no latency (that is the benchmark's).
func TestLoadShort(t *testing.T) { testserver.EachServer(t, testLoadShort) }

func testLoadShort(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{})
	cfg := Config{
		URL: srv.WSURL(), Accounts: accounts(t, srv, 20, false), Dir: t.TempDir(),
		Rates: []float64{5, 20}, Step: 3 * time.Second, Drain: 10 * time.Second,
		// A loaded CI machine may miss 1 s; the test is about delivery.
		Target:    time.Hour,
		ServerCPU: srv.CPUTime, ServerPIDs: func() []int { return []int{srv.PID()} }, Seed: 1, Progress: func(s string) { t.Log(s) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Table(&b)
	t.Log("\n" + b.String())
	if len(rep.Steps) != 2 {
		t.Fatalf("%d steps run, want 2", len(rep.Steps))
	}
	for _, s := range rep.Steps {
		if want := int(s.Rate * 3); s.Sent != want || s.Received != s.Sent || s.P50 <= 0 || s.Max < s.P99 {
			t.Errorf("step %v: sent %d (want %d), received %d, p50 %v, p99 %v, max %v", s.Rate, s.Sent, want, s.Received, s.P50, s.P99, s.Max)
		}
	}
	if rep.SignInServerCPU <= 0 || rep.Steps[1].ServerCPU <= 0 {
		t.Errorf("server CPU not measured: sign-in %v, step %v", rep.SignInServerCPU, rep.Steps[1].ServerCPU)
	}
	checkInvariants(t, rep)
}

// TestLoadRefusesOffTestAddresses: the bounds are checked before anything
// connects.
func TestLoadRefusesOffTestAddresses(t *testing.T) {
	two := []Account{{"a@x", "p"}, {"b@x", "p"}}
	base := Config{URL: "ws://127.0.0.1:5280/xmpp-websocket", Accounts: two, Rates: []float64{5}, Step: time.Second}
	for name, mod := range map[string]func(*Config){
		"public host":    func(c *Config) { c.URL = "wss://chat.hospital.example/ws" },
		"public address": func(c *Config) { c.URL = "wss://203.0.113.5/ws" },
		"second node off": func(c *Config) {
			c.URL = "wss://192.0.2.11:5443/ws wss://10.0.0.2:5443/ws"
		},
		"any address":                func(c *Config) { c.URL = "ws://0.0.0.0:5280/ws" },
		"any address v6":             func(c *Config) { c.URL = "ws://[::]:5280/ws" },
		"v4-mapped public":           func(c *Config) { c.URL = "ws://[::ffff:203.0.113.5]:5280/ws" },
		"loopback userinfo":          func(c *Config) { c.URL = "ws://127.0.0.1@chat.hospital.example/ws" },
		"name with an address in it": func(c *Config) { c.URL = "wss://192.0.2.11.nip.io/ws" },
		"too many clients":           func(c *Config) { c.Accounts = make([]Account, MaxClients+1) },
		"rate":                       func(c *Config) { c.Rates = []float64{MaxRate + 1} },
		"long step":                  func(c *Config) { c.Step = MaxStep + time.Second },
		"long run": func(c *Config) {
			c.Rates = []float64{1, 2, 3, 4, 5, 6, 7, 8}
			c.Step, c.Drain = MaxStep, MaxStep
		},
	} {
		c := base
		mod(&c)
		if _, err := Run(context.Background(), c); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: err %v, want ErrRefused", name, err)
		}
	}
	// A localhost that resolves off the machine (a hosts file without it,
	// and DNS answering) is refused.
	lookupIP = func(string) ([]net.IP, error) { return []net.IP{net.ParseIP("203.0.113.5")}, nil }
	c := base
	c.URL = "ws://localhost:5280/ws"
	err := c.Check()
	lookupIP = net.LookupIP
	if !errors.Is(err, ErrRefused) {
		t.Errorf("localhost resolving to 203.0.113.5: err %v, want ErrRefused", err)
	}
	for _, ok := range []string{"ws://127.0.0.1:1/x", "ws://[::ffff:127.0.0.1]:1/x", "ws://localhost:1/x", "ws://[::1]:1/x", "wss://192.0.2.11:1/ws wss://192.0.2.12:1/ws"} {
		c := base
		c.URL = ok
		if err := c.Check(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// The load benchmark (docs/BENCHMARKS.md, "Load"; make test-load): 200
// clients on one Prosody and on the two-node ejabberd cluster, stepping the
// total rate until p99 send → stored passes 1 s. ROUNDS_LOAD_CLIENTS,
// ROUNDS_LOAD_RATES (comma-separated) and ROUNDS_LOAD_STEP narrow it.
func loadConfig(b *testing.B) Config {
	cfg := Config{Rates: []float64{5, 10, 20, 50, 100, 200, 300, 500}, Step: 15 * time.Second, Drain: 5 * time.Second, Seed: 7}
	if v := os.Getenv("ROUNDS_LOAD_RATES"); v != "" {
		cfg.Rates = nil
		for _, f := range strings.Split(v, ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Rates = append(cfg.Rates, x)
		}
	}
	if d, err := time.ParseDuration(os.Getenv("ROUNDS_LOAD_STEP")); err == nil {
		cfg.Step = d
	}
	cfg.Progress = func(s string) { b.Log(s) }
	return cfg
}

func loadClients() int {
	if n, err := strconv.Atoi(os.Getenv("ROUNDS_LOAD_CLIENTS")); err == nil && n >= 2 {
		return n
	}
	return 200
}

func report(b *testing.B, name string, rep *Report) {
	var s strings.Builder
	rep.Table(&s)
	b.Logf("%s, load average at the end %.1f:\n%s", name, loadAverage(), s.String())
	b.ReportMetric(rep.Best, "best-msg/s")
	b.ReportMetric(rep.SignIn.Seconds(), "signin-s")
	b.ReportMetric(float64(rep.PerMessage.Microseconds())/1000, "server-cpu-ms/msg")
	checkInvariants(b, rep)
}

func BenchmarkLoadProsody(b *testing.B) {
	for range b.N {
		// Flat files by default, as every Prosody test; ROUNDS_LOAD_SQL=1
		// archives in SQLite, as docs/ADMIN.md advises a real site.
		sqlite := os.Getenv("ROUNDS_LOAD_SQL") == "1"
		srv := testserver.StartT(b, testserver.Options{SQL: sqlite})
		cfg := loadConfig(b)
		cfg.URL, cfg.Accounts, cfg.Dir = srv.WSURL(), accounts(b, srv, loadClients(), sqlite), b.TempDir()
		cfg.ServerCPU, cfg.ServerCores = srv.CPUTime, 1 // one Lua thread
		cfg.ServerPIDs = func() []int { return []int{srv.PID()} }
		b.Logf("prosody: load average %.1f", loadAverage())
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		report(b, "prosody", rep)
	}
}

func BenchmarkLoadCluster(b *testing.B) {
	testserver.NeedCluster(b)
	for range b.N {
		cl := testserver.StartEjabberdClusterT(b, 2)
		cfg := loadConfig(b)
		cfg.URL = strings.Join(cl.WSSURLs(), " ")
		cfg.HTTPClient, cfg.TLSConfig = cl.HTTPClient(), cl.Nodes[0].TLSConfig()
		cfg.Accounts, cfg.Dir = accounts(b, cl.Nodes[0], loadClients(), false), b.TempDir()
		cfg.ServerCPU = func() time.Duration { return cl.Nodes[0].CPUTime() + cl.Nodes[1].CPUTime() }
		cfg.ServerCores = 2 // the machine's: both nodes' schedulers share it
		cfg.ServerPIDs = func() []int { return []int{cl.Nodes[0].PID(), cl.Nodes[1].PID()} }
		b.Logf("cluster: load average %.1f", loadAverage())
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		report(b, "ejabberd cluster", rep)
	}
}
