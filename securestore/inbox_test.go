package securestore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// lockWithInbox closes the store (as the app's Lock does) and opens its
// locked inbox with the public key taken before.
func lockWithInbox(t *testing.T, s *Store, path string, opts Options) *Inbox {
	t.Helper()
	pub, err := s.ReceiveKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	q, err := OpenInbox(path, pub, opts)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestLockedInboxSealsAndOpens: entries put while locked come back, in
// order, at the next unlock, opened with the key the store holds; and the
// receive key is the same across unlocks.
func TestLockedInboxSealsAndOpens(t *testing.T) {
	s, path, opts := newTestStore(t)
	pub1, err := s.ReceiveKey()
	if err != nil {
		t.Fatal(err)
	}
	q := lockWithInbox(t, s, path, opts)
	for _, e := range []string{"first", "second", ""} {
		if err := q.Put([]byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 3 {
		t.Fatalf("Len %d", q.Len())
	}
	q.Close()
	if err := q.Put([]byte("late")); !errors.Is(err, ErrInboxClosed) {
		t.Fatalf("Put after Close: %v", err)
	}

	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub2, _ := s.ReceiveKey()
	if !bytes.Equal(pub1, pub2) {
		t.Fatal("receive key changed across unlocks")
	}
	gen, got, damaged, err := s.LockedInbox()
	if err != nil || damaged != 0 || gen == "" {
		t.Fatalf("LockedInbox: gen %q damaged %d err %v", gen, damaged, err)
	}
	if len(got) != 3 || string(got[0].Data) != "first" || string(got[1].Data) != "second" || len(got[2].Data) != 0 {
		t.Fatalf("entries %+v", got)
	}
	if got[0].Seq >= got[1].Seq {
		t.Fatal("entries out of order")
	}
}

// TestLockedInboxNoPlaintext: neither the inbox file nor the store file
// holds the body of a message received while locked, or its sender; the
// inbox shows entry sizes only in 1 KiB steps.
func TestLockedInboxNoPlaintext(t *testing.T) {
	s, path, opts := newTestStore(t)
	q := lockWithInbox(t, s, path, opts)
	body := []byte("STAT bed 12 Mrs Example potassium 6.9")
	sender := []byte("dr.osei@hospital.example")
	if err := q.Put(append(append([]byte{}, sender...), body...)); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(bytes.Repeat([]byte("x"), 900)); err != nil {
		t.Fatal(err)
	}
	q.Close()
	for _, f := range []string{path, InboxPath(path)} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range [][]byte{body, []byte("potassium"), sender, []byte("dr.osei")} {
			if bytes.Contains(raw, secret) {
				t.Fatalf("%s holds %q in clear", f, secret)
			}
		}
	}
	// Both entries (38+24 and 900 bytes) pad to the same 1 KiB size.
	db, err := openBolt(InboxPath(path), opts)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketInboxQ).ForEach(func(k, v []byte) error { sizes = append(sizes, len(v)); return nil })
	})
	db.Close()
	if len(sizes) != 2 || sizes[0] != sizes[1] {
		t.Fatalf("sealed sizes %v: a size shows through the padding", sizes)
	}
}

