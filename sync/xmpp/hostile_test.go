package xmpp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeServer is a hostile RFC 7395 server for bad-input tests: a test script
// speaks raw frames. It is not a mock of Prosody: it exists to send what no
// honest server would.
type fakeServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	frames []string // what the client sent
	done   chan struct{}
}

type fakeConn struct {
	t   *testing.T
	ws  *websocket.Conn
	ctx context.Context
	fs  *fakeServer
}

func (f *fakeConn) send(s string) {
	_ = f.ws.Write(f.ctx, websocket.MessageText, []byte(s))
}

func (f *fakeConn) read() string {
	_, b, err := f.ws.Read(f.ctx)
	if err != nil {
		return ""
	}
	f.fs.mu.Lock()
	f.fs.frames = append(f.fs.frames, string(b))
	f.fs.mu.Unlock()
	return string(b)
}

// readUntil reads frames until one contains want ("" if the socket ends).
func (f *fakeConn) readUntil(want string) string {
	for {
		s := f.read()
		if s == "" || strings.Contains(s, want) {
			return s
		}
	}
}

func startFake(t *testing.T, tlsOn bool, script func(*fakeConn)) *fakeServer {
	fs := &fakeServer{done: make(chan struct{})}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			return
		}
		ws.SetReadLimit(1 << 20)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		defer close(fs.done)
		script(&fakeConn{t: t, ws: ws, ctx: ctx, fs: fs})
		// Drain what the client still says (its stream error and <close/>).
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				break
			}
			fs.mu.Lock()
			fs.frames = append(fs.frames, string(b))
			fs.mu.Unlock()
		}
		ws.CloseNow()
	})
	if tlsOn {
		fs.srv = httptest.NewTLSServer(h)
	} else {
		fs.srv = httptest.NewServer(h)
	}
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeServer) url() string {
	return "ws" + strings.TrimPrefix(fs.srv.URL, "http")
}

func (fs *fakeServer) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(fs.srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

func (fs *fakeServer) sent() []string {
	select {
	case <-fs.done:
	case <-time.After(5 * time.Second):
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]string(nil), fs.frames...)
}

const fakeOpen = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="evil.test" id="s1" version="1.0"/>`

// TestHostileFramesCloseWithStreamError: every kind of bad frame ends the stream
// with the right stream error sent to the server, a typed error locally, and no
// panic.
func TestHostileFramesCloseWithStreamError(t *testing.T) {
	cases := []struct {
		name  string
		frame func(*fakeConn)
		cond  string
	}{
		{"malformed", func(f *fakeConn) { f.send(`<message xmlns="jabber:client"><body>x</message>`) }, "not-well-formed"},
		{"bad utf8", func(f *fakeConn) { f.send("<message xmlns=\"jabber:client\"><body>\xff</body></message>") }, "not-well-formed"},
		{"oversized", func(f *fakeConn) {
			f.send(`<message xmlns="jabber:client"><body>` + strings.Repeat("A", DefaultMaxFrameBytes+1) + `</body></message>`)
		}, "policy-violation"},
		{"deep", func(f *fakeConn) {
			f.send(`<a xmlns="x:y">` + strings.Repeat("<b>", 50) + strings.Repeat("</b>", 50) + `</a>`)
		}, "policy-violation"},
		{"binary", func(f *fakeConn) { _ = f.ws.Write(f.ctx, websocket.MessageBinary, []byte("<a/>")) }, "unsupported-encoding"},
		{"comment", func(f *fakeConn) { f.send(`<a xmlns="x:y"><!-- x --></a>`) }, "restricted-xml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := startFake(t, false, func(f *fakeConn) {
				f.read() // <open/>
				f.send(fakeOpen)
				c.frame(f)
			})
			tr, err := dialTransport(ctxT(t), fs.url(), nil, nil, Limits{}, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			_, err = tr.open(ctxT(t), "evil.test")
			var se *StreamError
			if !errors.As(err, &se) || !se.Local || se.Condition != c.cond {
				t.Fatalf("err = %v, want local stream error %s", err, c.cond)
			}
			got := strings.Join(fs.sent(), "\n")
			if !strings.Contains(got, "<"+c.cond+` xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>`) ||
				!strings.Contains(got, `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`) {
				t.Fatalf("server saw:\n%s", got)
			}
		})
	}
}

func TestServerStreamErrorIsTyped(t *testing.T) {
	fs := startFake(t, false, func(f *fakeConn) {
		f.read()
		f.send(fakeOpen)
		f.send(`<stream:error xmlns:stream="http://etherx.jabber.org/streams"><host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams">no such host</text></stream:error>`)
	})
	tr, err := dialTransport(ctxT(t), fs.url(), nil, nil, Limits{}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.open(ctxT(t), "evil.test")
	var se *StreamError
	if !errors.As(err, &se) || se.Local || se.Condition != "host-unknown" || se.Text != "no such host" {
		t.Fatalf("err = %v", err)
	}
}

