//go:build !android && !ios

package securestore

import (
	"errors"
	"os"
	"testing"

	"github.com/zalando/go-keyring"
)

// TestKeyringMock runs the OS implementation against go-keyring's in-memory
// mock: the hex encoding and the not-found mapping.
func TestKeyringMock(t *testing.T) {
	if os.Getenv("ROUNDS_REAL_KEYRING") == "1" {
		// MockInit replaces the provider for the whole process; it would
		// silently turn TestKeyringReal into a second mock test.
		t.Skip("real keyring run: mock test skipped")
	}
	keyring.MockInit()
	testKeyringRoundTrip(t, OSKeySecrets{})
}

// TestKeyringReal uses the real OS keyring (Secret Service on Linux). Run via
// `make test-keyring`, which starts a D-Bus session and an unlocked
// gnome-keyring and sets ROUNDS_REAL_KEYRING=1.
func TestKeyringReal(t *testing.T) {
	if os.Getenv("ROUNDS_REAL_KEYRING") != "1" {
		t.Skip("needs a session keyring: run via make test-keyring")
	}
	testKeyringRoundTrip(t, OSKeySecrets{})
}

func testKeyringRoundTrip(t *testing.T, secrets KeySecrets) {
	s, path, opts := newTestStore(t)
	s.Close()
	opts.Secrets = secrets
	s, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnableKeyring(); err != nil {
		t.Fatalf("EnableKeyring: %v", err)
	}
	mustAppend(t, s, incoming("a@h.example", "1", "kept", day0))
	id := hexID(s)
	t.Cleanup(func() { secrets.Delete(id) })
	if sec, err := secrets.Get(id); err != nil || len(sec) != keySize {
		t.Fatalf("secret not filed: %d %v", len(sec), err)
	}
	s.Close()
	s, err = OpenWithKeyring(path, secrets, opts)
	if err != nil {
		t.Fatalf("OpenWithKeyring: %v", err)
	}
	if got, err := s.Latest("a@h.example", 1); err != nil || got[0].Body != "kept" {
		t.Fatalf("read after keyring unlock: %v", err)
	}
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("secret survives Wipe: %v", err)
	}
}
