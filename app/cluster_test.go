//go:build linux

package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/faultproxy"
	"rounds/internal/testserver"
	"rounds/internal/wardnet"
)

// The desktop's sign-in against a two-node ejabberd cluster (issue 17 part
// 2): the sign-in screen calls SignIn with what the user typed in the server
// field, or nothing (host-meta). Here one user leaves the field empty and the
// hospital's host-meta lists both nodes; the other types both nodes' URLs.

// clusterHostMeta serves https://<domain>/.well-known/host-meta listing urls
// with the nodes' certificate (it covers the domain), and returns an
// HTTPClient that reaches it for the domain and the nodes through the
// clients' namespace, as a ward PC reaches the hospital's web server and its
// XMPP nodes.
func clusterHostMeta(t *testing.T, cl *testserver.Cluster, urls []string) *http.Client {
	t.Helper()
	var links strings.Builder
	for _, u := range urls {
		fmt.Fprintf(&links, "  <Link rel=\"urn:xmpp:alt-connections:websocket\" href=\"%s\"/>\n", u)
	}
	doc := "<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n" + links.String() + "</XRD>\n"
	cert, err := tls.LoadX509KeyPair(cl.Nodes[0].CertFile(), filepath.Join(cl.Nodes[0].Dir, "certs", cl.Domain+".key"))
	if err != nil {
		t.Fatal(err)
	}
	hm := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/host-meta" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/xrd+xml")
		_, _ = w.Write([]byte(doc))
	}))
	hm.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	hm.StartTLS()
	t.Cleanup(hm.Close)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: cl.Nodes[0].TLSConfig(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == cl.Domain+":443" {
				var d net.Dialer
				return d.DialContext(ctx, network, hm.Listener.Addr().String())
			}
			return cl.Dial(ctx, network, addr)
		},
	}}
}

// onCluster signs user in through SignIn with serverField as typed (empty:
// host-meta) and waits until online.
func onCluster(t *testing.T, cl *testserver.Cluster, hc *http.Client, user, serverField string) *device {
	t.Helper()
	cfg := testConfig(t)
	cfg.HTTPClient = hc
	cfg.TLSConfig = cl.Nodes[0].TLSConfig()
	cfg.ConnectTimeout = 30 * time.Second
	cfg.Policy = Policy{LockAfter: 24 * time.Hour}
	c, err := SignIn(context.Background(), cfg, cl.JID(user), testserver.Password, serverField, testPIN)
	if err != nil {
		t.Fatalf("sign in %s with server field %q: %v", user, serverField, err)
	}
	d := &device{t: t, cfg: cfg, c: c, notifier: cfg.Notifier.(*fakeNotifier), sound: cfg.Sound.(*fakeSound), jid: cl.JID(user)}
	d.collect()
	t.Cleanup(c.SignOut)
	d.waitOnline()
	return d
}

// bodiesIn counts each body d holds in conv, received or sent.
func bodiesIn(t *testing.T, d *device, conv string, outgoing bool) map[string]int {
	t.Helper()
	rows, err := d.c.Messages(conv, 100000)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, r := range rows {
		if r.Outgoing == outgoing {
			m[r.Body]++
		}
	}
	return m
}

// TestSignInClusterSurvivesNodeKill: the nurse signs in with an empty
// server field (host-meta lists node 1, then node 2), the doctor with both
// URLs typed in the field, node 2 first. Each talks; the node the nurse is
// on is SIGKILLed mid-conversation, then (after it is back) the doctor's:
// each time the app goes offline, comes back on the other node by itself,
// and every message sent before, during and after is in the other's
// conversation exactly once.
func TestSignInClusterSurvivesNodeKill(t *testing.T) {
	testserver.NeedCluster(t)
	cl := testserver.StartEjabberdClusterT(t, 2, "nurse", "doctor")
	urls := cl.WSSURLs()
	hc := clusterHostMeta(t, cl, urls)
	nurse := onCluster(t, cl, hc, "nurse", "")
	doctor := onCluster(t, cl, hc, "doctor", urls[1]+" "+urls[0])
	toDoctor, err := nurse.c.StartChat(doctor.jid)
	if err != nil {
		t.Fatal(err)
	}
	toNurse, err := doctor.c.StartChat(nurse.jid)
	if err != nil {
		t.Fatal(err)
	}

	total := 0
	for _, k := range []struct {
		node         int
		mover, other *device
		conv, back   string
	}{{0, nurse, doctor, toDoctor, toNurse}, {1, doctor, nurse, toNurse, toDoctor}} {
		tag := fmt.Sprintf("kill-node%d", k.node+1)
		send := func(part string) {
			for i := range 5 {
				if _, err := k.mover.c.Send(k.conv, fmt.Sprintf("%s-%s-%d", tag, part, i)); err != nil {
					t.Fatalf("send %s: %v", part, err)
				}
			}
			total += 5
		}
		has := func(parts ...string) bool {
			g := bodiesIn(t, k.other, k.mover.jid, false)
			for _, part := range parts {
				for i := range 5 {
					if g[fmt.Sprintf("%s-%s-%d", tag, part, i)] < 1 {
						return false
					}
				}
			}
			return true
		}
		send("before")
		waitFor(t, "the messages before the kill", 60*time.Second, func() bool { return has("before") })
		killed := time.Now()
		cl.Kill(k.node)
		send("during")
		waitFor(t, k.mover.jid+" offline after the kill", 60*time.Second, func() bool {
			return k.mover.c.Connection().Connectivity != Online
		})
		waitFor(t, k.mover.jid+" online on the other node", 90*time.Second, func() bool {
			c := k.mover.c.Connection()
			return c.Connectivity == Online && c.Since.After(killed)
		})
		t.Logf("%s: %s back online %v after the SIGKILL", tag, k.mover.jid, time.Since(killed).Round(time.Millisecond))
		send("after")
		// The other side answers over the surviving node.
		if _, err := k.other.c.Send(k.back, tag+"-reply"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the reply after the failover", 60*time.Second, func() bool {
			return bodiesIn(t, k.mover, k.other.jid, false)[tag+"-reply"] == 1
		})
		waitFor(t, "every message of "+tag, 60*time.Second, func() bool { return has("before", "during", "after") })
		if err := cl.Restart(k.node); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second) // a duplicate would arrive now
	for _, side := range []struct {
		d    *device
		conv string
	}{{doctor, nurse.jid}, {nurse, doctor.jid}} {
		for body, n := range bodiesIn(t, side.d, side.conv, false) {
			if n != 1 {
				t.Errorf("%s holds %q %d times", side.d.jid, body, n)
			}
		}
	}
	if n := len(bodiesIn(t, doctor, nurse.jid, false)) + len(bodiesIn(t, nurse, doctor.jid, false)); n != total+2 {
		t.Errorf("%d distinct messages received, want %d", n, total+2)
	}
}