func TestSubprotocolRequired(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil) // selects no subprotocol
		if err == nil {
			ws.CloseNow()
		}
	}))
	defer srv.Close()
	_, err := dialTransport(ctxT(t), "ws"+strings.TrimPrefix(srv.URL, "http"), nil, nil, Limits{}, testLogger())
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("err = %v", err)
	}
}

// fakeLogin walks a client through PLAIN (TLS only) and bind, without stream
// management, then runs more.
func fakeLogin(more func(*fakeConn)) func(*fakeConn) {
	return func(f *fakeConn) {
		f.read()
		f.send(fakeOpen)
		f.send(`<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
		if a := f.read(); !strings.Contains(a, `mechanism="PLAIN"`) {
			f.t.Errorf("auth = %s", a)
			return
		}
		f.send(`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`)
		f.read()
		f.send(fakeOpen)
		f.send(`<stream:features xmlns:stream="http://etherx.jabber.org/streams"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features>`)
		b := f.read()
		id := b[strings.Index(b, `id="`)+4:]
		id = id[:strings.IndexByte(id, '"')]
		f.send(`<iq xmlns="jabber:client" type="result" id="` + id + `"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>alice@evil.test/r1</jid></bind></iq>`)
		more(f)
	}
}

// TestSpoofedCarbonRejected: a carbon whose wrapper is not from our bare JID is
// dropped; a genuine one and a normal message get through.
func TestSpoofedCarbonRejected(t *testing.T) {
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		f.send(`<message xmlns="jabber:client" from="mallory@evil.test/x" to="alice@evil.test/r1"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="chief@evil.test/x" to="alice@evil.test" type="chat" id="spoof"><body>give 10x dose</body></message></forwarded></received></message>`)
		f.send(`<message xmlns="jabber:client" from="alice@evil.test" to="alice@evil.test/r1"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="alice@evil.test/phone" to="bob@evil.test" type="chat" id="real-carbon"><body>ok</body></message></forwarded></sent></message>`)
		f.send(`<message xmlns="jabber:client" from="bob@evil.test/x" to="alice@evil.test/r1" type="chat" id="plain"><body>hello</body></message>`)
		f.readUntil("never")
	}))
	var box inbox
	c := dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"},
		TLSConfig: fs.tlsConfig(), Logger: testLogger(), OnMessage: box.add})
	if c.Mechanism() != "PLAIN" {
		t.Fatalf("mechanism %s", c.Mechanism())
	}
	waitFor(t, "plain message", func() bool { return box.find(func(m *Message) bool { return m.ID == "plain" }) != nil })
	if box.find(func(m *Message) bool { return m.ID == "spoof" }) != nil {
		t.Fatal("spoofed carbon delivered")
	}
	rc := box.find(func(m *Message) bool { return m.ID == "real-carbon" })
	if rc == nil || rc.Carbon != CarbonSent || rc.To != "bob@evil.test" {
		t.Fatalf("genuine carbon: %+v", rc)
	}
}

// TestPlainRefusedWithoutTLS: a loopback ws:// server offering only PLAIN gets
// no password.
func TestPlainRefusedWithoutTLS(t *testing.T) {
	fs := startFake(t, false, func(f *fakeConn) {
		f.read()
		f.send(fakeOpen)
		f.send(`<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
	})
	_, err := Dial(ctxT(t), Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"}, Logger: testLogger()})
	if !errors.Is(err, ErrInsecureTransport) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range fs.sent() {
		if strings.Contains(f, "<auth") {
			t.Fatalf("sent auth without TLS: %s", f)
		}
	}
}

// TestUnknownIQAnsweredServiceUnavailable (RFC 6120 §8.4) and a server ping is answered.
func TestUnknownIQAnswered(t *testing.T) {
	fs := startFake(t, true, fakeLogin(func(f *fakeConn) {
		f.send(`<iq xmlns="jabber:client" type="get" id="u1" from="evil.test"><query xmlns="urn:example:nope"/></iq>`)
		f.send(`<iq xmlns="jabber:client" type="get" id="p1" from="evil.test"><ping xmlns="urn:xmpp:ping"/></iq>`)
		f.send(`<iq xmlns="jabber:client" type="set" id="r1" from="mallory@evil.test"><query xmlns="jabber:iq:roster"><item jid="x@evil.test"/></query></iq>`)
		f.readUntil(`id="r1"`)
	}))
	dialT(t, Config{URL: fs.url(), JID: "alice@evil.test", Credentials: Credentials{Password: "pw"}, TLSConfig: fs.tlsConfig(), Logger: testLogger()})
	var got string
	waitFor(t, "answers", func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		got = strings.Join(fs.frames, "\n")
		return strings.Contains(got, `id="r1"`)
	})
	for _, want := range []string{
		`type="error" id="u1" to="evil.test"><error type="cancel"><service-unavailable`,
		`type="result" id="p1"`,
		`type="error" id="r1" to="mallory@evil.test"><error type="cancel"><service-unavailable`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
}
