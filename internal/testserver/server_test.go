//go:build unix

package testserver

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// rawStream is the smallest RFC 7395 client that can prove what the server offers.
// It is deliberately not sync/xmpp: the harness must be checked independently of
// the code it will be used to test.
type rawStream struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

func dialRaw(t *testing.T, ctx context.Context, url string, client *http.Client) *rawStream {
	t.Helper()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"xmpp"}, HTTPClient: client})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "xmpp" {
		t.Fatalf("subprotocol = %q, want xmpp", got)
	}
	return &rawStream{t: t, ctx: ctx, conn: conn}
}

func (r *rawStream) send(s string) {
	r.t.Helper()
	if err := r.conn.Write(r.ctx, websocket.MessageText, []byte(s)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *rawStream) read() string {
	r.t.Helper()
	typ, b, err := r.conn.Read(r.ctx)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		r.t.Fatalf("frame type %v, RFC 7395 wants text", typ)
	}
	// Prosody quotes attributes with ' and other servers with "; the checks below
	// are plain substring tests, so normalise the quote style.
	return strings.ReplaceAll(string(b), "'", `"`)
}

// readUntil reads frames until one contains want (presence and other pushes may
// arrive first).
func (r *rawStream) readUntil(want string) string {
	r.t.Helper()
	for i := 0; i < 20; i++ {
		if f := r.read(); strings.Contains(f, want) {
			return f
		}
	}
	r.t.Fatalf("no frame containing %q", want)
	return ""
}

func (r *rawStream) open(domain string) string {
	r.send(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="` + domain + `" version="1.0"/>`)
	if f := r.read(); !strings.Contains(f, "<open") {
		r.t.Fatalf("want <open/>, got %s", f)
	}
	return r.read() // stream features
}

type features struct {
	Mechanisms []string `xml:"mechanisms>mechanism"`
	Inner      []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func (f features) has(space, local string) bool {
	for _, e := range f.Inner {
		if e.XMLName.Space == space && e.XMLName.Local == local {
			return true
		}
	}
	return false
}

type discoInfo struct {
	Identities []struct {
		Category string `xml:"category,attr"`
		Type     string `xml:"type,attr"`
	} `xml:"query>identity"`
	Features []struct {
		Var string `xml:"var,attr"`
	} `xml:"query>feature"`
	Items []struct {
		JID string `xml:"jid,attr"`
	} `xml:"query>item"`
}

func (d discoInfo) hasFeature(v string) bool {
	for _, f := range d.Features {
		if f.Var == v {
			return true
		}
	}
	return false
}

func (r *rawStream) disco(id, to, query string) discoInfo {
	r.t.Helper()
	r.send(fmt.Sprintf(`<iq xmlns="jabber:client" type="get" id="%s" to="%s"><query xmlns="%s"/></iq>`, id, to, query))
	f := r.readUntil(`id="` + id + `"`)
	if !strings.Contains(f, `type="result"`) {
		r.t.Fatalf("disco %s on %s failed: %s", query, to, f)
	}
	var d discoInfo
	if err := xml.Unmarshal([]byte(f), &d); err != nil {
		r.t.Fatalf("decode disco: %v: %s", err, f)
	}
	return d
}

// TestServerOffersWhatRoundsNeeds opens a real RFC 7395 stream, signs in and checks
// that the server offers every service the client depends on: stream management,
// carbons, MAM, HTTP upload, MUC and pubsub.
func TestServerOffersWhatRoundsNeeds(t *testing.T) {
	s := StartT(t, Options{}, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, _ := proveOffers(t, ctx, s)
	defer r.conn.Close(websocket.StatusNormalClosure, "")
	r.send(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`)
	if f := r.readUntil("close"); !strings.Contains(f, "urn:ietf:params:xml:ns:xmpp-framing") {
		t.Fatalf("close: %s", f)
	}
}

