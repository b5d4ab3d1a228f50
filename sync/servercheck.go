package sync

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"rounds/sync/xmpp"
)

// The server check (`rounds admin check`, docs/ADMIN.md) signs in once with a
// test account and records, as plain facts, what the live server offers of
// everything Rounds relies on. app words the findings; this file only
// speaks to the server. It leaves little behind: a probe room it creates
// and destroys, one small upload, and (only while the account's archive is
// too small to tell the page size) short messages to itself.

// ServerFacts is what one ProbeServer run saw.
type ServerFacts struct {
	URL string // the WebSocket endpoint probed

	// TLS: the certificate the endpoint's name got, or why none.
	TLSErr      error
	CertNames   []string
	CertExpires time.Time
	// ClockSkew is the server's clock minus the local clock: from the HTTP
	// Date header, else from XEP-0202 after sign-in (HaveDate false: neither).
	ClockSkew time.Duration
	HaveDate  bool

	// SignInErr is the sign-in's error; when it is set the rest is empty.
	SignInErr   error
	Mechanism   string
	SMEnabled   bool
	SMResumable bool
	CarbonsErr  error
	CSI         bool
	// Registration: the server offers in-band registration (XEP-0077)
	// before sign-in, so anyone who reaches it can make an account.
	Registration bool

	MAM bool
	// ArchivePage is the most results one 250-message query returned;
	// ArchiveCapped says the server stopped there with more to come.
	// ArchiveFilled counts messages the check sent itself to tell.
	ArchivePage   int
	ArchiveCapped bool
	ArchiveFilled int
	ArchiveErr    error

	UploadErr     error
	UploadService string
	UploadMax     int64
	UploadPutURL  string // the slot's PUT URL (no secrets: Prosody signs in the path, so only its host is reported)
	UploadPut     int    // HTTP status of the PUT
	UploadGet     int    // HTTP status of the GET
	UploadSame    bool   // the GET returned what was PUT
	// UploadDeleted: the server took an HTTP DELETE of the test file.
	// XEP-0363 defines none (Prosody 0.12 and ejabberd 23.01 refuse it),
	// so usually the file stays until the upload service expires it.
	UploadDeleted bool
	UploadSize    int // the test file's size in bytes

	MUCService   string
	RoomDefaults map[string]string
	RoomErr      error

	// Nodes maps the policy and on-call node to its current document, parsed
	// as devices parse it (PolicyUpdated, OnCallUpdated); NodeErrs says why a
	// node has none.
	PubSubService string
	Nodes         map[string]Event
	NodeErrs      map[string]error
	// CreatedNode: the check account could create a node of its own on the
	// pubsub service (it was deleted again), so any user could have created
	// the policy node before IT. Otherwise CreateNodeRefused is the
	// server's stanza error condition ("forbidden"), or CreateNodeErr says
	// what else went wrong.
	CreatedNode       bool
	CreateNodeRefused string
	CreateNodeErr     error
	// LeftNode names the scratch node when deleting it failed (DeleteNodeErr):
	// it is still on the service and IT should delete it.
	LeftNode      string
	DeleteNodeErr error
}

// ProbeServer runs every check against s (as the account s names) and
// returns what it saw; a failed sign-in is SignInErr, and nothing after it
// is probed. pubsub is the service holding the org nodes.
func ProbeServer(ctx context.Context, s Server, pubsub string) *ServerFacts {
	first := s.URL
	if eps := Endpoints(s.URL); len(eps) > 0 {
		first = eps[0] // a cluster: the node tried first is the one probed
	}
	f := &ServerFacts{URL: first, Nodes: map[string]Event{}, NodeErrs: map[string]error{}, PubSubService: pubsub}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: s.TLSConfig}}
	probeTLS(ctx, f, Endpoints(s.URL), s.TLSConfig)
	probeDate(ctx, f, hc)

	cfg := s.XMPP()
	cfg.Resource = "server-check"
	c, err := xmpp.Dial(ctx, cfg)
	if err != nil {
		f.SignInErr = err
		return f
	}
	defer c.Close()
	f.Mechanism = c.Mechanism()
	f.SMEnabled, f.SMResumable = c.StreamManagement()
	f.CSI = c.Features().Child("urn:xmpp:csi:0", "csi") != nil
	f.Registration = c.OfferedBeforeSignIn().Child("http://jabber.org/features/iq-register", "register") != nil
	f.CarbonsErr = c.EnableCarbons(ctx)
	if !f.HaveDate {
		probeEntityTime(ctx, f, c)
	}

	if info, err := c.QueryDiscoInfo(ctx, xmpp.BareJID(s.JID)); err == nil {
		f.MAM = info.Has(xmpp.NSMAM)
	}
	probeArchive(ctx, f, c)
	probeUpload(ctx, f, c, hc)
	probeRooms(ctx, f, c)
	for _, node := range []string{NodePolicy, NodeOnCall} {
		items, err := c.GetItems(ctx, pubsub, node, xmpp.PolicyItemID)
		var current []xmpp.PubSubItem
		for _, it := range items {
			if it.ID == xmpp.PolicyItemID && it.Payload != nil {
				current = append(current, it)
			}
		}
		switch {
		case err != nil:
			f.NodeErrs[node] = err
		case len(current) == 0:
			f.NodeErrs[node] = errors.New("nothing published (no item \"current\")")
		default:
			ev, err := ParseNodeItems(node, current[:1])
			if err != nil {
				f.NodeErrs[node] = &DocumentError{Node: node, Err: err}
			} else {
				f.Nodes[node] = ev
			}
		}
	}
	scratch := "urn:rounds:check:" + randomHex(6)
	err = c.CreateNode(ctx, pubsub, scratch, nil)
	var se *xmpp.StanzaError
	switch {
	case err == nil:
		f.CreatedNode = true
		// Deleted even when the check's own time ran out meanwhile.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		if err := c.DeleteNode(dctx, pubsub, scratch); err != nil {
			f.LeftNode, f.DeleteNodeErr = scratch, err
		}
		cancel()
	case errors.As(err, &se):
		f.CreateNodeRefused = se.Condition
	default:
		f.CreateNodeErr = err
	}
	return f
}

