//go:build linux

// Package wardnet builds a ward's Wi-Fi between a test's clients and its
// server: two network namespaces joined by a veth pair, with random packet
// loss (nftables), a rate limit (tc tbf), the link taken down and up (an
// access point handoff), and delay with jitter from the fault proxy in front
// of it (this kernel has no netem). The clients dial Link.Addr on loopback;
// the proxy there holds each chunk back and forwards it over a TCP connection
// made inside the client namespace, across the veth, to a forwarder listening
// inside the server namespace, which dials the real server on loopback. So
// loss, rate and handoffs act on real TCP segments, and the server and the
// clients stay in the test's own namespace. Nothing outside the two
// namespaces it makes is touched; Close removes them.
package wardnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"rounds/internal/faultproxy"
	"rounds/internal/netns"
)

// Profile is one kind of ward Wi-Fi.
type Profile struct {
	Name string
	// LossPercent drops that share of packets, in each direction.
	LossPercent int
	// Delay and Jitter hold each chunk back by Delay ± Jitter, each way.
	Delay, Jitter time.Duration
	// RateKbit limits each direction to this many kbit/s (0: unlimited).
	RateKbit int
	// Handoff, when set, takes the link down for MinDown..MaxDown and up
	// again, every Every (the test drives it with Link.Handoff).
	MinDown, MaxDown time.Duration
}

// The profiles of issue 17: a busy ward, a bad corner, an access point
// handoff and a link throttled for attachments.
var (
	BusyWard  = Profile{Name: "busy-ward", LossPercent: 2, Delay: 80 * time.Millisecond, Jitter: 40 * time.Millisecond}
	BadCorner = Profile{Name: "bad-corner", LossPercent: 10, Delay: 300 * time.Millisecond, Jitter: 150 * time.Millisecond}
	Handoff   = Profile{Name: "handoff", MinDown: 3 * time.Second, MaxDown: 8 * time.Second}
	Throttled = Profile{Name: "throttled", RateKbit: 256}
)

// Profiles lists them in the order the tests run them.
var Profiles = []Profile{BusyWard, BadCorner, Handoff, Throttled}

// Tools are the commands a Link needs.
var Tools = []string{"ip", "nft", "tc"}

// Missing names the tools that are not installed, and says so when the
// process cannot make namespaces (not root).
func Missing() []string {
	var miss []string
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			miss = append(miss, t)
		}
	}
	if os.Geteuid() != 0 {
		miss = append(miss, "root")
	}
	return miss
}

// Link is one shaped path from Addr to the server.
type Link struct {
	clientNS, serverNS string
	relay              *faultproxy.Proxy
	fwd                *faultproxy.Proxy
	fwdAddr            string
	down               atomic.Bool
}

const (
	clientIP = "198.18.0.1" // RFC 2544 benchmarking range, inside the namespaces only
	serverIP = "198.18.0.2"
	veth     = "ward0"
)

var seq atomic.Int64

// New makes the namespaces and the veth between them, a forwarder in the
// server namespace to target (host:port on loopback, the server's HTTP
// port) and the relay clients dial, then applies p.
func New(target string, p Profile) (*Link, error) {
	sweepStale()
	tag := strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(seq.Add(1), 10)
	l := &Link{clientNS: "rounds-ward-" + tag + "-c", serverNS: "rounds-ward-" + tag + "-s"}
	steps := [][]string{
		{"netns", "add", l.clientNS},
		{"netns", "add", l.serverNS},
		{"-n", l.clientNS, "link", "set", "lo", "up"},
		{"-n", l.serverNS, "link", "set", "lo", "up"},
		{"-n", l.clientNS, "link", "add", veth, "type", "veth", "peer", "name", veth, "netns", l.serverNS},
		{"-n", l.clientNS, "addr", "add", clientIP + "/30", "dev", veth},
		{"-n", l.serverNS, "addr", "add", serverIP + "/30", "dev", veth},
		{"-n", l.clientNS, "link", "set", veth, "up"},
		{"-n", l.serverNS, "link", "set", veth, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			l.Close()
			return nil, err
		}
	}
	var ln net.Listener
	err := inNS(l.serverNS, func() (err error) {
		ln, err = net.Listen("tcp", serverIP+":0")
		return err
	})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("wardnet: listen in %s: %w", l.serverNS, err)
	}
	l.fwdAddr = ln.Addr().String()
	l.fwd = faultproxy.Serve(ln, func() (net.Conn, error) { return net.DialTimeout("tcp", target, 5*time.Second) })
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		return nil, err
	}
	l.relay = faultproxy.Serve(rl, l.dialAcross)
	if err := l.Apply(p); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Addr is host:port on loopback where clients connect instead of the server.
