package securestore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/crypto/nacl/secretbox"
)

// The listen ticket (docs/STORE.md, "Listening from a cold start"): what a
// locked app needs to sign in and seal into the locked inbox after a restart,
// before anyone has typed the PIN. The caller decides what it holds (the
// SCRAM keys, never a password, and the store's public receive key); this
// file only keeps it: sealed (XSalsa20-Poly1305) under a random 32-byte key
// filed in the OS keyring, in a sibling file <store>.listen. Without that
// keyring item the file is noise, and the ticket never opens a message: the
// store's keys are not in it.
//
// File: "RLT1" | 16-byte item id | 24-byte nonce | sealed ticket. The
// keyring item is named "listen-" + hex(item id); each seal files a new one
// and deletes the one before, so a ticket copied off the disk earlier opens
// with nothing the keyring still holds.

const (
	listenSuffix  = ".listen"
	listenMagic   = "RLT1"
	listenIDLen   = 16
	maxListenFile = 1 << 20
)

// ListenPath is where the listen ticket of the store at storePath is kept.
func ListenPath(storePath string) string { return storePath + listenSuffix }

func listenItem(id []byte) string { return "listen-" + hex.EncodeToString(id) }

// SealListenTicket keeps ticket for the next cold start: a fresh keyring
// item, the file written and synced under a temporary name and renamed
// over the old one, then the old item deleted. An unreachable keyring
// returns ErrKeyringUnavailable and leaves the previous ticket as it was.
func SealListenTicket(storePath string, secrets KeySecrets, ticket []byte) error {
	if len(ticket) > maxListenFile-64 {
		return errors.New("securestore: listen ticket too large")
	}
	oldID := listenFileID(storePath)
	id := make([]byte, listenIDLen)
	var key [32]byte
	var nonce [24]byte
	for _, b := range [][]byte{id, key[:], nonce[:]} {
		if _, err := rand.Read(b); err != nil {
			return err
		}
	}
	defer zero(key[:])
	if err := secrets.Set(listenItem(id), key[:]); err != nil {
		return err
	}
	out := append([]byte(listenMagic), id...)
	out = append(out, nonce[:]...)
	out = secretbox.Seal(out, ticket, &nonce, &key)
	path := ListenPath(storePath)
	tmp := path + ".tmp"
	err := writeSynced(tmp, out)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		_ = secrets.Delete(listenItem(id))
		return fmt.Errorf("securestore: writing the listen ticket: %w", err)
	}
	syncDir(storePath)
	if oldID != nil && !bytes.Equal(oldID, id) {
		_ = secrets.Delete(listenItem(oldID))
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// listenFileID is the keyring item id the current ticket file names (nil:
// no readable file).
func listenFileID(storePath string) []byte {
	b, err := readListenFile(storePath)
	if err != nil {
		return nil
	}
	return b[len(listenMagic) : len(listenMagic)+listenIDLen]
}

func readListenFile(storePath string) ([]byte, error) {
	f, err := os.Open(ListenPath(storePath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxListenFile+1)); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) > maxListenFile || len(b) < len(listenMagic)+listenIDLen+24+secretbox.Overhead ||
		string(b[:len(listenMagic)]) != listenMagic {
		return nil, corruptf("listen ticket file is not one")
	}
	return b, nil
}

// OpenListenTicket reads the ticket back: ErrNotFound when there is no
// file or no keyring item for it (a copy from another machine, a keyring
// wiped since), ErrKeyringUnavailable when the keyring cannot be reached,
// ErrCorrupt when the file is damaged or does not open with the item.
func OpenListenTicket(storePath string, secrets KeySecrets) ([]byte, error) {
	b, err := readListenFile(storePath)
	if err != nil {
		return nil, err
	}
	id := b[len(listenMagic) : len(listenMagic)+listenIDLen]
	key, err := secrets.Get(listenItem(id))
	if err != nil {
		return nil, err
	}
	defer zero(key)
	if len(key) != 32 {
		return nil, corruptf("listen ticket key has %d bytes", len(key))
	}
	var k [32]byte
	var nonce [24]byte
	copy(k[:], key)
	defer zero(k[:])
	off := len(listenMagic) + listenIDLen
	copy(nonce[:], b[off:off+24])
	out, ok := secretbox.Open(nil, b[off+24:], &nonce, &k)
	if !ok {
		return nil, corruptf("listen ticket failed authentication")
	}
	return out, nil
}

// RemoveListenTicket deletes the ticket file and its keyring item (neither
// being there is not an error): at sign-out, wipe, end of shift, and when
// the policy forbids listening from a cold start.
func RemoveListenTicket(storePath string, secrets KeySecrets) error {
	var errs []error
	if id := listenFileID(storePath); id != nil && secrets != nil {
		errs = append(errs, secrets.Delete(listenItem(id)))
	}
	if err := os.Remove(ListenPath(storePath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	_ = os.Remove(ListenPath(storePath) + ".tmp")
	syncDir(storePath)
	return errors.Join(errs...)
}

// DetachListenTicket removes the ticket file at once and returns what
// deletes the keyring item that file named (nothing to delete: a no-op),
// for a caller that must not wait for the keyring on its way (sign-out)
// and deletes the item later. Without the file the item opens nothing,
// but a copy of the file taken before (a backup, a disk image) still
// opens with it: the item must go too.
func DetachListenTicket(storePath string) (deleteItem func(KeySecrets) error, err error) {
	id := listenFileID(storePath)
	if rerr := os.Remove(ListenPath(storePath)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	_ = os.Remove(ListenPath(storePath) + ".tmp")
	syncDir(storePath)
	return func(secrets KeySecrets) error {
		if id == nil || secrets == nil {
			return nil
		}
		return secrets.Delete(listenItem(id))
	}, err
}

// NotOpened is the store at path as a process that has not opened it sees
// it: every call answers ErrLocked, as a closed store does. A Session
// started locked after a restart runs over it, as a locked Session runs
// over the store its app closed: it never reads or writes it.
func NotOpened(path string, opts Options) *Store {
	opts = opts.withDefaults()
	return &Store{path: path, opts: opts, log: opts.Logger}
}
