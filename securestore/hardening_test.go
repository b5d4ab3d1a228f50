package securestore

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestChangePINCountsWrongGuesses: a wrong old PIN at ChangePIN counts
// towards the same wrong-PIN limit as unlock, the count survives Close, and
// reaching the limit wipes the store. A right old PIN resets the count and
// audits the failures before it.
func TestChangePINCountsWrongGuesses(t *testing.T) {
	opts := testOptions()
	opts.MaxWrongPINs = 3
	dir := t.TempDir()

	// 1. Guesses at ChangePIN and at unlock add up, across Close.
	path := filepath.Join(dir, "a.db")
	s, err := Create(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	for want := 2; want >= 1; want-- {
		var wp *WrongPINError
		if err := s.ChangePIN([]byte("0000"), []byte("1357")); !errors.As(err, &wp) || wp.Remaining != want {
			t.Fatalf("wrong old PIN: %v, want %d attempts left", err, want)
		}
	}
	s.Close()
	if _, err := Open(path, []byte("9999"), opts); !errors.Is(err, ErrWiped) {
		t.Fatalf("third wrong PIN (after two at ChangePIN): %v, want ErrWiped", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file still there: %v", err)
	}

	// 2. The limit reached at ChangePIN itself wipes the open store.
	path = filepath.Join(dir, "b.db")
	if s, err = Create(path, testPIN, opts); err != nil {
		t.Fatal(err)
	}
	s.ChangePIN([]byte("0000"), []byte("1357"))
	s.ChangePIN([]byte("0001"), []byte("1357"))
	wantErr(t, s.ChangePIN([]byte("0002"), []byte("1357")), ErrWiped)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file still there after the limit: %v", err)
	}
	wantErr(t, s.Audit("x", ""), ErrWiped)

	// 3. A right old PIN resets the count and audits the failures.
	path = filepath.Join(dir, "c.db")
	if s, err = Create(path, testPIN, opts); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ChangePIN([]byte("0000"), []byte("1357"))
	s.ChangePIN([]byte("0001"), []byte("1357"))
	if err := s.ChangePIN(testPIN, []byte("1357")); err != nil {
		t.Fatal(err)
	}
	var wp *WrongPINError
	if err := s.ChangePIN([]byte("0002"), []byte("2468")); !errors.As(err, &wp) || wp.Remaining != 2 {
		t.Fatalf("count not reset by the right PIN: %v", err)
	}
	es, _ := s.AuditLog()
	found := false
	for _, e := range es {
		found = found || e.Kind == AuditUnlockFailed && strings.Contains(e.Detail, "2 failed attempts before this PIN change")
	}
	if !found {
		t.Fatalf("failed guesses not audited: %+v", es)
	}
}

// TestLatestHugeCountDoesNotPreallocate: a page size far beyond what the
// conversation holds returns what there is, allocates for that, and does
// not fault the store (a make() of n entries panicked or took gigabytes).
func TestLatestHugeCountDoesNotPreallocate(t *testing.T) {
	s, _, _ := newTestStore(t)
	mustAppend(t, s, incoming("a@h.example", "s1", "one", day0), incoming("a@h.example", "s2", "two", day0.Add(1)))
	got, err := s.Latest("a@h.example", math.MaxInt)
	if err != nil || len(got) != 2 {
		t.Fatalf("Latest(MaxInt): %d messages, %v", len(got), err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if got, err = s.Latest("a@h.example", 1<<26); err != nil || len(got) != 2 {
		t.Fatalf("Latest(1<<26): %d messages, %v", len(got), err)
	}
	if _, err := s.Before("a@h.example", got[1].ID, 1<<26); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Fatalf("two-message pages allocated %d MiB", d>>20)
	}
}

// TestChangePINLeavesNoOldSlot: after ChangePIN the file holds only the new
// PIN slot. Before, the previous slot (the master key wrapped under the old
// PIN, with its salt) stayed in a free page, so whoever knew the old PIN,
// the usual reason to change it, could still open a copy of the file.
func TestChangePINLeavesNoOldSlot(t *testing.T) {
	s, path, opts := newTestStore(t)
	mustAppend(t, s, incoming("a@h.example", "s1", "hello", day0))
	if err := s.ChangePIN(testPIN, []byte("1357")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slots := map[string]bool{}
	salts := map[string]bool{}
	for _, kv := range scanPages(t, raw) {
		switch {
		case bytes.Equal(kv.k, hdrPINSlot):
			slots[string(kv.v)] = true
		case bytes.Equal(kv.k, hdrSalt):
			salts[string(kv.v)] = true
		}
	}
	if len(slots) != 1 || len(salts) != 1 {
		t.Fatalf("the file holds %d PIN slots and %d salts after ChangePIN, want 1 each", len(slots), len(salts))
	}
	if _, err := Open(path, []byte("1357"), opts); err != nil {
		t.Fatal(err)
	}
}