// TestClusterWardLink: the ward Wi-Fi profiles of TestWardLinkMixedLoad
// (busy ward, bad corner, a 3–8 s handoff, 256 kbit/s) on the link between
// the clients and the two-node ejabberd cluster: the same mixed load (chat
// both ways, read receipts, an acknowledged page from the headless sender,
// a photo) with every client holding both nodes' URLs. Loss (nftables in
// the clients' namespace), rate (tc tbf on the clients' bridge and, for
// packets to the clients only, on each node's veth) and a handoff
// (nftables dropping everything on the clients' bridge; the bridge stays up
// so the nodes keep their link) shape only the clients' traffic
// (testserver.Cluster), and the fault proxy's delay ± jitter sits in front
// of each node. ROUNDS_WARD_SOAK repeats rounds as for
// the Prosody run (make test-cluster-ward-soak).
func TestClusterWardLink(t *testing.T) {
	needWard(t)
	testserver.NeedCluster(t)
	soak := wardSoak(t)
	var accounts []string
	for _, p := range wardnet.Profiles {
		accounts = append(accounts, "nurse-"+p.Name, "doctor-"+p.Name, "pager-"+p.Name)
	}
	cl := testserver.StartEjabberdClusterT(t, 2, accounts...)
	urls := cl.WSSURLs()
	// One delaying relay per node address, made on first use.
	var (
		mu     gosync.Mutex
		relays = map[string]*faultproxy.Proxy{}
		delay  [2]time.Duration
	)
	relayFor := func(addr string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if r, ok := relays[addr]; ok {
			return r.Addr(), nil
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		r := faultproxy.Serve(ln, func() (net.Conn, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return cl.Dial(ctx, "tcp", addr)
		})
		r.SetLatency(delay[0], delay[1])
		relays[addr] = r
		t.Cleanup(r.Close)
		return r.Addr(), nil
	}
	shape := func(p wardnet.Profile) error {
		mu.Lock()
		delay = [2]time.Duration{p.Delay, p.Jitter}
		for _, r := range relays {
			r.SetLatency(p.Delay, p.Jitter)
		}
		mu.Unlock()
		if err := cl.Loss(p.LossPercent); err != nil {
			return err
		}
		return cl.Rate(p.RateKbit)
	}
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig: cl.Nodes[0].TLSConfig(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			to, err := relayFor(addr)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, to)
		},
	}}
	site := wardSite{url: strings.Join(urls, " "), jid: cl.JID, hc: hc, tls: cl.Nodes[0].TLSConfig(),
		handoff: cl.Handoff, dropped: cl.Dropped}
	var summary []string
	for _, p := range wardnet.Profiles {
		t.Run(p.Name, func(t *testing.T) {
			if err := shape(p); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := shape(wardnet.Profile{}); err != nil {
					t.Error(err)
				}
			})
			lat := runWardAt(t, site, p, soak)
			line := fmt.Sprintf("cluster ward %-10s loss %2d%% delay %v±%v rate %dkbit handoff %v-%v: %d messages, p50 %v, p99 %v, max %v",
				p.Name, p.LossPercent, p.Delay, p.Jitter, p.RateKbit, p.MinDown, p.MaxDown,
				len(lat), pct(lat, 50), pct(lat, 99), pct(lat, 100))
			t.Log(line)
			summary = append(summary, line)
		})
	}
	t.Log("summary:\n" + strings.Join(summary, "\n"))
}
