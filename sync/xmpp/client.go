package xmpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Config describes one account's connection. URL and JID are required; the rest
// has safe defaults.
type Config struct {
	// URL is the RFC 7395 endpoint: wss://..., or ws:// to loopback only. Find it
	// with DiscoverWebSocket, or take it from the user (manual override).
	URL string
	// Alternates are more endpoints of the same service (the nodes of a
	// cluster, from host-meta's several links or the admin's list). When the
	// endpoint in use cannot be reached, the next one is tried, in order,
	// and the client stays on the first that answers.
	Alternates []string
	// JID is the account's bare JID (user@domain).
	JID string
	// Credentials: the password and/or stored SCRAM keys (see Client.SCRAMKeys).
	Credentials Credentials
	// Resource to request at bind; the server may assign another.
	Resource string
	// TLSConfig verifies wss:// (nil: system roots). Ignored if HTTPClient is set.
	TLSConfig *tls.Config
	// HTTPClient dials the WebSocket (proxies, custom dialers, tests). Its
	// redirects are never followed.
	HTTPClient *http.Client
	// Limits on incoming frames; zero fields take DefaultLimits.
	Limits Limits
	// Logger (nil: slog.Default()). Bodies and passwords are never logged.
	Logger *slog.Logger
	// DisableStreamManagement turns XEP-0198 off (tests, broken servers).
	DisableStreamManagement bool
	// LateStreamManagement: a fresh session (Connect, or the new session
	// after a refused Resume) starts without XEP-0198; the caller enables it
	// with EnableStreamManagement once it has read the archives. A server
	// keeps a copy of every stanza it sends on a managed stream until we
	// acknowledge it (Prosody's smacks queues each MAM result), so an
	// archive read outside stream management costs the server a copy less
	// per message. What arrives before then is not resumable: the caller
	// must be able to read it again from the archive after a cut.
	LateStreamManagement bool
	// ResumeTimeout bounds the wait for the server's answer to <resume/>
	// (zero: only Resume's context bounds it). Past it, Resume gives the old
	// session up and signs in afresh, returning a *ResumeFailedError with
	// Condition "timeout": a cluster node whose peer just died can sit on a
	// resume of a session that lived there (ejabberd 23.01,
	// docs/ADMIN.md), while a fresh session loses nothing.
	ResumeTimeout time.Duration
	// Disco describes us for XEP-0030 / XEP-0115; zero means DefaultDiscoInfo.
	Disco DiscoInfo

	// Callbacks run on the read loop goroutine, in stream order. They must not
	// block or call SendIQ (the answer could never be read); hand work to another
	// goroutine. A stanza counts as handled for XEP-0198 once its callback
	// returned, so an engine that persists inside the callback loses nothing.

	// OnMessage gets every message no HandleMessage handler consumed, parsed;
	// carbons are unwrapped and marked (only when they come from our bare JID).
	OnMessage func(*Message)
	// OnPresence gets presence stanzas no handler consumed.
	OnPresence func(*Presence)
	// OnRosterPush gets roster pushes (RFC 6121 §2.1.6) from our own server.
	OnRosterPush func(RosterItem)
	// OnDisplayedSync gets XEP-0490 notifications from our own account: conv
	// (a bare JID) has been displayed up to the message with stanza-id
	// stanzaID on another device. Setting it advertises +notify in our caps.
	OnDisplayedSync func(conv, stanzaID string)
	// OnDND gets our own do-not-disturb state (urn:rounds:dnd:0, rounds_dnd.go)
	// when another of our devices publishes it. Setting it advertises
	// +notify for that node in our caps.
	OnDND func(DND)
	// OnVCard gets a person's card (XEP-0292) when they publish a new one:
	// bare is whose card it is, v is their own claim. Setting it advertises
	// +notify for urn:xmpp:vcard4 in our caps.
	OnVCard func(bare string, v VCard)
	// OnAvatar gets a person's avatar metadata (XEP-0084) when they publish
	// a new picture or take theirs down. Setting it advertises +notify for
	// urn:xmpp:avatar:metadata in our caps.
	OnAvatar func(bare string, m AvatarMetadata)
	// OnBookmarks gets changes to our own room bookmarks (XEP-0402,
	// xep0402.go) made by another of our devices: rooms added or changed,
	// and rooms removed. Setting it advertises +notify for the node.
	OnBookmarks func(set []Bookmark, removed []string)
	// OnAcked fires once per stanza the server acknowledged (XEP-0198), oldest
	// first, with the very *Element passed to Send. Also called from Resume.
	OnAcked func(*Element)
	// OnDisconnect reports the socket ending for any reason other than Close.
	// With resumable stream management, call Resume; otherwise Dial again.
	OnDisconnect func(error)
}

