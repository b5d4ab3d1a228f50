package app

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// One account per device is the supported case: a hospital phone or desktop
// belongs to one member of staff at a time. Each account's store lives at
// <DataDir>/<first 16 hex digits of sha256(bare JID)>.db; nothing else is
// written in clear, so which account a file belongs to is known only after it
// is unlocked. (The hash hides the JID from a casual look at the disk, not
// from someone who guesses JIDs and hashes them.)
const storeExt = ".db"

// StorePath is where the store of account (a bare JID) lives in dataDir.
func StorePath(dataDir, account string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(jid.Bare(account))))
	return filepath.Join(dataDir, hex.EncodeToString(sum[:])[:16]+storeExt)
}

// storeFiles lists the store files in DataDir, sorted.
func storeFiles(dataDir string) ([]string, error) {
	ents, err := os.ReadDir(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, storeExt) && len(n) == 16+len(storeExt) {
			if _, err := hex.DecodeString(strings.TrimSuffix(n, storeExt)); err == nil {
				out = append(out, filepath.Join(dataDir, n))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// HasAccount reports whether an account is set up on this device, so the UI
// shows the unlock screen rather than sign-in.
func HasAccount(cfg Config) bool {
	files, err := storeFiles(cfg.DataDir)
	return err == nil && len(files) > 0
}

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
// keeps the SCRAM keys of this sign-in.
//
// Errors match ErrInvalidAddress, ErrNoServerFound, ErrInsecureURL,
// ErrServerUnreachable, ErrBadCertificate, ErrWrongPassword or
// ErrAccountExists. Signing in again as the account already on the device
// (e.g. after the password changed) opens its store with pin instead.
func SignIn(ctx context.Context, cfg Config, address, password, serverURL string, pin []byte) (*Client, error) {
	cfg = cfg.withDefaults()
	jid, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	if err := checkPINLength(pin, cfg.Policy.withDefaults().MinPINLength); err != nil {
		return nil, err
	}
	account := jid.String()
	path := StorePath(cfg.DataDir, account)
	files, err := storeFiles(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f != path {
			return nil, ErrAccountExists
		}
	}
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
	creds, err := checkCredentials(ctx, cfg, account, password, serverURL, resource)
	if err != nil {
		cfg.Logger.Info("app: sign-in refused", "reason", classify(err))
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	st, err := securestore.Create(path, pin, cfg.storeOptions())
	if errors.Is(err, securestore.ErrExists) {
		st, err = openStore(path, pin, cfg)
	}
	if err != nil {
		return nil, err
	}
	acct := securestore.Account{JID: account, WebSocketURL: serverURL, Resource: resource, Credentials: creds}
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

// Unlock opens the account on this device with the PIN and starts syncing
// from the stored account and SCRAM keys (no password). A wrong PIN returns a
// *WrongPINError (errors.Is ErrWrongPIN) with the attempts left; at the
// policy's limit the store erases itself and Unlock returns ErrWiped.
//
// One account per device is the expected case. Should several store files
// exist, each is tried in turn with the PIN — which counts a wrong PIN on
// every store the PIN does not open; SignIn prevents this by refusing a
// second account.
func Unlock(ctx context.Context, cfg Config, pin []byte) (*Client, error) {
	cfg = cfg.withDefaults()
	files, err := storeFiles(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, ErrNoAccount
	}
	var firstErr error
	for _, f := range files {
		st, err := openStore(f, pin, cfg)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		c := newClient(cfg, f)
		c.setPINLen(pin)
		if err := c.start(st); err != nil {
			c.changes.close()
			st.Close()
			return nil, err
		}
		return c, nil
	}
	return nil, firstErr
}

// UnlockWithKeyring opens the account with the secret kept in the OS keyring,
// without a PIN, where Policy.AllowKeyring (desktop only; SignIn filed the
// secret). It fails with ErrKeyringNotAllowed otherwise.
func UnlockWithKeyring(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if !cfg.Policy.AllowKeyring {
		return nil, ErrKeyringNotAllowed
	}
	files, err := storeFiles(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, ErrNoAccount
	}
	st, err := securestore.OpenWithKeyring(files[0], cfg.Secrets, cfg.storeOptions())
	if errors.Is(err, securestore.ErrNoKeyringSlot) || errors.Is(err, securestore.ErrKeyringUnavailable) {
		return nil, fmt.Errorf("%w: %v", ErrKeyringNotAllowed, err)
	}
	if err != nil {
		return nil, err
	}
	c := newClient(cfg, files[0])
	if err := c.start(st); err != nil {
		c.changes.close()
		st.Close()
		return nil, err
	}
	return c, nil
}
