package xmpp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"
)

// RFC 7395 framing and stream namespaces.
const (
	NSFraming = "urn:ietf:params:xml:ns:xmpp-framing"
	nsStream  = "http://etherx.jabber.org/streams"
)

// CheckURL accepts wss:// URLs, and ws:// only when the host is loopback
// (127.0.0.0/8, ::1, localhost). Everything else is an *InsecureTransportError: a
// plain socket across a hospital network would expose credentials and PHI.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &InsecureTransportError{URL: raw, Reason: "unparsable URL: " + err.Error()}
	}
	switch u.Scheme {
	case "wss":
		return u, nil
	case "ws":
		if isLoopbackHost(u.Hostname()) {
			return u, nil
		}
		return nil, &InsecureTransportError{URL: raw, Reason: "plain ws:// is allowed only to loopback; use wss://"}
	default:
		return nil, &InsecureTransportError{URL: raw, Reason: "scheme must be wss:// (or ws:// to loopback)"}
	}
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// transport is one RFC 7395 WebSocket: one complete element per text message.
type transport struct {
	ws  *websocket.Conn
	lim Limits
	log *slog.Logger
	// tlsState is the TLS connection under the WebSocket (nil on loopback ws://);
	// SCRAM-PLUS binds to it and PLAIN requires it.
	tlsState *tls.ConnectionState
	// rbuf is readFrame's buffer, reused from frame to frame (reads are
	// sequential: one reader at a time on a WebSocket).
	rbuf []byte
}

// dialTransport opens the WebSocket with the "xmpp" subprotocol, which RFC 7395
// §3.1 requires of both ends: a server that does not select it is not speaking
// XMPP framing, and we stop there.
func dialTransport(ctx context.Context, rawURL string, hc *http.Client, tlsConf *tls.Config, lim Limits, log *slog.Logger) (*transport, error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	client := httpClientFor(hc, tlsConf)
	ws, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPClient:   client,
		Subprotocols: []string{"xmpp"},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: websocket dial %s: %v", ErrDisconnected, u.Redacted(), err)
	}
	if ws.Subprotocol() != "xmpp" {
		ws.CloseNow()
		return nil, fmt.Errorf("%w: server did not select the xmpp WebSocket subprotocol (RFC 7395 §3.1)", ErrProtocol)
	}
	lim = lim.withDefaults()
	// Our own limit is enforced in readFrame, which discards the rest of an
	// oversized message instead of ending the connection as the library's
	// limit would; maxDiscardBytes bounds how long we keep discarding.
	ws.SetReadLimit(-1)
	t := &transport{ws: ws, lim: lim, log: log}
	if u.Scheme == "wss" {
		if resp == nil || resp.TLS == nil {
			ws.CloseNow()
			return nil, &InsecureTransportError{URL: u.Redacted(), Reason: "wss:// connection without TLS state"}
		}
		t.tlsState = resp.TLS
	}
	return t, nil
}

// httpClientFor returns a client that verifies certificates (tlsConf or system
// roots), speaks HTTP/1.1 (the WebSocket upgrade) and never follows a redirect:
// a redirect could lead the handshake to a host or scheme CheckURL refused.
func httpClientFor(hc *http.Client, tlsConf *tls.Config) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		var tc *tls.Config
		if tlsConf != nil {
			tc = tlsConf.Clone()
		} else {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tc.NextProtos = []string{"http/1.1"}
		c.Transport = &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tc, ForceAttemptHTTP2: false}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return errors.New("xmpp: WebSocket endpoint redirects are not followed")
	}
	return &c
}

// writeElement sends one element as one text message.
func (t *transport) writeElement(ctx context.Context, e *Element) error {
	ctx, cancel := context.WithTimeout(ctx, defaultWriteTimeout)
	defer cancel()
	if err := t.ws.Write(ctx, websocket.MessageText, e.AppendXML(nil)); err != nil {
		return fmt.Errorf("%w: write: %v", ErrDisconnected, err)
	}
	return nil
}

// readFrame returns the next text message, enforcing the frame limit. The
// message is read into a buffer kept for the next one and handed out as one
// copy of exactly its size (the decoded element's Raw points into it), rather
// than through a bytes.Buffer growing from 512 bytes on every message.
//
// A message over Limits.MaxFrameBytes comes back as an *unreadableFrame with
// its first unreadablePrefixBytes: the rest is read and thrown away as it
// arrives, so the stream stays in step (RFC 7395: one stanza per message)
// and memory stays bounded. Only a message beyond maxDiscardBytes, which no
// server sends, ends the stream.
func (t *transport) readFrame(ctx context.Context) ([]byte, error) {
	typ, r, err := t.ws.Reader(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: read: %v", ErrDisconnected, err)
	}
	if typ != websocket.MessageText {
		return nil, &StreamError{Condition: "unsupported-encoding", Text: "binary WebSocket message", Local: true}
	}
	buf := t.rbuf[:0]
	if buf == nil {
		buf = make([]byte, 0, 4<<10)
	}
	limit := int(t.lim.MaxFrameBytes) + 1
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if len(buf) > int(t.lim.MaxFrameBytes) {
			return nil, t.discardRest(r, buf)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: read: %v", ErrDisconnected, err)
		}
	}
	if cap(buf) <= 64<<10 {
		t.rbuf = buf // a rare large frame's buffer is not kept
	}
	return bytes.Clone(buf), nil
}

// maxDiscardBytes bounds how much of one oversized message readFrame reads
// and throws away before it gives up on the stream: 64 MiB is far beyond what
// any server lets a client send, and bounds the time a hostile server can
// keep us reading one endless message.
const maxDiscardBytes = 64 << 20