// TestLockedInboxMergeOnce: AppendFromInbox stores an entry's message and
// moves the merge cursor in one transaction; LockedInbox then returns only
// the entries after it. A crash between merging and discarding the file
// (here: reopening without DiscardLockedInbox) merges nothing twice, and
// a message merged twice (dedupe) is stored once.
func TestLockedInboxMergeOnce(t *testing.T) {
	s, path, opts := newTestStore(t)
	q := lockWithInbox(t, s, path, opts)
	for _, e := range []string{"a", "b", "c"} {
		q.Put([]byte(e))
	}
	q.Close()

	s, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	gen, got, _, err := s.LockedInbox()
	if err != nil || len(got) != 3 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	at := time.Unix(1_800_000_000, 0)
	m := incoming("bob@example.org", "sid-a", "a", at)
	added, err := s.AppendFromInbox([]Message{m}, gen, got[0].Seq)
	if err != nil || len(added) != 1 {
		t.Fatalf("added %d, %v", len(added), err)
	}
	// Crash here: the file is still there, the store has entry 1.
	s.Close()
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gen2, rest, _, err := s.LockedInbox()
	if err != nil || gen2 != gen {
		t.Fatalf("gen %q vs %q, %v", gen2, gen, err)
	}
	if len(rest) != 2 || string(rest[0].Data) != "b" || string(rest[1].Data) != "c" {
		t.Fatalf("after the crash: %d entries left, want b and c", len(rest))
	}
	// The same message merged again (live copy and a resent copy) is one.
	added, err = s.AppendFromInbox([]Message{m}, gen, rest[0].Seq)
	if err != nil || len(added) != 0 {
		t.Fatalf("duplicate merged: added %d, %v", len(added), err)
	}
	if _, err := s.AppendFromInbox(nil, gen, rest[1].Seq); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := s.Latest("bob@example.org", 10); len(msgs) != 1 {
		t.Fatalf("%d messages stored", len(msgs))
	}
	_, none, _, _ := s.LockedInbox()
	if len(none) != 0 {
		t.Fatalf("%d entries after all merged", len(none))
	}
	// A discard naming another generation leaves the file; the right one removes it.
	if err := s.DiscardLockedInbox("00"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(InboxPath(path)); err != nil {
		t.Fatal("discard of another generation removed the inbox")
	}
	if err := s.DiscardLockedInbox(gen); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(InboxPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("inbox left after discard: %v", err)
	}
}

// TestLockedInboxWrongKey: an entry sealed to another key (someone who
// swapped the public key, or a damaged entry) is skipped and counted, not
// merged and not fatal; a wipe removes the inbox with the store.
func TestLockedInboxWrongKey(t *testing.T) {
	s, path, opts := newTestStore(t)
	s.ReceiveKey()
	s.Close()
	other := bytes.Repeat([]byte{9}, 32)
	q, err := OpenInbox(path, other, opts)
	if err != nil {
		t.Fatal(err)
	}
	q.Put([]byte("forged"))
	q.Close()
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, got, damaged, err := s.LockedInbox()
	if err != nil || len(got) != 0 || damaged != 1 {
		t.Fatalf("got %d damaged %d err %v", len(got), damaged, err)
	}
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(InboxPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("wipe left the inbox: %v", err)
	}
}

func TestInboxPadding(t *testing.T) {
	for _, n := range []int{0, 1, inboxPad - 4, inboxPad - 3, 5000} {
		e := bytes.Repeat([]byte{7}, n)
		p := padInbox(e)
		if len(p)%inboxPad != 0 {
			t.Fatalf("%d: padded to %d", n, len(p))
		}
		got, ok := unpadInbox(p)
		if !ok || !bytes.Equal(got, e) {
			t.Fatalf("%d: round trip failed", n)
		}
	}
	if _, ok := unpadInbox([]byte{0, 0, 1, 0, 1}); ok {
		t.Fatal("a length past the end was accepted")
	}
}

// TestLockedInboxBounded: a flood while locked stops at Options.MaxInbox:
// Put refuses with ErrInboxFull (the caller leaves those messages to the
// archive's catch-up at unlock), the file stays near the bound, and what
// was sealed before still opens.
func TestLockedInboxBounded(t *testing.T) {
	s, path, opts := newTestStore(t)
	opts.NoSync = true
	opts.MaxInbox = 256 << 10
	q := lockWithInbox(t, s, path, opts)
	entry := bytes.Repeat([]byte{'x'}, 900)
	put := 0
	var err error
	for range 2000 {
		if err = q.Put(entry); err != nil {
			break
		}
		put++
	}
	if !errors.Is(err, ErrInboxFull) {
		t.Fatalf("2000 puts into a 256 KiB inbox: %d sealed, last error %v", put, err)
	}
	if put == 0 {
		t.Fatal("nothing sealed")
	}
	q.Close()
	fi, err := os.Stat(InboxPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 2*opts.MaxInbox {
		t.Fatalf("inbox file is %d bytes, bound %d", fi.Size(), opts.MaxInbox)
	}
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, got, damaged, err := s.LockedInbox()
	if err != nil || damaged != 0 || len(got) != put {
		t.Fatalf("LockedInbox: %d entries (sealed %d), damaged %d, err %v", len(got), put, damaged, err)
	}
}
