package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"rounds/securestore"
)

// A headless run's store (docs/CLI.md): the account's state directory holds
// up to maxSlots slots, slot-N.db with its key in slot-N.db.key beside it.

// headlessRetention is how long a slot keeps messages (its own pages and
// whatever the account received): long enough to look into a recent page.
const headlessRetention = 30 * 24 * time.Hour

// maxSlots is how many commands may run at once for one account. Each
// concurrent run needs its own store file (bbolt allows one writer) and its
// own XMPP resource (two sessions with one resource would keep replacing each
// other), so the state directory holds up to this many slots.
const maxSlots = 8

// SlotKDF: a slot's store is locked with a random 256-bit key kept next to
// it (mode 600), not a PIN a person chose. A key with full entropy gains
// nothing from Argon2id's stretching, so the cheapest parameters are used and
// every run starts without spending a second and 64 MiB on it. At rest the
// store is then as safe as the secret file beside it: the service account's
// file permissions guard both.
var SlotKDF = securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}

// OpenHeadlessStore opens the first slot of the account's state directory
// dir not in use by another run, creating it on first use, and returns its
// store and number. When all are busy it waits for one until ctx ends
// (*SlotsBusyError). OpenHeadless uses it; tests look into a slot with it.
func OpenHeadlessStore(ctx context.Context, dir string, log *slog.Logger) (*securestore.Store, int, error) {
	opts := securestore.Options{KDF: SlotKDF, LockTimeout: 50 * time.Millisecond, Logger: log, Secrets: NoKeySecrets{}}
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
			return nil, 0, &SlotsBusyError{Slots: maxSlots, Dir: dir}
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
		if serr == nil && fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
			return nil, &StateKeyExposedError{Path: path, Mode: fi.Mode().Perm()}
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

// NoKeySecrets: a slot never uses the OS keyring for its own key.
type NoKeySecrets struct{}

func (NoKeySecrets) Get(string) ([]byte, error) { return nil, securestore.ErrNotFound }
func (NoKeySecrets) Set(string, []byte) error   { return securestore.ErrKeyringUnavailable }
func (NoKeySecrets) Delete(string) error        { return nil }

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

// SlotsBusyError: every slot of the account is in use by another run.
type SlotsBusyError struct {
	Slots int
	Dir   string
}

func (e *SlotsBusyError) Error() string {
	return fmt.Sprintf("all %d state slots in %s are in use by other runs", e.Slots, e.Dir)
}

// StateKeyExposedError: a slot's key file is readable by others; it is
// refused rather than used, as a secret file would be.
type StateKeyExposedError struct {
	Path string
	Mode os.FileMode
}

func (e *StateKeyExposedError) Error() string {
	return fmt.Sprintf("state key %s is readable by others (mode %04o): run chmod 600 %s", e.Path, e.Mode, e.Path)
}