// Client is one XMPP session of one account, possibly spanning several
// sockets through XEP-0198 resumption.
type Client struct {
	cfg     Config
	log     *slog.Logger
	account JID
	iqs     *iqTracker
	routes  *router
	ctx     context.Context
	cancel  context.CancelFunc

	mu       sync.Mutex
	tr       *transport
	loopDone chan struct{}
	jid      JID
	sm       *smState
	// smAnswer receives the server's answer to a late <enable/>
	// (EnableStreamManagement) from the read loop.
	smAnswer chan error
	creds    Credentials
	keys     *SCRAMKeys
	mech     string
	features *Element
	// offered are the stream features before sign-in (what anyone who
	// reaches the server is offered, such as in-band registration).
	offered *Element
	closed  bool

	// endpoint indexes [URL]+Alternates: the one last reached (dialAny).
	endpoint int

	mam mamState // XEP-0313 queries in flight (xep0313.go)
	muc mucState // XEP-0045 joins (xep0045.go)
}

// Dial connects, authenticates, binds a resource and enables stream
// management. It returns typed errors: *InsecureTransportError for a refused
// URL or mechanism, errors.Is(err, ErrNotAuthorized) for bad credentials (do
// not retry), anything else is worth a retry with backoff.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

// NewClient prepares a Client without connecting, so handlers can be
// registered before the first stanza arrives; then call Connect.
func NewClient(cfg Config) (*Client, error) {
	acct, err := ParseJID(cfg.JID)
	if err != nil || acct.Local == "" {
		return nil, fmt.Errorf("xmpp: account JID %q: want user@domain", cfg.JID)
	}
	for _, u := range append([]string{cfg.URL}, cfg.Alternates...) {
		if _, err := CheckURL(u); err != nil {
			return nil, err
		}
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Disco.Identity.Category == "" {
		cfg.Disco = DefaultDiscoInfo()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg: cfg, log: cfg.Logger.With("account", acct.Bare().String()), account: acct.Bare(),
		iqs: newIQTracker(), routes: newRouter(), ctx: ctx, cancel: cancel,
		creds: cfg.Credentials,
	}
	c.registerBuiltins()
	c.registerExtensions()
	return c, nil
}

// Connect performs a fresh login and session start (not a resumption).
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.tr != nil {
		c.mu.Unlock()
		return errors.New("xmpp: already connected")
	}
	c.sm = nil
	c.mu.Unlock()
	t, feats, err := c.login(ctx)
	if err != nil {
		return err
	}
	return c.startSession(ctx, t, feats)
}

