package xmpp

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// XEP-0156 Discovering Alternative XMPP Connection Methods: the user types only
// name@hospital.org and we find the WebSocket endpoint at
// https://hospital.org/.well-known/host-meta (XRD) or host-meta.json (JRD). A
// manual override is simply a URL given to Config.URL instead.
const relWebSocket = "urn:xmpp:alt-connections:websocket"

// ErrNoWebSocketEndpoint: the domain publishes no usable wss:// endpoint.
var ErrNoWebSocketEndpoint = errors.New("xmpp: no WebSocket endpoint published (XEP-0156)")

const maxHostMetaBytes = 64 << 10

// DiscoverWebSocket looks up the WebSocket URL of domain over HTTPS (hc nil:
// http.DefaultClient's transport with certificate verification). Only wss://
// links are accepted: host-meta is fetched over TLS, and a plain link would
// undo that. Redirects are followed only to https:// URLs.
func DiscoverWebSocket(ctx context.Context, hc *http.Client, domain string) (string, error) {
	urls, err := DiscoverWebSockets(ctx, hc, domain)
	if err != nil {
		return "", err
	}
	return urls[0], nil
}

// DiscoverWebSockets is DiscoverWebSocket returning every usable wss://
// endpoint of the first document that lists any, in the document's order: a
// cluster publishes one link per node (or per load balancer), and the client
// moves to the next when one cannot be reached (Config.Alternates).
func DiscoverWebSockets(ctx context.Context, hc *http.Client, domain string) ([]string, error) {
	if domain == "" || strings.ContainsAny(domain, "/@?#") {
		return nil, fmt.Errorf("xmpp: bad domain %q", domain)
	}
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" || len(via) > 5 {
			return errors.New("xmpp: host-meta redirect refused")
		}
		return nil
	}
	var errs []error
	for _, doc := range []struct {
		path  string
		parse func([]byte) []string
	}{{"/.well-known/host-meta", parseXRD}, {"/.well-known/host-meta.json", parseJRD}} {
		body, err := fetchHostMeta(ctx, &c, "https://"+domain+doc.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var found []string
		for _, href := range doc.parse(body) {
			if strings.HasPrefix(href, "wss://") && !slices.Contains(found, href) {
				if _, err := CheckURL(href); err == nil {
					found = append(found, href)
				}
			}
		}
		if len(found) > 0 {
			return found, nil
		}
	}
	return nil, fmt.Errorf("%w for %s: %v", ErrNoWebSocketEndpoint, domain, errors.Join(errs...))
}

func fetchHostMeta(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxHostMetaBytes))
}

// parseXRD reads <XRD><Link rel=... href=.../></XRD> (RFC 6415).
func parseXRD(b []byte) []string {
	var doc struct {
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"Link"`
	}
	d := xml.NewDecoder(strings.NewReader(string(b)))
	d.Strict = true
	if err := d.Decode(&doc); err != nil {
		return nil
	}
	var out []string
	for _, l := range doc.Links {
		if l.Rel == relWebSocket {
			out = append(out, strings.TrimSpace(l.Href))
		}
	}
	return out
}

// parseJRD reads {"links":[{"rel":...,"href":...}]}.
func parseJRD(b []byte) []string {
	var doc struct {
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []string
	for _, l := range doc.Links {
		if l.Rel == relWebSocket {
			out = append(out, strings.TrimSpace(l.Href))
		}
	}
	return out
}