// probeTLS dials every endpoint's host by name (a cluster's nodes: the one
// the client moves to when the first dies must pass too) and verifies its
// certificate as Rounds will. TLSErr is the first that fails, named by its
// host; CertNames and CertExpires are those of the certificate that expires
// first.
func probeTLS(ctx context.Context, f *ServerFacts, urls []string, base *tls.Config) {
	if len(urls) == 0 {
		urls = []string{f.URL}
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "wss" {
			continue // ws:// to loopback: nothing to verify
		}
		conf := &tls.Config{MinVersion: tls.VersionTLS12}
		if base != nil {
			conf = base.Clone()
		}
		conf.ServerName = u.Hostname()
		port := u.Port()
		if port == "" {
			port = "443"
		}
		d := tls.Dialer{Config: conf, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
		if err != nil {
			if f.TLSErr == nil {
				f.TLSErr = fmt.Errorf("%s: %w", u.Host, err)
			}
			continue
		}
		if certs := conn.(*tls.Conn).ConnectionState().PeerCertificates; len(certs) > 0 &&
			(f.CertExpires.IsZero() || certs[0].NotAfter.Before(f.CertExpires)) {
			f.CertNames, f.CertExpires = certs[0].DNSNames, certs[0].NotAfter
		}
		conn.Close()
	}
}

// probeDate reads the server's clock from the Date header of the endpoint's
// HTTP answer.
func probeDate(ctx context.Context, f *ServerFacts, hc *http.Client) {
	u := "http" + strings.TrimPrefix(f.URL, "ws")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return
	}
	before := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return
	}
	resp.Body.Close()
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		mid := before.Add(time.Since(before) / 2)
		f.ClockSkew, f.HaveDate = d.Sub(mid.Truncate(time.Second)), true
	}
}

// probeEntityTime asks the server for its clock (XEP-0202) when its HTTP
// answer carried no Date header (ejabberd's WebSocket listener sends none).
func probeEntityTime(ctx context.Context, f *ServerFacts, c *xmpp.Client) {
	const ns = "urn:xmpp:time"
	before := time.Now()
	res, err := c.SendIQ(ctx, xmpp.NewElement(xmpp.NSClient, "iq", "type", "get", "to", c.Account().Domain).
		Append(xmpp.NewElement(ns, "time")))
	if err != nil {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(res.Child(ns, "time").ChildText(ns, "utc")))
	if err != nil {
		return
	}
	mid := before.Add(time.Since(before) / 2)
	f.ClockSkew, f.HaveDate = t.Sub(mid), true
}

// archiveProbePage is the page the engine asks for.
const archiveProbePage = 250

// probeArchive asks the account's archive for one 250-message page. If the
// archive holds fewer, the page size cannot be told, so the check sends the
// account short messages of its own until it can.
func probeArchive(ctx context.Context, f *ServerFacts, c *xmpp.Client) {
	for round := 0; round < 2; round++ {
		page, err := c.QueryArchive(ctx, xmpp.ArchiveQuery{Max: archiveProbePage})
		if err != nil {
			f.ArchiveErr = err
			return
		}
		f.ArchivePage = len(page.Results)
		f.ArchiveCapped = !page.Complete && len(page.Results) < archiveProbePage
		if len(page.Results) >= archiveProbePage || f.ArchiveCapped || round == 1 {
			return
		}
		for i := len(page.Results); i <= archiveProbePage; i++ {
			if err := c.Send(archiveProbeMessage(c.JID().String())); err != nil {
				f.ArchiveErr = err
				return
			}
			f.ArchiveFilled++
		}
		if err := c.Ping(ctx); err != nil { // the messages are archived once the ping returns
			f.ArchiveErr = err
			return
		}
	}
}

