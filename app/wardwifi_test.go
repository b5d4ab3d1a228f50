//go:build linux

package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/internal/wardnet"
	"rounds/securestore"
)

// The ward Wi-Fi tests (issue 17, part 3): two Rounds clients and a headless
// sender on one shaped link to a real Prosody, each profile of
// wardnet.Profiles in turn, exchanging a mixed load: chat both ways, an
// urgent page that asks for an acknowledgement, read receipts, and a photo.
// The short run (CI) is one round per profile; ROUNDS_WARD_SOAK=30m repeats
// rounds on every profile for that long each (docs/BENCHMARKS.md).

// needWard fails under CI (root, tools installed by scripts/install-deps.sh)
// and skips elsewhere when the namespaces cannot be built.
func needWard(t *testing.T) {
	t.Helper()
	if miss := wardnet.Missing(); len(miss) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI runs the ward Wi-Fi tests: missing %v (scripts/install-deps.sh; CI runs as root)", miss)
		}
		t.Skipf("ward Wi-Fi needs %v", miss)
	}
}

// wardWait is how long any one thing may take to get through the worst
// profile (10% loss each way, 300±150 ms, TCP resending with backoff).
const wardWait = 3 * time.Minute

// TestWardLinkMixedLoad: over each profile, every chat message arrives exactly once,
// in both directions; every outgoing message reaches "read" once the other
// side has shown it; the page reaches "acknowledged" at the headless sender
// and no alert is left on the recipient after the ack; the photo arrives
// byte for byte (an upload or download that fails is retried and must then
// succeed). It logs the send → shown-at-recipient latency p50/p99 per profile.
func TestWardLinkMixedLoad(t *testing.T) {
	needWard(t)
	soak := wardSoak(t)
	var accounts []string
	for _, p := range wardnet.Profiles {
		accounts = append(accounts, "nurse-"+p.Name, "doctor-"+p.Name, "pager-"+p.Name)
	}
	srv := testserver.StartT(t, testserver.Options{}, accounts...)
	var summary []string
	for _, p := range wardnet.Profiles {
		t.Run(p.Name, func(t *testing.T) {
			lat := runWard(t, srv, p, soak)
			line := fmt.Sprintf("ward %-10s loss %2d%% delay %v±%v rate %dkbit handoff %v-%v: %d messages, p50 %v, p99 %v, max %v",
				p.Name, p.LossPercent, p.Delay, p.Jitter, p.RateKbit, p.MinDown, p.MaxDown,
				len(lat), pct(lat, 50), pct(lat, 99), pct(lat, 100))
			t.Log(line)
			summary = append(summary, line)
		})
	}
	t.Log("summary:\n" + strings.Join(summary, "\n"))
}

// wardSoak is ROUNDS_WARD_SOAK: how long to repeat rounds on each profile
// (0: one round).
func wardSoak(t *testing.T) time.Duration {
	s := os.Getenv("ROUNDS_WARD_SOAK")
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("ROUNDS_WARD_SOAK=%q: %v", s, err)
	}
	return d
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(min(i, len(s))-1, 0)].Round(time.Millisecond)
}

// wardSite is where a ward run signs in: a server's URL field, its domain,
// and the shaped network (an HTTPClient that dials through it, and the
// handoff and drop counter of its link).
type wardSite struct {
	url     string // as typed in the server field: one URL, or a cluster's several
	jid     func(user string) string
	hc      *http.Client
	tls     *tls.Config
	handoff func(time.Duration) error
	dropped func() (int, error)
}

// runWard signs the three in over a link shaped as p and runs rounds of the
// mixed load: one, or as many as fit in soak.
func runWard(t *testing.T, srv *testserver.Server, p wardnet.Profile, soak time.Duration) []time.Duration {
	link, err := wardnet.New(strings.TrimPrefix(srv.HTTPURL(), "http://"), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(link.Close)
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", link.Addr())
		},
	}}
	return runWardAt(t, wardSite{url: srv.WSURL(), jid: srv.JID, hc: hc, handoff: link.Handoff, dropped: link.Dropped}, p, soak)
}