// discardRest reads what is left of an oversized message without keeping it
// and reports the message as unreadable, with its prefix and true size.
func (t *transport) discardRest(r io.Reader, read []byte) error {
	size := int64(len(read))
	prefix := bytes.Clone(read[:min(len(read), unreadablePrefixBytes)])
	var scratch [32 << 10]byte
	for {
		n, err := r.Read(scratch[:])
		size += int64(n)
		if size > maxDiscardBytes {
			return &StreamError{Condition: "policy-violation", Text: "frame too large", Local: true,
				Err: fmt.Errorf("more than %d bytes", maxDiscardBytes)}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: read: %v", ErrDisconnected, err)
		}
	}
	return &unreadableFrame{prefix: prefix, size: size, reason: ReasonTooLarge,
		cause: &StreamError{Condition: "policy-violation", Text: "frame too large", Local: true,
			Err: fmt.Errorf("%d bytes > limit %d", size, t.lim.MaxFrameBytes)}}
}

// readElement returns the next element. The framing <close/> and a server
// <stream:error/> end the stream and come back as errors; input we cannot
// accept is answered with a stream error and a close, and returned as a
// *StreamError with Local set. It serves the steps before the session starts
// (open, authentication, bind, resumption), where nothing may be skipped;
// the session's read loop uses readStanza.
func (t *transport) readElement(ctx context.Context) (*Element, error) {
	el, err := t.readStanza(ctx)
	var uf *unreadableFrame
	if errors.As(err, &uf) {
		err = uf.cause
	}
	var se *StreamError
	if errors.As(err, &se) && se.Local {
		t.log.Warn("xmpp: closing stream on bad input", "condition", se.Condition, "err", se.Err)
		t.shutdown(se.Condition)
	}
	return el, err
}

// readStanza is readElement for the session's read loop: a frame that cannot
// be read but was framed (oversized, too deep, too many elements or
// attributes, malformed XML, bad UTF-8) comes back as an *unreadableFrame and
// the stream stays open; the caller skips it. Anything else that is wrong
// still ends the stream (and is returned as a Local *StreamError, not yet
// answered: the caller shuts down).
func (t *transport) readStanza(ctx context.Context) (*Element, error) {
	frame, err := t.readFrame(ctx)
	if err != nil {
		return nil, err
	}
	el, err := decodeOwnedElement(frame, t.lim) // readFrame's copy: nobody else has it
	if err != nil {
		var se *StreamError
		if errors.As(err, &se) && se.Local {
			return nil, &unreadableFrame{prefix: frame[:min(len(frame), unreadablePrefixBytes)],
				size: int64(len(frame)), reason: unreadableReason(se), cause: se}
		}
		return nil, err
	}
	switch {
	case el.Name.Space == NSFraming && el.Name.Local == "close":
		t.shutdown("")
		return nil, fmt.Errorf("%w: server closed the stream", ErrDisconnected)
	case el.Name.Space == nsStream && el.Name.Local == "error":
		se := parseStreamError(el)
		t.shutdown("")
		return nil, se
	}
	return el, nil
}

func parseStreamError(el *Element) *StreamError {
	se := &StreamError{Condition: "undefined-condition"}
	for _, c := range el.Children {
		if c.Name.Space != nsStreams {
			continue
		}
		if c.Name.Local == "text" {
			se.Text = c.Text
		} else {
			se.Condition = c.Name.Local
		}
	}
	return se
}

// shutdown ends the stream from our side: an optional stream error, then the
// framing <close/>, then the WebSocket close. It does not wait for the peer's
// <close/>: after an error there is nothing more we want to read.
func (t *transport) shutdown(streamErrorCondition string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*defaultWriteTimeout/5)
	defer cancel()
	if streamErrorCondition != "" {
		_ = t.ws.Write(ctx, websocket.MessageText, []byte(`<stream:error xmlns:stream="`+nsStream+`"><`+streamErrorCondition+` xmlns="`+nsStreams+`"/></stream:error>`))
	}
	_ = t.ws.Write(ctx, websocket.MessageText, NewElement(NSFraming, "close").AppendXML(nil))
	_ = t.ws.Close(websocket.StatusNormalClosure, "")
}

// abort drops the socket without any goodbye (used when the socket is already
// broken, and by tests).
func (t *transport) abort() { _ = t.ws.CloseNow() }

// open sends the framing <open/> and reads the server's <open/> and then its
// <stream:features/>.
func (t *transport) open(ctx context.Context, domain string) (*Element, error) {
	open := NewElement(NSFraming, "open", "to", domain, "version", "1.0")
	open.Attrs = append(open.Attrs, xmlLang("en"))
	if err := t.writeElement(ctx, open); err != nil {
		return nil, err
	}
	el, err := t.readElement(ctx)
	if err != nil {
		return nil, err
	}
	if el.Name.Space != NSFraming || el.Name.Local != "open" {
		t.shutdown("invalid-namespace")
		return nil, fmt.Errorf("%w: expected <open/>, got <%s xmlns=%q>", ErrProtocol, el.Name.Local, el.Name.Space)
	}
	if v := el.Attr("version"); v != "1.0" {
		t.shutdown("unsupported-version")
		return nil, fmt.Errorf("%w: stream version %q", ErrProtocol, v)
	}
	feats, err := t.readElement(ctx)
	if err != nil {
		return nil, err
	}
	if feats.Name.Space != nsStream || feats.Name.Local != "features" {
		t.shutdown("invalid-namespace")
		return nil, fmt.Errorf("%w: expected <stream:features/>, got <%s>", ErrProtocol, feats.Name.Local)
	}
	return feats, nil
}
