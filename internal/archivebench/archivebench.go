// Package archivebench holds what the catch-up benchmarks share: an archive
// of n messages filled on a real Prosody, the two baselines read from it in
// each round (a raw reader, the server's own limit, and slixmpp, another
// client's CPU), and the CPU, load and median figures they are reported with.
// It serves benchmarks only (tests/ BenchmarkAppCatchUp10k), never the app.
package archivebench

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// CPUTime is this process's user+system CPU time (getrusage). Prosody and
// slixmpp are other processes, so over a catch-up it counts the client alone,
// with its socket and fsync system calls.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LoadAverage is the 1-minute load average, for the log of each round.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// Median of the rounds' figures (0 for none).
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Fill sends n chat messages from "sender" to "to" while "to" is offline, so
// they sit in its archive only (start the server with NoOffline). The
// sender's own archive is switched off (XEP-0313 preferences): catch-up
// reads only the reader's, and it halves the server's commits. Filling is
// Prosody's work (about 4 ms of its CPU per message with SQLite); the wait
// fails only when the server acknowledges nothing for 2 minutes.
func Fill(tb testing.TB, srv *testserver.Server, to string, n int) {
	tb.Helper()
	const stall = 2 * time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	acked := make(chan struct{}, n+16)
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("sender"),
		Credentials: xmpp.Credentials{Password: testserver.Password},
		OnAcked: func(el *xmpp.Element) {
			if el.Name.Local == "message" {
				acked <- struct{}{}
			}
		}})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	pctx, pcancel := context.WithTimeout(ctx, stall)
	_, err = c.SendIQ(pctx, xmpp.NewElement(xmpp.NSClient, "iq", "type", "set").
		Append(xmpp.NewElement(xmpp.NSMAM, "prefs", "default", "never")))
	pcancel()
	if err != nil {
		tb.Fatalf("sender's archive preferences: %v", err)
	}
	t0 := time.Now()
	for i := range n {
		if err := c.Send(xmpp.NewChat(srv.JID(to), fmt.Sprintf("Obs round %05d: HR 72, BP 118/76, SpO2 98%%, no change.", i))); err != nil {
			tb.Fatal(err)
		}
		if i%500 == 499 {
			_ = c.RequestAck()
		}
	}
	_ = c.RequestAck()
	timer := time.NewTimer(stall)
	defer timer.Stop()
	for got := 0; got < n; {
		select {
		case <-acked:
			got++
			timer.Reset(stall)
		case <-timer.C:
			tb.Fatalf("server did not ack the archive fill: %d of %d acked, none in the last %v (%.0f s in)", got, n, stall, time.Since(t0).Seconds())
		}
	}
	tb.Logf("archive fill: %d messages in %.0f s", n, time.Since(t0).Seconds())
}

// Raw is the server's own limit: it signs user in with PLAIN and reads every
// MAM page of page messages off the socket without parsing the messages. It
// returns how many results it read.
func Raw(tb testing.TB, srv *testserver.Server, user string, page int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, srv.WSURL(), &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		tb.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	defer conn.CloseNow()
	send := func(s string) {
		if err := conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			tb.Fatal(err)
		}
	}
	read := func() string {
		_, p, err := conn.Read(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		return string(p)
	}
	open := `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="` + srv.Domain + `" version="1.0"/>`
	send(open)
	read()
	read()
	send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+testserver.Password)) + `</auth>`)
	if f := read(); !strings.Contains(f, "success") {
		tb.Fatalf("raw auth: %s", f)
	}
	send(open)
	read()
	read()
	send(`<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`)
	read()
	after, count := "", 0
	for q := 0; ; q++ {
		set := fmt.Sprintf("<max>%d</max>", page)
		if after != "" {
			set += "<after>" + after + "</after>"
		}
		send(fmt.Sprintf(`<iq xmlns="jabber:client" type="set" id="q%d"><query xmlns="urn:xmpp:mam:2" queryid="q%d"><set xmlns="http://jabber.org/protocol/rsm">%s</set></query></iq>`, q, q, set))
		for {
			f := read()
			if strings.Contains(f, "<result") {
				count++
				continue
			}
			if i := strings.Index(f, "<fin"); i >= 0 {
				complete := strings.Contains(f[i:], `complete="true"`) || strings.Contains(f[i:], `complete='true'`)
				l := strings.Index(f, "<last>")
				if complete || l < 0 {
					return count
				}
				after = f[l+6 : strings.Index(f, "</last>")]
				break
			}
		}
	}
}

// Slixmpp reads user's whole archive with slixmpp (Debian's python3-slixmpp,
// TCP c2s, storing nothing) and returns how many messages it read and its
// own CPU seconds for the read, as the peer measured them in its process.
func Slixmpp(tb testing.TB, srv *testserver.Server, user string) (int, float64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	peer, err := testpeer.Start(ctx, tb.TempDir(), testpeer.Options{JID: srv.JID(user), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile()})
	if err != nil {
		tb.Fatal(err)
	}
	defer peer.Close()
	res, err := peer.MAM(ctx, "", true)
	if err != nil {
		tb.Fatalf("slixmpp: %v", err)
	}
	return res.Count, res.CPUSeconds
}
