//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"time"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// demoLine is one seeded message: who writes to whom, in order.
type demoLine struct{ from, to, body string }

// demoNames are the roster names every demo account gives the others.
var demoNames = map[string]string{
	"nurse.kim": "Nurse Kim", "dr.osei": "Dr Osei", "charge.nurse": "Charge Nurse Ade", "frontdesk": "Front Desk",
}

// demoCards are the demo staff's own vCard4 cards (XEP-0292), published by
// each account on its PEP node: what the screens show for people nobody
// named in their roster (lab.bot), and everyone's job title and unit.
// Invented people; the phone numbers are Ofcom's drama range.
var demoCards = map[string]xmpp.VCard{
	"nurse.kim":    {Name: "Nurse Kim Lee", Role: "Staff nurse", Unit: "ICU", Phone: "+44 20 7946 0011"},
	"dr.osei":      {Name: "Dr Ama Osei", Role: "Cardiology registrar", Unit: "Cardiology", Phone: "+44 20 7946 0012"},
	"charge.nurse": {Name: "Ade Bello", Role: "Charge nurse", Unit: "ICU", Phone: "+44 20 7946 0013"},
	"frontdesk":    {Name: "Front Desk", Role: "Ward clerk", Unit: "ICU reception", Phone: "+44 20 7946 0014"},
	"lab.bot":      {Name: "Pathology lab", Role: "Automated results", Unit: "Pathology"},
}

// publishCards signs each demo account in and publishes its card.
func publishCards(ctx context.Context, s *testserver.Server, password string) error {
	for user, card := range demoCards {
		c, err := xmpp.Dial(ctx, xmpp.Config{URL: s.WSURL(), JID: s.JID(user), Resource: "card",
			Credentials: xmpp.Credentials{Password: password}})
		if err != nil {
			return fmt.Errorf("seed: sign in %s: %w", user, err)
		}
		err = c.PublishVCard(ctx, card)
		if p, ok := demoPictures[user]; ok && err == nil {
			_, err = c.PublishAvatar(ctx, p, "image/png", demoPictureSide, demoPictureSide)
		}
		_ = c.Close()
		if err != nil {
			return fmt.Errorf("seed: card of %s: %w", user, err)
		}
	}
	return nil
}

// demoPictureSide is the side of the demo staff's pictures.
const demoPictureSide = 96

// demoPictures are the XEP-0084 pictures some demo staff publish (drawn
// stand-ins for photos: a head and shoulders on a plain background); the
// others show by their initials.
var demoPictures = map[string][]byte{
	"dr.osei":      portrait(color.NRGBA{0xe6, 0xdc, 0xc8, 0xff}, color.NRGBA{0x5c, 0x3a, 0x24, 0xff}, color.NRGBA{0x1f, 0x6f, 0x5c, 0xff}),
	"charge.nurse": portrait(color.NRGBA{0xc9, 0xd8, 0xe8, 0xff}, color.NRGBA{0x8d, 0x5a, 0x3b, 0xff}, color.NRGBA{0x2b, 0x4c, 0x7e, 0xff}),
}

// portrait draws a head and shoulders and encodes it as a PNG.
func portrait(bg, skin, shirt color.NRGBA) []byte {
	const n = demoPictureSide
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			c := bg
			dx, dy := float64(x-n/2), float64(y-38)
			if dx*dx/(17*17)+dy*dy/(21*21) <= 1 {
				c = skin
			}
			sx, sy := float64(x-n/2), float64(y-n-4)
			if sx*sx/(40*40)+sy*sy/(36*36) <= 1 {
				c = shirt
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // an in-memory image always encodes
	return b.Bytes()
}

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
	// The marker is taken before seeding (O_EXCL), so two servers started on
	// the same directory never seed twice.
	marker := filepath.Join(s.Dir, "seeded")
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return nil
		}
		return err
	}
	f.Close()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(marker)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clients := map[string]*xmpp.Client{}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	if err := publishCards(ctx, s, password); err != nil {
		return err
	}
	acked := make(chan struct{}, 64)
	// Everyone signs in, names the others in their roster and subscribes to
	// their presence; each approves the others' requests, so the demo shows
	// names and presence dots instead of bare addresses.
	for user := range demoNames {
		var c *xmpp.Client
		var err error
		c, err = xmpp.Dial(ctx, xmpp.Config{URL: s.WSURL(), JID: s.JID(user), Resource: "seed",
			Credentials: xmpp.Credentials{Password: password},
			OnAcked: func(el *xmpp.Element) {
				if el.Name.Local == "message" {
					acked <- struct{}{}
				}
			},
			OnPresence: func(p *xmpp.Presence) {
				if p.Type == "subscribe" {
					go func() { _ = c.ApproveSubscription(xmpp.BareJID(p.From)) }()
				}
			}})
		if err != nil {
			return fmt.Errorf("seed: sign in %s: %w", user, err)
		}
		clients[user] = c
	}
	// Subscription requests reach only available resources (or wait on the
	// server until the user next sends presence): be available first.
	for user, c := range clients {
		if err := c.SetPresence(xmpp.ShowAvailable, ""); err != nil {
			return fmt.Errorf("seed: presence %s: %w", user, err)
		}
	}
	for user, c := range clients {
		for other, name := range demoNames {
			if other == user {
				continue
			}
			if err := c.RosterSet(ctx, xmpp.RosterItem{JID: s.JID(other), Name: name, Groups: []string{"ICU"}}); err != nil {
				return fmt.Errorf("seed: roster: %w", err)
			}
			if err := c.Subscribe(s.JID(other)); err != nil {
				return fmt.Errorf("seed: subscribe: %w", err)
			}
		}
	}
	// Wait for the handshakes: every roster entry mutual, so the demo shows
	// everyone's presence from the first sign-in.
	for user, c := range clients {
		for {
			items, err := c.Roster(ctx)
			if err != nil {
				return fmt.Errorf("seed: roster %s: %w", user, err)
			}
			mutual := 0
			for _, it := range items {
				if it.Subscription == "both" {
					mutual++
				}
			}
			if mutual == len(demoNames)-1 {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("seed: %s has %d of %d subscriptions approved", user, mutual, len(demoNames)-1)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	for _, l := range demoScript {
		if err := clients[l.from].Send(xmpp.NewChat(s.JID(l.to), l.body)); err != nil {
			return fmt.Errorf("seed: send: %w", err)
		}
		// Archives and delay stamps keep whole seconds: one message a second
		// keeps the demo conversations in the order they were written.
		time.Sleep(1100 * time.Millisecond)
	}
	for range demoScript {
		select {
		case <-acked:
		case <-ctx.Done():
			return fmt.Errorf("seed: server did not acknowledge the demo messages")
		}
	}
	ok = true
	return nil
}
