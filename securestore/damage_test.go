package securestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// damageSeeds is how many deterministic damage patterns TestPageDamage tries.
// Under -race only the first raceDamageSeeds: some damage makes bbolt copy
// gigabytes (seed 149: 2.7 GiB, ~3 s plain, 15-25 s under the race
// detector), see docs/STORE.md.
const (
	damageSeeds     = 300
	raceDamageSeeds = 100
)

// makeDamageFixture writes testdata/good_damage.db (run with -update): a
// closed store whose trees have branch pages (300 messages in three
// conversations, a merged ordering index and a tail). A committed file keeps
// TestPageDamage deterministic: a fresh store would differ in every key and
// nonce, so the same seed would hit different bytes.
func makeDamageFixture(t *testing.T) {
	withMergeEvery(t, 64)
	path := filepath.Join(t.TempDir(), "d.db")
	s, err := Create(path, fixturePIN, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	convs := []string{"a@h.example", "b@h.example", "room@muc.h.example"}
	for b := 0; b < 6; b++ {
		var ms []Message
		for i := 0; i < 50; i++ {
			n := b*50 + i
			ms = append(ms, incoming(convs[n%3], fmt.Sprint("s", n), fmt.Sprintf("body %d padding padding padding padding", n),
				day0.Add(time.Duration(n)*time.Minute)))
		}
		mustAppend(t, s, ms...)
	}
	if err := s.SetSetting("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/good_damage.db", raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// allowedDamageErr: what the store may answer on a damaged file. Anything
// else (a raw bbolt error, a panic) is a failure.
func allowedDamageErr(err error) bool {
	for _, e := range []error{ErrCorrupt, ErrNotAStore, ErrNotFound, ErrWrongPIN, ErrNewerVersion,
		ErrOldVersion, ErrInvalid, ErrDuplicate, ErrAuditBroken} {
		if errors.Is(err, e) {
			return true
		}
	}
	return err == nil
}

// TestPageDamage flips bytes in the element tables and headers of branch and
// leaf pages of a copy of a store file (deterministic seeds) and runs the
// store's operations on it. Every result must be nil or one of our typed
// errors; no panic may escape and the process must survive (bbolt faults
// outside its mapping are turned into ErrCorrupt by guard). A store that hit
// a fault must answer ErrCorrupt from then on.
//
// Debugging aids: DAMAGE_SEED=n runs one seed, DAMAGE_SLOW=1 logs slow seeds.
func TestPageDamage(t *testing.T) {
	if *update {
		makeDamageFixture(t)
	}
	orig, err := os.ReadFile("testdata/good_damage.db")
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Logger = slog.New(slog.DiscardHandler)
	ps := int(binary.LittleEndian.Uint32(orig[24:28]))
	var pages []int // branch and leaf pages
	for p := 2; (p+1)*ps <= len(orig); p++ {
		flags := binary.LittleEndian.Uint16(orig[p*ps+8:])
		if flags == 0x01 || flags == 0x02 {
			pages = append(pages, p)
		}
	}
	if len(pages) < 10 {
		t.Fatalf("only %d branch/leaf pages", len(pages))
	}
	opts.MaxWrongPINs = 1 << 20
	dir := t.TempDir()
	faults, opened := 0, 0
	seeds := uint64(damageSeeds)
	if raceEnabled {
		seeds = raceDamageSeeds
	}
	for seed := uint64(0); seed < seeds; seed++ {
		if only := os.Getenv("DAMAGE_SEED"); only != "" && only != fmt.Sprint(seed) {
			continue
		}
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		raw := clone(orig)
		for n := 1 + rng.IntN(3); n > 0; n-- {
			p := pages[rng.IntN(len(pages))]
			base := p * ps
			count := int(binary.LittleEndian.Uint16(raw[base+10:]))
			var off int
			if rng.IntN(5) == 0 || count == 0 {
				off = base + rng.IntN(16) // page header: id, flags, count, overflow
			} else {
				off = base + 16 + 16*rng.IntN(count) + rng.IntN(16) // one element
			}
			raw[off] ^= byte(1 + rng.IntN(255))
		}
		path := filepath.Join(dir, fmt.Sprintf("d%d.db", seed))
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		st := time.Now()
		o, f := runDamaged(t, seed, path, opts)
		if d := time.Since(st); d > 200*time.Millisecond && os.Getenv("DAMAGE_SLOW") != "" {
			fi, _ := os.Stat(path)
			t.Logf("seed %d took %v, file %d bytes", seed, d, fi.Size())
		}
		if o {
			opened++
		}
		if f {
			faults++
		}
		os.Remove(path)
		os.Remove(path + compactSuffix)
	}
	t.Logf("%d seeds: %d opened, %d stores marked broken by a fault", seeds, opened, faults)
}

// runDamaged runs every operation on one damaged file, checking each result.
func runDamaged(t *testing.T, seed uint64, path string, opts Options) (opened, faulted bool) {
	t.Helper()
	check := func(op string, err error) {
		t.Helper()
		if !allowedDamageErr(err) {
			t.Fatalf("seed %d: %s: unexpected error %v", seed, op, err)
		}
	}
	done := make(chan struct{})
	var escaped any
	var stack []byte
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				escaped, stack = r, debug.Stack()
			}
		}()
		s, err := Open(path, fixturePIN, opts)
		check("Open", err)
		if err != nil {
			return
		}
		opened = true
		defer s.Close()
		_, err = s.Conversations()
		check("Conversations", err)
		for _, c := range []string{"a@h.example", "b@h.example", "room@muc.h.example"} {
			ms, err := s.Latest(c, 20)
			check("Latest", err)
			if len(ms) > 0 {
				_, err = s.Before(c, ms[0].ID, 20)
				check("Before", err)
				check("MarkRead", s.MarkRead(c, ms[len(ms)-1].ID))
			}
		}
		_, err = s.MessageByStanzaID("b@h.example", "s7")
		check("MessageByStanzaID", err)
		_, err = s.MessageByOriginID("a@h.example", "o-s9")
		check("MessageByOriginID", err)
		_, err = s.Message(5)
		check("Message", err)
		_, err = s.AppendMessages([]Message{incoming("a@h.example", "new", "new", day0.Add(time.Hour))})
		check("AppendMessages", err)
		check("SetStanzaID", s.SetStanzaID(3, "late", "x"))
		_, err = s.Setting("k")
		check("Setting", err)
		check("VerifyAudit", s.VerifyAudit())
		_, err = s.Outbox()
		check("Outbox", err)
		if s.broken.Load() != nil {
			faulted = true
			_, err := s.Conversations()
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("seed %d: broken store answered %v", seed, err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("seed %d: store operations did not finish (bbolt looping on a damaged page?)\n%s", seed, buf)
	}
	if escaped != nil {
		t.Fatalf("seed %d: panic escaped: %v\n%s", seed, escaped, stack)
	}
	return opened, faulted
}

// TestGuardRestoresPanicOnFault: the store turns SetPanicOnFault on only
// for the duration of a bbolt call and restores the caller's setting.
func TestGuardRestoresPanicOnFault(t *testing.T) {
	s, _, _ := newTestStore(t)
	for _, want := range []bool{false, true} {
		debug.SetPanicOnFault(want)
		if _, err := s.Conversations(); err != nil {
			t.Fatal(err)
		}
		if got := debug.SetPanicOnFault(false); got != want {
			t.Fatalf("SetPanicOnFault left at %v, want %v", got, want)
		}
	}
	// A panic inside a transaction becomes ErrCorrupt and breaks the store;
	// writes are refused too, and Wipe still destroys the file.
	err := s.view(func(*bbolt.Tx) error { panic("simulated bbolt panic") })
	wantErr(t, err, ErrCorrupt)
	_, err = s.Conversations()
	wantErr(t, err, ErrCorrupt)
	_, err = s.AppendMessages([]Message{incoming("a@h.example", "1", "x", day0)})
	wantErr(t, err, ErrCorrupt)
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("broken store not wiped: %v", err)
	}
}
