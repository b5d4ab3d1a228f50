package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Each account on this device is a profile with a store of its own
// (profiles.go: the layout, the list the lock screen reads, and the move
// from the single-profile layout of earlier versions).

// parseAddress validates a user-typed address and returns the bare JID.
func parseAddress(address string) (jid.JID, error) {
	address = strings.TrimSpace(address)
	j, err := jid.Parse(address)
	if err != nil || j.Local == "" || j.Domain == "" || j.Resource != "" || strings.ContainsAny(j.Domain, " /") {
		return jid.JID{}, &signInError{kind: ErrInvalidAddress}
	}
	return j.Bare(), nil
}

// SignIn sets this device up for an account: it finds the server (XEP-0156
// when serverURL is empty), checks the password with one real connection
// (so a wrong password never creates a store), creates the encrypted store
// locked by pin, and starts syncing. The password is never stored: the store
// keeps the SCRAM keys of this sign-in. It is CheckSignIn followed by
// PendingSignIn.Finish, with the PIN's length checked before anything goes
// on the wire.
//
// Errors match ErrInvalidAddress, ErrNoServerFound, ErrInsecureURL,
// ErrServerUnreachable, ErrBadCertificate or ErrWrongPassword. Another
// account on the device is another profile (profiles.go); signing in again
// as an account already on the device (e.g. after the password changed)
// opens its store with pin instead.
func SignIn(ctx context.Context, cfg Config, address, password, serverURL string, pin []byte) (*Client, error) {
	cfg = cfg.withDefaults()
	if _, err := parseAddress(address); err != nil {
		return nil, err
	}
	if err := checkNewPIN(pin, cfg.Policy.withDefaults().MinPINLength); err != nil {
		return nil, err
	}
	p, err := CheckSignIn(ctx, cfg, address, password, serverURL)
	if err != nil {
		return nil, err
	}
	return p.Finish(pin)
}

// PendingSignIn is a sign-in whose password the server accepted, waiting
// for the PIN that will lock what it stores. It holds the SCRAM keys of the
// sign-in (never the password) in memory only; Discard forgets them.
type PendingSignIn struct {
	cfg      Config
	account  string
	url      string
	resource string
	creds    securestore.Credentials
	minPIN   int // the PIN minimum with the org policy read at the check
	// Existing: this account already has a profile on the device, so
	// Finish opens it with its PIN instead of choosing a new one.
	Existing bool
}

// Account is the bare JID the server accepted.
func (p *PendingSignIn) Account() string { return p.account }

