package securestore

import (
	"bytes"
	"encoding/binary"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

var update = flag.Bool("update", false, "regenerate testdata fixtures")

// fixturePIN opens every testdata/*.db fixture (see testdata/README.md).
var fixturePIN = []byte("2468")

// makeFixtures writes the committed bad-file fixtures. Run with -update.
// fail_old_version.db is not regenerated: it is a real format-1 file, kept as
// written by the format-1 code (commit 0142dbc and earlier).
func makeFixtures(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	opts := testOptions()
	s, err := Create(good, fixturePIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	var batch []Message
	for i := 0; i < 40; i++ {
		batch = append(batch, incoming("a@h.example", string(rune('a'+i%26))+string(rune('0'+i/26)), "fixture body padding padding padding", day0))
	}
	mustAppend(t, s, batch...)
	s.Close()
	raw, _ := os.ReadFile(good)
	os.WriteFile("testdata/good_small.db", raw, 0o644)
	// Truncated: the second half of the file is gone (interrupted copy/backup).
	os.WriteFile("testdata/fail_truncated.db", raw[:len(raw)/2], 0o644)
	// Newer version: a header from a future format.
	newer := filepath.Join(dir, "newer.db")
	os.WriteFile(newer, raw, 0o600)
	db, err := bbolt.Open(newer, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketHeader).Put(hdrVersion, binary.BigEndian.AppendUint32(nil, formatVersion+1))
	})
	db.Close()
	nraw, _ := os.ReadFile(newer)
	os.WriteFile("testdata/fail_newer_version.db", nraw, 0o644)
	// Not a store: a text file, and a bbolt file of someone else's.
	os.WriteFile("testdata/fail_not_a_store.db", []byte("this is a shopping list, not a Rounds store\n"), 0o644)
	other := filepath.Join(dir, "other.db")
	db, _ = bbolt.Open(other, 0o600, nil)
	db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err })
	db.Close()
	oraw, _ := os.ReadFile(other)
	os.WriteFile("testdata/fail_foreign_bbolt.db", oraw, 0o644)
}

// copyFixture copies a fixture to a temp dir: Open writes (wrong-PIN counter).
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(t.TempDir(), name)
	f, _ := os.Create(dst)
	io.Copy(f, src)
	f.Close()
	return dst
}

func TestBadFiles(t *testing.T) {
	if *update {
		makeFixtures(t)
	}
	opts := testOptions()
	s, err := Open(copyFixture(t, "good_small.db"), fixturePIN, opts)
	if err != nil {
		t.Fatalf("good fixture: %v", err)
	}
	if got, err := s.Latest("a@h.example", 500); err != nil || len(got) != 40 {
		t.Fatalf("good fixture content: %d %v", len(got), err)
	}
	s.Close()
	for _, tc := range []struct {
		file string
		want error
	}{
		{"fail_truncated.db", ErrCorrupt},
		{"fail_newer_version.db", ErrNewerVersion},
		{"fail_old_version.db", ErrOldVersion},
		{"fail_not_a_store.db", ErrNotAStore},
		{"fail_foreign_bbolt.db", ErrNotAStore},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Open(copyFixture(t, tc.file), fixturePIN, opts)
			wantErr(t, err, tc.want)
		})
	}
	t.Run("empty", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "empty.db")
		os.WriteFile(p, nil, 0o600)
		_, err := Open(p, fixturePIN, opts)
		wantErr(t, err, ErrNotAStore)
	})
	t.Run("wrong-pin", func(t *testing.T) {
		_, err := Open(copyFixture(t, "good_small.db"), []byte("1111"), opts)
		wantErr(t, err, ErrWrongPIN)
	})
}

// recordFile makes a store with two messages and returns the path and the
// raw values of both records.
func recordFile(t *testing.T) (string, Options, [2]MessageID) {
	s, path, opts := newTestStore(t)
	added := mustAppend(t, s, incoming("a@h.example", "1", "first body", day0), incoming("a@h.example", "2", "second body", day0))
	s.Close()
	return path, opts, [2]MessageID{added[0].ID, added[1].ID}
}

func TestFlippedByteInRecord(t *testing.T) {
	path, opts, ids := recordFile(t)
	db, _ := bbolt.Open(path, 0o600, nil)
	var val []byte
	db.View(func(tx *bbolt.Tx) error { val = clone(tx.Bucket(bucketMsg).Get(be64(uint64(ids[0])))); return nil })
	db.Close()
	raw, _ := os.ReadFile(path)
	i := bytes.Index(raw, val)
	if i < 0 {
		t.Fatal("record not found in raw file")
	}
	raw[i+len(val)/2] ^= 0x40 // a bit rot in the middle of the ciphertext
	os.WriteFile(path, raw, 0o600)
	s, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Message(ids[0])
	wantErr(t, err, ErrCorrupt)
	_, err = s.Latest("a@h.example", 10)
	wantErr(t, err, ErrCorrupt)
	if m, err := s.Message(ids[1]); err != nil || m.Body != "second body" {
		t.Fatal("intact record unreadable")
	}
}

func TestSwappedRecords(t *testing.T) {
	path, opts, ids := recordFile(t)
	db, _ := bbolt.Open(path, 0o600, nil)
	db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMsg)
		k0, k1 := be64(uint64(ids[0])), be64(uint64(ids[1]))
		v0, v1 := clone(b.Get(k0)), clone(b.Get(k1))
		b.Put(k0, v1)
		return b.Put(k1, v0)
	})
	db.Close()
	s, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range ids {
		_, err := s.Message(id)
		wantErr(t, err, ErrCorrupt)
	}
	_, err = s.MessageByStanzaID("a@h.example", "1")
	wantErr(t, err, ErrCorrupt)
}
