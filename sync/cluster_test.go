//go:build linux

package sync

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestClusterFailover: a two-node ejabberd cluster, each node in its own
// network namespace. alice knows both endpoints (node 1 first), bob stays on
// node 2. Node 1 is SIGKILLed in the middle of a conversation: alice's
// Session reconnects to node 2 (resumption is attempted there and refused,
// so it signs in afresh and catches up), and every message arrives exactly
// once on both sides and reaches delivered. Then node 1 comes back and node 2
// is killed: alice moves back, and bob (on node 2) moves too. ROUNDS_CLUSTER_KILLS=N repeats the kill N times
// and logs the failover times (docs/BENCHMARKS.md).
func TestClusterFailover(t *testing.T) {
	testserver.NeedCluster(t)
	cl := testserver.StartEjabberdClusterT(t, 2, "alice", "bob")
	urls := cl.WSSURLs()
	alice := startDevice(t, cl.Nodes[0], "alice", deviceOptions{url: urls[0], alternates: urls[1:], httpClient: cl.HTTPClient()})
	bob := startDevice(t, cl.Nodes[1], "bob", deviceOptions{url: urls[1], alternates: urls[:1], httpClient: cl.HTTPClient()})

	kills := 2
	if n, err := strconv.Atoi(os.Getenv("ROUNDS_CLUSTER_KILLS")); err == nil && n > 0 {
		kills = n
	}
	var ids []securestore.MessageID
	var failover []time.Duration
	on := 0 // the node alice is on
	for k := 0; k < kills; k++ {
		prefix := fmt.Sprintf("round%02d", k)
		ids = append(ids, alice.send(bob.jid, prefix+"-before", 5)...)
		killed := time.Now()
		cl.Kill(on)
		// Sent while the node dies: queued or unacknowledged, then resent on
		// the other node with the same origin-ids.
		ids = append(ids, alice.send(bob.jid, prefix+"-during", 5)...)
		alice.waitFor("online on the other node", 60*time.Second, func() bool {
			c := alice.session.currentClient()
			return c != nil && c.Endpoint() == urls[1-on] && alice.session.State().Connectivity == Online
		})
		failover = append(failover, time.Since(killed))
		ids = append(ids, alice.send(bob.jid, prefix+"-after", 5)...)
		want := 15 * (k + 1)
		bob.waitFor(fmt.Sprintf("%d messages", want), 60*time.Second, func() bool { return len(bob.bodies(alice.jid, securestore.Incoming)) >= want })
		alice.allAtLeast(ids, securestore.ReceiptDelivered, 60*time.Second)
		for _, part := range []string{"-before", "-during", "-after"} {
			expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), prefix+part, 5)
		}
		// The dead node comes back (it rejoins by itself); the next kill is
		// of the node both are on now, so bob moves too.
		if err := cl.Restart(on); err != nil {
			t.Fatal(err)
		}
		on = 1 - on
	}
	time.Sleep(time.Second)
	if n := len(bob.bodies(alice.jid, securestore.Incoming)); n != 15*kills {
		t.Fatalf("bob has %d messages, want %d", n, 15*kills)
	}
	sorted := append([]time.Duration(nil), failover...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	t.Logf("failover over %d kills: p50 %v max %v (all %v)", len(sorted), sorted[len(sorted)/2].Round(time.Millisecond),
		sorted[len(sorted)-1].Round(time.Millisecond), failover)
}
