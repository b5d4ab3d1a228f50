package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
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
	fs.StringVar(&a.server, "server", os.Getenv("ROUNDS_SERVER_URL"), "WebSocket URL, e.g. wss://xmpp.hospital.org/xmpp-websocket (default: $ROUNDS_SERVER_URL, else discovered from the domain, XEP-0156)")
	fs.StringVar(&a.caFile, "ca-file", "", "PEM file of the CA that signed the server's certificate (default: the system's roots)")
	fs.StringVar(&a.stateDir, "state-dir", os.Getenv("ROUNDS_CLI_STATE"), "where the account's encrypted state lives (default: $ROUNDS_CLI_STATE, else <user config dir>/rounds-cli)")
	fs.DurationVar(&a.connectTimeout, "connect-timeout", 30*time.Second, "give up signing in after this long (exit 4)")
	fs.BoolVar(&a.verbose, "verbose", false, "log connection progress on stderr (never message text)")
}

// bot is a signed-in command-line session: the account's own encrypted store
// and a sync.Session running against the server.
type bot struct {
	session *sync.Session
	store   *securestore.Store
	account string
	cancel  context.CancelFunc
	done    chan error
	watch   *watcher
	log     *slog.Logger
}

// stateRetention is how long a slot keeps messages (its own pages and
// whatever the account received): long enough to look into a recent page.
const stateRetention = 30 * 24 * time.Hour

// maxSlots is how many commands may run at once for one account. Each
// concurrent run needs its own store file (bbolt allows one writer) and its
// own XMPP resource (two sessions with one resource would keep replacing each
// other), so the state directory holds up to this many slots.
const maxSlots = 8

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
	jid, err := xmpp.ParseJID(strings.TrimSpace(a.account))
	if a.account == "" {
		return nil, fail(ExitUsage, "--account is required")
	}
	if err != nil || jid.Local == "" || jid.Resource != "" {
		return nil, fail(ExitUsage, "--account %q: want user@domain", a.account)
	}
	account := jid.Bare().String()
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
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
		url, err = xmpp.DiscoverWebSocket(cctx, hc, jid.Domain)
		if err != nil {
			return nil, fail(ExitUnreachable, "no server found for %s (give --server wss://...): %v", jid.Domain, err)
		}
	}
	if _, err := xmpp.CheckURL(url); err != nil {
		return nil, fail(ExitUsage, "--server: %v", err)
	}
	dir, err := stateDir(a.stateDir, account)
	if err != nil {
		return nil, err
	}
	st, slot, err := openSlot(cctx, dir, log)
	if err != nil {
		return nil, err
	}
	abandonOutbox(st, log)
	// The bot's record of what it sent is kept for stateRetention and then
	// crypto-shredded, so a state dir used for years stays small.
	if _, err := st.Purge(time.Now().Add(-stateRetention)); err != nil {
		log.Warn("cli: state retention", "err", err)
	}
	s, err := sync.New(sync.Config{
		Store: st,
		XMPP: xmpp.Config{URL: url, JID: account, Resource: "rounds-cli-" + strconv.Itoa(slot),
			Credentials: xmpp.Credentials{Password: password}, TLSConfig: tlsConf},
		Backoff: sync.Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second},
		Logger:  log,
	})
	if err != nil {
		st.Close()
		return nil, fail(ExitUsage, "%v", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	b := &bot{session: s, store: st, account: account, cancel: cancel, done: make(chan error, 1), log: log}
	b.watch = newWatcher(s)
	go func() { b.done <- s.Run(runCtx) }()
	if err := b.waitOnline(cctx); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// waitOnline waits for the Session to be ready, or for it to give up.
func (b *bot) waitOnline(ctx context.Context) error {
	for {
		st := b.session.State()
		switch st.Connectivity {
		case sync.Online:
			return nil
		case sync.AuthFailed:
			return fail(ExitCredentials, "%s: the server refused the credentials", b.account)
		}
		select {
		case err := <-b.done:
			b.done <- err // for close
			if errors.Is(err, xmpp.ErrNotAuthorized) {
				return fail(ExitCredentials, "%s: the server refused the credentials", b.account)
			}
			return fail(ExitUnreachable, "session ended: %v", err)
		case <-b.watch.changed():
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			reason := "no answer"
			if st.Reason != nil {
				reason = st.Reason.Error()
			}
			if strings.Contains(reason, "x509:") || strings.Contains(reason, "tls: failed to verify certificate") {
				return fail(ExitUnreachable, "the server's certificate is not trusted (give the hospital's CA with --ca-file): %s", reason)
			}
			return fail(ExitUnreachable, "server not reachable within the connect timeout (%s)", reason)
		}
	}
}

// close ends the session cleanly (the stream is closed, so the server keeps
// no resumable session) and closes the store.
func (b *bot) close() {
	b.cancel()
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.log.Warn("cli: session did not stop in time")
	}
	b.watch.stop()
	_ = b.store.Close()
}

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

// slotKDF: a slot's store is locked with a random 256-bit key kept next to
// it (mode 600), not a PIN a person chose. A key with full entropy gains
// nothing from Argon2id's stretching, so the cheapest parameters are used and
// every run starts without spending a second and 64 MiB on it. At rest the
// store is then as safe as the secret file beside it: the service account's
// file permissions guard both.
var slotKDF = securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}

