package sync

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Sign-in happens before there is a store or a Session: the app finds the
// server, checks its URL and tries the password once, so that a wrong
// password never creates a store. These steps speak the wire, so they live
// here with the rest of the engine and the app never reaches past sync.

// Server says which server an account connects to, and as whom.
type Server struct {
	// URL is the server's WebSocket endpoint (wss://; ws:// to loopback).
	URL string
	// JID is the account's bare JID; Resource names this device.
	JID, Resource string
	// Password is needed only to check a new sign-in (CheckPassword) and for a
	// server that offers nothing but PLAIN; otherwise the SCRAM keys in the
	// store sign in.
	Password string
	// TLSConfig verifies wss:// (nil: system roots); HTTPClient dials the
	// WebSocket (proxies, tests). Logger: nil is slog.Default().
	TLSConfig  *tls.Config
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// XMPP is the wire configuration for s, for Config.XMPP.
func (s Server) XMPP() xmpp.Config {
	eps := Endpoints(s.URL)
	first := s.URL
	if len(eps) > 0 {
		first = eps[0]
	}
	var more []string
	if len(eps) > 1 {
		more = eps[1:]
	}
	return xmpp.Config{
		URL: first, Alternates: more, JID: s.JID, Resource: s.Resource,
		Credentials: xmpp.Credentials{Password: s.Password},
		TLSConfig:   s.TLSConfig, HTTPClient: s.HTTPClient, Logger: s.Logger,
	}
}

// The ways a sign-in or a connection fails that the app explains to the user,
// matched with errors.Is through any wrapping.
var (
	// ErrNotAuthorized: the server refused the address or password (see
	// PasswordExpired).
	ErrNotAuthorized = xmpp.ErrNotAuthorized
	// ErrInsecureTransport: the URL is not wss:// (ws:// only to loopback).
	ErrInsecureTransport = xmpp.ErrInsecureTransport
	// ErrProtocol: something answered, but not XMPP over WebSocket.
	ErrProtocol = xmpp.ErrProtocol
	// ErrDisconnected: the connection ended.
	ErrDisconnected = xmpp.ErrDisconnected
	// ErrNoWebSocketEndpoint: the domain publishes no WebSocket endpoint
	// (XEP-0156), so the server URL must be entered.
	ErrNoWebSocketEndpoint = xmpp.ErrNoWebSocketEndpoint
	// ErrNoMechanism: the server offers no SASL mechanism Rounds accepts.
	ErrNoMechanism = xmpp.ErrNoMechanism
)

// PasswordExpired reports whether err is the server refusing a password
// because it has expired (SASL credentials-expired), which the user mends
// with IT rather than by typing it again.
func PasswordExpired(err error) bool {
	var auth *xmpp.AuthError
	return errors.As(err, &auth) && auth.Condition == "credentials-expired"
}

// DiscoverServer finds the WebSocket endpoints the domain publishes
// (XEP-0156, host-meta over HTTPS): one URL, or a cluster's several
// separated by spaces, in host-meta's order (Endpoints).
func DiscoverServer(ctx context.Context, hc *http.Client, domain string) (string, error) {
	urls, err := xmpp.DiscoverWebSockets(ctx, hc, domain)
	return strings.Join(urls, " "), err
}

// CheckServerURL refuses a URL the engine would not connect to (not wss://,
// or ws:// beyond loopback); the error matches ErrInsecureTransport.
func CheckServerURL(raw string) error {
	eps := Endpoints(raw)
	if len(eps) == 0 {
		_, err := xmpp.CheckURL(raw)
		return err
	}
	for _, u := range eps {
		if _, err := xmpp.CheckURL(u); err != nil {
			return err
		}
	}
	return nil
}

// Endpoints splits a server URL as the app stores it and the admin types it
// (--server): one WebSocket URL, or several separated by spaces, the nodes
// of a cluster in the order to try them (a URL holds no space). The engine
// uses the first and moves to the next when one cannot be reached.
func Endpoints(serverURL string) []string { return strings.Fields(serverURL) }

// CheckPassword signs in to s once, as a separate resource and without
// stream management so the check leaves nothing behind on the server, and
// returns what the store keeps instead of the password: the SCRAM keys, or
// the password itself for a server offering nothing but PLAIN (over TLS).
func CheckPassword(ctx context.Context, s Server) (securestore.Credentials, error) {
	creds, _, err := checkPassword(ctx, s, false, "")
	return creds, err
}

// CheckPasswordReadPolicy is CheckPassword that, once the server accepted
// the password, also reads the org policy in force from pubsubService
// (default "pubsub." + the account's domain) on the same connection
// (docs/PROTOCOL.md, urn:rounds:policy:0), so the device can ask for a PIN
// as long as the hospital requires before any store exists. The policy is
// nil when none is published, the read fails or the document is refused:
// the device's own rules stand, and the Session reads the node again after
// sign-in.
func CheckPasswordReadPolicy(ctx context.Context, s Server, pubsubService string) (securestore.Credentials, *OrgPolicy, error) {
	return checkPassword(ctx, s, true, pubsubService)
}

func checkPassword(ctx context.Context, s Server, readPolicy bool, pubsubService string) (securestore.Credentials, *OrgPolicy, error) {
	cfg := s.XMPP()
	cfg.Resource += "-check"
	cfg.DisableStreamManagement = true
	c, err := xmpp.Dial(ctx, cfg)
	if err != nil {
		return securestore.Credentials{}, nil, err
	}
	defer c.Close()
	creds := securestore.Credentials{Mechanism: c.Mechanism()}
	if k := c.SCRAMKeys(); k != nil {
		creds.Salt, creds.Iterations, creds.ClientKey, creds.ServerKey = k.Salt, k.Iterations, k.ClientKey, k.ServerKey
	} else {
		creds.PlainPassword = s.Password
	}
	if !readPolicy {
		return creds, nil, nil
	}
	if pubsubService == "" {
		j, err := xmpp.ParseJID(s.JID)
		if err != nil {
			return creds, nil, nil
		}
		pubsubService = "pubsub." + j.Domain
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	items, err := c.GetItems(pctx, pubsubService, NodePolicy)
	if err != nil {
		return creds, nil, nil // no node, or no pubsub service: nothing said
	}
	if ev, err := ParseNodeItems(NodePolicy, items); err == nil {
		if p, ok := ev.(PolicyUpdated); ok {
			return creds, &p.Policy, nil
		}
	}
	return creds, nil, nil
}
