//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// demoConversation is one seeded exchange: who writes to whom, in order.
type demoLine struct{ from, to, body string }

// demoScript is a morning on a ward, invented: no real patient data.
var demoScript = []demoLine{
	{"dr.osei", "nurse.kim", "Morning Kim, I'm covering ICU today. Anything overnight?"},
	{"nurse.kim", "dr.osei", "Bed 4 spiked 38.6 at 03:00, cultures sent, paracetamol given."},
	{"dr.osei", "nurse.kim", "Thanks. I'll review bed 4 on the round at 09:00."},
	{"charge.nurse", "nurse.kim", "Can you take the admission to bed 7 at 10:30?"},
	{"frontdesk", "nurse.kim", "Family of bed 2 is at reception asking for an update."},
	{"frontdesk", "dr.osei", "Pharmacy called back about the order for bed 9."},
}

// seed writes the demo conversations once; a marker file keeps restarts from
// seeding twice.
func seed(s *testserver.Server, password string) error {
	marker := filepath.Join(s.Dir, "seeded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clients := map[string]*xmpp.Client{}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	acked := make(chan struct{}, len(demoScript))
	for _, l := range demoScript {
		c := clients[l.from]
		if c == nil {
			var err error
			c, err = xmpp.Dial(ctx, xmpp.Config{URL: s.WSURL(), JID: s.JID(l.from), Resource: "seed",
				Credentials: xmpp.Credentials{Password: password},
				OnAcked: func(el *xmpp.Element) {
					if el.Name.Local == "message" {
						acked <- struct{}{}
					}
				}})
			if err != nil {
				return fmt.Errorf("seed: sign in %s: %w", l.from, err)
			}
			clients[l.from] = c
		}
		if err := c.Send(xmpp.NewChat(s.JID(l.to), l.body)); err != nil {
			return fmt.Errorf("seed: send: %w", err)
		}
		time.Sleep(50 * time.Millisecond) // distinct timestamps, natural order
	}
	for range demoScript {
		select {
		case <-acked:
		case <-ctx.Done():
			return fmt.Errorf("seed: server did not acknowledge the demo messages")
		}
	}
	return os.WriteFile(marker, []byte("1\n"), 0o600)
}