// archiveProbeMessage is one of the check's messages to itself. It goes to
// the check's own session (its full JID) marked private for carbons and
// no-copy, with a store hint: the archive keeps it, but no other device
// signed in to the account is shown it (had IT run the check as a real
// person's account, their phone would otherwise ring 251 times). It asks for
// no receipt or marker, so nothing answers it.
func archiveProbeMessage(self string) *xmpp.Element {
	const hints = "urn:xmpp:hints"
	return xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "to", self, "id", randomHex(8)).
		Append(xmpp.NewElement(xmpp.NSClient, "body").SetText("rounds admin check: archive page size probe")).
		Append(xmpp.NewElement(xmpp.NSCarbons, "private")).
		Append(xmpp.NewElement(hints, "no-copy")).
		Append(xmpp.NewElement(hints, "store"))
}

// probeUpload asks for a slot for a small file, PUTs it and GETs it back
// through the URLs the server hands out, as a device would.
func probeUpload(ctx context.Context, f *ServerFacts, c *xmpp.Client, hc *http.Client) {
	svc, err := c.DiscoverUpload(ctx)
	if err != nil {
		f.UploadErr = err
		return
	}
	f.UploadService, f.UploadMax = svc.JID, svc.MaxFileSize
	body := []byte("rounds admin check " + randomHex(8))
	slot, err := c.RequestUploadSlot(ctx, svc.JID, "rounds-check.txt", int64(len(body)), "text/plain")
	if err != nil {
		f.UploadErr = err
		return
	}
	f.UploadPutURL = slot.PutURL
	// A slot URL is the upload's credential (ejabberd signs in its path,
	// and a GET URL is the file): errors name its origin only.
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.PutURL, bytes.NewReader(body))
	if err != nil {
		f.UploadErr = fmt.Errorf("PUT to %s: %w", urlOrigin(slot.PutURL), withoutURL(err))
		return
	}
	req.Header = slot.PutHeaders.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "text/plain")
	req.ContentLength = int64(len(body))
	resp, err := hc.Do(req)
	if err != nil {
		f.UploadErr = fmt.Errorf("PUT to %s: %w", urlOrigin(slot.PutURL), withoutURL(err))
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	f.UploadPut = resp.StatusCode
	greq, err := http.NewRequestWithContext(ctx, http.MethodGet, slot.GetURL, nil)
	if err != nil {
		f.UploadErr = fmt.Errorf("GET from %s: %w", urlOrigin(slot.GetURL), withoutURL(err))
		return
	}
	gresp, err := hc.Do(greq)
	if err != nil {
		f.UploadErr = fmt.Errorf("GET from %s: %w", urlOrigin(slot.GetURL), withoutURL(err))
		return
	}
	got, _ := io.ReadAll(io.LimitReader(gresp.Body, 1<<16))
	gresp.Body.Close()
	f.UploadGet, f.UploadSame = gresp.StatusCode, bytes.Equal(got, body)
	f.UploadSize = len(body)
	// Tidy up where the server allows it, with the slot's own credentials.
	dreq, err := http.NewRequestWithContext(ctx, http.MethodDelete, slot.PutURL, nil)
	if err != nil {
		return
	}
	dreq.Header = slot.PutHeaders.Clone()
	if dresp, err := hc.Do(dreq); err == nil {
		io.Copy(io.Discard, io.LimitReader(dresp.Body, 1<<16))
		dresp.Body.Close()
		f.UploadDeleted = dresp.StatusCode/100 == 2
	}
}

// urlOrigin is a URL's scheme and host, all an error may say of a slot URL.
func urlOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the upload URL"
	}
	return u.Scheme + "://" + u.Host + "/"
}

// probeRooms finds the room service and reads the defaults a room created by
// any client gets.
func probeRooms(ctx context.Context, f *ServerFacts, c *xmpp.Client) {
	domain := c.Account().Domain
	res, err := c.SendIQ(ctx, xmpp.NewElement(xmpp.NSClient, "iq", "type", "get", "to", domain).
		Append(xmpp.NewElement(xmpp.NSDiscoItems, "query")))
	if err != nil {
		f.RoomErr = err
		return
	}
	for _, it := range res.Child(xmpp.NSDiscoItems, "query").ChildrenNamed(xmpp.NSDiscoItems, "item") {
		info, err := c.QueryDiscoInfo(ctx, it.Attr("jid"))
		if err == nil && info.HasIdentity("conference", "text") {
			f.MUCService = it.Attr("jid")
			break
		}
	}
	if f.MUCService == "" {
		f.RoomErr = errors.New("no room service (XEP-0045) listed by the server")
		return
	}
	f.RoomDefaults, f.RoomErr = c.RoomDefaults(ctx, "rounds-check-"+randomHex(6)+"@"+f.MUCService, "check")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