// openSlot opens the first store not in use by another run of this command
// for the same account, creating it on first use. When all are busy it waits
// for one until ctx ends.
func openSlot(ctx context.Context, dir string, log *slog.Logger) (*securestore.Store, int, error) {
	opts := securestore.Options{KDF: slotKDF, LockTimeout: 50 * time.Millisecond, Logger: log, Secrets: noKeySecrets{}}
	for {
		for i := 0; i < maxSlots; i++ {
			path := filepath.Join(dir, fmt.Sprintf("slot-%d.db", i))
			key, err := slotKey(path + ".key")
			if err != nil {
				return nil, 0, err
			}
			st, err := securestore.Open(path, key, opts)
			if errors.Is(err, securestore.ErrNotAStore) {
				switch emptyFile(path) {
				case emptyNew:
					continue // another run is creating this slot right now
				case emptyOld:
					// A run killed between creating the file and writing it.
					_ = os.Remove(path)
					err = os.ErrNotExist
				}
			}
			if errors.Is(err, os.ErrNotExist) {
				if err = createSlot(path, key, opts); err == nil {
					st, err = securestore.Open(path, key, opts)
				}
			}
			if errors.Is(err, securestore.ErrInUse) || errors.Is(err, securestore.ErrExists) {
				continue // another run has it, or is creating it right now
			}
			if err != nil {
				return nil, 0, fmt.Errorf("state store %s: %w (delete %s and its .key to start it afresh)", path, err, path)
			}
			return st, i, nil
		}
		select {
		case <-ctx.Done():
			return nil, 0, fail(ExitUnreachable, "all %d state slots in %s are in use by other runs", maxSlots, dir)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// createSlot makes a slot's store aside and links it into place, so another
// run opening the slot finds no file or a whole store, never one half made.
// ErrExists: another run made it first.
func createSlot(path string, key []byte, opts securestore.Options) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path + ".new-" + hex.EncodeToString(rnd[:])
	st, err := securestore.Create(tmp, key, opts)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := st.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); errors.Is(err, os.ErrExist) {
		return securestore.ErrExists
	} else if err != nil {
		return err
	}
	return nil
}

type emptiness int

const (
	notEmpty emptiness = iota
	emptyNew           // empty and recent: another run may be creating it
	emptyOld           // empty for a minute: left by a run that was killed
)

// emptyFile tells an empty slot file being created from one left behind.
func emptyFile(path string) emptiness {
	fi, err := os.Stat(path)
	switch {
	case err != nil || fi.Size() > 0:
		return notEmpty
	case time.Since(fi.ModTime()) < time.Minute:
		return emptyNew
	}
	return emptyOld
}

// slotKey reads a slot's key, creating it (O_EXCL, mode 600) if missing.
func slotKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		fi, serr := os.Stat(path)
		if serr == nil && fi.Mode().Perm()&0o077 != 0 && !isWindows() {
			return nil, fail(ExitUsage, "state key %s is readable by others (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
		}
		k, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(k) != 32 {
			return nil, fmt.Errorf("state key %s is damaged (delete it and the slot's .db to start afresh)", path)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// Written aside and linked into place, so a concurrent run finds either
	// no key or the whole key, never a half-written file.
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(k) + "\n")
	cherr := tmp.Chmod(0o600)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, cherr, serr, cerr); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return slotKey(path) // another run filed it first
	} else if err != nil {
		return nil, err
	}
	return k, nil
}

// noKeySecrets: a slot never uses the OS keyring for its own key.
type noKeySecrets struct{}

func (noKeySecrets) Get(string) ([]byte, error) { return nil, securestore.ErrNotFound }
func (noKeySecrets) Set(string, []byte) error   { return securestore.ErrKeyringUnavailable }
func (noKeySecrets) Delete(string) error        { return nil }

// abandonOutbox marks what an earlier run left unsent (it was killed, or gave
// up with a non-zero exit) as failed instead of sending it now. That run's
// caller was told the message did not go and owns the retry; sending it late
// as well would page someone twice, possibly hours later.
func abandonOutbox(st *securestore.Store, log *slog.Logger) {
	left, err := st.Outbox()
	if err != nil {
		log.Warn("cli: reading the outbox", "err", err)
		return
	}
	for _, m := range left {
		_, _ = st.AdvanceReceipt(m.ID, "", securestore.ReceiptFailed, time.Now(), "abandoned: the command that sent it ended before the server took it")
		if err := st.OutboxRemove(m.ID); err != nil {
			log.Warn("cli: clearing the outbox", "err", err)
		}
	}
	if len(left) > 0 {
		log.Warn("cli: earlier unsent messages not sent now", "count", len(left))
	}
}

// watcher keeps every event of a Session, so a command can wait for one that
// may already have happened.
type watcher struct {
	mu     gosync.Mutex
	events []sync.Event
	notify chan struct{}
	done   chan struct{}
}

func newWatcher(s *sync.Session) *watcher {
	w := &watcher{notify: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for e := range s.Events() {
			w.mu.Lock()
			w.events = append(w.events, e)
			w.mu.Unlock()
			select {
			case w.notify <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

func (w *watcher) changed() <-chan struct{} { return w.notify }

// since returns the events from index i on, and the next index.
func (w *watcher) since(i int) ([]sync.Event, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i > len(w.events) {
		i = len(w.events)
	}
	return append([]sync.Event(nil), w.events[i:]...), len(w.events)
}

func (w *watcher) stop() {
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
	}
}