// proveOffers opens an RFC 7395 stream to s, signs alice in (PLAIN: loopback
// ws:// counts as secure on both servers), binds, enables resumable stream
// management and checks by disco that the server offers every service the
// client depends on: carbons, MAM, MUC, pubsub and upload. It returns the open
// stream and each component's disco#info for server-specific checks.
func proveOffers(t *testing.T, ctx context.Context, s *Server) (*rawStream, map[string]discoInfo) {
	t.Helper()
	r := dialRaw(t, ctx, s.WSURL(), nil)
	var pre features
	if err := xml.Unmarshal([]byte(r.open(s.Domain)), &pre); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"SCRAM-SHA-1", "PLAIN"} {
		if !contains(pre.Mechanisms, m) {
			t.Fatalf("mechanisms %v lack %s", pre.Mechanisms, m)
		}
	}

	auth := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + Password))
	r.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + auth + `</auth>`)
	if f := r.read(); !strings.Contains(f, "<success") {
		t.Fatalf("auth: %s", f)
	}
	var post features
	if err := xml.Unmarshal([]byte(r.open(s.Domain)), &post); err != nil {
		t.Fatal(err)
	}
	for _, want := range [][2]string{
		{"urn:ietf:params:xml:ns:xmpp-bind", "bind"},
		{"urn:xmpp:sm:3", "sm"},
		{"urn:xmpp:csi:0", "csi"},
	} {
		if !post.has(want[0], want[1]) {
			t.Errorf("post-auth features lack %s %s", want[0], want[1])
		}
	}
	r.send(`<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>harness</resource></bind></iq>`)
	if f := r.readUntil(`id="b1"`); !strings.Contains(f, "alice@"+s.Domain+"/harness") {
		t.Fatalf("bind: %s", f)
	}
	r.send(`<enable xmlns="urn:xmpp:sm:3" resume="true"/>`)
	if f := r.read(); !strings.Contains(f, "<enabled") || !strings.Contains(f, `resume="true"`) {
		t.Fatalf("sm enable: %s", f)
	}

	server := r.disco("d1", s.Domain, "http://jabber.org/protocol/disco#info")
	if !server.hasFeature("urn:xmpp:carbons:2") {
		t.Error("server does not offer carbons (urn:xmpp:carbons:2)")
	}
	account := r.disco("d2", s.JID("alice"), "http://jabber.org/protocol/disco#info")
	if !account.hasFeature("urn:xmpp:mam:2") {
		t.Error("account does not offer MAM (urn:xmpp:mam:2)")
	}
	items := r.disco("d3", s.Domain, "http://jabber.org/protocol/disco#items")
	want := map[string]string{
		"http://jabber.org/protocol/muc":    "conference." + s.Domain,
		"http://jabber.org/protocol/pubsub": "pubsub." + s.Domain,
		"urn:xmpp:http:upload:0":            "upload." + s.Domain,
	}
	found := map[string]bool{}
	components := map[string]discoInfo{}
	for i, it := range items.Items {
		info := r.disco(fmt.Sprintf("i%d", i), it.JID, "http://jabber.org/protocol/disco#info")
		components[it.JID] = info
		for feature := range want {
			if info.hasFeature(feature) {
				found[feature] = true
			}
		}
	}
	for feature, component := range want {
		if !found[feature] {
			t.Errorf("no component offers %s (expected on %s); items: %v", feature, component, items.Items)
		}
	}
	return r, components
}

// TestWSSVerifiesAgainstHarnessCert proves the wss:// listener presents the
// certificate the harness made, so TLS tests verify for real.
func TestWSSVerifiesAgainstHarnessCert(t *testing.T) {
	s := StartT(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: s.TLSConfig()}}
	r := dialRaw(t, ctx, s.WSSURL(), client)
	r.open(s.Domain)
	r.conn.Close(websocket.StatusNormalClosure, "")

	// Without the harness CA the handshake must fail: verification is really on.
	_, _, err := websocket.Dial(ctx, s.WSSURL(), &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("dial without CA: err = %v, want a certificate error", err)
	}
}

func TestRestartKeepsAccountsAndStopCleansUp(t *testing.T) {
	s, err := Start(Options{SCRAMSHA256: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount("bob", Password); err != nil {
		s.Stop()
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		s.Stop()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := dialRaw(t, ctx, s.WSURL(), nil)
	var pre features
	if err := xml.Unmarshal([]byte(r.open(s.Domain)), &pre); err != nil {
		t.Fatal(err)
	}
	if !contains(pre.Mechanisms, "SCRAM-SHA-256") {
		t.Errorf("SCRAMSHA256 server offers %v", pre.Mechanisms)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("\x00bob\x00" + Password))
	r.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` + auth + `</auth>`)
	if f := r.read(); !strings.Contains(f, "<success") {
		t.Fatalf("account lost across restart: %s", f)
	}
	r.conn.Close(websocket.StatusNormalClosure, "")
	dir := s.Dir
	s.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Stop left %s behind (err %v)", dir, err)
	}
}

// TestStaleDirectoryIsSwept simulates a test binary that died: a directory whose
// owner pid is gone is removed by the next Start.
func TestStaleDirectoryIsSwept(t *testing.T) {
	dir, err := os.MkdirTemp("", staleDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	// pid 0x7ffffffe is beyond pid_max on Linux: certainly not alive.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte("2147483646"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := StartT(t, Options{})
	_ = s
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("stale dir %s survived Start", dir)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestNoOfflineStarts: the catch-up benchmark's configuration (SQLite storage,
// no offline store) starts and serves.
func TestNoOfflineSQLStarts(t *testing.T) {
	s := StartT(t, Options{SQL: true, NoOffline: true}, "dave")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := dialRaw(t, ctx, s.WSURL(), nil)
	r.open(s.Domain)
	r.conn.Close(websocket.StatusNormalClosure, "")
}