// CheckSignIn checks the address and password with the server (finding it
// by XEP-0156 when serverURL is empty) and creates nothing on the device: a
// wrong password costs the user nothing, in particular not a PIN choice.
// Errors as for SignIn.
func CheckSignIn(ctx context.Context, cfg Config, address, password, serverURL string) (*PendingSignIn, error) {
	cfg = cfg.withDefaults()
	jid, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	account := jid.String()
	serverURL = strings.TrimSpace(serverURL)
	if serverURL == "" {
		dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
		serverURL, err = sync.DiscoverServer(dctx, cfg.HTTPClient, jid.Domain)
		cancel()
		if err != nil {
			return nil, &signInError{kind: ErrNoServerFound, cause: err}
		}
	}
	if err := sync.CheckServerURL(serverURL); err != nil {
		return nil, &signInError{kind: ErrInsecureURL, cause: err}
	}
	resource := cfg.Resource
	if resource == "" {
		resource = randomResource()
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	creds, org, err := sync.CheckPasswordReadPolicy(cctx, sync.Server{
		URL: serverURL, JID: account, Resource: resource, Password: password,
		TLSConfig: cfg.TLSConfig, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger,
	}, cfg.PubSubService)
	if err != nil {
		cfg.Logger.Info("app: sign-in refused", "reason", classify(err))
		return nil, &signInError{kind: classify(err), cause: err}
	}
	pol := cfg.Policy.withDefaults()
	if org != nil {
		o := orgPolicyFromWire(*org)
		pol = mergePolicy(pol, &o)
	}
	_, _ = Profiles(cfg) // a single-profile install is moved before looking
	_, statErr := os.Stat(StorePath(cfg.DataDir, account))
	return &PendingSignIn{cfg: cfg, account: account, url: serverURL, resource: resource, creds: creds,
		minPIN: pol.MinPINLength, Existing: statErr == nil}, nil
}

// MinPINLength is the shortest PIN Finish accepts for a new profile: the
// device's minimum or, when the hospital published a longer one in its org
// policy, that one (read during the check, before any PIN is asked for).
func (p *PendingSignIn) MinPINLength() int { return max(p.minPIN, MinPINLength) }

// Discard forgets the keys of a sign-in that will not be finished.
func (p *PendingSignIn) Discard() {
	clear(p.creds.SaltedPassword)
	clear(p.creds.ClientKey)
	clear(p.creds.ServerKey)
	p.creds = securestore.Credentials{}
}

// Finish creates the account's profile and store locked by pin (or, for an
// account already on the device, opens its store with its PIN), keeps the
// checked keys and starts syncing. A PIN shorter than the policy's minimum
// returns a *PINTooShortError and leaves the sign-in pending, so the user
// chooses again without retyping the password.
func (p *PendingSignIn) Finish(pin []byte) (*Client, error) {
	cfg := p.cfg
	if p.creds.Mechanism == "" && p.creds.PlainPassword == "" && p.creds.ClientKey == nil {
		return nil, ErrSignedOut // discarded
	}
	if !p.Existing {
		if err := checkNewPIN(pin, p.MinPINLength()); err != nil {
			return nil, err
		}
	}
	if _, err := Profiles(cfg); err != nil { // moves a single-profile install first
		return nil, err
	}
	path := StorePath(cfg.DataDir, p.account)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	st, err := securestore.Create(path, pin, cfg.storeOptions())
	if errors.Is(err, securestore.ErrExists) {
		st, err = openStore(path, pin, cfg)
	}
	if err != nil {
		return nil, err
	}
	acct := securestore.Account{JID: p.account, WebSocketURL: p.url, Resource: p.resource, Credentials: p.creds}
	if err := st.SetAccount(acct); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Audit(securestore.AuditSignIn, ""); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Policy.AllowKeyring {
		if err := st.EnableKeyring(); err != nil {
			cfg.Logger.Info("app: keyring unlock not available", "err", err)
		}
	}
	c := newClient(cfg, path)
	c.setPINLen(pin)
	if err := c.start(st); err != nil {
		c.changes.close()
		st.Close()
		return nil, err
	}
	p.Discard()
	profileUsed(cfg, p.account)
	return c, nil
}

// checkCredentials signs in once and returns what to keep instead of the
// password.
func checkCredentials(ctx context.Context, cfg Config, account, password, url, resource string) (securestore.Credentials, error) {
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	creds, err := sync.CheckPassword(cctx, sync.Server{
		URL: url, JID: account, Resource: resource, Password: password,
		TLSConfig: cfg.TLSConfig, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger,
	})
	if err != nil {
		return securestore.Credentials{}, &signInError{kind: classify(err), cause: err}
	}
	return creds, nil
}

// untrustedCertificate: the TLS handshake refused the server's certificate.
func untrustedCertificate(err error) bool {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		certInvalid x509.CertificateInvalidError
		certVerify  *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &certInvalid) || errors.As(err, &certVerify)
}

// classify maps a connection error to the sentinel SignIn returns (its
// words for the screens are SignInErrorText's, below).
func classify(err error) error {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
	)
	switch {
	case errors.Is(err, sync.ErrNotAuthorized):
		return ErrWrongPassword
	case errors.Is(err, sync.ErrInsecureTransport):
		return ErrInsecureURL
	case errors.Is(err, sync.ErrProtocol):
		return ErrNoServerFound // something answered, but not XMPP over WebSocket
	case untrustedCertificate(err):
		return ErrBadCertificate
	}
	// The WebSocket dial error reaches us as text (wrapped with %v), so look
	// at the message too.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls: failed to verify certificate"):
		return ErrBadCertificate
	case errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, sync.ErrDisconnected):
		return ErrServerUnreachable
	}
	return ErrServerUnreachable
}

