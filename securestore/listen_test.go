package securestore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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

// fixedListenKeys answers every listen item with one fixed key, so fuzzed
// and fixture files get as far as the authentication.
type fixedListenKeys struct{}

func (fixedListenKeys) Get(id string) ([]byte, error) {
	if !strings.HasPrefix(id, "listen-") {
		return nil, ErrNotFound
	}
	return bytes.Repeat([]byte{7}, 32), nil
}
func (fixedListenKeys) Set(string, []byte) error { return nil }
func (fixedListenKeys) Delete(string) error      { return nil }

// TestListenTicketFixtures: testdata/listen holds ticket files sealed under
// fixedListenKeys' key: the good one opens to its text, each fail_ one is
// ErrCorrupt (never a panic, never a partial ticket).
func TestListenTicketFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "listen")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		store := filepath.Join(t.TempDir(), "store.db")
		if err := os.WriteFile(ListenPath(store), raw, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := OpenListenTicket(store, fixedListenKeys{})
		switch {
		case strings.HasPrefix(name, "good_"):
			if err != nil || string(got) != `{"v":1}` {
				t.Errorf("%s: %q %v", name, got, err)
			}
		case strings.HasPrefix(name, "fail_"):
			if !errors.Is(err, ErrCorrupt) || got != nil {
				t.Errorf("%s: %q %v, want ErrCorrupt", name, got, err)
			}
		default:
			t.Errorf("%s: fixture names start with good_ or fail_", name)
		}
		n++
	}
	if n < 4 {
		t.Fatalf("%d fixtures", n)
	}
}

// FuzzListenTicket: no ticket file, however damaged, makes the reader
// panic; one that opens under the key is exactly what was sealed.
func FuzzListenTicket(f *testing.F) {
	ents, _ := os.ReadDir(filepath.Join("testdata", "listen"))
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join("testdata", "listen", e.Name())); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		store := filepath.Join(t.TempDir(), "store.db")
		if err := os.WriteFile(ListenPath(store), b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = OpenListenTicket(store, fixedListenKeys{})
	})
}

// TestListenTicketDetach: the file goes at once, the item it named stays
// until the returned deletion runs (a caller that must not wait for the
// keyring), and then a copy of the file taken before opens nothing.
func TestListenTicketDetach(t *testing.T) {
	_, path, opts := newTestStore(t)
	sec := opts.Secrets.(*fakeSecrets)
	if err := SealListenTicket(path, sec, []byte("ticket")); err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(ListenPath(path))
	if err != nil {
		t.Fatal(err)
	}
	deleteItem, err := DetachListenTicket(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ListenPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file after detach: %v", err)
	}
	if n := listenItems(sec); n != 1 {
		t.Fatalf("%d listen items before the deletion ran, want 1", n)
	}
	if err := deleteItem(sec); err != nil {
		t.Fatal(err)
	}
	if n := listenItems(sec); n != 0 {
		t.Fatalf("%d listen items after the deletion", n)
	}
	if err := os.WriteFile(ListenPath(path), copied, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenListenTicket(path, sec); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a copy taken before the detach: %v", err)
	}
	_ = os.Remove(ListenPath(path))
	none, err := DetachListenTicket(path)
	if err != nil || none(sec) != nil {
		t.Fatalf("detach with no ticket: %v", err)
	}
}
