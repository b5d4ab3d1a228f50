// Package hostile is a deliberately hostile RFC 7395 server for bad-input
// tests of the sync engine. It signs a client in (PLAIN over TLS, bind),
// answers every IQ, serves a scripted MAM archive, and then sends whatever
// frames a test gives it: spoofed carbons, spoofed archive results, malformed
// XML, oversized frames, bad UTF-8. It is not a stand-in for a real server;
// the engine's tests against Prosody and ejabberd are that.
package hostile

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Domain is the hostile server's XMPP domain; the account is Account.
const (
	Domain  = "evil.test"
	Account = "alice@evil.test"
	open    = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="evil.test" id="s1" version="1.0"/>`
)

// Session is what the server does on one connection after sign-in: frames to
// send (in order, after the client's setup IQs were answered) and MAM results
// (inner <result/> payloads, wrapped per query; each entry is a full
// <message/> frame template in which QUERYID is replaced). RoomMAM holds the
// results of each room's archive (key: the room's bare JID); those rooms
// exist (disco#info answers for them, item-not-found for any other) and are
// joined whenever the client asks (self-presence, status 110, its real JID
// shown; non-anonymous, status 100; no XEP-0421 occupant-ids).
type Session struct {
	Frames     []string
	MAMResults []string
	RoomMAM    map[string][]string
	// LateMAMResults join MAMResults in the user's archive only LateAfter
	// after this connection's first MAM query: a server whose archive shows
	// a message later than it routed it (ejabberd writes the recipient's
	// archive row in the recipient's session process, which may still be
	// working through a dead session's backlog). They are never sent live.
	LateMAMResults []string
	LateAfter      time.Duration
	// BeforeMAMResults answer a query of the user's archive that asks for
	// the rows before an id (RSM <before>): what the archive holds just
	// before the client's cursor. Nil: such a query is answered as any.
	BeforeMAMResults []string
	// RefuseBefore answers a query with RSM <before> feature-not-implemented
	// (a server whose archive pages only forward).
	RefuseBefore bool
}

// Server serves one Session per connection, in order; connections beyond the
// list get the last one.
type Server struct {
	srv      *httptest.Server
	sessions []Session

	mu          sync.Mutex
	connections int
	received    []string
}

// Start runs a TLS server with the given per-connection sessions.
func Start(sessions ...Session) *Server {
	s := &Server{sessions: sessions}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the wss:// endpoint; TLSConfig trusts it.
func (s *Server) URL() string { return "wss" + strings.TrimPrefix(s.srv.URL, "https") }

func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Connections counts connections so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// Received returns every frame clients sent.
func (s *Server) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}

var (
	reID      = regexp.MustCompile(`\bid=["']([^"']+)["']`)
	reQueryID = regexp.MustCompile(`queryid=["']([^"']+)["']`)
	reTo      = regexp.MustCompile(`\bto=["']([^"']+)["']`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	s.mu.Lock()
	n := s.connections
	s.connections++
	s.mu.Unlock()
	sess := s.sessions[min(n, len(s.sessions)-1)]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	send := func(f string) bool { return ws.Write(ctx, websocket.MessageText, []byte(f)) == nil }
	read := func() (string, bool) {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return "", false
		}
		s.mu.Lock()
		s.received = append(s.received, string(b))
		s.mu.Unlock()
		return string(b), true
	}
	// Sign-in: PLAIN (the client allows it over TLS when nothing else is
	// offered), then bind. No stream management: every reconnect is fresh.
	if _, ok := read(); !ok {
		return
	}
	send(open)
	send(`<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
	if _, ok := read(); !ok {
		return
	}
	send(`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`)
	if _, ok := read(); !ok {
		return
	}
	send(open)
	send(`<stream:features xmlns:stream="http://etherx.jabber.org/streams"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features>`)
	scripted := false
	var firstMAM time.Time
	for {
		f, ok := read()
		if !ok {
			return
		}
		if strings.HasPrefix(f, "<presence") {
			// A room join (to room@service/nick): answer as the room would.
			if to := reTo.FindStringSubmatch(f); to != nil && strings.Contains(to[1], "/") && !strings.Contains(f, `type="unavailable"`) {
				send(`<presence xmlns="jabber:client" from="` + to[1] + `" to="` + Account + `/r1"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant" jid="` + Account + `/r1"/><status code="100"/><status code="110"/></x></presence>`)
			}
			continue
		}
		if !strings.HasPrefix(f, "<iq") {
			continue // receipts: the scripted frames wait for the MAM query
		}
		m := reID.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		id := m[1]
		switch {
		case strings.Contains(f, "xmpp-bind"):
			send(`<iq xmlns="jabber:client" type="result" id="` + id + `"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>` + Account + `/r1</jid></bind></iq>`)
		case strings.Contains(f, "urn:xmpp:mam:2") && sess.RefuseBefore && strings.Contains(f, "<before"):
			send(`<iq xmlns="jabber:client" type="error" id="` + id + `"><error type="cancel"><feature-not-implemented xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
		case strings.Contains(f, "urn:xmpp:mam:2"):
			q := ""
			if qm := reQueryID.FindStringSubmatch(f); qm != nil {
				q = qm[1]
			}
			results, from := sess.MAMResults, ""
			if to := reTo.FindStringSubmatch(f); to != nil && to[1] != Account {
				results, from = sess.RoomMAM[to[1]], ` from="`+to[1]+`"`
			} else {
				if firstMAM.IsZero() {
					firstMAM = time.Now()
				}
				if len(sess.LateMAMResults) > 0 && time.Since(firstMAM) >= sess.LateAfter {
					results = append(append([]string(nil), results...), sess.LateMAMResults...)
				}
				if sess.BeforeMAMResults != nil && strings.Contains(f, "<before") {
					results = sess.BeforeMAMResults
				}
			}
			for _, res := range results {
				send(strings.ReplaceAll(res, "QUERYID", q))
			}
			send(`<iq xmlns="jabber:client" type="result"` + from + ` id="` + id + `"><fin xmlns="urn:xmpp:mam:2" complete="true"><set xmlns="http://jabber.org/protocol/rsm"><last>end</last></set></fin></iq>`)
			if !scripted {
				scripted = true
				go func() {
					for _, fr := range sess.Frames {
						if !send(fr) {
							return
						}
					}
				}()
			}
		case strings.Contains(f, "http://jabber.org/protocol/disco#info"):
			// A room's disco#info (asked before every join): the rooms of
			// RoomMAM exist, nothing else does.
			to := reTo.FindStringSubmatch(f)
			if to == nil {
				send(`<iq xmlns="jabber:client" type="result" id="` + id + `"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
				break
			}
			if _, ok := sess.RoomMAM[to[1]]; !ok {
				send(`<iq xmlns="jabber:client" type="error" from="` + to[1] + `" id="` + id + `"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
				break
			}
			send(`<iq xmlns="jabber:client" type="result" from="` + to[1] + `" id="` + id + `"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="conference" type="text"/><feature var="http://jabber.org/protocol/muc"/><feature var="urn:xmpp:mam:2"/></query></iq>`)
		case strings.Contains(f, "jabber:iq:roster"):
			send(`<iq xmlns="jabber:client" type="result" id="` + id + `"><query xmlns="jabber:iq:roster"/></iq>`)
		case strings.Contains(f, "disco#info"):
			// Every address asked about exists; a room answers as a safe
			// hospital room would, so joins (which disco first) go ahead.
			from := ""
			if to := reTo.FindStringSubmatch(f); to != nil {
				from = ` from="` + to[1] + `"`
			}
			send(`<iq xmlns="jabber:client" type="result"` + from + ` id="` + id + `"><query xmlns="http://jabber.org/protocol/disco#info">` +
				`<identity category="conference" type="text"/><feature var="http://jabber.org/protocol/muc"/>` +
				`<feature var="muc_membersonly"/><feature var="muc_nonanonymous"/><feature var="muc_persistent"/><feature var="urn:xmpp:mam:2"/></query></iq>`)
		default:
			from := ""
			if to := reTo.FindStringSubmatch(f); to != nil {
				from = ` from="` + to[1] + `"`
			}
			send(`<iq xmlns="jabber:client" type="result"` + from + ` id="` + id + `"/>`)
		}
	}
}