// dialAny opens the WebSocket to the endpoint last reached, else to the next
// ones in order. Each try gets an equal share of what is left of ctx, so a
// node that swallows packets cannot use up the time of the others. A node
// that was killed refuses at once, and the next is tried straight away.
func (c *Client) dialAny(ctx context.Context) (*transport, error) {
	urls := append([]string{c.cfg.URL}, c.cfg.Alternates...)
	c.mu.Lock()
	start := c.endpoint
	c.mu.Unlock()
	var errs []error
	for i := range urls {
		idx := (start + i) % len(urls)
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if deadline, ok := ctx.Deadline(); ok && len(urls)-i > 1 {
			dctx, cancel = context.WithTimeout(ctx, time.Until(deadline)/time.Duration(len(urls)-i))
		}
		t, err := dialTransport(dctx, urls[idx], c.cfg.HTTPClient, c.cfg.TLSConfig, c.cfg.Limits, c.log)
		cancel()
		if err == nil {
			if idx != start {
				c.log.Info("xmpp: endpoint changed", "url", urls[idx])
			}
			c.mu.Lock()
			c.endpoint = idx
			c.mu.Unlock()
			return t, nil
		}
		if len(urls) == 1 || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Endpoint is the URL of the endpoint the client last reached (URL until
// then).
func (c *Client) Endpoint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{c.cfg.URL}, c.cfg.Alternates...)[c.endpoint]
}

// login opens a socket, authenticates and restarts the stream. Stored keys that
// no longer fit the server (it rehashed) fall back to the password once.
func (c *Client) login(ctx context.Context) (*transport, *Element, error) {
	creds := c.currentCreds()
	for attempt := 0; ; attempt++ {
		t, err := c.dialAny(ctx)
		if err != nil {
			return nil, nil, err
		}
		feats, err := t.open(ctx, c.account.Domain)
		if err != nil {
			t.abort()
			return nil, nil, err
		}
		offered := feats
		mech, keys, err := authenticate(ctx, t, feats, c.account.Local, creds)
		if err != nil {
			t.abort()
			var ae *AuthError
			if errors.As(err, &ae) && ae.Condition == "stale-keys" && creds.Password != "" && attempt == 0 {
				creds.Keys = nil
				continue
			}
			c.log.Warn("xmpp: authentication failed", "mechanism", mech, "err", err)
			return nil, nil, err
		}
		c.mu.Lock()
		c.mech, c.offered = mech, offered
		if keys != nil {
			c.keys = keys
			// Keep the keys for resumption; they spare a PBKDF2 run and let the
			// app drop the password.
			c.creds.Keys = []SCRAMKeys{*keys}
		}
		c.mu.Unlock()
		c.log.Info("xmpp: authenticated", "mechanism", mech)
		feats, err = t.open(ctx, c.account.Domain)
		if err != nil {
			t.abort()
			return nil, nil, err
		}
		return t, feats, nil
	}
}

func (c *Client) currentCreds() Credentials {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Credentials{Password: c.creds.Password, Keys: append([]SCRAMKeys(nil), c.creds.Keys...)}
}

// startSession binds a resource, enables stream management and starts reading.
func (c *Client) startSession(ctx context.Context, t *transport, feats *Element) error {
	j, err := bind(ctx, t, feats, c.cfg.Resource)
	if err != nil {
		t.abort()
		return err
	}
	var sm *smState
	var early []*Element
	if !c.cfg.DisableStreamManagement && !c.cfg.LateStreamManagement && feats.Child(nsSM, "sm") != nil {
		if sm, early, err = enableSM(ctx, t); err != nil {
			t.abort()
			return err
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		t.shutdown("")
		return ErrClosed
	}
	c.jid, c.sm, c.features = j, sm, feats
	c.attach(t, early)
	c.mu.Unlock()
	c.log.Info("xmpp: session started", "stream_management", sm != nil, "resumable", sm != nil && sm.resumable)
	return nil
}

// attach makes t the live transport and starts its read loop. c.mu is held.
func (c *Client) attach(t *transport, early []*Element) {
	c.tr = t
	done := make(chan struct{})
	c.loopDone = done
	go c.readLoop(t, done, early)
}

func (c *Client) readLoop(t *transport, done chan struct{}, early []*Element) {
	defer close(done)
	for _, st := range early {
		c.dispatch(st)
	}
	// The loop reads with a context that is never cancelled: the WebSocket
	// library registers a cancel watcher (context.AfterFunc) for every read
	// on a cancellable context, several per frame, which during a catch-up of
	// thousands of frames is measurable CPU. The loop still ends on Close,
	// Drop or loss, which all close the socket (t.abort) under the read.
	rctx := context.WithoutCancel(c.ctx)
	for {
		el, err := t.readStanza(rctx)
		var uf *unreadableFrame
		if errors.As(err, &uf) {
			// Skipped, not fatal: see unreadable.go. A skipped stanza is
			// handled as far as XEP-0198 goes, or a resumed stream would
			// bring it back.
			if c.skipUnreadable(uf) {
				c.countHandled(t)
			}
			continue
		}
		if err == nil {
			switch {
			case el.Name.Space == nsSM:
				err = c.handleSM(t, el)
			case el.IsStanza():
				c.dispatch(el)
				c.countHandled(t)
			default:
				// RFC 6120 §4.9.3.24: a top-level element we do not know.
				err = &StreamError{Condition: "unsupported-stanza-type", Local: true,
					Err: fmt.Errorf("<%s xmlns=%q>", el.Name.Local, el.Name.Space)}
			}
		}
		if err != nil {
			var se *StreamError
			if errors.As(err, &se) && se.Local {
				t.log.Warn("xmpp: closing stream on bad input", "condition", se.Condition, "err", se.Err)
				t.shutdown(se.Condition)
			}
			c.lost(t, err)
			return
		}
	}
}

// countHandled adds one to our XEP-0198 h for a stanza received on t.
func (c *Client) countHandled(t *transport) {
	c.mu.Lock()
	if c.sm != nil && !c.sm.enabling && c.tr == t {
		c.sm.inH++
	}
	c.mu.Unlock()
}

// lost retires transport t after err.
func (c *Client) lost(t *transport, err error) {
	c.mu.Lock()
	if c.tr != t {
		c.mu.Unlock()
		return
	}
	c.tr = nil
	closed := c.closed
	resumable := c.sm != nil && c.sm.resumable
	c.mu.Unlock()
	t.abort()
	if !resumable {
		c.iqs.failAll(ErrDisconnected)
	}
	if closed {
		return
	}
	c.log.Warn("xmpp: connection lost", "err", err, "resumable", resumable)
	if c.cfg.OnDisconnect != nil {
		c.cfg.OnDisconnect(err)
	}
}

// Send writes one element. Stanzas get xmlns="jabber:client". With stream
// management on, a stanza joins the unacknowledged queue before the write; if
// the socket is down but the session resumable, Send queues it and returns nil:
// Resume replays it, or hands it back in ResumeFailedError. Without stream
// management a down socket is ErrDisconnected.
func (c *Client) Send(st *Element) error {
	switch st.Name.Local {
	case "message", "presence", "iq":
		if st.Name.Space == "" {
			st.Name.Space = NSClient
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	counted := c.sm != nil && st.IsStanza()
	if c.tr == nil {
		if counted && c.sm.resumable {
			c.sm.queue = append(c.sm.queue, st)
			return nil
		}
		return ErrDisconnected
	}
	if counted {
		c.sm.queue = append(c.sm.queue, st)
	}
	if err := c.tr.writeElement(c.ctx, st); err != nil {
		if counted && c.sm.resumable {
			return nil // queued; the read loop reports the loss
		}
		return err
	}
	if counted && !c.sm.requested && !c.sm.enabling {
		c.sm.requested = true
		if err := c.tr.writeElement(c.ctx, NewElement(nsSM, "r")); err != nil {
			return nil
		}
	}
	return nil
}

// Close ends the session cleanly (RFC 7395 <close/>), which also ends any
// XEP-0198 session: the server will not keep it for resumption.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	t, done := c.tr, c.loopDone
	if t != nil && c.sm != nil && !c.sm.enabling {
		_ = t.writeElement(c.ctx, NewElement(nsSM, "a", "h", fmt.Sprint(c.sm.inH)))
	}
	c.mu.Unlock()
	if t != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = t.writeElement(ctx, NewElement(NSFraming, "close"))
		select { // the server answers <close/>; the read loop then ends
		case <-done:
		case <-ctx.Done():
		}
		cancel()
		t.abort()
	}
	c.cancel()
	c.iqs.failAll(ErrClosed)
	return nil
}

// Drop cuts the socket without any goodbye, as a network loss would; the
// session stays resumable. For tests and for an engine that knows the network
// changed (the old socket is dead even if TCP has not noticed yet).
func (c *Client) Drop() {
	c.mu.Lock()
	t := c.tr
	c.mu.Unlock()
	if t != nil {
		t.abort()
	}
}

// Connected reports whether a socket is live.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tr != nil
}

// Done is closed when the current socket's read loop ends (nil when not
// connected).
func (c *Client) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loopDone == nil {
		return nil
	}
	return c.loopDone
}

// JID is the full JID the server bound.
func (c *Client) JID() JID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jid
}

// Account is the bare account JID.
func (c *Client) Account() JID { return c.account }

// SCRAMKeys returns the keys of the last SCRAM login (nil after PLAIN): store
// them in Credentials.Keys to log in later without the password.
func (c *Client) SCRAMKeys() *SCRAMKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		return nil
	}
	k := *c.keys
	return &k
}

// Mechanism is the SASL mechanism of the last login.
func (c *Client) Mechanism() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mech
}

// ChannelBound reports whether the last login used a -PLUS mechanism.
func (c *Client) ChannelBound() bool {
	m := c.Mechanism()
	return len(m) > 5 && m[len(m)-5:] == "-PLUS"
}

// OfferedBeforeSignIn returns the stream features of the last sign-in
// before authentication: what the server offers anyone who connects.
func (c *Client) OfferedBeforeSignIn() *Element {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offered
}

// Features returns the stream features after authentication.
func (c *Client) Features() *Element {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.features
}
