package securestore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRemoveWithoutKey: a store is destroyed without its PIN (a profile
// whose keep time passed on a shared device): the file, its vault and its
// keyring secret go, and a missing or damaged file is no error.
func TestRemoveWithoutKey(t *testing.T) {
	s, path, opts := newTestStore(t)
	mustAppend(t, s, incoming("bob@h.org", "s1", "MARKER-REMOVE", time.Now()))
	if err := s.EnableKeyring(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.vaultDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.vaultDir(), "x"), []byte("blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := opts.Secrets.(*fakeSecrets)
	if secrets.len() == 0 {
		t.Fatal("no keyring secret to remove")
	}
	s.Close()
	if err := Remove(path, opts); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + vaultSuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left: %v", p, err)
		}
	}
	if n := secrets.len(); n != 0 {
		t.Fatalf("%d keyring secrets left", n)
	}
	if err := Remove(path, opts); err != nil {
		t.Fatalf("removing a missing store: %v", err)
	}
	damaged := filepath.Join(t.TempDir(), "d.db")
	if err := os.WriteFile(damaged, bytes.Repeat([]byte("x"), 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Remove(damaged, opts); err != nil {
		t.Fatalf("damaged: %v", err)
	}
	if _, err := os.Stat(damaged); !os.IsNotExist(err) {
		t.Fatal("damaged file left")
	}
}
