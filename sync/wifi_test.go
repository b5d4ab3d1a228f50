//go:build linux

package sync

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestWardWiFi: alice and bob on one ejabberd node, their link shaped the
// way a ward's Wi-Fi is (nftables in the clients' namespace; no netem on this
// kernel, so no added delay or jitter): a busy ward (2% of packets lost each
// way), a bad corner (10%), and an access-point handoff (the link down for
// 3 s while messages are sent, then up). Chat messages go one at a time
// from alice to bob, then a STAT page that bob acknowledges. Invariants:
// every message once on bob's device, all delivered, the page acknowledged
// on alice's. The delivery latency (send → stored on bob's device) is logged
// per profile; ROUNDS_WIFI_MESSAGES=N sends N instead of 20
// (docs/BENCHMARKS.md).
func TestWardWiFi(t *testing.T) {
	testserver.NeedCluster(t)
	cl := testserver.StartEjabberdClusterT(t, 1, "alice", "bob")
	url := cl.WSSURLs()[0]
	hc := cl.HTTPClient()
	n := 20
	if v, err := strconv.Atoi(os.Getenv("ROUNDS_WIFI_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	profiles := []struct {
		name    string
		loss    int
		handoff time.Duration
	}{
		{"busy ward", 2, 0},
		{"bad corner", 10, 0},
		{"handoff", 0, 3 * time.Second},
	}
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			t.Cleanup(func() { _ = cl.Loss(0) })
			alice := startDevice(t, cl.Nodes[0], "alice", deviceOptions{url: url, httpClient: hc, keepAlive: 5 * time.Second})
			bob := startDevice(t, cl.Nodes[0], "bob", deviceOptions{url: url, httpClient: hc, keepAlive: 5 * time.Second})
			if err := cl.Loss(p.loss); err != nil {
				t.Fatal(err)
			}
			prefix := fmt.Sprintf("wifi%d", p.loss)
			if p.handoff > 0 {
				prefix = "handoff"
				go func() {
					if err := cl.LinkDown(0, p.handoff); err != nil {
						t.Error(err)
					}
				}()
			}
			var ids []securestore.MessageID
			var lat []time.Duration
			for i := 0; i < n; i++ {
				body := fmt.Sprintf("%s-%04d", prefix, i)
				start := time.Now()
				m, err := alice.session.Send(bob.jid, body, SendOptions{})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, m.ID)
				bob.waitFor(body, 90*time.Second, func() bool { return bob.bodies(alice.jid, securestore.Incoming)[body] > 0 })
				lat = append(lat, time.Since(start))
			}
			page, err := alice.session.Send(bob.jid, prefix+" STAT bed 4", SendOptions{Urgency: securestore.UrgencyCritical})
			if err != nil {
				t.Fatal(err)
			}
			got := byOrigin(t, bob, alice.jid, page.OriginID)
			if _, err := bob.session.Respond(context.Background(), alice.jid, got.ID, ResponseAck, ""); err != nil {
				t.Fatal(err)
			}
			alice.waitFor("acknowledged", 90*time.Second, func() bool { return alice.receiptState(page.ID) == securestore.ReceiptAcknowledged })
			alice.allAtLeast(ids, securestore.ReceiptDelivered, 90*time.Second)
			time.Sleep(500 * time.Millisecond)
			expectExactlyOnce(t, bob.bodies(alice.jid, securestore.Incoming), prefix, n)
			if p.loss > 0 {
				dropped, err := cl.Dropped()
				if err != nil || dropped == 0 {
					t.Fatalf("the loss profile dropped %d packets (%v): the link was not shaped", dropped, err)
				}
				t.Logf("%s: %d packets dropped", p.name, dropped)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			t.Logf("%s: %d messages, delivery p50 %v p99 %v max %v", p.name, n, lat[len(lat)/2].Round(time.Millisecond),
				lat[(len(lat)*99)/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
		})
	}
}
