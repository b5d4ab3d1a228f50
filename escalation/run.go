package escalation

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync"
)

// Options say how cmd/rounds-escalation runs the service (docs/ADMIN.md,
// "Escalation service").
type Options struct {
	// Dir holds the service's state: escalation.db (its encrypted store:
	// ladders, the copies of the pages, the audit log) and escalation.key
	// (the store's key, created on first run, readable by the service's
	// user only).
	Dir string
	// KeyFile, when set, is where the store's key lives instead of
	// Dir/escalation.key (created there on first run): a key kept apart from
	// the store (a systemd credential, another volume) means a copy of Dir
	// (a backup, a snapshot) does not open the pages' text.
	KeyFile string
	// URL is the XMPP server's WebSocket endpoint (wss://; ws:// to loopback).
	URL string
	// Account is the service's bare JID (the policy's <escalation service/>).
	Account string
	// Password of the account; needed on every start (the service signs in
	// like a device; the store keeps the SCRAM keys too).
	Password string
	// Resource names this instance (two instances: two resources).
	Resource string
	// Lease makes this instance one of several on the same account: it
	// fires steps only while it holds the lease, renewed every Lease/3
	// (lease.go). Zero: the only instance.
	Lease time.Duration
	// Retention: how long a ladder nobody acknowledged stays listed after
	// it ran out (Config.Retention; 0: DefaultRetention).
	Retention time.Duration
	TLSConfig *tls.Config
	Logger    *slog.Logger
}

// Run opens the state, signs in and holds ladders until ctx ends.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Dir == "" || o.URL == "" || o.Account == "" {
		return errors.New("escalation: the state directory, the server URL and the account are required")
	}
	if o.Resource == "" {
		host, _ := os.Hostname()
		o.Resource = "escalation-" + strings.SplitN(host, ".", 2)[0]
	}
	st, err := OpenStoreKeyed(o.Dir, o.KeyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := sync.New(sync.Config{
		Store: st,
		XMPP: sync.Server{URL: o.URL, JID: o.Account, Resource: o.Resource, Password: o.Password,
			TLSConfig: o.TLSConfig, Logger: o.Logger}.XMPP(),
		Backoff: sync.Backoff{Min: 500 * time.Millisecond, Max: 10 * time.Second},
		Logger:  o.Logger,
	})
	if err != nil {
		return err
	}
	cfg := Config{Session: s, Store: st, Logger: o.Logger, Retention: o.Retention}
	var lease *PubSubLease
	if o.Lease > 0 {
		lease = NewPubSubLease(s, o.Resource, o.Lease, nil, o.Logger)
		cfg.Lease = lease
	}
	svc, err := New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	if lease != nil {
		go lease.Run(ctx, svc.poke)
	}
	o.Logger.Info("escalation: running", "account", o.Account, "resource", o.Resource, "ladders", len(svc.Active()))
	err = svc.Run(ctx)
	cancel()
	<-runErr
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// OpenStore opens (or on first run creates) the service's store in dir,
// keyed by dir/escalation.key.
func OpenStore(dir string) (*securestore.Store, error) { return openStateStore(dir, "", 0) }

// OpenStoreKeyed is OpenStore with the key in keyFile ("": dir/escalation.key).
func OpenStoreKeyed(dir, keyFile string) (*securestore.Store, error) {
	return openStateStore(dir, keyFile, 0)
}

// openStateStore opens the store, waiting up to lockWait for a running service
// to release it (0: the store's default, a second).
func openStateStore(dir, keyPath string, lockWait time.Duration) (*securestore.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("escalation: state directory: %w", err)
	}
	if keyPath == "" {
		keyPath = filepath.Join(dir, "escalation.key")
	}
	path := filepath.Join(dir, "escalation.db")
	key, err := os.ReadFile(keyPath)
	if _, statErr := os.Stat(path); errors.Is(err, os.ErrNotExist) && statErr == nil {
		// The store exists and its key is missing: a new key would not open
		// it; say so rather than leave a wrong key behind.
		return nil, fmt.Errorf("escalation: the store %s exists but its key %s is missing", path, keyPath)
	}
	if errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		key = []byte(hex.EncodeToString(b))
		if err := os.WriteFile(keyPath, key, 0o600); err != nil {
			return nil, fmt.Errorf("escalation: writing the store key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("escalation: reading the store key: %w", err)
	}
	key = []byte(strings.TrimSpace(string(key)))
	// A wrong key file must never wipe the ladders: no wrong-key limit that
	// matters, and no OS keyring on a server.
	opts := securestore.Options{Secrets: noKeyring{}, MaxWrongPINs: 1 << 30, LockTimeout: lockWait}
	var st *securestore.Store
	if _, err = os.Stat(path); errors.Is(err, os.ErrNotExist) {
		st, err = securestore.Create(path, key, opts)
	} else {
		st, err = securestore.Open(path, key, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("escalation: store %s: %w", path, err)
	}
	return st, nil
}

type noKeyring struct{}

func (noKeyring) Get(string) ([]byte, error) { return nil, securestore.ErrKeyringUnavailable }
func (noKeyring) Set(string, []byte) error   { return securestore.ErrKeyringUnavailable }
func (noKeyring) Delete(string) error        { return nil }

// ExportAudit writes the service's audit log (dir's store) to w, one JSON
// object a line (seq, time, kind, detail), after verifying its hash chain:
// a broken chain is an error and nothing is written. The store is locked
// while the service runs: stop it (or the instance) first.
func ExportAudit(dir, keyFile string, w io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, "escalation.db")); err != nil {
		return fmt.Errorf("escalation: no store in %s: %w", dir, err)
	}
	st, err := openStateStore(dir, keyFile, 5*time.Second)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.VerifyAudit(); err != nil {
		return fmt.Errorf("escalation: the audit log does not verify: %w", err)
	}
	log, err := st.AuditLog()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for _, e := range log {
		if err := enc.Encode(struct {
			Seq    uint64    `json:"seq"`
			Time   time.Time `json:"time"`
			Kind   string    `json:"kind"`
			Detail string    `json:"detail"`
		}{e.Seq, e.Time.UTC(), e.Kind, e.Detail}); err != nil {
			return err
		}
	}
	return nil
}