// SignInErrorText turns a sign-in or connection error (SignIn's, or
// Connection().Reason) into words a nurse can act on: the sign-in screen
// and the status bar show them. Errors are matched by type through any
// wrapping (errors.Is/As), so callers may add context freely; anything
// unknown is shown as it is.
func SignInErrorText(err error) string {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, sync.ErrNotAuthorized):
		if sync.PasswordExpired(err) {
			return "Your password has expired. Change it with your hospital's IT service, then sign in again."
		}
		return "Wrong address or password. Check both and try again."
	case untrustedCertificate(err):
		return "The server's certificate could not be verified, so Rounds did not connect. Ask your IT service (" + err.Error() + ")."
	case errors.Is(err, sync.ErrNoWebSocketEndpoint):
		return "No Rounds server was found for this address. Check the address, or enter the server URL under Server settings."
	case errors.Is(err, sync.ErrInsecureTransport): // also a *InsecureTransportError with its URL
		return "The server URL must start with wss:// (a secure connection)."
	case errors.As(err, &dnsErr):
		return "No server was found for this address (" + dnsErr.Name + "). Check the address, or enter the server URL under Server settings."
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &opErr):
		return "The server could not be reached. Check the network (hospital Wi-Fi or VPN) and try again."
	case errors.Is(err, sync.ErrNoMechanism):
		return "The server offers no secure way to sign in that Rounds accepts. Ask your IT service."
	}
	return err.Error()
}

// openStore opens a store with the PIN and maps the store's errors to the
// app's.
func openStore(path string, pin []byte, cfg Config) (*securestore.Store, error) {
	st, err := securestore.Open(path, pin, cfg.storeOptions())
	var wp *securestore.WrongPINError
	switch {
	case errors.As(err, &wp):
		cfg.Logger.Warn("app: wrong PIN", "attempts_left", wp.Remaining)
		return nil, &WrongPINError{Remaining: wp.Remaining}
	case errors.Is(err, securestore.ErrWrongPIN):
		return nil, &WrongPINError{}
	case errors.Is(err, securestore.ErrWiped):
		cfg.Logger.Warn("app: wrong-PIN limit reached; local data erased")
		return nil, fmt.Errorf("%w (%v)", ErrWiped, err)
	}
	return st, err
}

// Unlock opens the only profile on this device with the PIN and starts
// syncing from the stored account and SCRAM keys (no password). A wrong PIN
// returns a *WrongPINError (errors.Is ErrWrongPIN) with the attempts left; at
// the policy's limit the store erases itself and Unlock returns ErrWiped.
// With several profiles it returns ErrChooseProfile: a PIN is tried on the
// store of the person who typed it only (UnlockProfile), never on the others'.
func Unlock(ctx context.Context, cfg Config, pin []byte) (*Client, error) {
	cfg = cfg.withDefaults()
	id, err := onlyProfile(cfg)
	if err != nil {
		return nil, err
	}
	return UnlockProfile(ctx, cfg, id, pin)
}

// UnlockWithKeyring opens the account with the secret kept in the OS keyring,
// without a PIN, where Policy.AllowKeyring (desktop only; SignIn filed the
// secret). It fails with ErrKeyringNotAllowed otherwise.
func UnlockWithKeyring(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if !cfg.Policy.AllowKeyring {
		return nil, ErrKeyringNotAllowed
	}
	id, err := onlyProfile(cfg)
	if err != nil {
		return nil, err
	}
	path := ProfileStorePath(cfg.DataDir, id)
	st, err := securestore.OpenWithKeyring(path, cfg.Secrets, cfg.storeOptions())
	if errors.Is(err, securestore.ErrNoKeyringSlot) || errors.Is(err, securestore.ErrKeyringUnavailable) {
		return nil, fmt.Errorf("%w: %v", ErrKeyringNotAllowed, err)
	}
	if err != nil {
		return nil, err
	}
	c := newClient(cfg, path)
	if err := c.start(st); err != nil {
		c.changes.close()
		st.Close()
		return nil, err
	}
	profileUsed(cfg, c.Account())
	return c, nil
}
