package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rounds/app"
)

// accountFlags say as whom and where a command signs in.
type accountFlags struct {
	account        string
	secretFile     string
	keyring        bool
	server         string
	caFile         string
	stateDir       string
	connectTimeout time.Duration
	verbose        bool
}

func (a *accountFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.account, "account", "", "the account to sign in as, e.g. lab.bot@hospital.org (required)")
	fs.StringVar(&a.secretFile, "secret-file", "", "file holding the account's password (mode 600)")
	fs.BoolVar(&a.keyring, "keyring", false, "read the password from the OS keyring (filed with `rounds secret set`)")
	fs.StringVar(&a.server, "server", os.Getenv("ROUNDS_SERVER_URL"), "WebSocket URL, e.g. wss://xmpp.hospital.org/xmpp-websocket, or a cluster's nodes separated by spaces, tried in order (default: $ROUNDS_SERVER_URL, else discovered from the domain, XEP-0156)")
	fs.StringVar(&a.caFile, "ca-file", "", "PEM file of the CA that signed the server's certificate (default: the system's roots)")
	fs.StringVar(&a.stateDir, "state-dir", os.Getenv("ROUNDS_CLI_STATE"), "where the account's encrypted state lives (default: $ROUNDS_CLI_STATE, else <user config dir>/rounds-cli)")
	fs.DurationVar(&a.connectTimeout, "connect-timeout", 30*time.Second, "give up signing in after this long (exit 4)")
	fs.BoolVar(&a.verbose, "verbose", false, "log connection progress on stderr (never message text)")
}

// bot is a signed-in command-line run: a headless app.Client over the
// account's own small store (a slot in the state directory, app/headless.go).
type bot struct {
	client  *app.Client
	account string
}

// signIn opens a free slot's store (creating it on first use), starts a
// Session and waits until it is online: caught up, rooms rejoined, ready to
// send. Errors carry the exit code: 3 for refused credentials, 4 when the
// server cannot be reached within --connect-timeout.
func signIn(ctx context.Context, a accountFlags, stderr io.Writer) (*bot, error) {
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	account, err := app.CheckPerson(a.account)
	if a.account == "" {
		return nil, fail(ExitUsage, "--account is required")
	}
	if err != nil {
		return nil, fail(ExitUsage, "--account %q: want user@domain", a.account)
	}
	_, domain, _ := strings.Cut(account, "@")
	password, err := readSecret(account, a.secretFile, a.keyring)
	if err != nil {
		return nil, err
	}
	tlsConf, err := tlsConfig(a.caFile)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(a.connectTimeout)
	cctx, cancelConnect := context.WithDeadline(ctx, deadline)
	defer cancelConnect()
	url := strings.TrimSpace(a.server)
	if url == "" {
		url, err = app.DiscoverServer(cctx, tlsConf, domain)
		if err != nil {
			return nil, fail(ExitUnreachable, "no server found for %s (give --server wss://...): %v", domain, err)
		}
	}
	if err := app.CheckServerURL(url); err != nil {
		return nil, fail(ExitUsage, "--server: %v", err)
	}
	dir, err := stateDir(a.stateDir, account)
	if err != nil {
		return nil, err
	}
	c, err := app.OpenHeadless(cctx, app.HeadlessConfig{Dir: dir, Account: account, Password: password,
		URL: url, TLSConfig: tlsConf, Logger: log})
	var busy *app.SlotsBusyError
	var exposed *app.StateKeyExposedError
	var conf *app.HeadlessConfigError
	switch {
	case errors.As(err, &busy):
		return nil, withCode(ExitUnreachable, err)
	case errors.As(err, &exposed), errors.As(err, &conf):
		return nil, withCode(ExitUsage, err)
	case err != nil:
		return nil, err
	}
	b := &bot{client: c, account: account}
	if err := b.waitOnline(cctx); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// waitOnline waits for the Session to be ready, or for it to give up.
func (b *bot) waitOnline(ctx context.Context) error {
	err := b.client.WaitOnline(ctx)
	var no *app.NotOnlineError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, app.ErrWrongPassword):
		return fail(ExitCredentials, "%s: the server refused the credentials", b.account)
	case errors.As(err, &no) && no.Ended != nil:
		return fail(ExitUnreachable, "session ended: %v", no.Ended)
	case errors.As(err, &no) && no.BadCertificate:
		return fail(ExitUnreachable, "the server's certificate is not trusted (give the hospital's CA with --ca-file): %s", no.Reason)
	case errors.As(err, &no):
		return fail(ExitUnreachable, "server not reachable within the connect timeout (%s)", no.Reason)
	}
	return err
}

// close ends the session cleanly (the stream is closed, so the server keeps
// no resumable session) and closes the store.
func (b *bot) close() { b.client.Close() }

func tlsConfig(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fail(ExitUsage, "--ca-file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fail(ExitUsage, "--ca-file %s: no PEM certificates in it", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// stateDir is the account's directory under the state root, mode 700.
func stateDir(root, account string) (string, error) {
	if root == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fail(ExitUsage, "no --state-dir and no user config dir: %v", err)
		}
		root = filepath.Join(base, "rounds-cli")
	}
	dir := filepath.Join(root, account)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state dir: %w", err)
	}
	return dir, nil
}
