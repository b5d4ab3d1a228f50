package app

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"rounds/securestore"
)

// Config is what the platform gives the app: where data lives, org policy,
// and the platform services. Only DataDir is required.
type Config struct {
	// DataDir holds one store file per account (named by a hash of the
	// account, never the JID itself).
	DataDir string
	Policy  Policy
	// Notifier and Sound: nil means none (headless).
	Notifier Notifier
	Sound    Sound
	// Clock drives auto-lock and notification throttling (default: real time).
	Clock Clock
	// Secrets is the OS keyring used when Policy.AllowKeyring (default
	// securestore.OSKeySecrets, which never works on Android/iOS).
	Secrets securestore.KeySecrets
	// TLSConfig verifies wss:// (nil: system roots); HTTPClient overrides the
	// dialer and is also used for XEP-0156 discovery. For tests and pinning.
	TLSConfig  *tls.Config
	HTTPClient *http.Client
	// KDF overrides the Argon2id parameters for new stores (tests only; zero
	// means the platform default).
	KDF    securestore.KDFParams
	Logger *slog.Logger
	// Resource is the XMPP resource of this device (default "rounds-<random>",
	// chosen at sign-in and kept in the store).
	Resource string
	// ConnectTimeout bounds sign-in's credential check (default 20 s).
	ConnectTimeout time.Duration
	// PubSubService is the JID of the service holding the org policy and
	// on-call nodes (default "pubsub." + the account's domain); policy from
	// anywhere else is ignored.
	PubSubService string
}

// Defaults of Policy's zero values.
const (
	DefaultLockAfter    = 5 * time.Minute
	DefaultMaxWrongPINs = 10
)

func (c Config) withDefaults() Config {
	if c.Policy.LockAfter <= 0 {
		c.Policy.LockAfter = DefaultLockAfter
	}
	if c.Policy.MaxWrongPINs <= 0 {
		c.Policy.MaxWrongPINs = DefaultMaxWrongPINs
	}
	if c.Notifier == nil {
		c.Notifier = nopNotifier{}
	}
	if c.Sound == nil {
		c.Sound = nopSound{}
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Secrets == nil {
		c.Secrets = securestore.OSKeySecrets{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 20 * time.Second
	}
	return c
}

func (c Config) storeOptions() securestore.Options {
	return securestore.Options{
		KDF:          c.KDF,
		MaxWrongPINs: c.Policy.MaxWrongPINs,
		Secrets:      c.Secrets,
		Logger:       c.Logger,
	}
}

func randomResource() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "rounds-" + hex.EncodeToString(b)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(d, f)
}

type nopNotifier struct{}

func (nopNotifier) Notify(Notification) {}
func (nopNotifier) Clear(string)        {}

type nopSound struct{}

func (nopSound) NewMessage(bool) {}
