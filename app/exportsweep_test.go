package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rounds/internal/testserver"
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

// TestExportsGoAtLockAndWipe: a plaintext copy handed to another app is
// removed after exportLife on the app's clock, at Lock, and at wipe, without
// any UI timer (before, only the UI's time.AfterFunc and the next unlock's
// 15-minute sweep removed it).
func TestExportsGoAtLockAndWipe(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	clk := newFakeClock()
	// LockAfter beyond exportLife, so the idle lock does not do the removal.
	alice := signIn(t, srv, "alice", Config{Clock: clk, Policy: Policy{LockAfter: time.Hour}})
	pdf := engineFixture(t, "good_report.pdf")
	id, err := alice.c.SendFile(context.Background(), srv.JID("bob"), "Potassium result.pdf", bytes.NewReader(pdf), int64(len(pdf)), AttachOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	attID := alice.attachmentRowOf(srv.JID("bob"), func(r MessageRow) bool { return r.ID == id }).Attachments[0].ID
	export := func() string {
		t.Helper()
		p, _, err := alice.c.ExportForPlatform(attID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := func(when, p string) {
		t.Helper()
		if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
			t.Fatalf("%s: the plaintext copy is still in the temp folder (%v)", when, err)
		}
	}

	p := export()
	clk.Advance(exportLife - time.Second)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("removed before exportLife: %v", err)
	}
	clk.Advance(time.Second)
	gone("after exportLife on the app clock", p)

	p = export()
	alice.c.Lock()
	gone("after Lock", p)
	if err := alice.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	alice.waitOnline()

	p = export()
	if err := alice.c.WipeDevice(); err != nil {
		t.Fatal(err)
	}
	gone("after WipeDevice", p)
}

// TestChangePINGuessesAreCounted: wrong old PINs at ChangePIN report the
// attempts left and, at the policy's limit, erase the store and sign out,
// as at unlock (before, an unlocked session could guess without limit).
func TestChangePINGuessesAreCounted(t *testing.T) {
	c := offlineClient(t)
	limit := c.Policy().MaxWrongPINs
	for i := 1; i < limit; i++ {
		var wp *WrongPINError
		if err := c.ChangePIN([]byte("0000"), []byte("135790")); !errors.As(err, &wp) || wp.Remaining != limit-i {
			t.Fatalf("guess %d: %v, want %d attempts left", i, err, limit-i)
		}
	}
	if err := c.ChangePIN([]byte("0000"), []byte("135790")); !errors.Is(err, ErrWiped) {
		t.Fatalf("guess %d: %v, want ErrWiped", limit, err)
	}
	if _, err := os.Stat(c.path); !os.IsNotExist(err) {
		t.Fatalf("store file still there: %v", err)
	}
	if err := c.Unlock(context.Background(), testPIN); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("unlock after the wipe: %v", err)
	}
}
