//go:build linux

package testserver

// A two-node (or n-node) ejabberd cluster, each node in a network namespace of
// its own with its own address, built and removed by the test
// (/work/shared/ejabberd/CLUSTER-NOTES.md has the shape and its pitfalls):
//
//   - namespaces: one for the clients (a bridge, 192.0.2.1/24) and one per
//     node (lo, and a veth to the bridge with 192.0.2.1N/24). The addresses
//     are TEST-NET-1 (RFC 5737): they exist only inside these namespaces,
//     none of which has a default route.
//   - the test process stays in its own namespace; it reaches the nodes by
//     dialling from a thread that joined the client namespace (Dial, and
//     HTTPClient for xmpp.Config). A socket keeps the namespace it was made
//     in, whichever thread uses it later.
//   - each node is started from a thread that joined the node's namespace
//     (the child inherits it; the thread is held until the node ends) as user ejabberd, node name rounds@ejN, one
//     cookie, distribution port 4370 in every namespace and no epmd; node
//     names resolve through the inetrc the harness writes.
//   - nodes 2..n join node 1 (ejabberdctl join_cluster): Mnesia is shared, so
//     an account made on one exists on all.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"rounds/internal/netns"
)

// clusterMember is what a Server needs to know to be a cluster node.
type clusterMember struct {
	netns  string // the node's namespace
	ip     string
	node   string // rounds@ejN
	cookie string
	hosts  string // inetrc lines naming every node
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

// start starts cmd from a thread inside the node's namespace. That thread is
// held until exited closes (the node has ended): the child's Pdeathsig fires
// when the thread that started it ends (internal/netns).
func (m *clusterMember) start(cmd *exec.Cmd, exited <-chan struct{}) error {
	return netns.Start(m.netns, cmd, exited)
}

// Cluster is n ejabberd nodes sharing one Mnesia, each in its own namespace.
type Cluster struct {
	Domain string
	Nodes  []*Server
	netns  []string // [0] the clients', then one per node
	t      testing.TB
	// hostsDir is /etc/netns/<clients' namespace>, removed with it.
	hostsDir string
}

// ErrNoNetns means the machine cannot make network namespaces (not root, or
// no iproute2).
var ErrNoNetns = fmt.Errorf("testserver: network namespaces need root and iproute2 (ip)")

// StartEjabberdClusterT builds the namespaces, starts n nodes, joins them and
// creates the accounts; everything is removed in t.Cleanup. It fails (never
// skips) when something is missing; gating is the caller's (NeedCluster).
func StartEjabberdClusterT(t testing.TB, n int, accounts ...string) *Cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal(ErrNoNetns)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal(ErrNoNetns)
	}
	sweepStaleNetns()
	tag := fmt.Sprintf("p%d-%s", os.Getpid(), randomHex(3))
	c := &Cluster{Domain: "rounds.test", t: t}
	t.Cleanup(c.remove)
	c.netns = append(c.netns, "rounds-"+tag+"-c")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", c.netns[0])
	run("-n", c.netns[0], "link", "set", "lo", "up")
	run("-n", c.netns[0], "link", "add", "br0", "type", "bridge")
	run("-n", c.netns[0], "addr", "add", "192.0.2.1/24", "dev", "br0")
	run("-n", c.netns[0], "link", "set", "br0", "up")
	cookie := randomHex(16)
	var hosts strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&hosts, "{host,{192,0,2,%d}, [\"ej%d\"]}.\n", 10+i, i)
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return c.Dial(ctx, network, addr)
	}
	for i := 1; i <= n; i++ {
		ns := fmt.Sprintf("rounds-%s-%d", tag, i)
		c.netns = append(c.netns, ns)
		run("netns", "add", ns)
		run("-n", ns, "link", "set", "lo", "up")
		// The veth is made in the node's namespace, its peer moved to the
		// clients': nothing is ever added to the test's own namespace.
		run("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "n"+strconv.Itoa(i), "netns", c.netns[0])
		run("-n", ns, "addr", "add", fmt.Sprintf("192.0.2.%d/24", 10+i), "dev", "eth0")
		run("-n", ns, "link", "set", "eth0", "up")
		run("-n", c.netns[0], "link", "set", "n"+strconv.Itoa(i), "master", "br0", "up")
	}
	// Names for programs run in the clients' namespace (Command): `ip netns
	// exec` bind-mounts this file over /etc/hosts; the certificate covers
	// *.rounds.test.
	var names strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&names, "192.0.2.%d ej%d.%s\n", 10+i, i, c.Domain)
	}
	hostsDir := "/etc/netns/" + c.netns[0]
	if err := os.MkdirAll(hostsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.hostsDir = hostsDir
	if err := os.WriteFile(hostsDir+"/hosts", []byte("127.0.0.1 localhost\n"+names.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// One certificate for every node: clients verify any of them with it.
	var first *Server
	for i := 1; i <= n; i++ {
		m := &clusterMember{netns: c.netns[i], ip: fmt.Sprintf("192.0.2.%d", 10+i),
			node: fmt.Sprintf("rounds@ej%d", i), cookie: cookie, hosts: hosts.String(), dial: dial}
		s, err := startEjabberdMember(m, first)
		if err != nil {
			t.Fatalf("cluster node %d: %v", i, err)
		}
		c.Nodes = append(c.Nodes, s)
		if first == nil {
			first = s
		} else if out, err := s.EjabberdCtl("join_cluster", first.ej.node); err != nil {
			t.Fatalf("join_cluster: %v: %s", err, out)
		}
	}
	for _, a := range accounts {
		if err := c.Nodes[0].CreateAccount(a, Password); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func startEjabberdMember(m *clusterMember, first *Server) (*Server, error) {
	ej, err := findEjabberd()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", ejabberdDirPrefix)
	if err != nil {
		return nil, err
	}
	opts := Options{Domain: "rounds.test", LogLevel: ejabberdLogLevel(os.Getenv("ROUNDS_EJABBERD_LOG")), HibernationSeconds: 60}
	opts.Render = func(s *Server) (string, error) {
		cfg := s.HarnessEjabberdConfig()
		// Listen on the node's address; the HTTP API and registration answer
		// the clients' subnet (there is no loopback between namespaces).
		cfg = strings.ReplaceAll(cfg, `ip: "127.0.0.1"`, `ip: "`+m.ip+`"`)
		cfg = strings.ReplaceAll(cfg, "ip: 127.0.0.1/8", "ip: 192.0.2.0/24")
		cfg = strings.ReplaceAll(cfg, "      - 127.0.0.0/8\n", "      - 127.0.0.0/8\n      - 192.0.2.0/24\n")
		// Upload slots name the node's own HTTPS listener (clients refuse
		// plain http:// off loopback). Each node keeps its own docroot: a
		// hospital's cluster shares it (docs/ADMIN.md).
		cfg = strings.ReplaceAll(cfg, "http://127.0.0.1:"+strconv.Itoa(s.HTTPPort)+"/upload",
			"https://"+m.ip+":"+strconv.Itoa(s.HTTPSPort)+"/upload")
		return cfg, nil
	}
	s := &Server{Domain: opts.Domain, opts: opts, kind: kindEjabberd, ej: ej, Dir: dir, ownDir: true, member: m}
	if err := os.WriteFile(dir+"/"+ownerFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if first != nil {
		s.RootCAs, s.CertPEM = first.RootCAs, first.CertPEM
		for _, f := range []string{"/certs/" + first.Domain + ".crt", "/certs/" + first.Domain + ".key"} {
			b, err := os.ReadFile(first.Dir + f)
			if err != nil {
				return nil, err
			}
			_ = os.MkdirAll(dir+"/certs", 0o750)
			if err := os.WriteFile(dir+f, b, 0o600); err != nil {
				return nil, err
			}
		}
		s.ownDir = false // keep the copied certificate in prepare
		defer func() { s.ownDir = true }()
	}
	if err := s.prepareEjabberd(); err != nil {
		s.cleanup()
		return nil, err
	}
	if err := s.launchEjabberdOnce(); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

// Dial opens a connection from the clients' namespace.
func (c *Cluster) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := netns.Run(c.netns[0], func() (err error) {
		var d net.Dialer
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

// HTTPClient dials from the clients' namespace and verifies the nodes'
// certificate: for xmpp.Config.HTTPClient and host-meta.
func (c *Cluster) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: c.Dial, TLSClientConfig: c.Nodes[0].TLSConfig(),
		ForceAttemptHTTP2: false}}
}

// WSSURLs are the nodes' WebSocket endpoints over TLS, node 1 first (off
// loopback Rounds refuses ws://). HTTPClient verifies them.
func (c *Cluster) WSSURLs() []string {
	var out []string
	for _, s := range c.Nodes {
		out = append(out, s.WSSURL())
	}
	return out
}

// Command runs a program in the clients' namespace, where the nodes are
// ej1.<Domain>, ej2.<Domain>… (WSSNames).
func (c *Cluster) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", c.netns[0], name}, args...)...)
}

// WSSNames are the nodes' endpoints by name (ej1.<Domain>…), for programs run
// with Command; the nodes' certificate (Nodes[0].CertFile()) covers them.
func (c *Cluster) WSSNames() []string {
	var out []string
	for i, s := range c.Nodes {
		out = append(out, fmt.Sprintf("wss://ej%d.%s:%d%s", i+1, c.Domain, s.HTTPSPort, s.WSPath()))
	}
	return out
}

// JID returns user@domain.
func (c *Cluster) JID(user string) string { return user + "@" + c.Domain }

// Kill SIGKILLs node i (0-based), as a crashed machine.
func (c *Cluster) Kill(i int) { c.Nodes[i].Kill() }

// Stop stops node i gracefully (SIGTERM), keeping its data for Restart: a
// rolling restart's first half.
func (c *Cluster) Stop(i int) { c.Nodes[i].Halt() }

// Restart starts node i again on its data; it rejoins the cluster by itself
// (its Mnesia schema names the others). Mnesia waits for the node that went
// down last: restart nodes in the reverse order of their deaths.
func (c *Cluster) Restart(i int) error { return c.Nodes[i].launchEjabberdOnce() }

// Heal restarts every node that is not running (after a failed phase that
// did not restart what it killed), so the next phase starts with all nodes.
func (c *Cluster) Heal() error {
	for _, s := range c.Nodes {
		s.mu.Lock()
		down := s.stopped
		s.mu.Unlock()
		if down {
			if err := s.launchEjabberdOnce(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Loss drops percent of the packets the clients' namespace sends and
// receives (nftables, numgen random), as a ward's Wi-Fi does; 0 removes it.
func (c *Cluster) Loss(percent int) error {
	ns := c.netns[0]
	_ = exec.Command("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "wifi").Run()
	if percent <= 0 {
		return nil
	}
	rules := fmt.Sprintf(`table inet wifi {
	chain in { type filter hook input priority 0; numgen random mod 100 < %d counter drop; }
	chain out { type filter hook output priority 0; numgen random mod 100 < %d counter drop; }
}
`, percent, percent)
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, out)
	}
	return nil
}

// Dropped is how many packets Loss has dropped so far (both ways): a test
// shows with it that the shaping was in place.
func (c *Cluster) Dropped() (int, error) {
	out, err := exec.Command("ip", "netns", "exec", c.netns[0], "nft", "list", "table", "inet", "wifi").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("nft list: %v: %s", err, out)
	}
	total := 0
	f := strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "packets" {
			n, _ := strconv.Atoi(f[i+1])
			total += n
		}
	}
	return total, nil
}

// Rate limits the clients' link to kbit kbit/s each way, as an access
// point's rate limiter (tc tbf, a burst of 6 kB, at most 500 ms queued); 0
// removes it. Only the clients' traffic is shaped, never the nodes' own
// (Erlang distribution, Mnesia) that crosses the same bridge: towards the
// nodes on the clients' bridge (it carries only what the clients' namespace
// sends; frames bridged between nodes do not pass its queue), back on each
// node's veth for packets to the clients' address only (htb sorting them
// with a u32 filter, the rest unshaped).
func (c *Cluster) Rate(kbit int) error {
	tc := func(ns string, args ...string) error {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "tc"}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("tc %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	rate := []string{"tbf", "rate", strconv.Itoa(kbit) + "kbit", "burst", "6kb", "latency", "500ms"}
	_ = tc(c.netns[0], "qdisc", "del", "dev", "br0", "root")
	if kbit > 0 {
		if err := tc(c.netns[0], append([]string{"qdisc", "add", "dev", "br0", "root"}, rate...)...); err != nil {
			return err
		}
	}
	for i := range c.Nodes {
		ns := c.netns[i+1]
		_ = tc(ns, "qdisc", "del", "dev", "eth0", "root")
		if kbit <= 0 {
			continue
		}
		// htb only sorts (both classes far above the limit); the clients'
		// class queues in the same tbf as the other direction.
		steps := [][]string{
			{"qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default", "20"},
			{"class", "add", "dev", "eth0", "parent", "1:", "classid", "1:10", "htb", "rate", "1gbit", "quantum", "60000"},
			{"class", "add", "dev", "eth0", "parent", "1:", "classid", "1:20", "htb", "rate", "1gbit", "quantum", "60000"},
			append([]string{"qdisc", "add", "dev", "eth0", "parent", "1:10", "handle", "10:"}, rate...),
			{"filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
				"match", "ip", "dst", "192.0.2.1/32", "flowid", "1:10"},
		}
		for _, st := range steps {
			if err := tc(ns, st...); err != nil {
				return err
			}
		}
	}
	return nil
}

// Handoff cuts the clients off every node for d and lets them back, as a
// phone changing access point: everything the clients' namespace sends or
// receives is dropped meanwhile (nftables), sockets stay open. The bridge
// stays up, so the nodes keep their own connection (taking it down would
// also split the cluster).
func (c *Cluster) Handoff(d time.Duration) error {
	ns := c.netns[0]
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(`table inet handoff {
	chain in { type filter hook input priority -10; iifname "br0" drop; }
	chain out { type filter hook output priority -10; oifname "br0" drop; }
}
`)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, out)
	}
	time.Sleep(d)
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "handoff").CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, out)
	}
	return nil
}

// LinkDown takes the link to node i down for d and brings it back, as an
// access-point handoff: sockets stay open, packets go nowhere meanwhile.
func (c *Cluster) LinkDown(i int, d time.Duration) error {
	veth := "n" + strconv.Itoa(i+1)
	if out, err := exec.Command("ip", "-n", c.netns[0], "link", "set", veth, "down").CombinedOutput(); err != nil {
		return fmt.Errorf("link down: %v: %s", err, out)
	}
	time.Sleep(d)
	if out, err := exec.Command("ip", "-n", c.netns[0], "link", "set", veth, "up").CombinedOutput(); err != nil {
		return fmt.Errorf("link up: %v: %s", err, out)
	}
	return nil
}

// remove stops every node and deletes the namespaces (with their veths and
// bridge).
func (c *Cluster) remove() {
	for _, s := range c.Nodes {
		if c.t.Failed() {
			c.t.Logf("ejabberd %s log:\n%s", s.Node(), s.tailLog())
		}
		s.Stop()
	}
	for _, ns := range c.netns {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	if c.hostsDir != "" {
		_ = os.RemoveAll(c.hostsDir)
	}
}

// NeedCluster gates the cluster tests: ejabberd wanted (NeedEjabberd) and
// root for the namespaces. Under CI (CI set) a run without root fails.
func NeedCluster(t testing.TB) {
	t.Helper()
	NeedEjabberd(t)
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(ErrNoNetns)
	}
	t.Skip(ErrNoNetns)
}