func (l *Link) Addr() string { return l.relay.Addr() }

// Accepted counts the connections clients opened through the link.
func (l *Link) Accepted() int64 { return l.relay.Accepted() }

// dialAcross opens the relay's upstream connection inside the client
// namespace, so it crosses the shaped veth. A client cannot connect while
// the link is down: a phone between access points has no network.
func (l *Link) dialAcross() (net.Conn, error) {
	var c net.Conn
	err := inNS(l.clientNS, func() (err error) {
		c, err = net.DialTimeout("tcp", l.fwdAddr, 10*time.Second)
		return err
	})
	return c, err
}

// Apply sets loss, rate and latency to p's (handoffs are driven by Handoff).
func (l *Link) Apply(p Profile) error {
	l.relay.SetLatency(p.Delay, p.Jitter)
	_ = nft(l.clientNS, "delete table inet ward")
	if p.LossPercent > 0 {
		rule := fmt.Sprintf("numgen random mod 100 < %d counter drop", p.LossPercent)
		script := "table inet ward {\n" +
			" chain in { type filter hook input priority 0; policy accept; iifname \"" + veth + "\" " + rule + "; }\n" +
			" chain out { type filter hook output priority 0; policy accept; oifname \"" + veth + "\" " + rule + "; }\n" +
			"}\n"
		if err := nft(l.clientNS, "-f", "-", script); err != nil {
			return err
		}
	}
	for _, ns := range []string{l.clientNS, l.serverNS} {
		_ = run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", veth, "root")
		if p.RateKbit > 0 {
			// A burst of a few packets and a queue of at most 500 ms, as an
			// access point's rate limiter keeps.
			err := run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", veth, "root", "tbf",
				"rate", strconv.Itoa(p.RateKbit)+"kbit", "burst", "6kb", "latency", "500ms")
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Dropped counts the packets the loss rules dropped so far, both ways.
func (l *Link) Dropped() (int, error) {
	cmd := exec.Command("ip", "netns", "exec", l.clientNS, "nft", "list", "table", "inet", "ward")
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("wardnet: nft list: %w", err)
	}
	n := 0
	f := strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "packets" {
			k, err := strconv.Atoi(f[i+1])
			if err != nil {
				return 0, fmt.Errorf("wardnet: nft counter %q", f[i+1])
			}
			n += k
		}
	}
	return n, nil
}

// Down takes the link down (the phone left its access point); Up brings it
// back. Connections through it are not reset: their segments are lost until
// Up, as on a real handoff, and new connections fail.
func (l *Link) Down() error {
	l.down.Store(true)
	return ip("-n", l.clientNS, "link", "set", veth, "down")
}

// Up brings the link back after Down.
func (l *Link) Up() error {
	err := ip("-n", l.clientNS, "link", "set", veth, "up")
	l.down.Store(false)
	return err
}

// Handoff takes the link down for d, then brings it up.
func (l *Link) Handoff(d time.Duration) error {
	if err := l.Down(); err != nil {
		return err
	}
	time.Sleep(d)
	return l.Up()
}

// Close stops the relay and forwarder and removes both namespaces (the veth
// goes with them).
func (l *Link) Close() {
	if l.relay != nil {
		l.relay.Close()
	}
	if l.fwd != nil {
		l.fwd.Close()
	}
	for _, ns := range []string{l.clientNS, l.serverNS} {
		_ = ip("netns", "del", ns)
	}
}

// inNS runs f on a thread switched into the named namespace; sockets made
// there stay in it. The thread is switched back and lives on (internal/netns
// says why: the thread that forked the test's Prosody may be this one).
func inNS(name string, f func() error) error { return netns.Run(name, f) }

func ip(args ...string) error { return run("ip", args...) }

func nft(ns string, args ...string) error {
	var stdin string
	if len(args) == 3 && args[1] == "-" {
		stdin, args = args[2], args[:2]
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("wardnet: nft %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("wardnet: %s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// sweepStale removes namespaces an earlier test process left behind (killed
// before Close): their names carry the pid, and a pid no longer running frees
// them.
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, "rounds-ward-")
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = ip("netns", "del", name)
		}
	}
}
