package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSweepStaleExports: a plaintext copy left behind by a killed Rounds is
// removed at the next unlock; a fresh one (another running Rounds) and
// unrelated directories stay.
func TestSweepStaleExports(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mk := func(name string, age time.Duration) string {
		d := filepath.Join(tmp, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "attachment.pdf"), []byte("%PDF-1.4 lab report"), 0o600); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(d, at, at); err != nil {
			t.Fatal(err)
		}
		return d
	}
	stale := mk(exportPrefix+"111", time.Hour)
	fresh := mk(exportPrefix+"222", time.Minute)
	other := mk("someone-else", time.Hour)
	if n := sweepStaleExports(time.Now()); n != 1 {
		t.Fatalf("removed %d directories, want 1", n)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("the stale export is still there")
	}
	for _, d := range []string{fresh, other} {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("%s was removed: %v", filepath.Base(d), err)
		}
	}
}