func runWardAt(t *testing.T, site wardSite, p wardnet.Profile, soak time.Duration) []time.Duration {
	onWard := func(user string) *device {
		cfg := testConfig(t)
		cfg.HTTPClient = site.hc
		cfg.TLSConfig = site.tls
		cfg.ConnectTimeout = wardWait
		cfg.Policy = Policy{LockAfter: 24 * time.Hour}
		cfg.Resource = "ward"
		c, err := SignIn(context.Background(), cfg, site.jid(user), testserver.Password, site.url, testPIN)
		if err != nil {
			t.Fatalf("sign in %s: %v", user, err)
		}
		d := &device{t: t, cfg: cfg, c: c, notifier: cfg.Notifier.(*fakeNotifier), sound: cfg.Sound.(*fakeSound), jid: site.jid(user)}
		d.collect()
		t.Cleanup(c.SignOut)
		d.waitOnline()
		return d
	}
	nurse, doctor := onWard("nurse-"+p.Name), onWard("doctor-"+p.Name)
	ctx, cancel := context.WithTimeout(context.Background(), wardWait)
	defer cancel()
	pager, err := OpenHeadless(ctx, HeadlessConfig{Dir: t.TempDir(), Account: site.jid("pager-" + p.Name),
		Password: testserver.Password, URL: site.url, TLSConfig: site.tls, HTTPClient: site.hc})
	if err != nil {
		t.Fatal(err)
	}
	defer pager.Close()
	if err := pager.WaitOnline(ctx); err != nil {
		t.Fatalf("headless sender online: %v", err)
	}
	toDoctor, err := nurse.c.StartChat(doctor.jid)
	if err != nil {
		t.Fatal(err)
	}
	toNurse, err := doctor.c.StartChat(nurse.jid)
	if err != nil {
		t.Fatal(err)
	}

	var lat []time.Duration
	sent := map[string]bool{} // every body sent, to count at the end
	end := time.Now().Add(soak)
	for round := 0; round == 0 || time.Now().Before(end); round++ {
		tag := fmt.Sprintf("W-%s-%d", p.Name, round)
		var handoff gosync.WaitGroup
		if p.MaxDown > 0 {
			// The phone changes access point while the chat is under way.
			down := p.MinDown + rand.N(p.MaxDown-p.MinDown+1)
			handoff.Add(1)
			go func() {
				defer handoff.Done()
				time.Sleep(300 * time.Millisecond)
				if err := site.handoff(down); err != nil {
					t.Error(err)
				}
			}()
		}
		lat = append(lat, wardChat(t, tag, nurse, doctor, toDoctor, toNurse, sent)...)
		handoff.Wait()
		wardPage(t, tag, pager, doctor)
		wardPhoto(t, tag, nurse, doctor, toDoctor)
	}
	// Every message once: each conversation holds every body sent in it
	// exactly once (as sent on one side, as received on the other).
	for _, side := range []struct {
		d    *device
		conv string
	}{{doctor, nurse.jid}, {nurse, doctor.jid}} {
		rows, err := side.d.c.Messages(side.conv, 100000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, r := range rows {
			seen[r.Body]++
		}
		for body := range sent {
			if seen[body] != 1 {
				t.Errorf("%s holds %q %d times", side.d.jid, body, seen[body])
			}
		}
	}
	if n, err := site.dropped(); err == nil {
		t.Logf("%s: the link dropped %d packets", p.Name, n)
	}
	return lat
}

// wardChat sends chatsEach messages each way, alternating, and returns how
// long each took from Send to the recipient's store; then each side shows
// the other's last message and every message must reach "read".
func wardChat(t *testing.T, tag string, nurse, doctor *device, toDoctor, toNurse string, sent map[string]bool) []time.Duration {
	const chatsEach = 10
	type out struct {
		from *device
		id   securestore.MessageID
		conv string
	}
	var (
		mu     gosync.Mutex
		start  = map[string]time.Time{}
		arrive = map[string]time.Time{}
		outs   []out
	)
	stop := make(chan struct{})
	var polls gosync.WaitGroup
	for _, side := range []struct {
		d    *device
		conv string
	}{{doctor, nurse.jid}, {nurse, doctor.jid}} {
		polls.Add(1)
		go func() {
			defer polls.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				rows, err := side.d.c.Messages(side.conv, 4*chatsEach)
				if err != nil {
					continue
				}
				now := time.Now()
				mu.Lock()
				for _, r := range rows {
					if !r.Outgoing && strings.HasPrefix(r.Body, tag) {
						if _, ok := arrive[r.Body]; !ok {
							arrive[r.Body] = now
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < chatsEach; i++ {
		for _, o := range []out{{from: nurse, conv: toDoctor}, {from: doctor, conv: toNurse}} {
			body := fmt.Sprintf("%s chat %s %d: bed 4 obs due", tag, o.from.jid[:5], i)
			mu.Lock()
			start[body] = time.Now()
			mu.Unlock()
			id, err := o.from.c.Send(o.conv, body)
			if err != nil {
				t.Fatalf("send %q: %v", body, err)
			}
			o.id = id
			outs = append(outs, o)
			sent[body] = true
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor(t, tag+" chat arrives", wardWait, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrive) == len(start)
	})
	close(stop)
	polls.Wait()
	var lat []time.Duration
	for body, at := range arrive {
		lat = append(lat, at.Sub(start[body]))
	}
	// Receipts: each side has read the conversation up to the last one.
	for _, side := range []struct {
		d    *device
		conv string
	}{{doctor, nurse.jid}, {nurse, doctor.jid}} {
		rows, err := side.d.c.Messages(side.conv, 4*chatsEach)
		if err != nil {
			t.Fatal(err)
		}
		var last securestore.MessageID
		for _, r := range rows {
			if !r.Outgoing && strings.HasPrefix(r.Body, tag) {
				last = r.ID
			}
		}
		if err := side.d.c.MarkShown(side.conv, last); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range outs {
		waitFor(t, tag+" read receipt", wardWait, func() bool {
			r, ok := o.from.messageRow(o.conv, o.id)
			if ok && r.Receipt.State == securestore.ReceiptFailed {
				t.Fatalf("%s: message failed: %+v", tag, r.Receipt)
			}
			return ok && r.Receipt.State == securestore.ReceiptRead
		})
	}
	return lat
}

// wardPage: the headless sender pages the doctor, asking for an
// acknowledgement; the doctor's device alerts, the doctor acknowledges, the
// sender sees "acknowledged" and the alert is gone.
func wardPage(t *testing.T, tag string, pager *Client, doctor *device) {
	body := tag + " page: bed 7 NEWS 7 please review"
	id, err := pager.SendPage(doctor.jid, body, PageOptions{Urgency: securestore.UrgencyHigh, AckRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	from := pager.account
	waitFor(t, tag+" alert on the doctor's device", wardWait, func() bool { _, ok := alertOn(doctor, from); return ok })
	msg := doctor.waitIncomingWithin(from, body, wardWait)
	if err := doctor.c.Respond(from, msg.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := alertOn(doctor, from); ok {
		t.Fatalf("%s: the alert rings on after the acknowledgement", tag)
	}
	pr, end, err := pager.WaitFor(context.Background(), id, securestore.ReceiptAcknowledged, wardWait, nil)
	if err != nil || end != Reached || pr.State != securestore.ReceiptAcknowledged {
		t.Fatalf("%s: the sender's wait ended %v at %v: %v", tag, end, pr.State, err)
	}
	if _, ok := alertOn(doctor, from); ok {
		t.Fatalf("%s: an alert came back after the acknowledgement", tag)
	}
}

// wardPhoto: the nurse sends a photo; an upload that fails is retried (a
// clean failure, nothing half-sent shown as sent); the doctor's download is
// retried the same way and must equal what was uploaded.
func wardPhoto(t *testing.T, tag string, nurse, doctor *device, toDoctor string) {
	photo := wardJPEG(t)
	name := tag + " wound.jpg"
	var id securestore.MessageID
	var err error
	for try := 0; try < 3; try++ {
		id, err = nurse.c.SendFile(context.Background(), toDoctor, name, bytes.NewReader(photo), int64(len(photo)), AttachOptions{}, nil)
		if err == nil {
			break
		}
		t.Logf("%s: upload failed (%v); retrying", tag, err)
	}
	if err != nil {
		t.Fatalf("%s: upload failed three times: %v", tag, err)
	}
	sentRow := nurse.attachmentRowOfWithin(toDoctor, func(r MessageRow) bool { return r.ID == id }, wardWait)
	uploaded := readAll(t, nurse.c, sentRow.Attachments[0].ID)
	in := doctor.attachmentRowOfWithin(nurse.jid, func(r MessageRow) bool { return r.Attachments[0].Name == name }, wardWait)
	var got AttachmentRow
	for try := 0; try < 3; try++ {
		got, err = doctor.c.Download(context.Background(), in.Attachments[0].ID, nil)
		if err == nil {
			break
		}
		t.Logf("%s: download failed (%v); retrying", tag, err)
	}
	if err != nil {
		t.Fatalf("%s: download failed three times: %v", tag, err)
	}
	if b := readAll(t, doctor.c, got.ID); !bytes.Equal(b, uploaded) {
		t.Fatalf("%s: the photo arrived changed (%d bytes, sent %d)", tag, len(b), len(uploaded))
	}
}

// wardJPEG is a 640x480 photo-like JPEG (gradients and noise, about 60 KB):
// a couple of seconds at 256 kbit/s.
func wardJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			n := uint8(rand.IntN(40))
			img.Set(x, y, color.RGBA{uint8(x/3) + n, uint8(y/2) + n, 120 + n, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (d *device) waitIncomingWithin(conv, s string, within time.Duration) MessageRow {
	d.t.Helper()
	var got MessageRow
	waitFor(d.t, d.jid+" receives "+s, within, func() bool {
		ms, err := d.c.Messages(conv, 50)
		if err != nil {
			return false
		}
		for i := len(ms) - 1; i >= 0; i-- {
			if !ms[i].Outgoing && strings.Contains(ms[i].Body, s) {
				got = ms[i]
				return true
			}
		}
		return false
	})
	return got
}

func (d *device) attachmentRowOfWithin(conv string, match func(MessageRow) bool, within time.Duration) MessageRow {
	d.t.Helper()
	var found MessageRow
	waitFor(d.t, d.jid+" attachment row", within, func() bool {
		rows, err := d.c.Messages(conv, 50)
		if err != nil {
			return false
		}
		for _, r := range rows {
			if len(r.Attachments) > 0 && match(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}
