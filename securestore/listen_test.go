package securestore

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// listenItems counts the listen tickets' keyring items.
func listenItems(f *fakeSecrets) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.m {
		if strings.HasPrefix(k, "listen-") {
			n++
		}
	}
	return n
}

// failingSecrets is a keyring that cannot be reached.
type failingSecrets struct{}

func (failingSecrets) Get(string) ([]byte, error) { return nil, ErrKeyringUnavailable }
func (failingSecrets) Set(string, []byte) error   { return ErrKeyringUnavailable }
func (failingSecrets) Delete(string) error        { return ErrKeyringUnavailable }

// TestListenTicket: a sealed ticket opens with its keyring item and with
// nothing else; the file shows none of it; each seal replaces the item
// (the one before is deleted); an unreachable keyring leaves the previous
// ticket as it was; a damaged file is ErrCorrupt; the store's wipe removes
// file and item.
func TestListenTicket(t *testing.T) {
	s, path, opts := newTestStore(t)
	sec := opts.Secrets.(*fakeSecrets)
	ticket := []byte(`{"account":"nurse.kim@example.org","client_key":"SECRETKEY"}`)
	if _, err := OpenListenTicket(path, sec); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no ticket yet: %v", err)
	}
	if err := SealListenTicket(path, sec, ticket); err != nil {
		t.Fatal(err)
	}
	got, err := OpenListenTicket(path, sec)
	if err != nil || !bytes.Equal(got, ticket) {
		t.Fatalf("open: %q %v", got, err)
	}
	raw, err := os.ReadFile(ListenPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("nurse.kim")) || bytes.Contains(raw, []byte("SECRETKEY")) {
		t.Fatal("the listen ticket file holds its content in clear")
	}
	if _, err := OpenListenTicket(path, newFakeSecrets()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another keyring: %v", err)
	}
	if err := SealListenTicket(path, sec, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if n := listenItems(sec); n != 1 {
		t.Fatalf("%d listen items in the keyring after two seals, want 1", n)
	}
	if err := SealListenTicket(path, failingSecrets{}, []byte("third")); !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("seal with no keyring: %v", err)
	}
	if got, err := OpenListenTicket(path, sec); err != nil || string(got) != "second" {
		t.Fatalf("after a failed seal: %q %v", got, err)
	}
	if _, err := OpenListenTicket(path, failingSecrets{}); !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("open with no keyring: %v", err)
	}
	raw, _ = os.ReadFile(ListenPath(path))
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(ListenPath(path), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenListenTicket(path, sec); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged: %v", err)
	}
	if err := os.WriteFile(ListenPath(path), []byte("RLT1short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenListenTicket(path, sec); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	if err := SealListenTicket(path, sec, ticket); err != nil {
		t.Fatal(err)
	}
	item := listenItem(listenFileID(path))
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ListenPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after the wipe: file %v", err)
	}
	if _, err := sec.Get(item); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the wipe the ticket's keyring item is still there: %v", err)
	}
}

// TestNotOpenedStoreIsLocked: the store a cold-started Session runs over
// answers ErrLocked and never opens the file.
func TestNotOpenedStoreIsLocked(t *testing.T) {
	_, path, opts := newTestStore(t)
	st := NotOpened(path, opts)
	if _, err := st.Account(); !errors.Is(err, ErrLocked) {
		t.Fatalf("Account: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
